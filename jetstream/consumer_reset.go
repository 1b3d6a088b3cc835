package jetstream

import (
	"encoding/json"
	"errors"
	"time"
)

// This file is $JS.API.CONSUMER.RESET.<stream>.<consumer> (nats-server
// 2.14+, what a durable source sends instead of a create): the consumer
// starts again at a stream sequence, with nothing pending and delivery
// sequences from 1. Body {"seq":N}, optional; 0 or none means the ack
// floor + 1. A non-zero N is allowed for deliver policy all, at or above
// opt_start_seq for by_start_sequence, at or above the first sequence at
// opt_start_time for by_start_time, and never for the other policies
// (400/10204 "invalid reset: ..."). A durable's reset is on disk before
// the reply. The reply is ConsumerInfo plus reset_seq; a request with a
// Nats-Stream-Identity header gets the stream's identity back in that
// header (it is never rejected here).

const consumerResetResponseType = "io.nats.jetstream.api.v1.consumer_reset_response"

type consumerResetRequest struct {
	Seq uint64 `json:"seq"`
}

type consumerResetReply struct {
	Type  string    `json:"type"`
	Error *APIError `json:"error,omitempty"`
	*ConsumerInfo
	ResetSeq uint64 `json:"reset_seq,omitempty"`
}

func (r *consumerResetReply) apiError() *APIError { return r.Error }

// errInvalidReset is 400/10204.
func errInvalidReset(err error) *APIError {
	return apiErr(400, 10204, "invalid reset: "+err.Error())
}

func resetError(err *APIError) *consumerResetReply {
	return &consumerResetReply{Type: consumerResetResponseType, Error: err}
}

// apiReset answers CONSUMER.RESET.
func (m *consumerManager) apiReset(stream, name string, hdr, data []byte) any {
	var req consumerResetRequest
	if !isEmptyRequest(data) {
		if err := json.Unmarshal(data, &req); err != nil {
			return resetError(errInvalidJSON(err))
		}
	}
	s := m.e.Stream(stream)
	if s == nil {
		return resetError(errStreamNotFound())
	}
	c := m.lookup(stream, name)
	if c == nil {
		return resetError(consumerErr(errCodeConsumerNotFound))
	}
	seq, info, cerr := c.reset(req.Seq, time.Now())
	if cerr != nil {
		return resetError(cerr)
	}
	resp := &consumerResetReply{Type: consumerResetResponseType, ConsumerInfo: info, ResetSeq: seq}
	if _, ok := headerValue(hdr, hdrStreamIdentity); ok {
		return withIdentity(resp, streamIdentity(s.Created()))
	}
	return resp
}

// resetTarget is the sequence a reset to seq starts at, or why not.
func (c *consumer) resetTargetLocked(seq uint64) (uint64, error) {
	cfg := c.cfg
	switch {
	case seq == 0:
		seq = c.state.ackFloor().Stream + 1
	case cfg.DeliverPolicy == DeliverAll:
	case cfg.DeliverPolicy == DeliverByStartSequence:
		if seq < cfg.OptStartSeq {
			return 0, errors.New("below start seq")
		}
	case cfg.DeliverPolicy == DeliverByStartTime && cfg.OptStartTime != nil:
		if seq < seqAtTime(c.st, c.st.State(), cfg.OptStartTime.UnixNano()) {
			return 0, errors.New("below start time")
		}
	default:
		return 0, errors.New("not allowed")
	}
	return max(seq, 1), nil
}

// reset moves the consumer to seq (see the file comment) and, for a
// durable, persists it; it returns the sequence it starts at and the
// consumer's info right after the reset (before any new delivery).
func (c *consumer) reset(seq uint64, now time.Time) (uint64, *ConsumerInfo, *APIError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seq, err := c.resetTargetLocked(seq)
	if err != nil {
		return 0, nil, errInvalidReset(err)
	}
	c.takeNotes()
	c.state.reset(seq)
	c.lps = nil
	c.recount()
	c.active = now
	c.dirty = true
	if err := c.flushLocked(true); err != nil {
		return 0, nil, errStoreFailed(err.Error())
	}
	c.flushT = now
	c.wake()
	return seq, c.infoLocked(), nil
}

// reset starts the state again at stream sequence seq: nothing pending or
// queued, the last delivery (0, seq-1), so the next delivery is consumer
// sequence 1 and the ack floor is (0, seq-1).
func (s *consumerState) reset(seq uint64) {
	clear(s.pending)
	clear(s.maxed)
	s.order, s.deadlines, s.rdq, s.rdqHead = nil, nil, nil, 0
	s.redeliv, s.maxedNew = 0, nil
	s.next = max(seq, 1)
	s.delivered = SequencePair{Stream: s.next - 1}
	s.lastDelivered, s.lastAcked = time.Time{}, time.Time{}
}
