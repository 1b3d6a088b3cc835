package store

import (
	"encoding/binary"
	"hash/crc32"
	"unsafe"

	"github.com/klauspost/compress/s2"
)

// This file is the FileStore's record and block-header framing: encoding,
// validation, and the block scanner that recovery, compaction and the fuzz
// test share. The layout is drawn in the package documentation
// ("On-disk format (FileStore)").

// Record kinds.
const (
	recMsg   = 1 // a message
	recTomb  = 2 // seq was deleted
	recMark  = 3 // the stream's last sequence/time were at least seq/ts when written
	recFloor = 4 // every sequence below seq is deleted; last is at least seq-1 (ts: last time)
	recTrunc = 5 // every message record before this one above seq is deleted; last is seq (ts: last time)
)

// Record flags.
const (
	recCompressed = 1 // the body (header+payload) is one s2 block
)

const (
	recHeaderLen  = 32
	blkHeaderLen  = 16
	blkMagic      = "FRNB"
	blkVersion    = 1
	maxRecordLen  = 1 << 30 // a larger length field is corruption
	compressMinSz = 64      // bodies below this are never compressed
	resyncBudget  = 8       // resync hashes at most this many times the bytes it searches
)

// crcTable is the CRC-32C (Castagnoli) table; hash/crc32 uses the CPU's
// CRC32 instruction for it. Read-only.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// recHeader is a decoded record header.
type recHeader struct {
	length  uint32
	kind    uint8
	flags   uint8
	subjLen uint16
	hdrLen  uint32 // uncompressed header length
	seq     uint64
	ts      int64
}

// putRecHeader writes h (without its checksum) at b[0:32].
func putRecHeader(b []byte, h recHeader) {
	_ = b[recHeaderLen-1]
	binary.LittleEndian.PutUint32(b[4:], h.length)
	b[8] = h.kind
	b[9] = h.flags
	binary.LittleEndian.PutUint16(b[10:], h.subjLen)
	binary.LittleEndian.PutUint32(b[12:], h.hdrLen)
	binary.LittleEndian.PutUint64(b[16:], h.seq)
	binary.LittleEndian.PutUint64(b[24:], uint64(h.ts))
}

// readRecHeader decodes b[0:32] without any validation.
func readRecHeader(b []byte) recHeader {
	_ = b[recHeaderLen-1]
	return recHeader{
		length:  binary.LittleEndian.Uint32(b[4:]),
		kind:    b[8],
		flags:   b[9],
		subjLen: binary.LittleEndian.Uint16(b[10:]),
		hdrLen:  binary.LittleEndian.Uint32(b[12:]),
		seq:     binary.LittleEndian.Uint64(b[16:]),
		ts:      int64(binary.LittleEndian.Uint64(b[24:])),
	}
}

// sealRecord computes rec's checksum (over everything after it) and
// stores it in rec[0:4]; rec is one whole record.
func sealRecord(rec []byte) {
	binary.LittleEndian.PutUint32(rec, crc32.Update(0, crcTable, rec[4:]))
}

// recChecksum is the checksum stored in a record.
func recChecksum(rec []byte) uint32 { return binary.LittleEndian.Uint32(rec) }

// appendControl appends a record without a body (tombstone, mark, floor,
// truncate).
func appendControl(dst []byte, kind uint8, seq uint64, ts int64) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, recHeaderLen)...)
	putRecHeader(dst[start:], recHeader{length: recHeaderLen, kind: kind, seq: seq, ts: ts})
	sealRecord(dst[start:])
	return dst
}

// appendMsgRecord appends a message record. When compress is set and the
// body is big enough, the body is s2-compressed if that makes it smaller;
// scratch is a reusable buffer for that (returned, possibly grown).
func appendMsgRecord(dst []byte, subj string, hdr, data []byte, seq uint64, ts int64, compress bool, scratch []byte) ([]byte, []byte) {
	start := len(dst)
	h := recHeader{kind: recMsg, subjLen: uint16(len(subj)), hdrLen: uint32(len(hdr)), seq: seq, ts: ts}
	body := len(hdr) + len(data)
	if compress && body >= compressMinSz {
		scratch = append(append(scratch[:0], hdr...), data...)
		need := recHeaderLen + len(subj) + s2.MaxEncodedLen(body)
		dst = growLen(dst, need)
		rec := dst[start:]
		copy(rec[recHeaderLen:], subj)
		enc := s2.Encode(rec[recHeaderLen+len(subj):], scratch)
		if len(enc) < body {
			h.flags = recCompressed
			h.length = uint32(recHeaderLen + len(subj) + len(enc))
			dst = dst[:start+int(h.length)]
			putRecHeader(dst[start:], h)
			sealRecord(dst[start:])
			return dst, scratch
		}
		dst = dst[:start]
	}
	h.length = uint32(recHeaderLen + len(subj) + body)
	dst = growLen(dst, int(h.length))
	rec := dst[start:]
	putRecHeader(rec, h)
	n := copy(rec[recHeaderLen:], subj)
	n += copy(rec[recHeaderLen+n:], hdr)
	copy(rec[recHeaderLen+n:], data)
	sealRecord(rec)
	return dst, scratch
}

// growLen extends b by n bytes (contents of the new part undefined).
func growLen(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// plausible reports whether h's fields are consistent with a record
// starting a buffer of avail bytes (the checksum is not checked).
func (h recHeader) plausible(avail int) bool {
	if h.length < recHeaderLen || h.length > maxRecordLen || int64(h.length) > int64(avail) {
		return false
	}
	switch h.kind {
	case recMsg:
		if h.flags&^recCompressed != 0 || h.subjLen == 0 {
			return false
		}
		fixed := uint64(recHeaderLen) + uint64(h.subjLen)
		if h.flags&recCompressed == 0 {
			fixed += uint64(h.hdrLen)
		}
		return fixed <= uint64(h.length)
	case recTomb, recMark, recFloor, recTrunc:
		return h.length == recHeaderLen && h.flags == 0 && h.subjLen == 0 && h.hdrLen == 0
	}
	return false
}

// parseRecord validates the record at the start of b: plausible header,
// checksum, and for compressed bodies a decodable length. It returns the
// header and the record's bytes.
func parseRecord(b []byte) (recHeader, []byte, bool) {
	if len(b) < recHeaderLen {
		return recHeader{}, nil, false
	}
	h := readRecHeader(b)
	if !h.plausible(len(b)) {
		return h, nil, false
	}
	rec := b[:h.length]
	if crc32.Update(0, crcTable, rec[4:]) != recChecksum(rec) {
		return h, nil, false
	}
	if h.kind == recMsg && h.flags&recCompressed != 0 {
		n, err := s2.DecodedLen(rec[recHeaderLen+int(h.subjLen):])
		if err != nil || uint64(n) < uint64(h.hdrLen) {
			return h, nil, false
		}
	}
	return h, rec, true
}

// msgSizeOf is the MsgSize of a valid message record.
func msgSizeOf(h recHeader, rec []byte) uint64 {
	body := rec[recHeaderLen+int(h.subjLen):]
	if h.flags&recCompressed != 0 {
		n, _ := s2.DecodedLen(body)
		return uint64(int(h.subjLen)+n) + 16
	}
	return uint64(int(h.subjLen)+len(body)) + 16
}

// recSubject is the subject of a valid message record (aliasing rec).
func recSubject(h recHeader, rec []byte) []byte {
	return rec[recHeaderLen : recHeaderLen+int(h.subjLen)]
}

// fillMsg makes m the message of the valid record rec, which may alias
// m.buf (at its start) or any other buffer. Subject, Header and Data end
// up in m.buf; a zero-length header or payload is nil.
func fillMsg(m *Msg, h recHeader, rec []byte) error {
	if len(rec) == 0 || len(m.buf) == 0 || &rec[0] != &m.buf[0] {
		m.buf = append(m.buf[:0], rec...)
	}
	rec = m.buf[:len(rec)]
	sl := int(h.subjLen)
	var body []byte
	subjAt := recHeaderLen
	if h.flags&recCompressed != 0 {
		src := rec[recHeaderLen+sl:]
		n, err := s2.DecodedLen(src)
		if err != nil || n < int(h.hdrLen) {
			return ErrCorrupt
		}
		total := len(rec) + sl + n
		if cap(m.buf) < total {
			nb := make([]byte, total)
			copy(nb, rec)
			m.buf = nb
		}
		m.buf = m.buf[:total]
		rec = m.buf[:len(rec)]
		src = rec[recHeaderLen+sl:]
		copy(m.buf[len(rec):], rec[recHeaderLen:recHeaderLen+sl])
		subjAt = len(rec)
		body, err = s2.Decode(m.buf[subjAt+sl:], src)
		if err != nil || len(body) != n {
			return ErrCorrupt
		}
	} else {
		m.buf = rec
		body = rec[recHeaderLen+sl:]
	}
	m.Subject = unsafe.String(&m.buf[subjAt], sl)
	m.Header = nilIfEmpty(body[:h.hdrLen])
	m.Data = nilIfEmpty(body[h.hdrLen:])
	m.Seq = h.seq
	m.Time = h.ts
	return nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b[:len(b):len(b)]
}

// putBlockHeader writes the 16-byte block header for block id into b.
func putBlockHeader(b []byte, id uint32) {
	copy(b, blkMagic)
	binary.LittleEndian.PutUint16(b[4:], blkVersion)
	binary.LittleEndian.PutUint16(b[6:], 0)
	binary.LittleEndian.PutUint32(b[8:], id)
	binary.LittleEndian.PutUint32(b[12:], crc32.Update(0, crcTable, b[:12]))
}

// parseBlockHeader checks a block header and returns the block's id.
func parseBlockHeader(b []byte) (uint32, bool) {
	if len(b) < blkHeaderLen || string(b[:4]) != blkMagic ||
		binary.LittleEndian.Uint16(b[4:]) != blkVersion ||
		crc32.Update(0, crcTable, b[:12]) != binary.LittleEndian.Uint32(b[12:]) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[8:]), true
}

// badSpan is a region of a block that held no valid record.
type badSpan struct {
	off, end int
	// seq is the sequence the region's first header claims, when that
	// header was plausible (a record whose checksum failed), else 0.
	seq  uint64
	kind uint8
}

// scanResult is how a scan of a block image ended.
type scanResult struct {
	// end is where the good data ends: after the last good record, or at
	// the start of a trailing region with no good record (the tail).
	end int
	// tail is the trailing bad region [end, len(buf)), if any; complete
	// reports that it was one whole record (plausible header, length
	// reaching exactly the end) whose checksum failed, which is
	// corruption rather than a torn write.
	tail         *badSpan
	tailComplete bool
}

// scanRecords walks the records of a block image from off (just after the
// block header), calling visit for every record whose checksum holds and
// bad (if not nil) for every damaged region that has a good record after
// it, in file order. A bad region is skipped by resynchronizing on the
// next valid record; a bad region with no valid record after it is the
// tail, reported in the result. It never reads outside buf.
func scanRecords(buf []byte, off int, visit func(off int, h recHeader, rec []byte), bad func(badSpan)) scanResult {
	for off < len(buf) {
		h, rec, ok := parseRecord(buf[off:])
		if ok {
			visit(off, h, rec)
			off += len(rec)
			continue
		}
		span := badSpan{off: off}
		plausible := len(buf)-off >= recHeaderLen && h.plausible(len(buf)-off)
		if plausible {
			span.seq, span.kind = h.seq, h.kind
		}
		next := resync(buf, off, h)
		if next < 0 {
			span.end = len(buf)
			return scanResult{end: off, tail: &span, tailComplete: plausible && off+int(h.length) == len(buf)}
		}
		span.end = next
		if bad != nil {
			bad(span)
		}
		off = next
	}
	return scanResult{end: off}
}

// resync finds the next offset after a bad record at off where a valid
// record starts, or -1. It first trusts the bad record's length (a record
// whose body was damaged), then searches byte by byte. Random damage
// rarely looks like a header, but crafted bytes can make every offset
// plausible: the checksum work of the search is bounded (a few times the
// buffer), after which the rest counts as unreadable.
func resync(buf []byte, off int, h recHeader) int {
	if len(buf)-off >= recHeaderLen && h.plausible(len(buf)-off) && int(h.length) < len(buf)-off {
		if _, _, ok := parseRecord(buf[off+int(h.length):]); ok {
			return off + int(h.length)
		}
	}
	budget := resyncBudget * (len(buf) - off)
	for c := off + 1; c+recHeaderLen <= len(buf) && budget > 0; c++ {
		if ch := readRecHeader(buf[c:]); ch.plausible(len(buf) - c) {
			budget -= int(ch.length)
			if _, _, ok := parseRecord(buf[c:]); ok {
				return c
			}
		}
	}
	return -1
}
