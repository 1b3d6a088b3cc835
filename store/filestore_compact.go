package store

import (
	"io"
	"slices"
)

// This file reclaims space. After a write that removed messages, maintain
// drops whole blocks that hold nothing needed any more and rewrites blocks
// that are mostly dead. Both first make everything written so far durable
// (a sync round), so the records that justify dropping bytes — the floor,
// tombstones, the active block's mark — are on disk before the bytes go.
// A rewrite goes to a temporary file that is fsynced and renamed over the
// block, then the directory is synced: a crash leaves either block whole.

// maintain runs after a write that removed messages. wmu is held, mu not.
func (s *FileStore) maintain() {
	s.mu.Lock()
	if s.closed || s.werr != nil {
		s.mu.Unlock()
		return
	}
	a := s.active
	if s.msgs == 0 && a.hasRecordsBeyondStart() {
		// Everything is gone: start a fresh block (mark + floor) and let
		// every older block go.
		if err := s.rotateLocked(); err != nil {
			s.mu.Unlock()
			return
		}
	}
	var drop, rewrite []*msgBlock
	for _, b := range s.blocks {
		if b == s.active || b.msgs != 0 || b.end() > s.firstSeq {
			break
		}
		drop = append(drop, b)
	}
	slices.SortFunc(s.touched, func(x, y *msgBlock) int { return int(int64(x.id) - int64(y.id)) })
	s.touched = slices.Compact(s.touched)
	for _, b := range s.touched {
		switch {
		case b == s.active || slices.Contains(drop, b) || !slices.Contains(s.blocks, b):
		case b.msgs == 0 && len(b.tombs) == 0 && b.truncs == 0:
			drop = append(drop, b)
		case s.worthRewriting(b):
			rewrite = append(rewrite, b)
		}
	}
	s.mu.Unlock()
	if len(drop) == 0 && len(rewrite) == 0 {
		return
	}
	if err := s.syncRound(); err != nil {
		return
	}
	for _, b := range drop {
		s.dropBlock(b)
	}
	s.rewriteAll(rewrite)
	s.reclaimTombstones()
}

func (s *FileStore) rewriteAll(blocks []*msgBlock) {
	for _, b := range blocks {
		if err := s.rewriteBlock(b); err != nil {
			s.log.Error("store: compacting block failed", "block", b.id, "err", err)
		}
	}
}

// reclaimTombstones runs after message records left the disk: tombstones
// aimed at them are dead now, so sealed blocks made mostly of dead
// tombstones are rewritten, or dropped when nothing in them is needed.
// wmu is held, mu not.
func (s *FileStore) reclaimTombstones() {
	var drop, rewrite []*msgBlock
	s.mu.Lock()
	for _, b := range s.blocks {
		if b == s.active || len(b.tombs) == 0 {
			continue
		}
		dead := len(b.tombs) - s.liveTombs(b)
		switch {
		case b.msgs == 0 && dead == len(b.tombs) && b.truncs == 0:
			drop = append(drop, b)
		case (b.dead+int64(dead)*recHeaderLen)*blockDeadThreshold >= b.size-blkHeaderLen:
			rewrite = append(rewrite, b)
		}
	}
	s.mu.Unlock()
	if len(drop) == 0 && len(rewrite) == 0 {
		return
	}
	// The removals that made these tombstones dead must be durable first.
	if err := s.syncRound(); err != nil {
		return
	}
	for _, b := range drop {
		s.dropBlock(b)
	}
	s.rewriteAll(rewrite)
}

// liveTombs counts b's tombstones whose target record is still on disk in
// another block (and above the floor). mu is held.
func (s *FileStore) liveTombs(b *msgBlock) int {
	n := 0
	for _, seq := range b.tombs {
		if seq >= s.floor {
			if tb, i := s.locate(seq); tb != nil && tb != b && tb.offs[i]&slotOff != 0 {
				n++
			}
		}
	}
	return n
}

// worthRewriting reports whether half of b's records are dead. In the
// block holding the first sequence, deaths by the floor do not count:
// that block will be dropped whole as the floor moves on.
func (s *FileStore) worthRewriting(b *msgBlock) bool {
	dead := b.dead
	if s.firstSeq > b.first && s.firstSeq < b.end() {
		dead = b.tdead
	}
	return dead > 0 && dead*blockDeadThreshold >= b.size-blkHeaderLen
}

// dropBlock removes block b and its file. wmu is held, mu not.
func (s *FileStore) dropBlock(b *msgBlock) {
	s.mu.Lock()
	if i := slices.Index(s.blocks, b); i >= 0 {
		s.blocks = slices.Delete(s.blocks, i, i+1)
	}
	s.wr.reset()
	s.dirDirty = true
	f := b.f
	b.f = nil
	s.mu.Unlock()
	s.closeBlockFile(f)
	if err := s.fs.Remove(s.blockPath(b.id)); err != nil {
		s.log.Warn("store: removing block file failed", "block", b.id, "err", err)
	}
}

// closeBlockFile closes a file no block refers to any more, waiting for a
// sync round that may still be using it.
func (s *FileStore) closeBlockFile(f File) {
	if f == nil {
		return
	}
	s.syncMu.Lock()
	f.Close()
	s.syncMu.Unlock()
}

// rewriteBlock compacts sealed block b: it keeps the live messages, the
// tombstones whose target record is still on disk in another block, the
// truncate records and the highest floor; dead messages, marks and
// damaged bytes go. Records keep their order, and a truncate record
// splits the block: the highest floor before it is written before it (a
// truncate lowers the floor, so a floor moved past it would delete what
// was stored after it). wmu is held, mu not (writers are excluded;
// readers go on with the old file until the swap).
func (s *FileStore) rewriteBlock(b *msgBlock) error {
	img := make([]byte, b.size)
	if n, err := b.f.ReadAt(img, 0); n < len(img) {
		if err == nil || err == io.EOF {
			err = errShortRecord
		}
		return err
	}
	out := make([]byte, blkHeaderLen, len(img)-int(b.dead)+recHeaderLen)
	putBlockHeader(out, b.id)
	offs := make([]uint32, len(b.offs))
	var floor uint64
	var floorTs int64
	var tombs []uint64
	kept, truncs := 0, 0
	var lastOff, lastCRC uint32
	keep := func(rec []byte) {
		lastOff, lastCRC = uint32(len(out)), recChecksum(rec)
		out = append(out, rec...)
		kept++
	}
	keepFloor := func() {
		if floor > 0 {
			start := len(out)
			out = appendControl(out, recFloor, floor, floorTs)
			lastOff, lastCRC = uint32(start), recChecksum(out[start:])
			kept++
			floor = 0
		}
	}
	scanRecords(img, blkHeaderLen, func(off int, h recHeader, rec []byte) {
		switch h.kind {
		case recMsg:
			if h.seq >= b.first && h.seq < b.end() && b.offs[h.seq-b.first] == uint32(off) {
				offs[h.seq-b.first] = uint32(len(out))
				keep(rec)
			}
		case recTomb:
			if tb, i := s.locate(h.seq); h.seq >= s.floor && tb != nil && tb != b && tb.offs[i]&slotOff != 0 {
				tombs = append(tombs, h.seq)
				keep(rec)
			}
		case recFloor:
			if h.seq > floor {
				floor, floorTs = h.seq, h.ts
			}
		case recTrunc:
			keepFloor()
			keep(rec)
			truncs++
		}
	}, nil)
	keepFloor()
	if kept == 0 {
		s.dropBlock(b)
		return nil
	}
	nf, err := s.writeFileAtomic(s.blockPath(b.id), out)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := b.f
	b.f, b.offs, b.gen = nf, offs, b.gen+1
	b.size, b.flushed, b.dirty = int64(len(out)), int64(len(out)), false
	b.dead, b.tdead, b.tombs, b.truncs = 0, 0, tombs, truncs
	b.lastOff, b.lastCRC = lastOff, lastCRC
	s.wr.reset()
	s.mu.Unlock()
	s.closeBlockFile(old)
	return nil
}

// writeFileAtomic replaces path with data (WriteFileAtomic) and returns
// the new file opened for reading.
func (s *FileStore) writeFileAtomic(path string, data []byte) (File, error) {
	if err := WriteFileAtomic(s.fs, path, data); err != nil {
		return nil, err
	}
	return s.fs.Open(path)
}
