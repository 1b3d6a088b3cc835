package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fernmq/fern/subject"
)

// MemConfig configures a MemStore. The zero value is usable.
type MemConfig struct {
	// Clock gives message timestamps and drives MaxAge expiry; nil means
	// SystemClock.
	Clock Clock
	// Limits are the initial retention limits (UpdateLimits changes them).
	Limits Limits
}

// MemStore is a Store held entirely in memory. Nothing survives Close, and
// WaitDurable returns at once.
//
// Messages live in one slice ordered by sequence. A removed message stays
// as a tombstone (empty subject) until it reaches either end of the slice,
// which is then trimmed, or until tombstones make up half of it, which is
// then compacted; so msgs[0] and msgs[len-1] are always live. Lookup by
// sequence is direct while the slice has no gaps (the common case) and a
// binary search otherwise. Removing from the front reslices, and append
// later reallocates only the live part, so a store trimmed by limits
// behaves as a ring.
type MemStore struct {
	clock Clock

	// wmu serializes writers (including the age timer) and the OnRemove
	// callbacks they run; it is taken before mu.
	wmu     sync.Mutex
	removed []uint64 // sequences removed by the current write (guarded by wmu and mu)

	mu       sync.RWMutex
	closed   bool
	limits   Limits
	msgs     []memMsg
	dead     int   // tombstones in msgs
	st       State // Deleted is computed in State, and so is NumSubjects until Close
	subjects subjectIndex
	onRemove func(seq uint64)

	timer    Timer  // pending age-expiry call, or nil
	timerAt  int64  // when timer fires (unix nanos)
	timerGen uint64 // bumped on every arm; a stale call sees a different value
}

// memMsg is one stored message, or a tombstone when subj is "".
type memMsg struct {
	seq  uint64
	ts   int64
	subj string // interned by the subject index; "" = removed
	buf  []byte // header then payload
	hlen int
}

func (r *memMsg) live() bool { return r.subj != "" }

func (r *memMsg) size() uint64 { return uint64(len(r.subj)+len(r.buf)) + 16 }

// load copies r into m, reusing m's buffer.
func (r *memMsg) load(m *Msg) *Msg {
	m.buf = append(m.buf[:0], r.buf...)
	m.Subject, m.Header, m.Data = r.subj, nil, nil
	if r.hlen > 0 {
		m.Header = m.buf[:r.hlen:r.hlen]
	}
	if len(r.buf) > r.hlen {
		m.Data = m.buf[r.hlen:]
	}
	m.Seq, m.Time = r.seq, r.ts
	return m
}

// NewMemStore returns an empty MemStore. It fails only for invalid limits.
func NewMemStore(cfg MemConfig) (*MemStore, error) {
	if err := cfg.Limits.validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	return &MemStore{
		clock:  cfg.Clock,
		limits: cfg.Limits,
		st:     State{FirstSeq: 1},
	}, nil
}

var _ Store = (*MemStore)(nil)

// Store implements Store.
func (ms *MemStore) Store(subj string, hdr, data []byte) (uint64, int64, error) {
	ms.wmu.Lock()
	defer ms.wmu.Unlock()
	ms.mu.Lock()
	ts := ms.clock.Now()
	seq, err := ms.storeLocked(subj, hdr, data, ms.st.LastSeq+1, ts)
	ms.unlockAndNotify()
	if err != nil {
		return 0, 0, err
	}
	return seq, ts, nil
}

// StoreAt implements Store.
func (ms *MemStore) StoreAt(subj string, hdr, data []byte, seq uint64, ts int64) error {
	ms.wmu.Lock()
	defer ms.wmu.Unlock()
	ms.mu.Lock()
	_, err := ms.storeLocked(subj, hdr, data, seq, ts)
	ms.unlockAndNotify()
	return err
}

// storeLocked appends a message at seq, which must be above LastSeq, and
// applies the limits. It needs wmu and mu.
func (ms *MemStore) storeLocked(subj string, hdr, data []byte, seq uint64, ts int64) (uint64, error) {
	if ms.closed {
		return 0, ErrClosed
	}
	if !subject.ValidLiteral(subj) {
		return 0, ErrInvalidSubject
	}
	if seq <= ms.st.LastSeq {
		return 0, ErrSequenceMismatch
	}
	size := MsgSize(subj, hdr, data)
	var subjMsgs uint64
	if ss := ms.subjects.get(subj); ss != nil {
		subjMsgs = ss.msgs
	}
	if err := ms.limits.admit(ms.st.Msgs, ms.st.Bytes, subjMsgs, size, len(hdr)+len(data)); err != nil {
		return 0, err
	}

	var buf []byte
	if n := len(hdr) + len(data); n > 0 {
		buf = make([]byte, n)
		copy(buf[copy(buf, hdr):], data)
	}
	key := ms.subjects.add(subj, seq)
	if len(ms.msgs) == cap(ms.msgs) {
		// Double (append grows large slices by 1.25x): a store trimmed at
		// the front by limits then copies each message about once.
		grown := make([]memMsg, len(ms.msgs), max(64, 2*len(ms.msgs)))
		copy(grown, ms.msgs)
		ms.msgs = grown
	}
	ms.msgs = append(ms.msgs, memMsg{seq: seq, ts: ts, subj: key, buf: buf, hlen: len(hdr)})
	if ms.st.Msgs == 0 {
		ms.st.FirstSeq, ms.st.FirstTime = seq, ts
	}
	ms.st.Msgs++
	ms.st.Bytes += size
	ms.st.LastSeq, ms.st.LastTime = seq, ts

	ms.enforceSubjectLocked(ms.subjects.get(key))
	ms.enforceTotalsLocked()
	return seq, nil
}

// enforceSubjectLocked removes the oldest messages of the subject whose
// entry is ss while it is above MaxMsgsPerSubject.
func (ms *MemStore) enforceSubjectLocked(ss *subjectState) {
	for ss != nil && ms.limits.subjectOver(ss.msgs) {
		first := ms.subjects.first(ss.subj, ss, ms.scanSubjectLocked)
		ms.removeAtLocked(ms.find(first))
	}
}

// enforceTotalsLocked removes the oldest messages while MaxMsgs or
// MaxBytes is exceeded.
func (ms *MemStore) enforceTotalsLocked() {
	for ms.st.Msgs > 0 && ms.limits.over(ms.st.Msgs, ms.st.Bytes) {
		ms.removeAtLocked(0)
	}
}

// scanSubjectLocked is the subjectScan the index uses to find a subject's
// first message again.
func (ms *MemStore) scanSubjectLocked(subj string, lo, hi uint64) uint64 {
	for i := ms.lowerBound(lo); i < len(ms.msgs) && ms.msgs[i].seq <= hi; i++ {
		if ms.msgs[i].subj == subj {
			return ms.msgs[i].seq
		}
	}
	panic(fmt.Sprintf("store: subject index out of step: no %q in [%d, %d]", subj, lo, hi))
}

// find returns the index in msgs of seq, or -1.
func (ms *MemStore) find(seq uint64) int {
	if len(ms.msgs) == 0 || seq < ms.msgs[0].seq {
		return -1
	}
	if off := seq - ms.msgs[0].seq; off < uint64(len(ms.msgs)) && ms.msgs[off].seq == seq {
		return int(off)
	}
	i := ms.lowerBound(seq)
	if i < len(ms.msgs) && ms.msgs[i].seq == seq {
		return i
	}
	return -1
}

// lowerBound returns the index of the first entry with sequence >= seq.
func (ms *MemStore) lowerBound(seq uint64) int {
	lo, hi := 0, len(ms.msgs)
	if hi > 0 {
		// Gap-free slices (the common case) need no search.
		if off := seq - ms.msgs[0].seq; seq >= ms.msgs[0].seq && off < uint64(hi) && ms.msgs[off].seq == seq {
			return int(off)
		}
	}
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ms.msgs[mid].seq < seq {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// removeAtLocked removes the live message at index i and keeps the slice's
// invariants (live ends, bounded tombstones) and the state's bounds.
func (ms *MemStore) removeAtLocked(i int) {
	r := &ms.msgs[i]
	ms.subjects.remove(r.subj, r.seq)
	ms.st.Msgs--
	ms.st.Bytes -= r.size()
	if ms.onRemove != nil {
		ms.removed = append(ms.removed, r.seq)
	}
	*r = memMsg{seq: r.seq}
	ms.dead++
	ms.trimLocked()
}

// trimLocked drops tombstones at both ends, compacts the slice when half
// of it is tombstones, and recomputes FirstSeq and FirstTime.
func (ms *MemStore) trimLocked() {
	n := 0
	for n < len(ms.msgs) && !ms.msgs[n].live() {
		n++
	}
	if n > 0 {
		clear(ms.msgs[:n])
		ms.msgs = ms.msgs[n:]
		ms.dead -= n
	}
	for len(ms.msgs) > 0 && !ms.msgs[len(ms.msgs)-1].live() {
		ms.msgs = ms.msgs[:len(ms.msgs)-1]
		ms.dead--
	}
	if ms.dead >= 64 && ms.dead > len(ms.msgs)/2 {
		live := slices.DeleteFunc(ms.msgs, func(r memMsg) bool { return !r.live() })
		ms.msgs, ms.dead = live, 0
	}
	if len(ms.msgs) == 0 {
		ms.msgs = ms.msgs[:0]
		ms.st.FirstSeq, ms.st.FirstTime = ms.st.LastSeq+1, 0
		return
	}
	ms.st.FirstSeq, ms.st.FirstTime = ms.msgs[0].seq, ms.msgs[0].ts
}

// dropFrontLocked removes every message in msgs[:n] at once.
func (ms *MemStore) dropFrontLocked(n int) uint64 {
	var removed uint64
	for i := range ms.msgs[:n] {
		r := &ms.msgs[i]
		if !r.live() {
			ms.dead--
			continue
		}
		ms.subjects.remove(r.subj, r.seq)
		ms.st.Msgs--
		ms.st.Bytes -= r.size()
		if ms.onRemove != nil {
			ms.removed = append(ms.removed, r.seq)
		}
		removed++
	}
	clear(ms.msgs[:n])
	ms.msgs = ms.msgs[n:]
	if len(ms.msgs) == 0 {
		ms.msgs = nil // release the memory of a fully purged store
	}
	ms.trimLocked()
	return removed
}

// unlockAndNotify ends every write: it re-arms the age timer for the
// (possibly new) first message, releases mu and then hands the sequences
// the write removed to the OnRemove callback, in ascending order. It needs
// wmu (held across the callbacks, so the scratch slice stays ours).
func (ms *MemStore) unlockAndNotify() {
	ms.armTimerLocked()
	cb := ms.onRemove
	ms.mu.Unlock()
	if len(ms.removed) == 0 {
		return
	}
	slices.Sort(ms.removed)
	if cb != nil {
		for _, seq := range ms.removed {
			cb(seq)
		}
	}
	if cap(ms.removed) > 1<<16 {
		ms.removed = nil
	} else {
		ms.removed = ms.removed[:0]
	}
}

// Load implements Store. A nil m is allocated.
func (ms *MemStore) Load(seq uint64, m *Msg) (*Msg, error) {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	switch {
	case ms.closed:
		return nil, ErrClosed
	case seq > ms.st.LastSeq:
		return nil, ErrEOF
	}
	i := ms.find(seq)
	if i < 0 || !ms.msgs[i].live() {
		return nil, ErrNotFound
	}
	if m == nil {
		m = new(Msg)
	}
	return ms.msgs[i].load(m), nil
}

// LoadNext implements Store. A literal filter starts at the subject's first
// message (from the index) and stops after its last.
func (ms *MemStore) LoadNext(filter string, start uint64, m *Msg) (*Msg, error) {
	if !validFilter(filter) {
		return nil, fmt.Errorf("%w: filter %q", ErrInvalidSubject, filter)
	}
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	if ms.closed {
		return nil, ErrClosed
	}
	hi := ms.st.LastSeq
	literal := !matchesAll(filter) && subject.IsLiteral(filter)
	if literal {
		ss := ms.subjects.get(filter)
		if ss == nil {
			return nil, ErrEOF
		}
		start, hi = max(start, ss.first), ss.last
	}
	for i := ms.lowerBound(start); i < len(ms.msgs) && ms.msgs[i].seq <= hi; i++ {
		r := &ms.msgs[i]
		if r.live() && (literal && r.subj == filter || !literal && filterMatch(r.subj, filter)) {
			if m == nil {
				m = new(Msg)
			}
			return r.load(m), nil
		}
	}
	return nil, ErrEOF
}

// LoadLast implements Store.
func (ms *MemStore) LoadLast(filter string, m *Msg) (*Msg, error) {
	if !validFilter(filter) {
		return nil, fmt.Errorf("%w: filter %q", ErrInvalidSubject, filter)
	}
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	if ms.closed {
		return nil, ErrClosed
	}
	i := len(ms.msgs) - 1
	if !matchesAll(filter) && subject.IsLiteral(filter) {
		ss := ms.subjects.get(filter)
		if ss == nil {
			return nil, ErrNotFound
		}
		i = min(i, ms.lowerBound(ss.last+1)-1)
	}
	for ; i >= 0; i-- {
		r := &ms.msgs[i]
		if r.live() && filterMatch(r.subj, filter) {
			if m == nil {
				m = new(Msg)
			}
			return r.load(m), nil
		}
	}
	return nil, ErrNotFound
}

// Remove implements Store.
func (ms *MemStore) Remove(seq uint64) (bool, error) {
	ms.wmu.Lock()
	defer ms.wmu.Unlock()
	ms.mu.Lock()
	if ms.closed {
		ms.mu.Unlock()
		return false, ErrClosed
	}
	i := ms.find(seq)
	ok := i >= 0 && ms.msgs[i].live()
	if ok {
		ms.removeAtLocked(i)
	}
	ms.unlockAndNotify()
	return ok, nil
}

// Purge implements Store.
func (ms *MemStore) Purge(p Purge) (uint64, error) {
	if err := p.validate(); err != nil {
		return 0, err
	}
	ms.wmu.Lock()
	defer ms.wmu.Unlock()
	ms.mu.Lock()
	if ms.closed {
		ms.mu.Unlock()
		return 0, ErrClosed
	}
	var n uint64
	switch {
	case !matchesAll(p.Subject):
		n = ms.purgeFilteredLocked(p)
	case p.Sequence > 0:
		n = ms.compactLocked(p.Sequence)
	case p.Keep > 0:
		for ms.st.Msgs > p.Keep {
			ms.removeAtLocked(0)
			n++
		}
	default:
		n = ms.dropFrontLocked(len(ms.msgs))
	}
	ms.unlockAndNotify()
	return n, nil
}

// purgeFilteredLocked is Purge with a subject filter that is not "all".
func (ms *MemStore) purgeFilteredLocked(p Purge) uint64 {
	lo, hi, total := uint64(0), ms.st.LastSeq, uint64(0)
	literal := subject.IsLiteral(p.Subject)
	if literal {
		ss := ms.subjects.get(p.Subject)
		if ss == nil {
			return 0
		}
		lo, hi, total = ss.first, ss.last, ss.msgs
	} else {
		for _, ss := range ms.subjects.matching(p.Subject) {
			total += ss.msgs
		}
	}
	budget := total // how many matching messages may go
	if p.Keep > 0 {
		budget = total - min(total, p.Keep)
	}
	if p.Sequence > 0 {
		hi = min(hi, p.Sequence-1)
	}
	var n uint64
	for i := ms.lowerBound(lo); n < budget && i < len(ms.msgs) && ms.msgs[i].seq <= hi; {
		r := &ms.msgs[i]
		if !r.live() || !filterMatch(r.subj, p.Subject) {
			i++
			continue
		}
		seq := r.seq
		ms.removeAtLocked(i)
		n++
		// Removal may trim or compact the slice: find our place again.
		i = ms.lowerBound(seq + 1)
	}
	return n
}

// Compact implements Store.
func (ms *MemStore) Compact(seq uint64) (uint64, error) {
	ms.wmu.Lock()
	defer ms.wmu.Unlock()
	ms.mu.Lock()
	if ms.closed {
		ms.mu.Unlock()
		return 0, ErrClosed
	}
	n := ms.compactLocked(seq)
	ms.unlockAndNotify()
	return n, nil
}

// compactLocked removes every message below seq (see Store.Compact).
func (ms *MemStore) compactLocked(seq uint64) uint64 {
	if seq == 0 {
		return 0
	}
	n := ms.dropFrontLocked(ms.lowerBound(seq))
	if seq > ms.st.LastSeq+1 {
		ms.st.LastSeq = seq - 1
		ms.st.FirstSeq, ms.st.FirstTime = seq, 0
	}
	return n
}

// Truncate implements Store.
func (ms *MemStore) Truncate(seq uint64) (uint64, error) {
	ms.wmu.Lock()
	defer ms.wmu.Unlock()
	ms.mu.Lock()
	if ms.closed {
		ms.mu.Unlock()
		return 0, ErrClosed
	}
	n := ms.truncateLocked(seq)
	ms.unlockAndNotify()
	return n, nil
}

// truncateLocked removes every message above seq and makes seq the last
// sequence (see Store.Truncate).
func (ms *MemStore) truncateLocked(seq uint64) uint64 {
	if seq >= ms.st.LastSeq {
		return 0
	}
	i := ms.lowerBound(seq + 1)
	var n uint64
	for j := len(ms.msgs) - 1; j >= i; j-- {
		r := &ms.msgs[j]
		if !r.live() {
			ms.dead--
			continue
		}
		ms.subjects.remove(r.subj, r.seq)
		ms.st.Msgs--
		ms.st.Bytes -= r.size()
		if ms.onRemove != nil {
			ms.removed = append(ms.removed, r.seq)
		}
		n++
	}
	clear(ms.msgs[i:])
	ms.msgs = ms.msgs[:i]
	ms.st.LastSeq = seq
	ms.trimLocked() // drops the tombstones now at the end; msgs[len-1] is live
	ms.st.LastTime = 0
	if len(ms.msgs) > 0 {
		ms.st.LastTime = ms.msgs[len(ms.msgs)-1].ts
	}
	return n
}

// State implements Store.
func (ms *MemStore) State() State {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	st := ms.st
	if !ms.closed {
		st.NumSubjects = ms.subjects.len()
	}
	if st.Msgs > 0 {
		st.Deleted = st.LastSeq - st.FirstSeq + 1 - st.Msgs
	}
	return st
}

// SubjectCounts implements Store. It never returns nil.
func (ms *MemStore) SubjectCounts(filter string) map[string]uint64 {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	if ms.closed || !validFilter(filter) {
		return map[string]uint64{}
	}
	return ms.subjects.counts(filter)
}

// OnRemove implements Store.
func (ms *MemStore) OnRemove(fn func(seq uint64)) {
	ms.mu.Lock()
	ms.onRemove = fn
	ms.mu.Unlock()
}

// UpdateLimits implements Store: lowered limits apply to the stored
// messages at once, whatever the discard policy.
func (ms *MemStore) UpdateLimits(l Limits) error {
	if err := l.validate(); err != nil {
		return err
	}
	ms.wmu.Lock()
	defer ms.wmu.Unlock()
	ms.mu.Lock()
	if ms.closed {
		ms.mu.Unlock()
		return ErrClosed
	}
	ms.limits = l
	if l.MaxMsgsPerSubject > 0 {
		for _, ss := range ms.subjects.matching("") {
			// Removal never deletes ss here (it keeps MaxMsgsPerSubject >= 1
			// messages), so iterating while removing is safe.
			ms.enforceSubjectLocked(ss)
		}
	}
	ms.enforceTotalsLocked()
	ms.unlockAndNotify()
	return nil
}

// armTimerLocked makes sure the age timer fires no later than the first
// message's expiry, or stops it when nothing can expire. A timer that is
// due earlier than needed is kept: its pass finds nothing and re-arms.
func (ms *MemStore) armTimerLocked() {
	if ms.closed || ms.limits.MaxAge <= 0 || ms.st.Msgs == 0 {
		ms.stopTimerLocked()
		return
	}
	at := ms.limits.expiresAt(ms.st.FirstTime)
	if ms.timer != nil && ms.timerAt <= at {
		return
	}
	ms.stopTimerLocked()
	ms.timerGen++
	gen := ms.timerGen
	ms.timerAt = at
	ms.timer = ms.clock.AfterFunc(time.Duration(at-ms.clock.Now()), func() { ms.expire(gen) })
}

func (ms *MemStore) stopTimerLocked() {
	if ms.timer != nil {
		ms.timer.Stop()
		ms.timer = nil
		ms.timerGen++ // a call already on its way becomes a no-op
	}
}

// expire is the age timer's pass: it removes the expired messages at the
// front and re-arms. gen identifies the arming; a stopped timer's late
// call finds a newer generation and does nothing.
func (ms *MemStore) expire(gen uint64) {
	ms.wmu.Lock()
	defer ms.wmu.Unlock()
	ms.mu.Lock()
	if ms.closed || gen != ms.timerGen {
		ms.mu.Unlock()
		return
	}
	ms.timer = nil
	now := ms.clock.Now()
	for ms.st.Msgs > 0 && ms.limits.expired(ms.msgs[0].ts, now) {
		ms.removeAtLocked(0)
	}
	ms.unlockAndNotify()
}

// WaitDurable implements Store: memory is as durable as a MemStore gets,
// so it returns at once (ErrClosed after Close).
func (ms *MemStore) WaitDurable(ctx context.Context, seq uint64) error {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	if ms.closed {
		return ErrClosed
	}
	return nil
}

// Sync implements Store; it has nothing to do.
func (ms *MemStore) Sync() error { return ms.WaitDurable(context.Background(), 0) }

// Close implements Store: it stops the age timer and releases the
// messages. State keeps reporting the state at close.
func (ms *MemStore) Close() error {
	ms.wmu.Lock()
	defer ms.wmu.Unlock()
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.closed {
		return ErrClosed
	}
	ms.stopTimerLocked()
	ms.closed = true
	ms.st.NumSubjects = ms.subjects.len()
	ms.msgs, ms.dead = nil, 0
	ms.subjects.reset()
	return nil
}

// Delete implements Store; for a MemStore it is Close.
func (ms *MemStore) Delete() error { return ms.Close() }
