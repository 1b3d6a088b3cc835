package jetstream

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func explicitState(mod func(*ConsumerConfig)) *consumerState {
	c := &ConsumerConfig{Durable: "D", AckPolicy: AckExplicit}
	if mod != nil {
		mod(c)
	}
	_ = c.SetDefaults(&consumerStreamLimits{}, false)
	return newConsumerState(c, 1)
}

// The probe: ack_wait 1 s, max_deliver 2, three messages. They come back
// once each with count 2 and consumer sequences 4, 5, 6, then are dropped.
func TestConsumerStateProbeRedelivery(t *testing.T) {
	s := explicitState(func(c *ConsumerConfig) { c.AckWait = time.Second; c.MaxDeliver = 2 })
	for seq := uint64(1); seq <= 3; seq++ {
		if c, n := s.deliverNew(seq, t0); c != seq || n != 1 {
			t.Fatalf("deliver %d: %d %d", seq, c, n)
		}
	}
	if d, ok := s.nextDeadline(); !ok || !d.Equal(t0.Add(time.Second)) {
		t.Fatalf("deadline %v", d)
	}
	if n := s.expire(t0.Add(999 * time.Millisecond)); n != 0 {
		t.Fatalf("early expire %d", n)
	}
	now := t0.Add(time.Second)
	if n := s.expire(now); n != 3 {
		t.Fatalf("expire %d", n)
	}
	for want := uint64(4); want <= 6; want++ {
		seq, ok := s.nextRedelivery()
		if !ok {
			t.Fatal("no redelivery")
		}
		if c, n := s.redelivered(seq, now); c != want || n != 2 || seq != want-3 {
			t.Fatalf("redelivery of %d: cseq %d count %d", seq, c, n)
		}
	}
	if s.numRedelivered() != 3 || s.numAckPending() != 3 {
		t.Fatalf("redelivered %d pending %d", s.numRedelivered(), s.numAckPending())
	}
	if n := s.expire(now.Add(time.Second)); n != 0 || s.numAckPending() != 0 {
		t.Fatalf("max deliver: queued %d pending %d", n, s.numAckPending())
	}
	if got := s.takeMaxDelivered(nil); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("maxed %v", got)
	}
	if f := s.ackFloor(); f != (SequencePair{6, 3}) {
		t.Fatalf("floor %+v", f)
	}
	if s.numRedelivered() != 3 {
		t.Fatalf("num_redelivered after drop %d", s.numRedelivered())
	}
}

func TestConsumerStateBackoffAndNak(t *testing.T) {
	s := explicitState(func(c *ConsumerConfig) {
		c.BackOff = []time.Duration{time.Second, 5 * time.Second, 10 * time.Second}
	})
	s.deliverNew(1, t0)
	now := t0
	for i, wait := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second} {
		d, _ := s.nextDeadline()
		if d.Sub(now) != wait {
			t.Fatalf("delivery %d: wait %v want %v", i+1, d.Sub(now), wait)
		}
		now = d
		s.expire(now)
		seq, ok := s.nextRedelivery()
		if !ok || seq != 1 {
			t.Fatal("redelivery")
		}
		s.redelivered(seq, now)
	}
	// NAK with delay: stays pending, comes due after the delay.
	cseq := s.deliveredPair().Consumer
	if !s.nak(1, cseq, 3*time.Second, true, now) {
		t.Fatal("nak")
	}
	if d, _ := s.nextDeadline(); d.Sub(now) != 3*time.Second {
		t.Fatalf("nak delay deadline %v", d.Sub(now))
	}
	// NAK without delay: queued at once.
	s.nak(1, cseq, 0, false, now)
	if _, ok := s.nextDeadline(); ok {
		t.Fatal("queued entry still has a deadline")
	}
	if seq, ok := s.nextRedelivery(); !ok || seq != 1 {
		t.Fatal("nak redelivery")
	}
	s.unpopRedelivery(1)
	if seq, ok := s.nextRedelivery(); !ok || seq != 1 {
		t.Fatal("unpop")
	}
	s.redelivered(1, now)
	// Progress restarts the wait.
	later := now.Add(2 * time.Second)
	s.progress(1, later)
	if d, _ := s.nextDeadline(); d.Sub(later) != 10*time.Second {
		t.Fatalf("progress deadline %v", d.Sub(later))
	}
	// Stale consumer sequence: ignored.
	if s.nak(1, 0, 0, false, now) {
		t.Fatal("nak below floor accepted")
	}
}

func TestConsumerStateAckAllAndFloor(t *testing.T) {
	s := explicitState(func(c *ConsumerConfig) { c.AckPolicy = AckAll })
	for _, seq := range []uint64{2, 4, 6, 8} { // filtered stream: gaps
		s.deliverNew(seq, t0)
	}
	if f := s.ackFloor(); f != (SequencePair{0, 1}) {
		t.Fatalf("floor %+v", f)
	}
	got := s.ack(6, 3, t0, nil)
	if !slices.Equal(got, []uint64{2, 4, 6}) || s.numAckPending() != 1 {
		t.Fatalf("ack all: %v pending %d", got, s.numAckPending())
	}
	if f := s.ackFloor(); f != (SequencePair{3, 7}) {
		t.Fatalf("floor %+v", f)
	}
	if got := s.ack(4, 2, t0, nil); len(got) != 0 {
		t.Fatalf("ack below floor %v", got)
	}
	if got := s.ack(9, 5, t0, nil); len(got) != 0 {
		t.Fatalf("ack beyond delivered %v", got)
	}
	s.ack(8, 4, t0, nil)
	if f := s.ackFloor(); f != (SequencePair{4, 8}) || s.deliveredPair() != (SequencePair{4, 8}) {
		t.Fatalf("floor %+v", f)
	}
}

func TestConsumerStateMaxAckPendingAndNone(t *testing.T) {
	s := explicitState(func(c *ConsumerConfig) { c.MaxAckPending = 2 })
	s.deliverNew(1, t0)
	s.deliverNew(2, t0)
	if s.canDeliverNew() {
		t.Fatal("max ack pending not enforced")
	}
	s.ack(1, 1, t0, nil)
	if !s.canDeliverNew() {
		t.Fatal("not released")
	}
	n := newConsumerState(&ConsumerConfig{AckPolicy: AckNone, MaxAckPending: 1}, 5)
	for seq := uint64(5); seq < 10; seq++ {
		if !n.canDeliverNew() {
			t.Fatal("ack none blocked")
		}
		n.deliverNew(seq, t0)
	}
	if n.numAckPending() != 0 || n.ackFloor() != (SequencePair{5, 9}) || len(n.ack(7, 3, t0, nil)) != 0 {
		t.Fatalf("ack none: %+v", n.ackFloor())
	}
}

func TestConsumerStateNumPending(t *testing.T) {
	s := explicitState(nil)
	stream := []uint64{1, 2, 3, 5, 8} // matching sequences
	count := func(from uint64) uint64 {
		n := uint64(0)
		for _, q := range stream {
			if q >= from {
				n++
			}
		}
		return n
	}
	s.recountPending(count)
	if s.numPending() != 5 {
		t.Fatal(s.numPending())
	}
	s.deliverNew(1, t0)
	s.deliverNew(2, t0)
	s.storedMatching(9)
	s.storedMatching(1) // below next: not pending
	if s.numPending() != 4 {
		t.Fatal(s.numPending())
	}
	stream = append(stream, 9)
	s.recountPending(count)
	if s.numPending() != 4 {
		t.Fatal(s.numPending())
	}
	s.forgetBelow(6)
	if s.nextSeq() != 6 || s.numAckPending() != 0 {
		t.Fatalf("forget: next %d pending %d", s.nextSeq(), s.numAckPending())
	}
}

// naiveState is the reference model: plain maps and scans.
type naiveState struct {
	policy     AckPolicy
	wait       time.Duration
	backoff    []time.Duration
	maxDeliver uint64
	maxAck     int
	next       uint64
	dlv        SequencePair
	pend       map[uint64]*naivePending
	maxed      map[uint64]uint64
	maxedNew   []uint64
	stamp      int64
}

type naivePending struct {
	cseq, count uint64
	deadline    int64
	hasDeadline bool
	queued      bool
	qstamp      int64
}

func newNaive(cfg *ConsumerConfig, start uint64) *naiveState {
	n := &naiveState{policy: cfg.AckPolicy, wait: cfg.AckWait, backoff: cfg.BackOff, maxAck: cfg.MaxAckPending,
		next: start, dlv: SequencePair{0, start - 1}, pend: map[uint64]*naivePending{}, maxed: map[uint64]uint64{}}
	if cfg.MaxDeliver > 0 {
		n.maxDeliver = uint64(cfg.MaxDeliver)
	}
	return n
}

func (n *naiveState) waitFor(c uint64) time.Duration {
	if len(n.backoff) > 0 {
		return n.backoff[min(int(c-1), len(n.backoff)-1)]
	}
	return n.wait
}

func (n *naiveState) floor() SequencePair {
	var best uint64
	for q := range n.pend {
		if best == 0 || q < best {
			best = q
		}
	}
	if best == 0 {
		return SequencePair{n.dlv.Consumer, n.next - 1}
	}
	return SequencePair{n.pend[best].cseq - 1, best - 1}
}

func (n *naiveState) redelivered() int {
	if n.maxDeliver == 1 {
		return 0
	}
	r := len(n.maxed)
	for _, p := range n.pend {
		if p.count > 1 {
			r++
		}
	}
	return r
}

func (n *naiveState) canDeliverNew() bool {
	return n.policy == AckNone || n.maxAck <= 0 || len(n.pend) < n.maxAck
}

func (n *naiveState) deliverNew(sseq uint64, now time.Time) uint64 {
	n.dlv = SequencePair{n.dlv.Consumer + 1, sseq}
	n.next = sseq + 1
	if n.policy != AckNone {
		n.pend[sseq] = &naivePending{cseq: n.dlv.Consumer, count: 1, deadline: now.Add(n.waitFor(1)).UnixNano(), hasDeadline: true}
	}
	return n.dlv.Consumer
}

func (n *naiveState) drop(q uint64) {
	n.maxed[q] = n.pend[q].count
	n.maxedNew = append(n.maxedNew, q)
	delete(n.pend, q)
}

func (n *naiveState) queue(q uint64) {
	p := n.pend[q]
	p.hasDeadline = false
	if !p.queued {
		p.queued = true
		n.stamp++
		p.qstamp = n.stamp
	}
}

func (n *naiveState) expire(now time.Time) int {
	var due []uint64
	for q, p := range n.pend {
		if p.hasDeadline && p.deadline <= now.UnixNano() {
			due = append(due, q)
		}
	}
	slices.Sort(due)
	queued := 0
	for _, q := range due {
		if n.maxDeliver > 0 && n.pend[q].count >= n.maxDeliver {
			n.drop(q)
			continue
		}
		n.queue(q)
		queued++
	}
	return queued
}

func (n *naiveState) nextRedelivery() (uint64, bool) {
	for {
		var best uint64
		for q, p := range n.pend {
			if p.queued && (best == 0 || p.qstamp < n.pend[best].qstamp) {
				best = q
			}
		}
		if best == 0 {
			return 0, false
		}
		p := n.pend[best]
		p.queued = false
		if n.maxDeliver > 0 && p.count >= n.maxDeliver {
			n.drop(best)
			continue
		}
		return best, true
	}
}

func (n *naiveState) unpop(q uint64) {
	p := n.pend[q]
	lowest := int64(0)
	for _, o := range n.pend {
		if o.queued && o.qstamp < lowest {
			lowest = o.qstamp
		}
	}
	p.queued, p.qstamp = true, lowest-1
}

func (n *naiveState) redeliver(q uint64, now time.Time) (uint64, uint64) {
	n.dlv.Consumer++
	p := n.pend[q]
	p.count++
	p.deadline, p.hasDeadline = now.Add(n.waitFor(p.count)).UnixNano(), true
	return n.dlv.Consumer, p.count
}

func (n *naiveState) ack(sseq, cseq uint64) []uint64 {
	if n.policy == AckNone || sseq >= n.next {
		return nil
	}
	var out []uint64
	if n.policy == AckExplicit {
		delete(n.maxed, sseq)
		if n.pend[sseq] != nil {
			delete(n.pend, sseq)
			out = append(out, sseq)
		}
		return out
	}
	f := n.floor()
	if sseq <= f.Stream || cseq <= f.Consumer {
		return nil
	}
	for q := range n.maxed {
		if q <= sseq {
			delete(n.maxed, q)
		}
	}
	for q := range n.pend {
		if q <= sseq {
			out = append(out, q)
			delete(n.pend, q)
		}
	}
	slices.Sort(out)
	return out
}

func (n *naiveState) nak(sseq, cseq uint64, delay time.Duration, now time.Time) bool {
	f := n.floor()
	if cseq <= f.Consumer || cseq > n.dlv.Consumer || n.pend[sseq] == nil {
		return false
	}
	p := n.pend[sseq]
	if delay > 0 {
		p.queued = false
		p.deadline, p.hasDeadline = now.Add(delay).UnixNano(), true
		return true
	}
	n.queue(sseq)
	return true
}

func (n *naiveState) progress(sseq uint64, now time.Time) {
	if p := n.pend[sseq]; p != nil && !p.queued {
		p.deadline, p.hasDeadline = now.Add(n.waitFor(p.count)).UnixNano(), true
	}
}

func (n *naiveState) nextDeadline() (int64, bool) {
	var best int64
	ok := false
	for _, p := range n.pend {
		if p.hasDeadline && (!ok || p.deadline < best) {
			best, ok = p.deadline, true
		}
	}
	return best, ok
}

func (n *naiveState) forgetBelow(first uint64) {
	for q := range n.pend {
		if q < first {
			delete(n.pend, q)
		}
	}
	for q := range n.maxed {
		if q < first {
			delete(n.maxed, q)
		}
	}
	if first > n.next {
		n.next = first
	}
}

func TestConsumerStateModel(t *testing.T) {
	configs := []func(*ConsumerConfig){
		nil,
		func(c *ConsumerConfig) { c.MaxDeliver = 3; c.MaxAckPending = 5 },
		func(c *ConsumerConfig) { c.AckPolicy = AckAll; c.MaxDeliver = 2 },
		func(c *ConsumerConfig) { c.BackOff = []time.Duration{time.Second, 3 * time.Second}; c.MaxDeliver = 4 },
		func(c *ConsumerConfig) { c.AckPolicy = AckNone },
		func(c *ConsumerConfig) { c.MaxDeliver = 1 },
	}
	for ci, mod := range configs {
		for seed := uint64(0); seed < 30; seed++ {
			runStateModel(t, ci, mod, seed)
		}
	}
}

func runStateModel(t *testing.T, ci int, mod func(*ConsumerConfig), seed uint64) {
	t.Helper()
	cfg := &ConsumerConfig{Durable: "D", AckPolicy: AckExplicit, AckWait: 2 * time.Second}
	if mod != nil {
		mod(cfg)
	}
	if err := cfg.SetDefaults(&consumerStreamLimits{}, false); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, uint64(ci)))
	s, n := newConsumerState(cfg, 3), newNaive(cfg, 3)
	now := t0
	lastCseq := map[uint64]uint64{} // stream seq -> consumer seq of its last delivery
	pick := func() uint64 { return s.nextSeq() - 1 - uint64(rng.IntN(int(min(s.nextSeq()-1, 12)+1))) }
	for step := 0; step < 400; step++ {
		op := rng.IntN(12)
		var desc string
		switch op {
		case 0, 1:
			desc = "deliverNew"
			if s.canDeliverNew() != n.canDeliverNew() {
				t.Fatalf("cfg %d seed %d step %d: canDeliverNew", ci, seed, step)
			}
			if s.canDeliverNew() {
				seq := s.nextSeq() + uint64(rng.IntN(3))
				c1, _ := s.deliverNew(seq, now)
				c2 := n.deliverNew(seq, now)
				if c1 != c2 {
					t.Fatalf("cfg %d seed %d step %d: deliver cseq %d vs %d", ci, seed, step, c1, c2)
				}
				lastCseq[seq] = c1
			}
		case 2:
			desc = "redeliver"
			q1, ok1 := s.nextRedelivery()
			q2, ok2 := n.nextRedelivery()
			if q1 != q2 || ok1 != ok2 {
				t.Fatalf("cfg %d seed %d step %d: nextRedelivery %d,%v vs %d,%v", ci, seed, step, q1, ok1, q2, ok2)
			}
			if ok1 {
				if rng.IntN(4) == 0 {
					s.unpopRedelivery(q1)
					n.unpop(q2)
				} else {
					c1, k1 := s.redelivered(q1, now)
					c2, k2 := n.redeliver(q2, now)
					if c1 != c2 || k1 != k2 {
						t.Fatalf("cfg %d seed %d step %d: redelivered", ci, seed, step)
					}
					lastCseq[q1] = c1
				}
			}
		case 3, 4:
			desc = "ack"
			q := pick()
			a1 := s.ack(q, lastCseq[q], now, nil)
			slices.Sort(a1)
			a2 := n.ack(q, lastCseq[q])
			if !slices.Equal(a1, a2) {
				t.Fatalf("cfg %d seed %d step %d: ack %d: %v vs %v", ci, seed, step, q, a1, a2)
			}
		case 5:
			desc = "nak"
			q := pick()
			var d time.Duration
			if rng.IntN(2) == 0 {
				d = time.Duration(rng.IntN(4000)) * time.Millisecond
			}
			if r1, r2 := s.nak(q, lastCseq[q], d, d > 0, now), n.nak(q, lastCseq[q], d, now); r1 != r2 {
				t.Fatalf("cfg %d seed %d step %d: nak %d: %v vs %v", ci, seed, step, q, r1, r2)
			}
		case 6:
			desc = "progress"
			q := pick()
			s.progress(q, now)
			n.progress(q, now)
		case 7, 8:
			desc = "time"
			now = now.Add(time.Duration(rng.IntN(1500)) * time.Millisecond)
		case 9:
			desc = "expire"
			if e1, e2 := s.expire(now), n.expire(now); e1 != e2 {
				t.Fatalf("cfg %d seed %d step %d: expire %d vs %d", ci, seed, step, e1, e2)
			}
		case 10:
			desc = "persist"
			data, err := s.marshal()
			if err != nil {
				t.Fatal(err)
			}
			r, err := restoreConsumerState(cfg, data)
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			s = r
		case 11:
			desc = "forgetBelow"
			if rng.IntN(8) == 0 {
				first := s.nextSeq() - uint64(rng.IntN(int(min(s.nextSeq(), 5))))
				s.forgetBelow(first)
				n.forgetBelow(first)
			}
		}
		compareStates(t, s, n, ci, seed, step, desc)
	}
}

func compareStates(t *testing.T, s *consumerState, n *naiveState, ci int, seed uint64, step int, desc string) {
	t.Helper()
	fail := func(what string, a, b any) {
		t.Fatalf("cfg %d seed %d step %d (%s): %s: %v vs model %v", ci, seed, step, desc, what, a, b)
	}
	if s.numAckPending() != len(n.pend) {
		fail("num_ack_pending", s.numAckPending(), len(n.pend))
	}
	if s.numRedelivered() != n.redelivered() {
		fail("num_redelivered", s.numRedelivered(), n.redelivered())
	}
	if s.ackFloor() != n.floor() {
		fail("ack floor", s.ackFloor(), n.floor())
	}
	if s.deliveredPair() != (SequencePair{n.dlv.Consumer, n.next - 1}) {
		fail("delivered", s.deliveredPair(), n.dlv)
	}
	d1, ok1 := s.nextDeadline()
	d2, ok2 := n.nextDeadline()
	if ok1 != ok2 || ok1 && d1.UnixNano() != d2 {
		fail("next deadline", d1, d2)
	}
	m1 := s.takeMaxDelivered(nil)
	m2 := n.maxedNew
	n.maxedNew = nil
	if !reflect.DeepEqual(slices.Sorted(slices.Values(m1)), slices.Sorted(slices.Values(m2))) && len(m1)+len(m2) > 0 {
		fail("max delivered", m1, m2)
	}
	for q, p := range n.pend {
		if s.pendingCount(q) != p.count {
			fail("count", s.pendingCount(q), p.count)
		}
	}
}

func TestConsumerStatePersistRoundTrip(t *testing.T) {
	s := explicitState(func(c *ConsumerConfig) { c.MaxDeliver = 3 })
	for q := uint64(1); q <= 5; q++ {
		s.deliverNew(q, t0)
	}
	s.ack(2, 2, t0, nil)
	s.nak(3, 3, 0, false, t0)
	s.nak(4, 4, time.Minute, true, t0)
	s.recountPending(func(uint64) uint64 { return 7 })
	data, err := s.marshal()
	if err != nil {
		t.Fatal(err)
	}
	r, err := restoreConsumerState(&ConsumerConfig{AckPolicy: AckExplicit, AckWait: 30 * time.Second, MaxDeliver: 3}, data)
	if err != nil {
		t.Fatal(err)
	}
	if r.numAckPending() != 4 || r.ackFloor() != (SequencePair{0, 0}) || r.deliveredPair() != (SequencePair{5, 5}) || r.numPending() != 7 {
		t.Fatalf("restored: %+v %+v %d", r.ackFloor(), r.deliveredPair(), r.numAckPending())
	}
	if q, ok := r.nextRedelivery(); !ok || q != 3 {
		t.Fatalf("queue not restored: %d %v", q, ok)
	}
	if d, _ := r.nextDeadline(); !d.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("deadline %v", d)
	}
	again, _ := r.marshal()
	r2, _ := restoreConsumerState(&ConsumerConfig{AckPolicy: AckExplicit}, again)
	if r2.numAckPending() != 4 {
		t.Fatal("second round trip")
	}
	for _, bad := range []string{`{`, `{"v":9}`, `{"v":1,"next":3,"pending":[{"s":5,"c":1,"n":1}]}`, `{"v":1,"next":9,"queue":[4]}`} {
		if _, err := restoreConsumerState(&ConsumerConfig{}, []byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
