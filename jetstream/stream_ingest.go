package jetstream

import (
	"errors"
	"strconv"
	"time"

	"github.com/fernmq/fern/store"
	"github.com/fernmq/fern/subject"
)

// This file is the publish path. The Host handler (Stream.onMsg) copies a
// message onto the stream's queue; the stream's ingest goroutine takes
// everything queued (up to ingestBatch), runs each message through the
// official checks in their order (nats-server processJetStreamMsg),
// stores it, then reaches the durability point once for the whole batch
// (SyncGroupCommit: one WaitDurable for the last sequence, a shared fsync)
// and only then tells the consumer side (OnStored) and sends the PubAcks.
//
// Order of checks (each failure is an error PubAck; nothing is stored):
//
//	sealed 10109; record over 32 MiB 10077; max_msg_size 10054;
//	header over 64 KiB 10097; Nats-Expected-Stream 10060;
//	unsupported feature headers (Nats-TTL 10166, Nats-Incr 10168,
//	Nats-Batch-Id 10174, Nats-Schedule 10188);
//	Nats-Expected-Last-Subject-Sequence[-Subject] 10071 (10193);
//	Nats-Expected-Last-Sequence 10071; Nats-Msg-Id in the window ->
//	duplicate ack; Nats-Expected-Last-Msg-Id 10070; Nats-Rollup 10111;
//	store limits (discard new) 10077.
//
// After storing: record the msg id, apply the rollup, trim the subject
// under discard new without discard_new_per_subject.
//
// Retention interest and workqueue are accepted but, until the consumer
// side removes acknowledged messages, behave like limits: every message
// is stored.

const ingestBatch = 1024

// ingestState is what the ingest goroutine keeps between messages.
type ingestState struct {
	pub       Publisher
	dedupe    *dedupeWindow
	lastMsgID string
	batch     []inMsg
	results   []ingestResult
	ack       []byte
}

// ingestResult is the outcome of one message of a batch.
type ingestResult struct {
	reply   string
	subject string
	seq     uint64
	barrier func(Publisher) // a source's barrier (source.go): run after the acks
	dup     bool
	stored  bool
	err     *APIError
}

func (g *ingestState) init(s *Stream) {
	g.pub = s.e.host.NewPublisher()
	g.dedupe = newDedupeWindow()
	cfg := s.cfg.Load()
	g.lastMsgID = rebuildDedupe(s.st, g.dedupe, time.Now().UnixNano(), cfg.DuplicateWindow)
}

// ingestLoop is the stream's ingest goroutine.
func (s *Stream) ingestLoop() {
	defer close(s.done)
	for {
		select {
		case <-s.in.ready:
		case <-s.quit:
			if !s.drop.Load() {
				for {
					if n, _ := s.in.pending(); n == 0 {
						return
					}
					s.ingestOnce()
				}
			}
			return
		}
		s.ingestOnce()
	}
}

// ingestOnce stores one batch and acknowledges it.
func (s *Stream) ingestOnce() {
	g := &s.ing
	g.batch = s.in.take(g.batch, ingestBatch)
	if len(g.batch) == 0 {
		return
	}
	cfg := s.cfg.Load()
	g.results = g.results[:0]
	var last uint64
	sourced := false
	for i := range g.batch {
		m := &g.batch[i]
		var r ingestResult
		switch {
		case m.src == nil:
			r = s.process(cfg, m)
		case m.src.barrier != nil:
			r.barrier = m.src.barrier
		default:
			r, sourced = s.ingestSourced(cfg, m), true
		}
		if r.stored {
			last = r.seq
		}
		g.results = append(g.results, r)
	}
	durable := true
	if last > 0 && s.needsWait(cfg) {
		if err := s.waitDurable(last); err != nil {
			durable = false
			s.e.log.Error("JetStream stream not durable", "stream", s.name, "err", err)
			for i := range g.results {
				if g.results[i].stored {
					g.results[i].err = errStoreFailed(err.Error())
				}
			}
			// Flow-control answers must not acknowledge what is not durable.
			failed := map[*sourceRun]bool{}
			for i := range g.batch {
				if sm := g.batch[i].src; sm != nil && sm.run != nil && sm.barrier == nil && !failed[sm.run] {
					failed[sm.run] = true
					sm.run.storeFailed(sm.sseq, err)
				}
			}
		}
	}
	if sourced && durable {
		s.publishSnapshot(s.st.State().LastSeq)
	}
	s.finishBatch(cfg)
}

// dropUnwanted (interest retention) removes the batch's messages that no
// consumer wants, as officially: the sequence is used and acknowledged,
// nothing stays stored, and consumers never hear of it.
func (s *Stream) dropUnwanted() {
	cs := s.e.consumerSide()
	g := &s.ing
	for i := range g.results {
		r := &g.results[i]
		if !r.stored || r.err != nil || (cs != nil && cs.Interested(s.name, r.subject)) {
			continue
		}
		if _, err := s.Store().Remove(r.seq); err != nil {
			s.e.log.Warn("JetStream interest stream: drop unwanted message", "stream", s.name, "seq", r.seq, "err", err)
			continue
		}
		r.stored = false
	}
}

// needsWait says whether acks wait for WaitDurable: under group commit
// for file streams not in async persist mode (SyncAlways stores are
// durable when Store returns; memory is never durable).
func (s *Stream) needsWait(cfg *StreamConfig) bool {
	return s.e.cfg.Sync == SyncGroupCommit && cfg.Storage == FileStorage &&
		cfg.PersistMode != AsyncPersistMode
}

// finishBatch tells the consumer side (OnStored), then sends the
// PubAcks: once a publisher has its ack, consumers know of the message.
func (s *Stream) finishBatch(cfg *StreamConfig) {
	g := &s.ing
	if cfg.Retention == InterestPolicy {
		s.dropUnwanted()
	}
	if fn := s.onStored.Load(); fn != nil {
		for i := range g.results {
			if r := &g.results[i]; r.stored && r.err == nil {
				(*fn)(r.seq, r.subject)
			}
		}
	}
	flush := holdPublisher(g.pub) // one wakeup per connection for the batch's acks
	defer flush()
	for i := range g.results {
		r := &g.results[i]
		if r.reply == "" || cfg.NoAck {
			continue
		}
		g.ack = s.appendPubAck(g.ack[:0], r)
		g.pub.Publish(r.reply, "", nil, g.ack)
	}
	for i := range g.results {
		if b := g.results[i].barrier; b != nil {
			b(g.pub)
		}
	}
	clear(g.batch)
	g.batch = g.batch[:0]
	for i := range g.results {
		g.results[i] = ingestResult{}
	}
}

// appendPubAck encodes {"stream","seq"[,"domain"][,"duplicate"]} or
// {"error":{...},"stream","seq":0}.
func (s *Stream) appendPubAck(b []byte, r *ingestResult) []byte {
	b = append(b, '{')
	if r.err != nil {
		b = append(b, `"error":{"code":`...)
		b = strconv.AppendInt(b, int64(r.err.Code), 10)
		b = append(b, `,"err_code":`...)
		b = strconv.AppendUint(b, uint64(r.err.ErrCode), 10)
		b = append(b, `,"description":`...)
		b = appendJSONString(b, r.err.Description)
		b = append(b, "},"...)
	}
	b = append(b, `"stream":`...)
	b = appendJSONString(b, s.name)
	b = append(b, `,"seq":`...)
	if r.err == nil {
		b = strconv.AppendUint(b, r.seq, 10)
	} else {
		b = append(b, '0')
	}
	if d := s.e.cfg.Domain; d != "" && r.err == nil {
		b = append(b, `,"domain":`...)
		b = appendJSONString(b, d)
	}
	if r.dup && r.err == nil {
		b = append(b, `,"duplicate":true`...)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// process checks and stores one message.
func (s *Stream) process(cfg *StreamConfig, m *inMsg) ingestResult {
	r := ingestResult{reply: m.reply, subject: m.subject}
	if e := s.check(cfg, m); e != nil {
		r.err = e
		return r
	}
	g := &s.ing
	id := headerString(m.hdr, hdrMsgID)
	if id != "" && cfg.DuplicateWindow > 0 {
		if seq, ok := g.dedupe.lookup(id, time.Now().UnixNano(), cfg.DuplicateWindow); ok {
			r.seq, r.dup = seq, true
			return r
		}
	}
	if want, ok := headerValue(m.hdr, hdrExpectedLastMsgID); ok && string(want) != g.lastMsgID {
		r.err = errWrongLastMsgID(g.lastMsgID)
		return r
	}
	rollup, hasRollup := headerValue(m.hdr, hdrRollup)
	if hasRollup {
		if !cfg.AllowRollup || cfg.DenyPurge {
			r.err = errRollupFailed("rollup not permitted")
			return r
		}
		if v := string(rollup); v != "sub" && v != "all" {
			r.err = errRollupFailed("rollup value invalid: " + strconv.Quote(v))
			return r
		}
	}
	seq, ts, err := s.st.Store(m.subject, m.hdr, m.data)
	if err != nil {
		r.err = storeError(err)
		return r
	}
	r.seq, r.stored = seq, true
	if id != "" && cfg.DuplicateWindow > 0 {
		g.dedupe.add(id, seq, ts)
	}
	g.lastMsgID = id
	switch {
	case hasRollup && string(rollup) == "all":
		_, err = s.st.Purge(store.Purge{Keep: 1})
	case hasRollup:
		_, err = s.st.Purge(store.Purge{Subject: m.subject, Keep: 1})
	}
	if err != nil {
		s.e.log.Warn("JetStream post-store removal failed", "stream", s.name, "err", err)
	}
	return r
}

// check runs the checks that come before dedupe.
func (s *Stream) check(cfg *StreamConfig, m *inMsg) *APIError {
	if cfg.Sealed {
		return errSealed()
	}
	size := len(m.hdr) + len(m.data)
	if size > maxRecordPayload {
		return errStoreFailed("message too large")
	}
	if cfg.MaxMsgSize > 0 && size > int(cfg.MaxMsgSize) {
		return errMsgTooBig()
	}
	if len(m.hdr) == 0 {
		return nil
	}
	if len(m.hdr) > maxHeaderLen {
		return errHeaderTooBig()
	}
	if v, ok := headerValue(m.hdr, hdrExpectedStream); ok && string(v) != s.name {
		return errExpectedStream()
	}
	if e := refuseFeatureHeaders(m.hdr); e != nil {
		return e
	}
	if want, present, ok := headerUint(m.hdr, hdrExpectedLastSubjSeq); present {
		filter := m.subject
		if v, has := headerValue(m.hdr, hdrExpectedSubjSeqSubj); has && len(v) > 0 {
			filter = string(v)
		}
		actual := s.lastSeqFor(filter)
		if !ok || want != actual {
			return errWrongLastSeq(actual)
		}
	} else if v, has := headerValue(m.hdr, hdrExpectedSubjSeqSubj); has && len(v) > 0 {
		return errExpectedLastSubjSeqMissing()
	}
	if want, present, ok := headerUint(m.hdr, hdrExpectedLastSeq); present {
		if last := s.st.State().LastSeq; !ok || want != last {
			return errWrongLastSeq(last)
		}
	}
	return nil
}

// refuseFeatureHeaders refuses the headers of features Fern lacks.
func refuseFeatureHeaders(hdr []byte) *APIError {
	if _, ok := headerValue(hdr, hdrTTL); ok {
		return errTTLDisabled()
	}
	if _, ok := headerValue(hdr, hdrIncr); ok {
		return errIncrDisabled()
	}
	if _, ok := headerValue(hdr, hdrBatchID); ok {
		return errAtomicDisabled()
	}
	if _, ok := headerValue(hdr, hdrSchedule); ok {
		return errSchedulesDisabled()
	}
	return nil
}

// lastSeqFor is the sequence of the last message matching filter, 0 if
// none.
func (s *Stream) lastSeqFor(filter string) uint64 {
	if !subject.Valid(filter) {
		return 0
	}
	var m store.Msg
	got, err := s.st.LoadLast(filter, &m)
	if err != nil {
		return 0
	}
	return got.Seq
}

// storeError maps a store failure to its PubAck error.
func storeError(err error) *APIError {
	switch {
	case errors.Is(err, store.ErrMaxMsgs):
		return errStoreFailed("maximum messages exceeded")
	case errors.Is(err, store.ErrMaxBytes):
		return errStoreFailed("maximum bytes exceeded")
	case errors.Is(err, store.ErrMaxMsgsPerSubject):
		return errStoreFailed("maximum messages per subject exceeded")
	case errors.Is(err, store.ErrMsgTooLarge):
		return errMsgTooBig()
	}
	return errStoreFailed(err.Error())
}
