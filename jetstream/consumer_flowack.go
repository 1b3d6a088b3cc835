package jetstream

import "time"

// This file is ack policy flow_control (nats-server 2.14+, "AckFlowControl"),
// the policy of durable sourcing consumers: like ack all, but nothing is
// acked on $JS.ACK subjects (the consumer does not subscribe to them) and
// there is no ack wait or redelivery timer. A delivery stays pending until
// the answer to a flow-control request carries Nats-Last-Stream > 0 (and
// Nats-Last-Consumer): that acks everything up to it, which is when a
// workqueue or interest stream may remove the messages. So that answers
// come, a flow-control request also goes out when max_ack_pending are
// pending, and with each idle heartbeat while anything is pending and no
// request is outstanding. Heartbeats carry Nats-Last-Consumer and
// Nats-Last-Stream, and Nats-Consumer-Stalled while a request is
// unanswered (appendIdleHeartbeat).

// fcAckDue reports whether a flow-control ack consumer has reached
// max_ack_pending and needs an answer to go on.
func (c *consumer) fcAckDue() bool {
	st := c.state
	return st.ackPolicy == AckFlowControl && st.maxAckPending > 0 && len(st.pending) >= st.maxAckPending
}

// heartbeatFlowControl sends a flow-control request after an idle
// heartbeat when flow-control acks are pending and none is outstanding.
func (c *consumer) heartbeatFlowControl() {
	if c.state.ackPolicy == AckFlowControl && c.cfg.FlowControl && c.push.fcReply == "" && len(c.state.pending) > 0 {
		c.sendFlowControl()
	}
}

// flowControlAck applies the ack an answer's headers carry (c.mu held).
func (c *consumer) flowControlAck(hdr []byte, now time.Time, released []uint64) []uint64 {
	sseq, _, ok := headerUint(hdr, hdrLastStream)
	if !ok || sseq == 0 {
		return released
	}
	dseq, _, _ := headerUint(hdr, hdrLastConsumer)
	// A downstream may hold more than this consumer delivered since its
	// last reset: it stored those messages before a restart of either
	// side and skips them when they come again. Its answer then names a
	// stream sequence not delivered yet; it acks everything delivered.
	if d := c.state.delivered; sseq > d.Stream {
		sseq, dseq = d.Stream, d.Consumer
	}
	start := len(released)
	released = c.state.ack(sseq, dseq, now, released)
	if len(released) > start {
		c.dirty = true
	}
	return released
}
