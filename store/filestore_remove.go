package store

import (
	"slices"
	"time"
)

// This file is the FileStore's delete side: Remove, Purge, Compact, limits
// and max-age expiry. A removal updates the in-memory index at once; at
// the end of the operation it is logged in the active block, so that no
// rebuild can bring the message back: removals from the front advance the
// floor (one record, "everything below is deleted"), others are one
// tombstone each. Space comes back when whole blocks fall below the first
// sequence (the file is removed) or a block's dead bytes pass half of it
// (it is rewritten, filestore_compact.go).

// removeLocked deletes the live message at seq, reporting whether there
// was one. The deletion is logged by logRemovalsLocked. wmu and mu held.
func (s *FileStore) removeLocked(seq uint64) bool {
	b, i := s.locate(seq)
	if b == nil {
		return false
	}
	o := b.offs[i]
	if o&slotOff == 0 || o&slotDeleted != 0 {
		return false
	}
	off := int64(o & slotOff)
	h, rec, err := s.wr.record(s, b, off)
	if err == nil && (h.kind != recMsg || h.seq != seq) {
		err = ErrCorrupt
	}
	var size uint64
	recLen := int64(0)
	if err == nil {
		size = msgSizeOf(h, rec)
		recLen = int64(len(rec))
		s.subjects.remove(bytesString(recSubject(h, rec)), seq)
	} else {
		// The bytes rotted since they were indexed: the subject count
		// cannot be corrected; the message is deleted all the same.
		s.readFailed(seq, b, off, err)
		size = min(s.bytes, b.bytes/max(b.msgs, 1))
	}
	b.offs[i] = o | slotDeleted
	b.msgs--
	b.bytes -= min(b.bytes, size)
	b.dead += recLen
	if seq != s.firstSeq {
		b.tdead += recLen
	}
	s.msgs--
	s.bytes -= min(s.bytes, size)
	s.removed = append(s.removed, seq)
	if len(s.touched) == 0 || s.touched[len(s.touched)-1] != b {
		s.touched = append(s.touched, b)
	}
	if seq == s.firstSeq {
		s.advanceFirstLocked()
	}
	return true
}

// advanceFirstLocked moves firstSeq to the lowest live message.
func (s *FileStore) advanceFirstLocked() {
	if s.msgs == 0 {
		s.firstSeq, s.firstTs = s.lastSeq+1, 0
		return
	}
	seq := s.nextLive(s.firstSeq)
	if seq == 0 {
		s.firstSeq, s.firstTs = s.lastSeq+1, 0
		return
	}
	s.firstSeq = seq
	b, off := s.slot(seq)
	if h, _, err := s.wr.record(s, b, off); err == nil {
		s.firstTs = h.ts
	}
}

// logRemovalsLocked writes the records that make this operation's
// removals durable: a floor when the first sequence moved (or
// lastChanged: a Compact past the end), and a tombstone for every removal
// above the new floor. It sorts s.removed. wmu and mu held.
func (s *FileStore) logRemovalsLocked(lastChanged bool) {
	if len(s.removed) == 0 && !lastChanged {
		return
	}
	slices.Sort(s.removed)
	floor := s.firstSeq
	if floor > s.floor && (lastChanged || (len(s.removed) > 0 && s.removed[0] < floor)) {
		s.floor = floor
		if s.appendControlLocked(recFloor, floor, s.lastTs) != nil {
			return
		}
	}
	now := s.clock.Now()
	for _, seq := range s.removed {
		if seq >= s.floor {
			if s.appendControlLocked(recTomb, seq, now) != nil {
				return
			}
		}
	}
}

// finishWrite ends a write that removed messages: block maintenance, then
// the OnRemove callbacks (without mu). wmu is held and released here.
func (s *FileStore) finishWrite() {
	if len(s.removed) > 0 || len(s.touched) > 0 {
		s.maintain()
		if fn := s.onRemove; fn != nil {
			for _, seq := range s.removed {
				fn(seq)
			}
		}
	}
	s.removed = s.removed[:0]
	clear(s.touched)
	s.touched = s.touched[:0]
	s.wmu.Unlock()
}

// writeOp runs a removing operation: op under both locks, then logging,
// maintenance, callbacks and (SyncAlways) the fsync.
func (s *FileStore) writeOp(op func() (uint64, bool, error)) (uint64, error) {
	s.wmu.Lock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wmu.Unlock()
		return 0, ErrClosed
	}
	if s.werr != nil {
		err := s.werr
		s.mu.Unlock()
		s.wmu.Unlock()
		return 0, err
	}
	n, lastChanged, err := op()
	s.logRemovalsLocked(lastChanged)
	s.armAgeLocked()
	s.mu.Unlock()
	s.finishWrite()
	if err == nil && s.cfg.Sync == SyncAlways && (n > 0 || lastChanged) {
		err = s.Sync()
	}
	return n, err
}

// Remove implements Store.
func (s *FileStore) Remove(seq uint64) (bool, error) {
	n, err := s.writeOp(func() (uint64, bool, error) {
		if s.removeLocked(seq) {
			return 1, false, nil
		}
		return 0, false, nil
	})
	return n == 1, err
}

// Compact implements Store.
func (s *FileStore) Compact(seq uint64) (uint64, error) {
	return s.writeOp(func() (uint64, bool, error) { return s.compactLocked(seq) })
}

// compactLocked removes every message below seq.
func (s *FileStore) compactLocked(seq uint64) (uint64, bool, error) {
	if seq == 0 {
		return 0, false, nil
	}
	if seq > s.lastSeq {
		n := s.removeAllLocked()
		if seq > s.lastSeq+1 {
			s.lastSeq = seq - 1
			s.firstSeq, s.firstTs = seq, 0
			return n, true, nil
		}
		return n, false, nil
	}
	var n uint64
	for s.msgs > 0 && s.firstSeq < seq {
		if !s.removeLocked(s.firstSeq) {
			break
		}
		n++
	}
	return n, false, nil
}

// removeAllLocked removes every message without reading them: the
// subject index is reset and maintenance replaces all blocks.
func (s *FileStore) removeAllLocked() uint64 {
	n := s.msgs
	for _, b := range s.blocks {
		for i, o := range b.offs {
			if o&slotOff != 0 && o&slotDeleted == 0 {
				b.offs[i] = o | slotDeleted
				s.removed = append(s.removed, b.first+uint64(i))
			}
		}
		b.msgs, b.bytes = 0, 0
		s.touched = append(s.touched, b)
	}
	s.subjects.reset()
	s.msgs, s.bytes = 0, 0
	s.firstSeq, s.firstTs = s.lastSeq+1, 0
	return n
}

// Purge implements Store.
func (s *FileStore) Purge(p Purge) (uint64, error) {
	if err := p.validate(); err != nil {
		return 0, err
	}
	return s.writeOp(func() (uint64, bool, error) {
		if matchesAll(p.Subject) {
			switch {
			case p.Sequence > 0:
				return s.compactLocked(p.Sequence)
			case p.Keep > 0:
				var n uint64
				for s.msgs > p.Keep && s.removeLocked(s.firstSeq) {
					n++
				}
				return n, false, nil
			}
			return s.removeAllLocked(), false, nil
		}
		return s.purgeSubjectLocked(p)
	})
}

// purgeSubjectLocked purges the messages matching p.Subject, oldest
// first.
func (s *FileStore) purgeSubjectLocked(p Purge) (uint64, bool, error) {
	var lo, hi, total uint64
	for _, ss := range s.subjects.matching(p.Subject) {
		if lo == 0 || ss.first < lo {
			lo = ss.first
		}
		hi = max(hi, ss.last)
		total += ss.msgs
	}
	if total == 0 {
		return 0, false, nil
	}
	want := total
	if p.Keep > 0 {
		if total <= p.Keep {
			return 0, false, nil
		}
		want = total - p.Keep
	}
	if p.Sequence > 0 {
		if p.Sequence <= lo {
			return 0, false, nil
		}
		hi = min(hi, p.Sequence-1)
	}
	var n uint64
	for seq := s.nextLive(lo); seq != 0 && seq <= hi && n < want; seq = s.nextLive(seq + 1) {
		ok, err := s.seqMatches(&s.wr, seq, p.Subject)
		if err != nil {
			return n, false, err
		}
		if ok && s.removeLocked(seq) {
			n++
		}
	}
	return n, false, nil
}

// UpdateLimits implements Store.
func (s *FileStore) UpdateLimits(l Limits) error {
	if err := l.validate(); err != nil {
		return err
	}
	_, err := s.writeOp(func() (uint64, bool, error) {
		s.limits = l
		s.ageDeadline = nanosUnset
		s.ageGen++
		if s.ageTimer != nil {
			s.ageTimer.Stop()
			s.ageTimer = nil
		}
		return uint64(s.enforceLimitsLocked()), false, nil
	})
	return err
}

// enforceLimitsLocked applies per-subject, count and byte limits to the
// stored messages (UpdateLimits, open). It returns how many it removed.
// Max age is left to the timer, which the caller arms.
func (s *FileStore) enforceLimitsLocked() int {
	before := len(s.removed)
	if s.limits.MaxMsgsPerSubject > 0 {
		var over []string
		for subj, ss := range s.subjects.matching("") {
			if s.limits.subjectOver(ss.msgs) {
				over = append(over, subj)
			}
		}
		for _, subj := range over {
			for ss := s.subjects.get(subj); ss != nil && s.limits.subjectOver(ss.msgs); ss = s.subjects.get(subj) {
				if !s.removeLocked(s.subjects.first(subj, ss, s.firstFn)) {
					break
				}
			}
		}
	}
	for s.msgs > 0 && s.limits.over(s.msgs, s.bytes) {
		s.removeLocked(s.firstSeq)
	}
	return len(s.removed) - before
}

// expireLocked removes expired messages from the front.
func (s *FileStore) expireLocked() {
	if s.limits.MaxAge <= 0 {
		return
	}
	now := s.clock.Now()
	for s.msgs > 0 && s.limits.expired(s.firstTs, now) {
		if !s.removeLocked(s.firstSeq) {
			break
		}
	}
}

// armAgeLocked arms the max-age timer for the first message's expiry,
// unless a timer is already armed at or before it.
func (s *FileStore) armAgeLocked() {
	if s.closed || s.limits.MaxAge <= 0 || s.msgs == 0 {
		return
	}
	at := s.limits.expiresAt(s.firstTs)
	if s.ageTimer != nil && s.ageDeadline <= at {
		return
	}
	if s.ageTimer != nil {
		s.ageTimer.Stop()
	}
	s.ageDeadline = at
	s.ageGen++
	gen := s.ageGen
	s.ageTimer = s.clock.AfterFunc(time.Duration(max(at-s.clock.Now(), 0)), func() { s.expireTimer(gen) })
}

// expireTimer is the max-age timer: one expiry pass, then re-arm.
func (s *FileStore) expireTimer(gen uint64) {
	s.wmu.Lock()
	s.mu.Lock()
	if s.closed || gen != s.ageGen {
		s.mu.Unlock()
		s.wmu.Unlock()
		return
	}
	s.ageTimer, s.ageDeadline = nil, nanosUnset
	s.expireLocked()
	s.logRemovalsLocked(false)
	s.armAgeLocked()
	s.mu.Unlock()
	s.finishWrite()
	if s.cfg.Sync == SyncAlways {
		s.Sync()
	}
}
