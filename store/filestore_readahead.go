package store

import (
	"io"
	"sync"
)

// Read-ahead for sequential readers. A consumer walking a stream loads
// record after record from the same block; one pread per record made the
// system call the largest cost of a delivery. The window keeps the bytes
// of one recent large read: a load that starts exactly where the previous
// one ended (a sequential reader) is served from it, refilled with one
// readAheadSize read when it runs out. Random loads (direct gets) keep
// their single small read. Bytes are keyed by block, file generation
// (compaction replaces a block's file) and offset; every record served
// still passes its checksum in parseRecord.

// readAheadSize is how much one window refill reads.
const readAheadSize = 64 << 10

type readAhead struct {
	mu      sync.Mutex
	blk     *msgBlock
	gen     uint64
	off     int64 // file offset of buf[0]
	buf     []byte
	lastEnd int64 // where the previous load in blk ended
}

// load returns the record at off of b if the reader looks sequential,
// copying it into dst; ok is false when the caller must read it itself
// (it then calls note with the record's end).
func (ra *readAhead) load(b *msgBlock, off int64, dst []byte) (rec []byte, h recHeader, out []byte, ok bool) {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if ra.blk != b || ra.gen != b.gen || off != ra.lastEnd {
		return nil, h, dst, false
	}
	if !ra.covers(off, recHeaderLen) {
		if !ra.fill(b, off) {
			return nil, h, dst, false
		}
	}
	h = readRecHeader(ra.buf[off-ra.off:])
	if !h.plausible(int(b.flushed - off)) {
		return nil, h, dst, false
	}
	if !ra.covers(off, int64(h.length)) {
		if !ra.fill(b, off) || !ra.covers(off, int64(h.length)) {
			return nil, h, dst, false // larger than a window: read directly
		}
	}
	dst = append(dst[:0], ra.buf[off-ra.off:off-ra.off+int64(h.length)]...)
	h, rec, good := parseRecord(dst)
	if !good {
		return nil, h, dst, false
	}
	ra.lastEnd = off + int64(h.length)
	return rec, h, dst, true
}

// note records where a directly read record ended, so the next load
// that starts there is recognised as sequential.
func (ra *readAhead) note(b *msgBlock, off int64, length uint32) {
	ra.mu.Lock()
	if ra.blk != b || ra.gen != b.gen {
		ra.blk, ra.gen, ra.buf = b, b.gen, ra.buf[:0]
	}
	ra.lastEnd = off + int64(length)
	ra.mu.Unlock()
}

func (ra *readAhead) covers(off, n int64) bool {
	return off >= ra.off && off+n <= ra.off+int64(len(ra.buf))
}

// fill reads up to readAheadSize flushed bytes of b from off.
func (ra *readAhead) fill(b *msgBlock, off int64) bool {
	n := min(int64(readAheadSize), b.flushed-off)
	if n <= 0 {
		return false
	}
	if int64(cap(ra.buf)) < n {
		ra.buf = make([]byte, readAheadSize)
	}
	ra.buf = ra.buf[:n]
	got, err := b.f.ReadAt(ra.buf, off)
	if err != nil && err != io.EOF {
		ra.buf = ra.buf[:0]
		return false
	}
	ra.buf, ra.off = ra.buf[:got], off
	return true
}
