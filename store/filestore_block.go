package store

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// This file is the FileStore's block: one file of records with an
// in-memory offset table, how sequences are located in blocks, and how
// records are read back (Load's direct read, and the windowed reader that
// scans and writers use).

// msgBlock is one block file and its in-memory index.
type msgBlock struct {
	id uint32
	f  File // open for reading (and appending, for the active block)
	// writable: f was opened for appending (the last block at open).
	writable bool
	// gen changes whenever the file is replaced (compaction), so readers
	// that cache bytes of the block can tell.
	gen uint64

	// first is the sequence of offs[0]; offs[i] is the offset of the
	// record of sequence first+i, with slotDeleted set once deleted, or
	// 0 when the block has no record for it (a gap, a corrupt record, or
	// a deleted record that compaction dropped).
	first uint64
	offs  []uint32

	size    int64 // bytes of the block, including the write buffer when active
	flushed int64 // bytes handed to the OS (== size for sealed blocks)
	dirty   bool  // written since the last fsync

	msgs  uint64 // live messages
	bytes uint64 // their MsgSize
	dead  int64  // bytes of records no longer needed (deleted messages, damage)
	tdead int64  // the part of dead removed by tombstones rather than the floor
	// tombs are the targets of the tombstone records in the file, so that
	// dead tombstones can be told without reading the block.
	tombs []uint64
	// truncs counts the truncate records in the file. Such a block is
	// dropped only from the front (filestore_truncate.go).
	truncs int

	lastOff uint32 // offset of the last good record, 0 if none
	lastCRC uint32 // its checksum
}

// end is one past the last sequence the offset table covers.
func (b *msgBlock) end() uint64 { return b.first + uint64(len(b.offs)) }

// hasMsgRecords reports whether the block holds any message record.
func (b *msgBlock) hasMsgRecords() bool {
	for _, o := range b.offs {
		if o&slotOff != 0 {
			return true
		}
	}
	return false
}

func blockName(id uint32) string { return fmt.Sprintf(blkNameFmt, id) }

func (s *FileStore) blockPath(id uint32) string {
	return filepath.Join(s.cfg.Dir, blockName(id))
}

// parseBlockName returns the id of a block file name.
func parseBlockName(name string) (uint32, bool) {
	base, ok := strings.CutSuffix(name, blockExt)
	if !ok || len(base) != 10 {
		return 0, false
	}
	id, err := strconv.ParseUint(base, 10, 32)
	return uint32(id), err == nil
}

// locate finds the block and slot index holding seq, or (nil, 0). Blocks
// cover disjoint, ascending sequence ranges; a block without slots has
// first at the sequence the next message would take.
func (s *FileStore) locate(seq uint64) (*msgBlock, int) {
	bs := s.blocks
	i := sort.Search(len(bs), func(i int) bool { return bs[i].first > seq }) - 1
	for ; i >= 0; i-- {
		b := bs[i]
		if seq >= b.first && seq < b.end() {
			return b, int(seq - b.first)
		}
		if len(b.offs) > 0 {
			break
		}
	}
	return nil, 0
}

// slot returns the offset of seq's live record and its block, or 0.
func (s *FileStore) slot(seq uint64) (*msgBlock, int64) {
	b, i := s.locate(seq)
	if b == nil {
		return nil, 0
	}
	o := b.offs[i]
	if o&slotDeleted != 0 {
		return b, 0
	}
	return b, int64(o & slotOff)
}

// errShortRecord: a record reaches past what the block holds.
var errShortRecord = errors.New("store: record extends past the end of its block")

// loadRecord reads the record at off of block b for a Load: into dst
// (which it grows) for bytes on disk, or aliasing the write buffer for the
// active block's unflushed bytes. It checks the checksum. Needs mu (read).
func (s *FileStore) loadRecord(b *msgBlock, off int64, dst []byte) (recHeader, []byte, []byte, error) {
	if off >= b.flushed {
		h, rec, ok := parseRecord(s.wbuf[off-b.flushed:])
		if !ok {
			return h, nil, dst, ErrCorrupt
		}
		return h, rec, dst, nil
	}
	if rec, h, out, ok := s.ra.load(b, off, dst); ok {
		return h, rec, out, nil
	}
	h, rec, dst, err := s.readRecord(b, off, dst)
	if err == nil {
		s.ra.note(b, off, h.length)
	}
	return h, rec, dst, err
}

// readRecord reads the record at off of b's flushed bytes into dst.
func (s *FileStore) readRecord(b *msgBlock, off int64, dst []byte) (recHeader, []byte, []byte, error) {
	avail := b.flushed - off
	guess := int64(min(max(len(dst), loadGuessMin), loadGuessMax))
	guess = min(guess, avail)
	if int64(cap(dst)) < guess {
		dst = make([]byte, guess, max(guess, 2*int64(cap(dst))))
	}
	dst = dst[:guess]
	n, err := b.f.ReadAt(dst, off)
	if int64(n) < guess {
		if err == nil || err == io.EOF {
			err = errShortRecord
		}
		return recHeader{}, nil, dst, err
	}
	if guess < recHeaderLen {
		return recHeader{}, nil, dst, ErrCorrupt
	}
	h := readRecHeader(dst)
	if !h.plausible(int(avail)) {
		return h, nil, dst, ErrCorrupt
	}
	if int64(h.length) > guess {
		if cap(dst) < int(h.length) {
			nd := make([]byte, h.length)
			copy(nd, dst)
			dst = nd
		}
		dst = dst[:h.length]
		if _, err := b.f.ReadAt(dst[guess:], off+guess); err != nil && err != io.EOF {
			return h, nil, dst, err
		}
	}
	h, rec, ok := parseRecord(dst)
	if !ok {
		return h, nil, dst, ErrCorrupt
	}
	return h, rec, dst, nil
}

// recReader reads records through a window of a block, so that scanning
// neighbouring records costs one read per window. Readers under the
// shared lock take one from readerPool; writers use FileStore.wr.
type recReader struct {
	buf   []byte
	b     *msgBlock
	gen   uint64
	start int64 // block offset of buf[0]
	n     int   // valid bytes in buf
	fills int   // reads since reset: the window grows with them
}

var readerPool = sync.Pool{New: func() any { return &recReader{buf: make([]byte, readWindow)} }}

// reset forgets the window (the block may have changed).
func (r *recReader) reset() { r.b, r.n, r.fills = nil, 0, 0 }

// record returns the valid record at off of block b (aliasing the window
// or the write buffer: valid until the next call). ErrCorrupt when the
// checksum fails. Needs mu (read).
func (r *recReader) record(s *FileStore, b *msgBlock, off int64) (recHeader, []byte, error) {
	if off >= b.flushed {
		h, rec, ok := parseRecord(s.wbuf[off-b.flushed:])
		if !ok {
			return h, nil, ErrCorrupt
		}
		return h, rec, nil
	}
	if r.b != b || r.gen != b.gen || off < r.start || off+recHeaderLen > r.start+int64(r.n) {
		if err := r.fill(b, off, recHeaderLen); err != nil {
			return recHeader{}, nil, err
		}
	}
	w := r.buf[off-r.start : r.n]
	h := readRecHeader(w)
	if !h.plausible(int(b.flushed - off)) {
		return h, nil, ErrCorrupt
	}
	if int(h.length) > len(w) {
		if err := r.fill(b, off, int(h.length)); err != nil {
			return h, nil, err
		}
		w = r.buf[:r.n]
	}
	h, rec, ok := parseRecord(w)
	if !ok {
		return h, nil, ErrCorrupt
	}
	return h, rec, nil
}

// fill reads the window at off, at least need bytes. The first read after
// a reset is small (a lookup), later ones grow to readWindow (a scan).
func (r *recReader) fill(b *msgBlock, off int64, need int) error {
	want := max(need, min(readWindow, readWindowMin<<min(r.fills, 8)))
	r.fills++
	if cap(r.buf) < want {
		r.buf = make([]byte, want)
	}
	want = int(min(int64(want), b.flushed-off))
	if want < need {
		r.reset()
		return errShortRecord
	}
	n, err := b.f.ReadAt(r.buf[:want], off)
	if n < need {
		r.reset()
		if err == nil || err == io.EOF {
			err = errShortRecord
		}
		return err
	}
	r.b, r.gen, r.start, r.n = b, b.gen, off, n
	return nil
}

// nextLive returns the lowest live sequence >= seq, or 0.
func (s *FileStore) nextLive(seq uint64) uint64 {
	bs := s.blocks
	i := sort.Search(len(bs), func(i int) bool { return bs[i].end() > seq })
	for ; i < len(bs); i++ {
		b := bs[i]
		j := 0
		if seq > b.first {
			j = int(seq - b.first)
		}
		for ; j < len(b.offs); j++ {
			if o := b.offs[j]; o&slotOff != 0 && o&slotDeleted == 0 {
				return b.first + uint64(j)
			}
		}
	}
	return 0
}

// prevLive returns the highest live sequence <= seq, or 0.
func (s *FileStore) prevLive(seq uint64) uint64 {
	bs := s.blocks
	i := sort.Search(len(bs), func(i int) bool { return bs[i].first > seq }) - 1
	for ; i >= 0; i-- {
		b := bs[i]
		if len(b.offs) == 0 {
			continue
		}
		j := len(b.offs) - 1
		if seq < b.end()-1 {
			j = int(seq - b.first)
		}
		for ; j >= 0; j-- {
			if o := b.offs[j]; o&slotOff != 0 && o&slotDeleted == 0 {
				return b.first + uint64(j)
			}
		}
	}
	return 0
}
