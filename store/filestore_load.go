package store

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	"github.com/fernmq/fern/subject"
)

// This file is the FileStore's read side: Load, LoadNext and LoadLast.
// Every record served has just passed its checksum.

// Load implements Store. A message whose record fails its checksum is
// ErrCorrupt (wrapped, naming the sequence), now and after a reopen (see
// Corrupt); it is never served.
func (s *FileStore) Load(seq uint64, m *Msg) (*Msg, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	return s.loadLocked(seq, m)
}

// loadLocked loads seq; mu is held (read or write).
func (s *FileStore) loadLocked(seq uint64, m *Msg) (*Msg, error) {
	switch {
	case seq > s.lastSeq:
		return nil, ErrEOF
	case seq < s.firstSeq || seq == 0:
		return nil, ErrNotFound
	}
	b, off := s.slot(seq)
	if off == 0 {
		if s.isCorrupt(seq) {
			return nil, fmt.Errorf("%w: sequence %d", ErrCorrupt, seq)
		}
		return nil, ErrNotFound
	}
	h, rec, buf, err := s.loadRecord(b, off, m.buf)
	m.buf = buf
	if err == nil && (h.kind != recMsg || h.seq != seq) {
		err = ErrCorrupt
	}
	if err == nil {
		err = fillMsg(m, h, rec)
	}
	if err != nil {
		return nil, s.readFailed(seq, b, off, err)
	}
	return m, nil
}

// readFailed reports a record that could not be read as a good one.
func (s *FileStore) readFailed(seq uint64, b *msgBlock, off int64, err error) error {
	if errors.Is(err, ErrCorrupt) || errors.Is(err, errShortRecord) {
		s.reportCorrupt(seq, b.id, off, err.Error())
		return fmt.Errorf("%w: sequence %d", ErrCorrupt, seq)
	}
	return fmt.Errorf("store: read sequence %d: %w", seq, err)
}

// LoadNext implements Store. Records that fail their checksum on the way
// are reported (Corrupt) and skipped.
func (s *FileStore) LoadNext(filter string, start uint64, m *Msg) (*Msg, error) {
	if !validFilter(filter) {
		return nil, fmt.Errorf("%w: filter %q", ErrInvalidSubject, filter)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	start = max(start, s.firstSeq)
	if s.msgs == 0 || start > s.lastSeq {
		return nil, ErrEOF
	}
	if matchesAll(filter) {
		for seq := s.nextLive(start); seq != 0; seq = s.nextLive(seq + 1) {
			if _, err := s.loadLocked(seq, m); err == nil || !errors.Is(err, ErrCorrupt) {
				return m, err
			}
		}
		return nil, ErrEOF
	}
	lo, hi, exact := uint64(0), uint64(0), false
	for _, ss := range s.subjects.matching(filter) {
		if ss.last < start {
			continue
		}
		if lo == 0 || ss.first < lo {
			lo, exact = ss.first, !ss.firstStale
		}
		hi = max(hi, ss.last)
	}
	if lo == 0 {
		return nil, ErrEOF
	}
	if exact && lo >= start {
		if _, err := s.loadLocked(lo, m); !errors.Is(err, ErrCorrupt) {
			return m, err
		}
	}
	seq, err := s.scanForward(filter, max(lo, start), hi)
	if err != nil {
		return nil, err
	}
	if seq == 0 {
		return nil, ErrEOF
	}
	return s.loadLocked(seq, m)
}

// scanForward finds the lowest live sequence in [lo, hi] whose subject
// matches filter, or 0. mu is held.
func (s *FileStore) scanForward(filter string, lo, hi uint64) (uint64, error) {
	r := readerPool.Get().(*recReader)
	defer func() { r.reset(); readerPool.Put(r) }()
	for seq := s.nextLive(lo); seq != 0 && seq <= hi; seq = s.nextLive(seq + 1) {
		ok, err := s.seqMatches(r, seq, filter)
		if err != nil {
			return 0, err
		}
		if ok {
			return seq, nil
		}
	}
	return 0, nil
}

// scanBackward finds the highest live sequence in [lo, hi] whose subject
// matches filter, or 0. mu is held.
func (s *FileStore) scanBackward(filter string, lo, hi uint64) (uint64, error) {
	r := readerPool.Get().(*recReader)
	defer func() { r.reset(); readerPool.Put(r) }()
	for seq := s.prevLive(hi); seq != 0 && seq >= lo; seq = s.prevLive(seq - 1) {
		ok, err := s.seqMatches(r, seq, filter)
		if err != nil {
			return 0, err
		}
		if ok {
			return seq, nil
		}
	}
	return 0, nil
}

// seqMatches reports whether live message seq's subject matches filter.
// A corrupt record is reported and does not match.
func (s *FileStore) seqMatches(r *recReader, seq uint64, filter string) (bool, error) {
	b, off := s.slot(seq)
	h, rec, err := r.record(s, b, off)
	if err == nil && (h.kind != recMsg || h.seq != seq) {
		err = ErrCorrupt
	}
	if err != nil {
		if err = s.readFailed(seq, b, off, err); errors.Is(err, ErrCorrupt) {
			return false, nil
		}
		return false, err
	}
	subj := recSubject(h, rec)
	if subject.IsLiteral(filter) {
		return string(subj) == filter, nil
	}
	return subject.Matches(unsafe.String(unsafe.SliceData(subj), len(subj)), filter), nil
}

// LoadLast implements Store. With exact per-subject bounds (the usual
// case) it is one index lookup and one read; after the newest message of
// a subject was removed its bound is stale and it scans back from there.
func (s *FileStore) LoadLast(filter string, m *Msg) (*Msg, error) {
	if !validFilter(filter) {
		return nil, fmt.Errorf("%w: filter %q", ErrInvalidSubject, filter)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.msgs == 0 {
		return nil, ErrNotFound
	}
	var seq uint64
	if matchesAll(filter) {
		seq = s.prevLive(s.lastSeq)
	} else {
		var top *subjectState
		lo := uint64(0)
		for _, ss := range s.subjects.matching(filter) {
			if top == nil || ss.last > top.last {
				top = ss
			}
			if lo == 0 || ss.first < lo {
				lo = ss.first
			}
		}
		switch {
		case top == nil:
			return nil, ErrNotFound
		case !top.lastStale:
			seq = top.last
		default:
			var err error
			if seq, err = s.scanBackward(filter, lo, top.last); err != nil {
				return nil, err
			}
		}
	}
	if seq == 0 {
		return nil, ErrNotFound
	}
	return s.loadLocked(seq, m)
}

// scanSubjectFirst is the subjectScan the index calls to fix a stale first
// bound: the lowest live sequence in [lo, hi] with subject subj. mu is
// held exclusively (writers' reader).
func (s *FileStore) scanSubjectFirst(subj string, lo, hi uint64) uint64 {
	for seq := s.nextLive(lo); seq != 0 && seq <= hi; seq = s.nextLive(seq + 1) {
		b, off := s.slot(seq)
		h, rec, err := s.wr.record(s, b, off)
		if err == nil && bytes.Equal(recSubject(h, rec), unsafe.Slice(unsafe.StringData(subj), len(subj))) {
			return seq
		}
	}
	return hi
}
