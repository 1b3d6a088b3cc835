package store

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/fernmq/fern/subject"
)

// This file is the FileStore's write path. A write appends its record to
// the write buffer of the active (last) block, with no system call; the
// buffer goes to the OS when it reaches flushSize, when a sync round runs,
// and at most flushDelay after it became non-empty (the sync loop's flush
// timer). A block that would grow past BlockSize is sealed and a new one
// started; the new block opens with a mark record (last sequence and time)
// and, when there is one, the floor, so that dropping older blocks never
// loses them.

// Store implements Store.
func (s *FileStore) Store(subj string, hdr, data []byte) (uint64, int64, error) {
	s.wmu.Lock()
	s.mu.Lock()
	seq, ts := s.lastSeq+1, s.clock.Now()
	err := s.storeLocked(subj, hdr, data, seq, ts)
	return s.finishStore(seq, ts, err)
}

// StoreAt implements Store.
func (s *FileStore) StoreAt(subj string, hdr, data []byte, seq uint64, ts int64) error {
	s.wmu.Lock()
	s.mu.Lock()
	var err error
	if seq <= s.lastSeq {
		err = fmt.Errorf("%w: %d is not above the last sequence %d", ErrSequenceMismatch, seq, s.lastSeq)
		if s.closed {
			err = ErrClosed
		}
	} else {
		err = s.storeLocked(subj, hdr, data, seq, ts)
	}
	_, _, err = s.finishStore(seq, ts, err)
	return err
}

// finishStore ends a Store/StoreAt: it releases the locks, runs block
// maintenance and callbacks, and under SyncAlways waits for the fsync.
func (s *FileStore) finishStore(seq uint64, ts int64, err error) (uint64, int64, error) {
	if err != nil {
		s.mu.Unlock()
		s.wmu.Unlock()
		return 0, 0, err
	}
	if len(s.removed) > 0 {
		s.logRemovalsLocked(false)
		s.armAgeLocked() // the new first message may expire sooner
	}
	gen := s.truncGen
	s.mu.Unlock()
	s.finishWrite()
	if s.cfg.Sync == SyncAlways {
		if err := s.waitDurable(context.Background(), seq, gen); err != nil {
			return 0, 0, err
		}
	}
	return seq, ts, nil
}

// storeLocked checks and appends one message, then enforces limits.
// wmu and mu are held.
func (s *FileStore) storeLocked(subj string, hdr, data []byte, seq uint64, ts int64) error {
	switch {
	case s.closed:
		return ErrClosed
	case s.werr != nil:
		return s.werr
	case !subject.ValidLiteral(subj) || len(subj) > maxIndexSubjectLen:
		return fmt.Errorf("%w: %q", ErrInvalidSubject, subj)
	}
	size := MsgSize(subj, hdr, data)
	var subjMsgs uint64
	if ss := s.subjects.get(subj); ss != nil {
		subjMsgs = ss.msgs
	}
	if err := s.limits.admit(s.msgs, s.bytes, subjMsgs, size, len(hdr)+len(data)); err != nil {
		return err
	}
	if uint64(recHeaderLen+len(subj)+len(hdr)+len(data)) > maxRecordLen {
		return ErrMsgTooLarge
	}
	if err := s.appendMsgLocked(subj, hdr, data, seq, ts); err != nil {
		return err
	}
	key := s.subjects.add(subj, seq)
	if s.msgs == 0 {
		s.firstSeq, s.firstTs = seq, ts
	}
	s.msgs++
	s.bytes += size
	s.lastSeq, s.lastTs = seq, ts
	if s.msgs == 1 {
		s.armAgeLocked()
	}
	if s.limits.MaxMsgsPerSubject > 0 {
		for ss := s.subjects.get(key); ss != nil && s.limits.subjectOver(ss.msgs); ss = s.subjects.get(key) {
			if !s.removeLocked(s.subjects.first(key, ss, s.firstFn)) {
				break
			}
		}
	}
	for s.msgs > 0 && s.limits.over(s.msgs, s.bytes) {
		s.removeLocked(s.firstSeq)
	}
	return nil
}

// appendMsgLocked writes one message record into the active block.
func (s *FileStore) appendMsgLocked(subj string, hdr, data []byte, seq uint64, ts int64) error {
	b := s.active
	n := int64(recHeaderLen + len(subj) + len(hdr) + len(data))
	if (b.size+n > s.cfg.BlockSize && b.hasRecordsBeyondStart()) ||
		(len(b.offs) > 0 && seq-b.end() > maxSlotGap) {
		if err := s.rotateLocked(); err != nil {
			return err
		}
		b = s.active
	}
	off := b.size
	start := len(s.wbuf)
	s.wbuf, s.cbuf = appendMsgRecord(s.wbuf, subj, hdr, data, seq, ts, s.cfg.Compression == CompressS2, s.cbuf)
	rec := s.wbuf[start:]
	if len(b.offs) == 0 {
		b.first = seq
	}
	for b.end() < seq {
		b.offs = append(b.offs, 0)
	}
	b.offs = append(b.offs, uint32(off))
	b.msgs++
	b.bytes += MsgSize(subj, hdr, data)
	s.noteAppendLocked(b, rec)
	return s.afterAppendLocked()
}

// hasRecordsBeyondStart reports whether the block holds more than the
// records every new block starts with.
func (b *msgBlock) hasRecordsBeyondStart() bool {
	return len(b.offs) > 0 || len(b.tombs) > 0 || b.truncs > 0
}

// noteAppendLocked accounts for a record just appended to the write
// buffer of block b.
func (s *FileStore) noteAppendLocked(b *msgBlock, rec []byte) {
	b.lastOff = uint32(b.size)
	b.lastCRC = recChecksum(rec)
	b.size += int64(len(rec))
	b.dirty = true
}

// afterAppendLocked hands the buffer to the OS when it is full, or arms the
// flush timer.
func (s *FileStore) afterAppendLocked() error {
	if len(s.wbuf) >= flushSize {
		return s.flushLocked()
	}
	if !s.flushArmed {
		s.flushArmed = true
		select {
		case s.flushReq <- struct{}{}:
		default:
		}
	}
	return nil
}

// appendControlLocked appends a tombstone, mark, floor or truncate record
// to the active block.
func (s *FileStore) appendControlLocked(kind uint8, seq uint64, ts int64) error {
	b := s.active
	start := len(s.wbuf)
	s.wbuf = appendControl(s.wbuf, kind, seq, ts)
	switch kind {
	case recTomb:
		b.tombs = append(b.tombs, seq)
	case recTrunc:
		b.truncs++
	}
	s.noteAppendLocked(b, s.wbuf[start:])
	return s.afterAppendLocked()
}

// flushLocked hands the write buffer to the OS. A failed write is sticky:
// the store refuses writes from then on (what reached the file is cut off
// as a torn tail by the next open).
func (s *FileStore) flushLocked() error {
	if s.werr != nil {
		return s.werr
	}
	if len(s.wbuf) == 0 {
		return nil
	}
	b := s.active
	n, err := b.f.Write(s.wbuf)
	b.flushed += int64(n)
	if err != nil {
		s.werr = fmt.Errorf("store: write block %d: %w", b.id, err)
		s.log.Error("store: write failed; refusing writes", "err", err)
		return s.werr
	}
	s.wbuf = s.wbuf[:0]
	if cap(s.wbuf) > 4*flushSize {
		s.wbuf = make([]byte, 0, flushSize+flushSize/4)
	}
	return nil
}

// rotateLocked seals the active block and starts a new one with a mark
// and, if any, the floor.
func (s *FileStore) rotateLocked() error {
	if err := s.flushLocked(); err != nil {
		return err
	}
	if s.nextID == 0 {
		err := fmt.Errorf("store: block ids exhausted in %s", s.cfg.Dir)
		s.werr = err
		return err
	}
	id := s.nextID
	f, err := s.fs.Create(s.blockPath(id))
	if err != nil {
		s.werr = fmt.Errorf("store: create block %d: %w", id, err)
		return s.werr
	}
	s.nextID++
	b := &msgBlock{id: id, f: f, writable: true, first: s.lastSeq + 1, size: blkHeaderLen, dirty: true}
	s.blocks = append(s.blocks, b)
	s.active = b
	s.dirDirty = true
	s.wbuf = s.wbuf[:blkHeaderLen]
	putBlockHeader(s.wbuf, id)
	if s.lastSeq > 0 {
		if err := s.appendControlLocked(recMark, s.lastSeq, s.lastTs); err != nil {
			return err
		}
	}
	if s.floor > 0 {
		return s.appendControlLocked(recFloor, s.floor, s.lastTs)
	}
	return nil
}

// bytesString views b as a string without copying; the string must not
// outlive b's contents.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
