package jetstream

import (
	"encoding/json"
	"strings"

	"github.com/fernmq/fern/store"
)

// This file serves direct gets: $JS.API.DIRECT.GET.<stream> with a JSON
// body ({seq}, {last_by_subj}, {next_by_subj[, seq]}) and
// $JS.API.DIRECT.GET.<stream>.<subject...> with an empty body (the last
// message matching the subject, wildcards allowed). A stream subscribes
// to these (queue group _sys_) only while allow_direct is set. Replies are
// the raw message with the stored headers plus Nats-Stream, Nats-Subject,
// Nats-Sequence and Nats-Time-Stamp, or a header-only status: 404 Message
// Not Found, 408 Empty Request / Malformed Request / Bad Request. Bodies
// are parsed leniently (unknown fields ignored), as official. Batch and
// multi_last requests are answered with the first message only (batch
// get is not implemented).

// handleDirect runs on the direct-get goroutine.
func (e *Engine) handleDirect(pub Publisher, m inMsg) {
	op, _ := e.apiOp(m.subject)
	rest, ok := strings.CutPrefix(op, directPrefix)
	if !ok {
		return
	}
	name, key, hasKey := strings.Cut(rest, ".")
	s := e.directStream(name)
	if s == nil {
		return
	}
	req, status := parseDirect(m.data, key, hasKey)
	if status != "" {
		pub.Publish(m.reply, "", statusHeader(status), nil)
		return
	}
	var sm store.Msg
	got, err := s.load(&req, &sm)
	if err != nil {
		pub.Publish(m.reply, "", statusHeader("404 Message Not Found"), nil)
		return
	}
	stored := got.Header
	if req.NoHeaders {
		stored = nil
	}
	hdr := appendDirectHeaders(nil, stored, s.name, got.Subject, got.Seq, got.Time)
	pub.Publish(m.reply, "", hdr, got.Data)
}

// parseDirect turns a direct-get request into a get request, or the 408
// status that refuses it.
func parseDirect(body []byte, key string, hasKey bool) (msgGetRequest, string) {
	var req msgGetRequest
	if hasKey {
		if len(body) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				return req, "408 Malformed Request"
			}
		}
		if key == "" || req.LastFor != "" || req.NextFor != "" || len(req.MultiLastFor) > 0 ||
			req.Seq != 0 || req.Batch != 0 || req.StartTime != nil || req.UpToSeq != 0 || req.UpToTime != nil {
			return req, "408 Bad Request"
		}
		req.LastFor = key
		return req, ""
	}
	if len(body) == 0 {
		return req, "408 Empty Request"
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, "408 Malformed Request"
	}
	if req.Seq == 0 && req.LastFor == "" && req.NextFor == "" && len(req.MultiLastFor) == 0 && req.StartTime == nil {
		return req, "408 Empty Request"
	}
	if (req.Seq > 0 && req.LastFor != "") ||
		(req.Seq > 0 && req.StartTime != nil) ||
		(req.StartTime != nil && req.LastFor != "") ||
		(req.LastFor != "" && req.NextFor != "") ||
		(req.LastFor != "" && req.Batch > 0) ||
		(req.LastFor != "" && len(req.MultiLastFor) > 0) ||
		(req.NextFor != "" && len(req.MultiLastFor) > 0) ||
		(req.UpToSeq > 0 && req.UpToTime != nil) {
		return req, "408 Bad Request"
	}
	if len(req.MultiLastFor) > 0 {
		// Not implemented: answer the last message of the first filter.
		req.LastFor = req.MultiLastFor[0]
	}
	return req, ""
}
