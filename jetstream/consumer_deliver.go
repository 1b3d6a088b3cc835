package jetstream

import (
	"slices"
	"strconv"
	"time"

	"github.com/fernmq/fern/store"
)

// This file is delivery: which message goes next (redeliveries first,
// then last-per-subject messages, then new ones up to the last sequence
// the stream has announced), to whom (the head pull request, or the push
// deliver subject while it has interest and flow control allows), and how
// (the stored subject on the MSG line, the ack reply subject, headers-only
// when asked). Push heartbeats, flow control and the starting position of
// a new consumer are here too.

// DeliverPublisher is an optional extension of Publisher: it routes a
// message by deliverSubject (a pull request's inbox, a push deliver
// subject) while receivers see msgSubject (the stored message's subject)
// on the MSG line. Without it, deliveries carry the deliver subject.
type DeliverPublisher interface {
	PublishTo(deliverSubject, msgSubject, reply string, hdr, data []byte)
}

// pushState is a push consumer's flow control and heartbeat bookkeeping.
type pushState struct {
	interest bool      // deliver subject had interest at the last look
	window   int       // flow-control window in bytes
	bytes    int       // bytes delivered and not yet covered by an FC answer
	sent     int       // bytes covered by the outstanding FC request
	fcReply  string    // outstanding FC request's reply subject
	fcSeq    uint64    // makes FC reply subjects unique
	lastSend time.Time // last delivery or heartbeat
	idle     time.Time // since when the deliver subject has no interest
}

// Where the next message comes from.
const (
	srcNew = iota
	srcRedelivery
	srcLastPerSubject
)

// hdrMsgSizeName is added to headers-only deliveries.
const hdrMsgSizeName = hdrMsgSize

// deliver sends what it can (c.mu held). It appends to released the
// sequences an ack-none consumer is done with (interest retention).
func (c *consumer) deliver(now time.Time, released []uint64) []uint64 {
	push := c.pq == nil
	if push {
		c.push.interest = c.m.e.host.HasInterest(c.cfg.DeliverSubject)
		if c.push.lastSend.IsZero() {
			c.push.lastSend = now
		}
	}
	for {
		if push && !c.pushReady() || !push && c.pq.len() == 0 {
			return released
		}
		src, seq, ok := c.nextMsg()
		if !ok {
			return released
		}
		m := &c.msg
		cseq, count, pend := c.predict(src, seq)
		c.ack = appendAckReply(c.ack[:0], c.ackPx, count, seq, cseq, m.Time, pend)
		hdr, data := m.Header, m.Data
		if c.cfg.HeadersOnly {
			c.buf = appendHeadersOnly(c.buf[:0], hdr, len(data))
			hdr, data = c.buf, nil
		}
		size := len(m.Subject) + len(c.ack) + len(hdr) + len(data)
		target := c.cfg.DeliverSubject
		var pick pullPick
		if !push {
			var got bool
			pick, got, c.out = c.pq.next(size, now, c.interest, c.out[:0])
			c.sendStatuses()
			if !got {
				if src == srcRedelivery {
					c.state.unpopRedelivery(seq)
				}
				return released
			}
			target = pick.Reply
		}
		if src == srcRedelivery {
			c.state.redelivered(seq, now)
		} else {
			c.state.deliverNew(seq, now)
			if src == srcLastPerSubject {
				c.lps = c.lps[1:]
			}
		}
		c.dirty = true
		c.active = now
		if c.dpub != nil {
			c.dpub.PublishTo(target, m.Subject, bytesToString(c.ack), hdr, data)
		} else {
			c.pub.Publish(target, bytesToString(c.ack), hdr, data)
		}
		if pick.SendAfter {
			c.sendStatus(pick.Reply, pick.After)
		}
		if c.state.ackPolicy == AckNone {
			released = append(released, seq)
		}
		if push {
			c.push.lastSend = now
			c.push.bytes += size
			c.maybeFlowControl()
		}
	}
}

// predict returns the consumer sequence, delivery count and num_pending
// the delivery of seq will have (for its ack reply, built before the pull
// queue picks a request).
func (c *consumer) predict(src int, seq uint64) (cseq, count, pend uint64) {
	st := c.state
	cseq, count, pend = st.delivered.Consumer+1, 1, c.numPending()
	switch {
	case src == srcRedelivery:
		count = st.pendingCount(seq) + 1
	case src == srcLastPerSubject:
		pend--
	case seq >= st.next && st.numPend > 0:
		pend--
	}
	return cseq, count, pend
}

// nextMsg loads the next message to deliver into c.msg.
func (c *consumer) nextMsg() (src int, seq uint64, ok bool) {
	st := c.state
	for st.hasRedeliveries() {
		seq, ok := st.nextRedelivery()
		if !ok {
			break
		}
		if _, err := c.st.Load(seq, &c.msg); err != nil {
			st.forget(seq)
			c.dirty = true
			continue
		}
		return srcRedelivery, seq, true
	}
	if !st.canDeliverNew() {
		return 0, 0, false
	}
	for len(c.lps) > 0 {
		seq := c.lps[0]
		if _, err := c.st.Load(seq, &c.msg); err == nil {
			return srcLastPerSubject, seq, true
		}
		c.lps = c.lps[1:]
	}
	if st.next > c.limit {
		return 0, 0, false
	}
	seq, ok = c.loadNext(st.next)
	if !ok || seq > c.limit {
		st.skipTo(c.limit + 1)
		return 0, 0, false
	}
	return srcNew, seq, true
}

// loadNext loads the first message at or after from that matches the
// filters into c.msg.
func (c *consumer) loadNext(from uint64) (uint64, bool) {
	fs := *c.filters.Load()
	if len(fs) <= 1 {
		f := ""
		if len(fs) == 1 {
			f = fs[0]
		}
		got, err := c.st.LoadNext(f, from, &c.msg)
		if err != nil {
			return 0, false
		}
		return got.Seq, true
	}
	var best, loaded uint64
	for _, f := range fs {
		got, err := c.st.LoadNext(f, from, &c.msg)
		if err == nil && (best == 0 || got.Seq < best) {
			best = got.Seq
		}
		if err == nil {
			loaded = got.Seq
		}
	}
	if best == 0 {
		return 0, false
	}
	if loaded != best {
		if _, err := c.st.Load(best, &c.msg); err != nil {
			return 0, false
		}
	}
	return best, true
}

// appendHeadersOnly appends hdr (or a fresh header block) with
// Nats-Msg-Size: size added.
func appendHeadersOnly(dst, hdr []byte, size int) []byte {
	if len(hdr) >= 4 && string(hdr[len(hdr)-4:]) == "\r\n\r\n" {
		dst = append(dst, hdr[:len(hdr)-2]...)
	} else {
		dst = append(dst, "NATS/1.0\r\n"...)
	}
	dst = appendIntHeader(dst, hdrMsgSizeName, int64(size))
	return append(dst, '\r', '\n')
}

// pushReady reports whether a push consumer may deliver now.
func (c *consumer) pushReady() bool {
	if !c.push.interest {
		return false
	}
	return c.push.fcReply == "" || c.push.bytes < c.push.window
}

// maybeFlowControl sends a flow-control request once half the window is
// used or, with flow-control acks, once max_ack_pending are pending.
func (c *consumer) maybeFlowControl() {
	p := &c.push
	if !c.cfg.FlowControl || p.fcReply != "" || p.bytes < p.window/2 && !c.fcAckDue() {
		return
	}
	c.sendFlowControl()
}

// sendFlowControl publishes a flow-control request; its reply subject is
// the one outstanding.
func (c *consumer) sendFlowControl() {
	p := &c.push
	p.fcSeq++
	p.fcReply = flowControlReply(c.stream, c.name, strconv.FormatUint(p.fcSeq, 36))
	p.sent = p.bytes
	c.buf = appendFlowControlRequest(c.buf[:0])
	c.pub.Publish(c.cfg.DeliverSubject, p.fcReply, c.buf, nil)
}

// flowControlAnswer handles a client's answer to a flow-control request;
// answers to older requests are ignored. With flow-control acks the
// answer's headers ack (consumer_flowack.go); released gets the stream
// sequences that left pending.
func (c *consumer) flowControlAnswer(subj string, hdr []byte, now time.Time, released []uint64) []uint64 {
	p := &c.push
	if p.fcReply == "" || subj != p.fcReply {
		return released
	}
	p.bytes = max(p.bytes-p.sent, 0)
	p.sent, p.fcReply = 0, ""
	p.window = min(p.window*2, fcMaxWindow)
	if c.state.ackPolicy == AckFlowControl {
		released = c.flowControlAck(hdr, now, released)
	}
	return released
}

// pushTimers sends idle heartbeats and applies the inactive threshold of
// a push consumer (no interest on the deliver subject for that long).
func (c *consumer) pushTimers(now time.Time, thr time.Duration) (time.Time, bool) {
	wake := now.Add(time.Hour)
	p := &c.push
	if p.interest {
		p.idle = time.Time{}
		if thr > 0 { // nothing tells us when interest goes: look again
			wake = earliest(wake, now.Add(max(min(thr/2, time.Second), 10*time.Millisecond)))
		}
	} else {
		if p.idle.IsZero() {
			p.idle = now
		}
		if thr > 0 {
			if !now.Before(p.idle.Add(thr)) {
				return wake, true
			}
			wake = earliest(wake, p.idle.Add(thr))
		}
		wake = earliest(wake, now.Add(consumerInterestPoll))
	}
	if hb := c.cfg.Heartbeat; hb > 0 && p.interest {
		if now.Sub(p.lastSend) >= hb {
			c.buf = appendIdleHeartbeat(c.buf[:0], c.state.delivered.Consumer, c.state.delivered.Stream, p.fcReply)
			c.pub.Publish(c.cfg.DeliverSubject, "", c.buf, nil)
			p.lastSend = now
			c.heartbeatFlowControl()
		}
		wake = earliest(wake, p.lastSend.Add(hb))
	}
	return wake, false
}

// countMatching counts the messages in [from, upTo] whose subject matches
// one of filters (none: every message).
func countMatching(st store.Store, filters []string, from, upTo uint64) uint64 {
	s := st.State()
	if s.Msgs == 0 {
		return 0
	}
	lo, hi := max(from, s.FirstSeq), min(upTo, s.LastSeq)
	if lo > hi {
		return 0
	}
	if lo == s.FirstSeq && hi == s.LastSeq {
		if len(filters) == 0 {
			return s.Msgs
		}
		var n uint64
		for _, f := range filters {
			for _, k := range st.SubjectCounts(f) {
				n += k
			}
		}
		return n
	}
	if len(filters) == 0 {
		filters = []string{""}
	}
	var n uint64
	var m store.Msg
	for _, f := range filters {
		for seq := lo; seq <= hi; {
			got, err := st.LoadNext(f, seq, &m)
			if err != nil || got.Seq > hi {
				break
			}
			n++
			seq = got.Seq + 1
		}
	}
	return n
}

// startPosition is where a new consumer starts: the first stream
// sequence of new deliveries and, for last_per_subject, the sequences to
// deliver before them.
func startPosition(st store.Store, cfg *ConsumerConfig, filters []string) (uint64, []uint64) {
	s := st.State()
	first, last := s.FirstSeq, s.LastSeq
	if s.Msgs == 0 {
		first = last + 1
	}
	var m store.Msg
	switch cfg.DeliverPolicy {
	case DeliverLast:
		var best uint64
		if len(filters) == 0 {
			best = s.LastSeq
			if s.Msgs == 0 {
				best = 0
			}
		}
		for _, f := range filters {
			if got, err := st.LoadLast(f, &m); err == nil && got.Seq > best {
				best = got.Seq
			}
		}
		if best == 0 {
			return last + 1, nil
		}
		return best, nil
	case DeliverNew:
		return last + 1, nil
	case DeliverByStartSequence:
		return min(max(cfg.OptStartSeq, first), last+1), nil
	case DeliverByStartTime:
		return seqAtTime(st, s, cfg.OptStartTime.UnixNano()), nil
	case DeliverLastPerSubject:
		var seqs []uint64
		if len(filters) == 0 {
			filters = []string{">"}
		}
		for _, f := range filters {
			for subj := range st.SubjectCounts(f) {
				if got, err := st.LoadLast(subj, &m); err == nil {
					seqs = append(seqs, got.Seq)
				}
			}
		}
		slices.Sort(seqs)
		return last + 1, seqs
	}
	return first, nil
}
