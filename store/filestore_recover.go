package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// This file is the FileStore's open-time recovery. The index file, when
// present and consistent with the blocks, gives the state at once
// (filestore_index.go). Otherwise every block is scanned:
//
//   - every record's checksum is verified; a damaged record followed by
//     good ones is reported (Corrupt, a warning) and skipped — its
//     sequence, if its header could be read, loads as ErrCorrupt;
//   - a damaged tail (a torn write: a record cut short, or garbage with no
//     good record after it) is cut off by truncating the block; a tail
//     that is one whole record with a bad checksum is reported as corrupt
//     instead and left in place;
//   - the last sequence is the highest of the message records, the marks
//     and the floors; the highest floor and every tombstone are applied
//     after all blocks are read, so order between blocks does not matter;
//   - except for truncate records, which are applied where they are met:
//     the message records before one that lie above its sequence are
//     deleted, and the tombstones, floors and last sequence before it are
//     cut back to it (filestore_truncate.go). Blocks are read in id order
//     and records in file order, which is the order they were written.

// recoverLocked builds the in-memory state from the directory. wmu and mu
// are held.
func (s *FileStore) recoverLocked() error {
	names, err := s.fs.ReadDir(s.cfg.Dir)
	if err != nil {
		return fmt.Errorf("store: read %s: %w", s.cfg.Dir, err)
	}
	var ids []uint32
	hasIndex := false
	for _, name := range names {
		switch {
		case strings.HasSuffix(name, tmpExt):
			s.fs.Remove(filepath.Join(s.cfg.Dir, name))
			s.dirDirty = true
		case name == indexName:
			hasIndex = true
		default:
			if id, ok := parseBlockName(name); ok {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	if len(ids) > 0 {
		s.nextID = ids[len(ids)-1] + 1
	} else {
		s.nextID = 1
	}
	loaded := false
	if hasIndex {
		loaded, err = s.loadIndex(ids)
		if err != nil {
			return err
		}
		if !loaded {
			s.log.Warn("store: index file is stale or damaged; rebuilding from the blocks")
			s.resetState()
		}
		// A crash after this open must not find an index that no longer
		// describes the blocks.
		if err := s.fs.Remove(filepath.Join(s.cfg.Dir, indexName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: remove index: %w", err)
		}
		s.dirDirty = true
	}
	if !loaded {
		if err := s.rebuild(ids); err != nil {
			return err
		}
	}
	if len(s.blocks) == 0 || !s.blocks[len(s.blocks)-1].writable {
		// No blocks, or the last one was set aside: start a new one.
		return s.rotateLocked()
	}
	s.active = s.blocks[len(s.blocks)-1]
	return nil
}

// resetState forgets a partly loaded state.
func (s *FileStore) resetState() {
	for _, b := range s.blocks {
		if b.f != nil {
			b.f.Close()
		}
	}
	s.blocks, s.active = nil, nil
	s.msgs, s.bytes, s.firstSeq, s.firstTs, s.lastSeq, s.lastTs, s.floor = 0, 0, 0, 0, 0, 0, 0
	s.subjects.reset()
	s.cmu.Lock()
	clear(s.corrupt)
	s.lost = 0
	s.cmu.Unlock()
}

// rebuildState carries what a rebuild collects across blocks.
type rebuildState struct {
	buf     []byte
	tombs   []uint64
	floor   uint64
	lastSeq uint64
	lastTs  int64
	prevMsg uint64 // the highest message sequence so far
}

func (r *rebuildState) candidate(seq uint64, ts int64) {
	if seq > r.lastSeq || (seq == r.lastSeq && ts > r.lastTs) {
		r.lastSeq, r.lastTs = seq, ts
	}
}

// rebuild scans every block (see the file comment).
func (s *FileStore) rebuild(ids []uint32) error {
	r := &rebuildState{buf: make([]byte, 0, recoveryBufInitial)}
	for i, id := range ids {
		if err := s.scanBlock(r, id, i == len(ids)-1); err != nil {
			return err
		}
	}
	// Blocks without messages sit between their neighbours.
	prevEnd := uint64(0)
	for _, b := range s.blocks {
		if len(b.offs) == 0 {
			b.first = prevEnd
		}
		prevEnd = b.end()
	}
	s.lastSeq, s.lastTs = r.lastSeq, r.lastTs
	if len(s.blocks) > 0 && s.blocks[len(s.blocks)-1].first == 0 {
		s.blocks[len(s.blocks)-1].first = s.lastSeq + 1
	}
	// Apply deletions. firstSeq stays 0 meanwhile, so removals do not
	// move it; it is computed afterwards.
	s.firstSeq = 0
	s.floor = r.floor
	if r.floor > 0 {
		for seq := s.nextLive(0); seq != 0 && seq < r.floor; seq = s.nextLive(seq + 1) {
			s.removeLocked(seq)
		}
	}
	for _, seq := range r.tombs {
		s.removeLocked(seq)
	}
	s.removed = s.removed[:0]
	if seq := s.nextLive(0); seq != 0 {
		s.firstSeq, s.firstTs = seq, s.tsOf(seq)
	} else {
		s.firstSeq, s.firstTs = s.lastSeq+1, 0
	}
	return nil
}

// tsOf is the timestamp of live message seq (0 if unreadable).
func (s *FileStore) tsOf(seq uint64) int64 {
	b, off := s.slot(seq)
	if b == nil || off == 0 {
		return 0
	}
	h, _, err := s.wr.record(s, b, off)
	if err != nil {
		return 0
	}
	return h.ts
}

// scanBlock reads one block into the state.
func (s *FileStore) scanBlock(r *rebuildState, id uint32, last bool) error {
	path := s.blockPath(id)
	open := s.fs.Open
	if last {
		open = s.fs.OpenAppend
	}
	f, err := open(path)
	if err != nil {
		return fmt.Errorf("store: open block %d: %w", id, err)
	}
	img, err := readAll(f, r.buf)
	if err != nil {
		f.Close()
		return fmt.Errorf("store: read block %d: %w", id, err)
	}
	r.buf = img[:0]
	if hid, ok := parseBlockHeader(img); !ok || hid != id {
		f.Close()
		return s.setAsideBlock(id, len(img), last)
	}
	b := &msgBlock{id: id, f: f, size: int64(len(img)), writable: last}
	visit := func(off int, h recHeader, rec []byte) {
		b.lastOff, b.lastCRC = uint32(off), recChecksum(rec)
		switch h.kind {
		case recMsg:
			if h.seq <= r.prevMsg || (len(b.offs) > 0 && h.seq-b.end() > maxSlotGap) {
				b.dead += int64(len(rec))
				s.reportCorrupt(0, id, int64(off), "message record out of sequence order")
				return
			}
			if len(b.offs) == 0 {
				b.first = h.seq
			}
			for b.end() < h.seq {
				b.offs = append(b.offs, 0)
			}
			b.offs = append(b.offs, uint32(off))
			size := msgSizeOf(h, rec)
			b.msgs++
			b.bytes += size
			s.msgs++
			s.bytes += size
			s.subjects.add(bytesString(recSubject(h, rec)), h.seq)
			r.prevMsg = h.seq
			r.candidate(h.seq, h.ts)
		case recTomb:
			b.tombs = append(b.tombs, h.seq)
			r.tombs = append(r.tombs, h.seq)
		case recMark:
			r.candidate(h.seq, h.ts)
		case recFloor:
			r.floor = max(r.floor, h.seq)
			r.candidate(h.seq-1, h.ts)
		case recTrunc:
			b.truncs++
			s.truncateScanned(r, b, img, h.seq, h.ts)
		}
	}
	bad := func(sp badSpan) {
		b.dead += int64(sp.end - sp.off)
		s.reportCorrupt(r.corruptSeq(sp), id, int64(sp.off), "checksum mismatch")
	}
	res := scanRecords(img, blkHeaderLen, visit, bad)
	if t := res.tail; t != nil {
		if res.tailComplete {
			b.dead += int64(t.end - t.off)
			s.reportCorrupt(r.corruptSeq(*t), id, int64(t.off), "checksum mismatch")
		} else {
			s.log.Warn("store: cutting off a torn write", "block", id, "offset", t.off, "bytes", t.end-t.off)
			if err := s.truncateBlock(b, last, int64(res.end)); err != nil {
				f.Close()
				return err
			}
		}
	}
	b.flushed = b.size
	s.blocks = append(s.blocks, b)
	return nil
}

// corruptSeq is the sequence a damaged region most likely held: the
// sequence its header claims if that is a message just above the last good
// one, else 0 (unknown).
func (r *rebuildState) corruptSeq(sp badSpan) uint64 {
	if sp.kind == recMsg && sp.seq > r.prevMsg && sp.seq-r.prevMsg <= maxSlotGap {
		r.lastSeq = max(r.lastSeq, sp.seq)
		return sp.seq
	}
	return 0
}

// truncateBlock cuts block b at size and marks it for the next fsync.
func (s *FileStore) truncateBlock(b *msgBlock, writable bool, size int64) error {
	f := b.f
	if !writable {
		wf, err := s.fs.OpenAppend(s.blockPath(b.id))
		if err != nil {
			return fmt.Errorf("store: open block %d to truncate: %w", b.id, err)
		}
		defer wf.Close()
		f = wf
	}
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("store: truncate block %d: %w", b.id, err)
	}
	if !writable {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("store: sync block %d: %w", b.id, err)
		}
	}
	b.size = size
	b.dirty = true
	return nil
}

// setAsideBlock handles a block whose header is unreadable: an empty or
// torn-at-creation last block is removed; anything else is renamed to
// .bad, reported, and left for an operator.
func (s *FileStore) setAsideBlock(id uint32, size int, last bool) error {
	path := s.blockPath(id)
	s.dirDirty = true
	if last && size <= blkHeaderLen {
		s.log.Warn("store: removing a block torn at creation", "block", id)
		return s.fs.Remove(path)
	}
	s.reportCorrupt(0, id, 0, "unreadable block header")
	if err := s.fs.Rename(path, path+badExt); err != nil {
		return fmt.Errorf("store: set aside block %d: %w", id, err)
	}
	return nil
}

// readAll reads a whole file into buf (grown as needed).
func readAll(f File, buf []byte) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	n := int(fi.Size())
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	got, err := f.ReadAt(buf, 0)
	if got < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
