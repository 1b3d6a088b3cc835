package jetstream

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// consumerStateSnapshot is the persisted form of a consumerState (JSON).
// The redelivery queue is kept in order; deadlines are absolute, so after
// a restart past them the messages are redelivered (at-least-once).
type consumerStateSnapshot struct {
	Version   int               `json:"v"`
	Next      uint64            `json:"next"`
	Delivered SequencePair      `json:"delivered"`
	Pending   []pendingSnapshot `json:"pending,omitempty"`
	Queue     []uint64          `json:"queue,omitempty"`
	Maxed     map[uint64]uint64 `json:"maxed,omitempty"`
	NumPend   uint64            `json:"num_pending"`
	LastDlv   time.Time         `json:"last_delivered,omitzero"`
	LastAck   time.Time         `json:"last_acked,omitzero"`
}

type pendingSnapshot struct {
	Seq      uint64 `json:"s"`
	Cseq     uint64 `json:"c"`
	TS       int64  `json:"t"`
	Deadline int64  `json:"d"`
	Count    uint64 `json:"n"`
}

const consumerStateVersion = 1

// marshal encodes the state for persistence.
func (s *consumerState) marshal() ([]byte, error) {
	snap := consumerStateSnapshot{
		Version:   consumerStateVersion,
		Next:      s.next,
		Delivered: s.delivered,
		NumPend:   s.numPend,
		LastDlv:   s.lastDelivered,
		LastAck:   s.lastAcked,
	}
	for _, q := range s.order {
		if p := s.pending[q]; p != nil {
			snap.Pending = append(snap.Pending, pendingSnapshot{q, p.cseq, p.ts, p.deadline, p.count})
		}
	}
	for _, e := range s.rdq[s.rdqHead:] {
		if p := s.pending[e.sseq]; p != nil && p.queued && p.qgen == e.gen {
			snap.Queue = append(snap.Queue, e.sseq)
		}
	}
	if len(s.maxed) > 0 {
		snap.Maxed = s.maxed
	}
	return json.Marshal(&snap)
}

// restoreConsumerState rebuilds a state from marshal's output with the
// (possibly updated) config.
func restoreConsumerState(cfg *ConsumerConfig, data []byte) (*consumerState, error) {
	var snap consumerStateSnapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return nil, fmt.Errorf("jetstream: consumer state: %w", err)
	}
	if snap.Version != consumerStateVersion {
		return nil, fmt.Errorf("jetstream: consumer state: unknown version %d", snap.Version)
	}
	s := newConsumerState(cfg, snap.Next)
	s.delivered, s.numPend = snap.Delivered, snap.NumPend
	s.lastDelivered, s.lastAcked = snap.LastDlv, snap.LastAck
	for q, n := range snap.Maxed {
		s.maxed[q] = n
	}
	slices.SortFunc(snap.Pending, func(a, b pendingSnapshot) int { return cmpUint64(a.Cseq, b.Cseq) })
	for _, ps := range snap.Pending {
		if ps.Count == 0 || ps.Seq >= s.next || s.pending[ps.Seq] != nil {
			return nil, fmt.Errorf("jetstream: consumer state: bad pending entry %d", ps.Seq)
		}
		p := &pendingMsg{sseq: ps.Seq, cseq: ps.Cseq, ts: ps.TS, deadline: ps.Deadline, count: ps.Count, heapIdx: -1}
		s.pending[ps.Seq] = p
		s.order = append(s.order, ps.Seq)
		if p.count > 1 {
			s.redeliv++
		}
	}
	for _, q := range snap.Queue {
		p := s.pending[q]
		if p == nil || p.queued {
			return nil, fmt.Errorf("jetstream: consumer state: bad queue entry %d", q)
		}
		p.queued = true
		p.qgen = 1
		s.rdq = append(s.rdq, rdqEntry{sseq: q, gen: 1})
	}
	for _, q := range s.order {
		if p := s.pending[q]; !p.queued {
			heap.Push(&s.deadlines, p)
		}
	}
	return s, nil
}
