package store

import (
	"math"
	"slices"
)

// This file is the FileStore's Truncate: dropping the tail of the log, as
// a raft follower must when a new leader overwrites entries it had not
// committed. Blocks are append-only, so the tail is not cut out of the
// files; a truncate record is appended instead, and everything else
// follows from reading the records in log order (block id, then offset).
//
// In memory, Truncate(seq) deletes every live message above seq (as
// Remove does: subject index, counts, OnRemove), then cuts the offset
// tables: a block's table ends at seq+1, and a block that held only higher
// sequences is left without slots and with first = seq+1, so blocks keep
// covering disjoint, ascending ranges and the next message (seq+1) goes in
// the active block as usual. The old records stay on disk as dead bytes.
// lastSeq becomes seq and lastTs the time of the newest message kept (0 if
// none); the floor becomes at most seq+1; corruption reports above seq are
// forgotten with the records they were about. Then one record is appended
// to the active block:
//
//	truncate (kind 5): seq, ts = the new last sequence and time
//
// and, whatever the SyncPolicy, a sync round makes it durable before
// Truncate returns. durable (what WaitDurable compares with) is lowered to
// seq under syncMu, so a round already under way cannot mark the new
// messages at the reused sequences durable, and waiters for a truncated
// sequence end when the truncation is durable (truncGen).
//
// Recovery without the index (filestore_recover.go) replays the records
// in log order; at a truncate record it deletes, right away, every message
// record read so far above seq (earlier blocks and earlier in the same
// block, so that the records after it may reuse those sequences), drops
// the tombstones read so far that are aimed above seq (they were about the
// old messages), lowers the floor to at most seq+1, and sets the last
// sequence and time to exactly seq and ts, forgetting marks, floors and
// message records before it that claimed more. Records after it count as
// usual. So a crash after Truncate returned never brings a truncated
// message back, and messages stored after it survive like any write
// (durable after WaitDurable, Sync or a SyncAlways write, whose fsync
// covers the truncate record too: it is earlier in the same file, or in an
// earlier block that the same round syncs). A crash before the record is
// durable (while Truncate has not returned) leaves the store untruncated,
// as the same crash would have without the Truncate.
//
// The index file (filestore_index.go) stores each block's count of
// truncate records (index version 2); a clean reopen needs nothing else,
// since the in-memory state it restores is already truncated.
//
// Space (filestore_compact.go): a truncate record is needed as long as
// anything before it in the log is on disk, since the records it deletes
// (or the tombstones and floors it cancels) would come back without it. So
// a block holding one is dropped only as part of the run of empty blocks at
// the front of the store, never from the middle (dropping that run is safe:
// what its truncate records govern lies in it, and every later block starts
// with a mark and the floor as of its creation, after the truncation, so
// the last sequence and the floor survive); a rewrite keeps its truncate
// records in place and writes the highest floor of each stretch between
// them before the truncate record that ends the stretch (a floor moved
// after it would delete what was stored after it). Truncating the whole
// store makes maintenance start a fresh block and drop the old ones, as
// Purge does.
//
// On-disk compatibility: stores written before truncation existed read as
// before. A store holding a truncate record must not be opened by an older
// version, which would take the record for damage and resurrect the tail.

// Truncate implements Store.
func (s *FileStore) Truncate(seq uint64) (uint64, error) {
	s.wmu.Lock()
	// No sync round may be under way while durable moves back: one that
	// noted the old last sequence would, when it ended, count the new
	// messages stored at those sequences as durable.
	s.syncMu.Lock()
	s.mu.Lock()
	var err error
	switch {
	case s.closed:
		err = ErrClosed
	case s.werr != nil:
		err = s.werr
	}
	if err != nil || seq >= s.lastSeq {
		s.mu.Unlock()
		s.syncMu.Unlock()
		s.wmu.Unlock()
		return 0, err
	}
	n := s.truncateLocked(seq)
	err = s.appendControlLocked(recTrunc, seq, s.lastTs)
	s.dmu.Lock()
	s.durable = min(s.durable, seq)
	s.truncGen++
	s.truncTo = seq
	s.dmu.Unlock()
	s.armAgeLocked()
	s.mu.Unlock()
	s.syncMu.Unlock()
	if err == nil {
		err = s.syncRound()
	}
	s.finishWrite()
	return n, err
}

// truncateLocked deletes every message above seq, which is below the last
// sequence, cuts the offset tables at seq+1 and sets the bounds (see the
// file comment). It returns how many messages it deleted. wmu and mu held.
func (s *FileStore) truncateLocked(seq uint64) uint64 {
	var ts int64
	if p := s.prevLive(seq); p != 0 {
		ts = s.tsOf(p)
	}
	next := seq + 1
	var n uint64
	if seq < s.firstSeq {
		n = s.removeAllLocked() // without reading the records
	} else {
		// Ascending, so the writers' window reads neighbours at once.
		// firstSeq <= seq stays, so removeLocked never moves it here.
		for q := s.nextLive(next); q != 0; q = s.nextLive(q + 1) {
			if s.removeLocked(q) {
				n++
			}
		}
	}
	for i := len(s.blocks) - 1; i >= 0; i-- {
		b := s.blocks[i]
		if len(b.offs) > 0 && b.end() <= next {
			break
		}
		switch {
		case b.first >= next:
			b.offs, b.first = b.offs[:0], next
		case b.end() > next:
			b.offs = b.offs[:next-b.first]
		}
	}
	s.lastSeq, s.lastTs = seq, ts
	if s.msgs == 0 {
		s.firstSeq, s.firstTs = next, 0
	}
	s.floor = min(s.floor, next)
	s.forgetCorruptAbove(seq)
	slices.Sort(s.removed) // removeAllLocked goes block by block
	return n
}

// truncateScanned applies a truncate record met by a rebuild (see the file
// comment): the message records read so far above seq are deleted, in the
// blocks already scanned and in cur, the block being scanned, whose image
// is img. A record at the highest sequence, which Truncate cannot write
// (seq is below the last sequence), is ignored. wmu and mu held.
func (s *FileStore) truncateScanned(r *rebuildState, cur *msgBlock, img []byte, seq uint64, ts int64) {
	if seq == math.MaxUint64 {
		return
	}
	next := seq + 1
	s.trimScanned(cur, next, func(off int64) (recHeader, []byte, bool) {
		return parseRecord(img[off:])
	})
	for i := len(s.blocks) - 1; i >= 0; i-- {
		b := s.blocks[i]
		if len(b.offs) > 0 && b.end() <= next {
			break
		}
		s.trimScanned(b, next, func(off int64) (recHeader, []byte, bool) {
			h, rec, err := s.wr.record(s, b, off)
			return h, rec, err == nil
		})
	}
	r.tombs = slices.DeleteFunc(r.tombs, func(t uint64) bool { return t > seq })
	r.floor = min(r.floor, next)
	r.lastSeq, r.lastTs = seq, ts
	r.prevMsg = min(r.prevMsg, seq)
	s.forgetCorruptAbove(seq)
}

// trimScanned deletes block b's messages at next and above (read with
// read) and cuts its offset table there. During a rebuild no slot is
// deleted yet, and blocks without slots have no meaningful first.
func (s *FileStore) trimScanned(b *msgBlock, next uint64, read func(off int64) (recHeader, []byte, bool)) {
	if len(b.offs) == 0 || b.end() <= next {
		return
	}
	from := 0
	if next > b.first {
		from = int(next - b.first)
	}
	for j := from; j < len(b.offs); j++ {
		o := b.offs[j]
		if o&slotOff == 0 || o&slotDeleted != 0 {
			continue
		}
		seq := b.first + uint64(j)
		var size uint64
		if h, rec, ok := read(int64(o & slotOff)); ok && h.kind == recMsg && h.seq == seq {
			size = msgSizeOf(h, rec)
			s.subjects.remove(bytesString(recSubject(h, rec)), seq)
			b.dead += int64(len(rec))
			b.tdead += int64(len(rec))
		} else {
			// Read moments ago during this scan; if it went bad since,
			// its subject count cannot be corrected (as in removeLocked).
			size = min(s.bytes, b.bytes/max(b.msgs, 1))
		}
		b.msgs--
		b.bytes -= min(b.bytes, size)
		s.msgs--
		s.bytes -= min(s.bytes, size)
	}
	b.offs = b.offs[:from]
}

// forgetCorruptAbove drops the corruption reports of sequences above seq:
// those records are truncated, and a message stored at the same sequence
// later is a different one.
func (s *FileStore) forgetCorruptAbove(seq uint64) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for q := range s.corrupt {
		if q > seq {
			delete(s.corrupt, q)
		}
	}
}
