package jetstream

import (
	"crypto/rand"
	"strconv"
)

// This file is the upstream side of stream sourcing (nats-server 2.14+):
// what a consumer create request with direct and sourcing set becomes,
// the required API level and stream identity headers, and replies that
// carry headers.
//
//   - Nats-Required-Api-Level above apiLevel, or not an integer: 412/10185
//     on every consumer API request (the official check is on every API
//     request).
//   - On a limits stream the consumer stays an ephemeral, direct, ack-none
//     consumer; its stable name gets "-<8 random>" appended, and direct
//     consumers are left out of CONSUMER.NAMES and CONSUMER.LIST.
//   - On a workqueue or interest stream it is upgraded to a durable
//     consumer named by the request (direct off, ack_policy flow_control,
//     ack_wait 0, max_deliver unlimited, no inactive threshold); a create
//     for one that exists keeps its deliver policy and start, so it
//     re-attaches: it starts again after its ack floor, so deliveries the
//     downstream never stored are sent again. Its acks are the flow-control replies
//     (consumer_flowack.go).
//   - A non-empty Nats-Stream-Identity that is not the stream's identity
//     (stream_identity.go) is 400/10225; a successful reply carries the
//     stream's identity in that header.

// errRequiredAPILevel is 412/10185.
func errRequiredAPILevel() *APIError {
	return apiErr(412, 10185, "JetStream minimum api level required")
}

// errStreamIdentityMismatch is 400/10225 with the stream's identity.
func errStreamIdentityMismatch(identity string) *APIError {
	return apiErr(400, 10225, "consumer's stream identity does not match: "+identity)
}

// apiLevelOK reports whether a request's Nats-Required-Api-Level (if any)
// is an integer no larger than apiLevel.
func apiLevelOK(hdr []byte) bool {
	v, ok := headerValue(hdr, hdrRequiredAPILevel)
	if !ok || len(v) == 0 {
		return true
	}
	n, err := strconv.Atoi(string(v))
	return err == nil && n <= apiLevel
}

// upgradeSourcing rewrites a direct sourcing consumer's requested config
// (before defaults) for a stream with retention ret: durable with flow
// control acks on workqueue and interest streams, a unique name on limits
// streams. Other configs are left alone.
func upgradeSourcing(cfg *ConsumerConfig, ret RetentionPolicy) {
	if !cfg.Direct || !cfg.Sourcing || cfg.Name == "" {
		return
	}
	if ret != LimitsPolicy {
		cfg.Direct = false
		cfg.Durable = cfg.Name
		cfg.AckPolicy = AckFlowControl
		cfg.AckWait = 0
		cfg.MaxDeliver = 0
		cfg.InactiveThreshold = 0
		return
	}
	var b [8]byte
	rand.Read(b[:])
	cfg.Name += "-" + generatedConsumerName(b)
}

// keepSourcingStart makes a create of an existing durable sourcing
// consumer keep where it starts (re-attach instead of a config change).
func keepSourcingStart(cfg, existing *ConsumerConfig) {
	if existing == nil || !cfg.Sourcing || cfg.Durable == "" {
		return
	}
	cfg.DeliverPolicy = existing.DeliverPolicy
	cfg.OptStartSeq = existing.OptStartSeq
	cfg.OptStartTime = existing.OptStartTime
}

// checkStreamIdentity returns the identity to put in the reply of a
// direct or sourcing create ("" for other consumers), or 10225 when the
// request names another identity.
func checkStreamIdentity(cfg *ConsumerConfig, s *Stream, hdr []byte) (string, *APIError) {
	if !cfg.Direct && !cfg.Sourcing {
		return "", nil
	}
	id := streamIdentity(s.Created())
	if want, ok := headerValue(hdr, hdrStreamIdentity); ok && len(want) > 0 && string(want) != id {
		return "", errStreamIdentityMismatch(id)
	}
	return id, nil
}

// headerReply is an API reply sent with a header block.
type headerReply struct {
	hdr []byte
	v   any
}

// withIdentity wraps v with a Nats-Stream-Identity header when id is set.
func withIdentity(v any, id string) any {
	if id == "" {
		return v
	}
	hdr := appendHeader([]byte("NATS/1.0\r\n"), hdrStreamIdentity, id)
	return &headerReply{hdr: append(hdr, crlf...), v: v}
}

// limitable reports whether a consumer counts for max_consumers and the
// workqueue partition rules (sourcing consumers do not, as officially).
func (c *consumer) limitable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.cfg.Direct && !c.cfg.Sourcing
}

// public reports whether a consumer is listed by NAMES and LIST (direct
// consumers are not, as officially).
func (c *consumer) public() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.cfg.Direct
}
