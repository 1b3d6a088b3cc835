package jetstream

import (
	"container/heap"
	"slices"
	"time"
)

// consumerState is the delivery and ack bookkeeping of one consumer. It is
// a plain data structure: no locks, no timers, no I/O. Time comes in as
// now arguments; the owner runs a timer to nextDeadline and calls expire.
//
// Model:
//   - Every delivery takes the next consumer sequence (redeliveries too).
//     delivered is the last (consumer seq, stream seq) pair; next is the
//     next stream sequence a new delivery may take.
//   - With ack policy explicit, all or flow_control every delivered stream
//     sequence is pending until acked or terminated. A pending entry keeps
//     the consumer sequence of its first delivery (as the reference server
//     does), its delivery count and a deadline: the last delivery (or
//     progress) time plus ack_wait, or plus backoff[min(count-1, len-1)].
//   - expire moves pending entries past their deadline to the redelivery
//     queue (by stream sequence); a NAK without delay queues at once.
//     Redeliveries go before new messages. An entry that has already been
//     delivered max_deliver times leaves pending instead and is remembered
//     in maxed (counted in num_redelivered, reported by takeMaxDelivered).
//   - The ack floor is eager: below the oldest pending entry (its stream
//     sequence - 1, its consumer sequence - 1), or the delivered pair when
//     nothing is pending. For ack none it is always the delivered pair.
//   - num_pending (undelivered messages matching the filter) is a cached
//     count the owner seeds with recountPending and bumps with
//     storedMatching; new deliveries decrement it.
type consumerState struct {
	ackPolicy     AckPolicy
	ackWait       time.Duration
	backoff       []time.Duration
	maxDeliver    uint64 // 0: unlimited
	maxAckPending int    // <= 0: unlimited
	noAckWait     bool   // flow-control acks: no ack wait, no redelivery timer

	next      uint64       // next stream sequence for a new delivery
	delivered SequencePair // last delivery
	pending   map[uint64]*pendingMsg
	order     []uint64 // pending stream seqs in first-delivery order; stale entries skipped
	deadlines pendingHeap
	rdq       []rdqEntry // redelivery queue; rdq[rdqHead:] is live
	rdqHead   int
	redeliv   int               // pending entries with count > 1
	maxed     map[uint64]uint64 // stream seq -> delivery count, dropped by max_deliver
	maxedNew  []uint64          // maxed since the last takeMaxDelivered
	numPend   uint64            // cached num_pending

	lastDelivered time.Time
	lastAcked     time.Time
}

// SequencePair is a consumer sequence and the stream sequence it carried.
type SequencePair struct {
	Consumer uint64 `json:"consumer_seq"`
	Stream   uint64 `json:"stream_seq"`
}

// pendingMsg is one message waiting for its ack.
type pendingMsg struct {
	sseq     uint64
	cseq     uint64 // consumer sequence of the first delivery
	ts       int64  // last delivery, unix ns
	deadline int64  // unix ns
	count    uint64 // deliveries so far
	heapIdx  int    // index in deadlines, -1 when not there
	queued   bool   // on the redelivery queue
	qgen     uint32 // generation of the live queue entry
}

// rdqEntry is a redelivery queue slot; it is live while the message is
// pending, queued, and still in the same queue generation.
type rdqEntry struct {
	sseq uint64
	gen  uint32
}

// newConsumerState starts a consumer whose first new delivery will be at
// or after stream sequence start (at least 1).
func newConsumerState(cfg *ConsumerConfig, start uint64) *consumerState {
	start = max(start, 1)
	s := &consumerState{
		next:      start,
		delivered: SequencePair{Stream: start - 1},
		pending:   make(map[uint64]*pendingMsg),
		maxed:     make(map[uint64]uint64),
	}
	s.applyConfig(cfg)
	return s
}

// applyConfig takes the settings that may change on a consumer update.
// Deadlines already set keep their value; new ones use the new settings.
func (s *consumerState) applyConfig(cfg *ConsumerConfig) {
	s.ackPolicy = cfg.AckPolicy
	s.ackWait = cfg.AckWait
	if s.ackWait <= 0 {
		s.ackWait = consumerDefaultAckWait
	}
	s.backoff = slices.Clone(cfg.BackOff)
	s.maxDeliver = 0
	if cfg.MaxDeliver > 0 {
		s.maxDeliver = uint64(cfg.MaxDeliver)
	}
	s.maxAckPending = cfg.MaxAckPending
	s.noAckWait = cfg.AckPolicy == AckFlowControl
}

// tracksAcks reports whether deliveries become pending.
func (s *consumerState) tracksAcks() bool { return s.ackPolicy != AckNone }

// nextSeq is the stream sequence from which the next new message is
// looked up.
func (s *consumerState) nextSeq() uint64 { return s.next }

// skipTo moves the next stream sequence forward to seq (for messages the
// filter skips, or past the end of a purged stream). It never moves back.
func (s *consumerState) skipTo(seq uint64) {
	if seq > s.next {
		s.next = seq
	}
}

// canDeliverNew reports whether max_ack_pending allows a new delivery.
// Redeliveries are always allowed.
func (s *consumerState) canDeliverNew() bool {
	return !s.tracksAcks() || s.maxAckPending <= 0 || len(s.pending) < s.maxAckPending
}

// waitFor is the ack wait after a delivery with this count.
func (s *consumerState) waitFor(count uint64) time.Duration {
	if n := len(s.backoff); n > 0 {
		i := int(min(count-1, uint64(n-1)))
		return s.backoff[i]
	}
	return s.ackWait
}

// deliverNew records the first delivery of stream sequence sseq (at or
// after nextSeq) and returns the consumer sequence and delivery count (1)
// to put in the ack reply.
func (s *consumerState) deliverNew(sseq uint64, now time.Time) (cseq, count uint64) {
	cseq = s.delivered.Consumer + 1
	s.delivered = SequencePair{Consumer: cseq, Stream: max(sseq, s.delivered.Stream)}
	if sseq >= s.next {
		s.next = sseq + 1
		if s.numPend > 0 {
			s.numPend--
		}
	}
	s.lastDelivered = now
	if !s.tracksAcks() {
		return cseq, 1
	}
	p := &pendingMsg{sseq: sseq, cseq: cseq, ts: now.UnixNano(), count: 1, heapIdx: -1}
	p.deadline = now.Add(s.waitFor(1)).UnixNano()
	s.pending[sseq] = p
	s.order = append(s.order, sseq)
	if !s.noAckWait {
		heap.Push(&s.deadlines, p)
	}
	return cseq, 1
}

// nextRedelivery pops the next stream sequence to redeliver. Entries that
// reached max_deliver are dropped here (a NAK may have queued them).
func (s *consumerState) nextRedelivery() (sseq uint64, ok bool) {
	for s.rdqHead < len(s.rdq) {
		e := s.rdq[s.rdqHead]
		s.rdqHead++
		seq := e.sseq
		p := s.pending[seq]
		if p == nil || !p.queued || p.qgen != e.gen {
			continue
		}
		p.queued = false
		if s.maxDeliver > 0 && p.count >= s.maxDeliver {
			s.dropMaxed(p)
			continue
		}
		s.compactRdq()
		return seq, true
	}
	s.rdq, s.rdqHead = s.rdq[:0], 0
	return 0, false
}

// unpopRedelivery puts back a sequence that nextRedelivery returned but
// that could not be delivered (no waiting request); it goes first again.
func (s *consumerState) unpopRedelivery(sseq uint64) {
	p := s.pending[sseq]
	if p == nil || p.queued {
		return
	}
	p.queued = true
	p.qgen++
	e := rdqEntry{sseq: sseq, gen: p.qgen}
	if s.rdqHead > 0 {
		s.rdqHead--
		s.rdq[s.rdqHead] = e
		return
	}
	s.rdq = slices.Insert(s.rdq, 0, e)
}

// compactRdq drops the consumed front of the queue once it dominates.
func (s *consumerState) compactRdq() {
	if s.rdqHead > 32 && s.rdqHead*2 > len(s.rdq) {
		n := copy(s.rdq, s.rdq[s.rdqHead:])
		s.rdq, s.rdqHead = s.rdq[:n], 0
	}
}

// hasRedeliveries reports whether the redelivery queue may hold work.
func (s *consumerState) hasRedeliveries() bool { return s.rdqHead < len(s.rdq) }

// redelivered records the redelivery of sseq (from nextRedelivery) and
// returns the new consumer sequence and the delivery count.
func (s *consumerState) redelivered(sseq uint64, now time.Time) (cseq, count uint64) {
	cseq = s.delivered.Consumer + 1
	s.delivered.Consumer = cseq
	s.lastDelivered = now
	p := s.pending[sseq]
	if p == nil {
		return cseq, 1
	}
	if p.count == 1 {
		s.redeliv++
	}
	p.count++
	p.ts = now.UnixNano()
	s.setDeadline(p, now.Add(s.waitFor(p.count)).UnixNano())
	return cseq, p.count
}

// setDeadline (re)places p in the deadline heap.
func (s *consumerState) setDeadline(p *pendingMsg, deadline int64) {
	p.deadline = deadline
	if p.heapIdx >= 0 {
		heap.Fix(&s.deadlines, p.heapIdx)
	} else {
		heap.Push(&s.deadlines, p)
	}
}

// expire queues for redelivery, in stream order, every pending message
// whose deadline is at or before now, and drops those that already had
// max_deliver deliveries. It returns how many were queued.
func (s *consumerState) expire(now time.Time) int {
	if s.noAckWait {
		return 0
	}
	t := now.UnixNano()
	var due []*pendingMsg
	for len(s.deadlines) > 0 && s.deadlines[0].deadline <= t {
		due = append(due, heap.Pop(&s.deadlines).(*pendingMsg))
	}
	slices.SortFunc(due, func(a, b *pendingMsg) int { return cmpUint64(a.sseq, b.sseq) })
	queued := 0
	for _, p := range due {
		if s.maxDeliver > 0 && p.count >= s.maxDeliver {
			s.dropMaxed(p)
			continue
		}
		s.enqueue(p)
		queued++
	}
	return queued
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// enqueue puts p on the redelivery queue (out of the deadline heap).
func (s *consumerState) enqueue(p *pendingMsg) {
	if p.heapIdx >= 0 {
		heap.Remove(&s.deadlines, p.heapIdx)
	}
	if !p.queued {
		p.queued = true
		p.qgen++
		s.rdq = append(s.rdq, rdqEntry{sseq: p.sseq, gen: p.qgen})
	}
}

// nextDeadline is when expire has work next; ok is false when nothing
// pending has a deadline.
func (s *consumerState) nextDeadline() (t time.Time, ok bool) {
	if len(s.deadlines) == 0 || s.noAckWait {
		return time.Time{}, false
	}
	return time.Unix(0, s.deadlines[0].deadline), true
}

// dropMaxed removes p from pending after its last allowed delivery.
func (s *consumerState) dropMaxed(p *pendingMsg) {
	s.remove(p)
	s.maxed[p.sseq] = p.count
	s.maxedNew = append(s.maxedNew, p.sseq)
}

// takeMaxDelivered appends the stream sequences dropped by max_deliver
// since the last call (for MAX_DELIVERIES advisories) and forgets them.
func (s *consumerState) takeMaxDelivered(dst []uint64) []uint64 {
	dst = append(dst, s.maxedNew...)
	s.maxedNew = s.maxedNew[:0]
	return dst
}

// remove takes p out of pending, the heap and (lazily) the queues.
func (s *consumerState) remove(p *pendingMsg) {
	delete(s.pending, p.sseq)
	if p.heapIdx >= 0 {
		heap.Remove(&s.deadlines, p.heapIdx)
	}
	p.queued = false
	if p.count > 1 {
		s.redeliv--
	}
	s.trimOrder()
}

// trimOrder drops stale entries at the front of order, and compacts it
// when stale entries dominate.
func (s *consumerState) trimOrder() {
	i := 0
	for i < len(s.order) && s.pending[s.order[i]] == nil {
		i++
	}
	s.order = s.order[i:]
	if len(s.order) > 64 && len(s.order) > 4*len(s.pending) {
		live := make([]uint64, 0, 2*len(s.pending))
		for _, q := range s.order {
			if s.pending[q] != nil {
				live = append(live, q)
			}
		}
		s.order = live
	}
	if len(s.order) == 0 {
		s.order = nil
	}
}

// inRange reports whether an ack naming consumer sequence cseq may apply:
// above the ack floor and not beyond the last delivery. Acks from ack
// subjects that fail it are ignored.
func (s *consumerState) inRange(cseq uint64) bool {
	return cseq > s.ackFloor().Consumer && cseq <= s.delivered.Consumer
}

// ack applies an ack (or a +TERM, which acks too) for stream sequence
// sseq, delivered as consumer sequence cseq, and appends to dst the stream
// sequences that left pending (several with ack all). Acks with ack none,
// or for a stream sequence not yet delivered, do nothing.
func (s *consumerState) ack(sseq, cseq uint64, now time.Time, dst []uint64) []uint64 {
	if !s.tracksAcks() || sseq >= s.next {
		return dst
	}
	switch s.ackPolicy {
	case AckExplicit:
		delete(s.maxed, sseq)
		if p := s.pending[sseq]; p != nil {
			s.remove(p)
			dst = append(dst, sseq)
			s.lastAcked = now
		}
	default: // all, flow_control: cumulative
		floor := s.ackFloor()
		if sseq <= floor.Stream || cseq <= floor.Consumer {
			return dst
		}
		for q := range s.maxed {
			if q <= sseq {
				delete(s.maxed, q)
			}
		}
		start := len(dst)
		for _, q := range s.order {
			if q > sseq {
				break
			}
			if p := s.pending[q]; p != nil {
				dst = append(dst, q)
			}
		}
		for _, q := range dst[start:] {
			s.remove(s.pending[q])
		}
		s.lastAcked = now
	}
	return dst
}

// nak asks for the redelivery of sseq: at once, or after delay when
// hasDelay. It reports whether sseq was pending.
func (s *consumerState) nak(sseq, cseq uint64, delay time.Duration, hasDelay bool, now time.Time) bool {
	if !s.inRange(cseq) {
		return false
	}
	p := s.pending[sseq]
	if p == nil {
		return false
	}
	if hasDelay && delay > 0 {
		if p.queued {
			p.queued = false // the queue entry goes stale
		}
		s.setDeadline(p, now.Add(delay).UnixNano())
		return true
	}
	s.enqueue(p)
	return true
}

// progress handles +WPI: the ack wait of sseq starts again from now.
func (s *consumerState) progress(sseq uint64, now time.Time) bool {
	p := s.pending[sseq]
	if p == nil {
		return false
	}
	p.ts = now.UnixNano()
	if !p.queued {
		s.setDeadline(p, now.Add(s.waitFor(p.count)).UnixNano())
	}
	return true
}

// forgetBelow drops everything below first, the stream's new first
// sequence after a purge or limit removal, and moves nextSeq up to it.
func (s *consumerState) forgetBelow(first uint64) {
	for _, q := range s.order {
		if q >= first {
			break
		}
		if p := s.pending[q]; p != nil {
			s.remove(p)
		}
	}
	for q := range s.maxed {
		if q < first {
			delete(s.maxed, q)
		}
	}
	s.skipTo(first)
}

// forget drops one sequence the stream no longer has.
func (s *consumerState) forget(sseq uint64) {
	if p := s.pending[sseq]; p != nil {
		s.remove(p)
	}
	delete(s.maxed, sseq)
}

// ackFloor is the highest pair at and below which everything is acked.
func (s *consumerState) ackFloor() SequencePair {
	for _, q := range s.order {
		if p := s.pending[q]; p != nil {
			return SequencePair{Consumer: p.cseq - 1, Stream: q - 1}
		}
	}
	return SequencePair{Consumer: s.delivered.Consumer, Stream: s.next - 1}
}

// deliveredPair is the last delivery (stream part: nextSeq - 1).
func (s *consumerState) deliveredPair() SequencePair {
	return SequencePair{Consumer: s.delivered.Consumer, Stream: s.next - 1}
}

// numAckPending is the number of messages waiting for an ack.
func (s *consumerState) numAckPending() int { return len(s.pending) }

// numRedelivered counts pending messages delivered more than once and
// messages dropped by max_deliver (as the reference server does); with
// max_deliver 1 it is 0.
func (s *consumerState) numRedelivered() int {
	if s.maxDeliver == 1 {
		return 0
	}
	return s.redeliv + len(s.maxed)
}

// pendingCount returns the delivery count of a pending sequence (0 when
// not pending).
func (s *consumerState) pendingCount(sseq uint64) uint64 {
	if p := s.pending[sseq]; p != nil {
		return p.count
	}
	return 0
}

// recountPending sets num_pending from count, which returns how many
// stream messages at or after from match the consumer's filter.
func (s *consumerState) recountPending(count func(from uint64) uint64) {
	s.numPend = count(s.next)
}

// storedMatching tells the state that the stream stored seq, which
// matches the filter.
func (s *consumerState) storedMatching(seq uint64) {
	if seq >= s.next {
		s.numPend++
	}
}

// numPending is the cached count of undelivered matching messages.
func (s *consumerState) numPending() uint64 { return s.numPend }

// pendingHeap orders pending entries by deadline, then stream sequence.
type pendingHeap []*pendingMsg

func (h pendingHeap) Len() int { return len(h) }
func (h pendingHeap) Less(i, j int) bool {
	if h[i].deadline != h[j].deadline {
		return h[i].deadline < h[j].deadline
	}
	return h[i].sseq < h[j].sseq
}
func (h pendingHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *pendingHeap) Push(x any) {
	p := x.(*pendingMsg)
	p.heapIdx = len(*h)
	*h = append(*h, p)
}
func (h *pendingHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	p.heapIdx = -1
	return p
}
