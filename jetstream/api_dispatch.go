package jetstream

import (
	"encoding/json"
	"strings"
)

// This file routes $JS.API requests. The Host handler only copies the
// request onto a queue; one API goroutine answers requests in arrival
// order (so stream create, update and delete never race each other), and a
// second one serves direct gets, so a slow purge never delays a KV get.
// Unknown subjects and requests without a reply subject get no answer, as
// with the official server; DIRECT.GET and CONSUMER.MSG.NEXT are not API
// requests at all (streams and consumers own those subscriptions).

const (
	apiPrefix      = "$JS.API."
	directPrefix   = "DIRECT.GET."
	msgNextPrefix  = "CONSUMER.MSG.NEXT."
	consumerPrefix = "CONSUMER."
)

// onAPI is the Host handler of $JS.API.> (and $JS.<domain>.API.>).
func (e *Engine) onAPI(subject, reply string, hdr, data []byte) {
	if reply == "" && e.domainView(subject) == "" {
		return
	}
	rest, ok := e.apiOp(subject)
	if !ok || strings.HasPrefix(rest, directPrefix) || strings.HasPrefix(rest, msgNextPrefix) {
		return
	}
	e.api.push(copyMsg(subject, reply, hdr, data))
}

// domainView is the subject that a message to $JS.<domain>.API.$KV.> or
// $JS.<domain>.API.$OBJ.> stands for (the same subject without the
// domain's API prefix), or "". nats.go writes to a KV or object store
// bucket through a domain that way (kv.go useJSPfx), and the official
// server maps those subjects back (generateJSMappingTable).
func (e *Engine) domainView(subject string) string {
	if e.cfg.Domain == "" {
		return ""
	}
	rest, ok := strings.CutPrefix(subject, "$JS."+e.cfg.Domain+".API.")
	if !ok || (!strings.HasPrefix(rest, "$KV.") && !strings.HasPrefix(rest, "$OBJ.")) || strings.ContainsAny(rest, "*>") {
		return ""
	}
	return rest
}

// apiOp strips the API prefix (with or without the domain).
func (e *Engine) apiOp(subject string) (string, bool) {
	if rest, ok := strings.CutPrefix(subject, apiPrefix); ok {
		return rest, true
	}
	if e.cfg.Domain != "" {
		return strings.CutPrefix(subject, "$JS."+e.cfg.Domain+".API.")
	}
	return "", false
}

// apiHandler answers one request; nil means no reply.
type apiHandler func(e *Engine, arg string, m inMsg) any

// apiRoutes maps an operation (the subject after $JS.API., up to the
// stream name) to its handler. Operations without an argument end with no
// dot; the others take exactly one more token.
func apiRoute(op string) (apiHandler, string, bool) {
	switch op {
	case "INFO":
		return (*Engine).apiAccountInfo, "", true
	case "STREAM.NAMES":
		return (*Engine).apiStreamNames, "", true
	case "STREAM.LIST":
		return (*Engine).apiStreamList, "", true
	}
	for _, r := range []struct {
		prefix string
		h      apiHandler
	}{
		{"STREAM.CREATE.", (*Engine).apiStreamCreate},
		{"STREAM.UPDATE.", (*Engine).apiStreamUpdate},
		{"STREAM.DELETE.", (*Engine).apiStreamDelete},
		{"STREAM.INFO.", (*Engine).apiStreamInfo},
		{"STREAM.PURGE.", (*Engine).apiStreamPurge},
		{"STREAM.MSG.GET.", (*Engine).apiMsgGet},
		{"STREAM.MSG.DELETE.", (*Engine).apiMsgDelete},
	} {
		if name, ok := strings.CutPrefix(op, r.prefix); ok {
			if name == "" || strings.Contains(name, ".") {
				return nil, "", false
			}
			return r.h, name, true
		}
	}
	return nil, "", false
}

// handleAPI runs on the API goroutine.
func (e *Engine) handleAPI(pub Publisher, m inMsg) {
	if view := e.domainView(m.subject); view != "" {
		// Republished, in arrival order, to the bucket's own subject.
		pub.Publish(view, m.reply, m.hdr, m.data)
		return
	}
	op, _ := e.apiOp(m.subject)
	var resp any
	if strings.HasPrefix(op, consumerPrefix) {
		if c := e.consumerSide(); c != nil {
			e.apiTotal.Add(1)
			c.HandleAPI(apiPrefix+op, m.reply, m.hdr, m.data)
			return
		}
		resp = consumerFallback(op)
	} else if h, arg, ok := apiRoute(op); ok {
		if apiLevelOK(m.hdr) {
			resp = h(e, arg, m)
		} else {
			resp = errorReply(apiReplyType(op), errRequiredAPILevel())
		}
	}
	if resp == nil {
		return
	}
	e.apiTotal.Add(1)
	if r, ok := resp.(interface{ apiError() *APIError }); ok && r.apiError() != nil {
		e.apiErrors.Add(1)
	}
	body, err := marshalReply(resp)
	if err != nil {
		e.log.Error("JetStream reply not encodable", "subject", m.subject, "err", err)
		return
	}
	pub.Publish(m.reply, "", nil, body)
}

func (r *apiResponse) apiError() *APIError { return r.Error }

// consumerFallback answers a consumer request while no consumer side is
// attached: an error reply of the right type, or nil for unknown ops.
func consumerFallback(op string) any {
	t := consumerReplyType(op)
	if t == "" {
		return nil
	}
	return &apiResponse{Type: t, Error: errConsumersNotImplemented()}
}

// consumerReplyType is the reply type of a consumer operation ("" for
// unknown ones).
func consumerReplyType(op string) string {
	kind := ""
	switch first, _, _ := strings.Cut(strings.TrimPrefix(op, consumerPrefix), "."); first {
	case "CREATE", "DURABLE":
		kind = "consumer_create_response"
	case "INFO":
		kind = "consumer_info_response"
	case "DELETE":
		kind = "consumer_delete_response"
	case "NAMES":
		kind = "consumer_names_response"
	case "LIST":
		kind = "consumer_list_response"
	case "PAUSE":
		kind = "consumer_pause_response"
	case "RESET":
		kind = "consumer_reset_response"
	case "UNPIN":
		kind = "consumer_unpin_response"
	default:
		return ""
	}
	return "io.nats.jetstream.api.v1." + kind
}

// errorReply is a reply of type t carrying err.
func errorReply(t string, err *APIError) *apiResponse {
	return &apiResponse{Type: t, Error: err}
}

func marshalReply(v any) ([]byte, error) { return json.Marshal(v) }

// apiReplyType is the reply type of a routed (non-consumer) operation.
func apiReplyType(op string) string {
	for _, r := range []struct{ prefix, t string }{
		{"INFO", typeAccountInfo},
		{"STREAM.NAMES", typeStreamNames},
		{"STREAM.LIST", typeStreamList},
		{"STREAM.CREATE.", typeStreamCreate},
		{"STREAM.UPDATE.", typeStreamUpdate},
		{"STREAM.DELETE.", typeStreamDelete},
		{"STREAM.INFO.", typeStreamInfo},
		{"STREAM.PURGE.", typeStreamPurge},
		{"STREAM.MSG.GET.", typeMsgGet},
		{"STREAM.MSG.DELETE.", typeMsgDelete},
	} {
		if strings.HasPrefix(op, r.prefix) {
			return r.t
		}
	}
	return "io.nats.jetstream.api.v1.error_response"
}
