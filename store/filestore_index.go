package store

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"path/filepath"
)

// This file is the FileStore's index file (index.db), written on a clean
// Close so that the next open need not scan the blocks. It is trusted only
// if its checksum holds and it matches the directory: the same block
// files, each of the recorded size and ending with the recorded record
// (offset and checksum). Open removes it before taking writes, so a crash
// later never finds an index that no longer describes the blocks.

// writeIndex encodes the state into index.db (atomically). wmu is held.
func (s *FileStore) writeIndex() error {
	s.mu.RLock()
	e := indexEncoder{b: make([]byte, 0, s.indexSizeHint())}
	e.b = append(e.b, indexMagic...)
	e.u32(indexVersion)
	e.u64(s.lastSeq)
	e.u64(uint64(s.lastTs))
	e.u64(s.firstSeq)
	e.u64(uint64(s.firstTs))
	e.u64(s.msgs)
	e.u64(s.bytes)
	e.u64(s.floor)
	e.u32(uint32(len(s.blocks)))
	for _, b := range s.blocks {
		e.u32(b.id)
		e.u64(b.first)
		e.u64(uint64(b.size))
		e.u64(b.msgs)
		e.u64(b.bytes)
		e.u64(uint64(b.dead))
		e.u64(uint64(b.tdead))
		e.u32(uint32(len(b.tombs)))
		for _, seq := range b.tombs {
			e.u64(seq)
		}
		e.u32(uint32(b.truncs))
		e.u32(b.lastOff)
		e.u32(b.lastCRC)
		e.u32(uint32(len(b.offs)))
		for _, o := range b.offs {
			e.u32(o)
		}
	}
	e.u32(uint32(s.subjects.len()))
	for subj, ss := range s.subjects.matching("") {
		e.u16(uint16(len(subj)))
		e.b = append(e.b, subj...)
		e.u64(ss.msgs)
		e.u64(ss.first)
		e.u64(ss.last)
		var flags uint8
		if ss.firstStale {
			flags |= indexSubjFirstStale
		}
		if ss.lastStale {
			flags |= indexSubjLastStale
		}
		e.b = append(e.b, flags)
	}
	s.mu.RUnlock()
	corrupt := s.Corrupt()
	e.u32(uint32(len(corrupt)))
	for _, seq := range corrupt {
		e.u64(seq)
	}
	e.u32(uint32(s.CorruptRegions()))
	e.u32(crc32.Update(0, crcTable, e.b))
	f, err := s.writeFileAtomic(filepath.Join(s.cfg.Dir, indexName), e.b)
	if err != nil {
		return err
	}
	return f.Close()
}

func (s *FileStore) indexSizeHint() int {
	n := 64
	for _, b := range s.blocks {
		n += 64 + 4*len(b.offs)
	}
	return n + 48*s.subjects.len()
}

type indexEncoder struct{ b []byte }

func (e *indexEncoder) u16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *indexEncoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *indexEncoder) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }

// indexDecoder reads fields with bounds checks; after a short read every
// field is zero and ok is false.
type indexDecoder struct {
	b  []byte
	ok bool
}

func (d *indexDecoder) take(n int) []byte {
	if !d.ok || n < 0 || len(d.b) < n {
		d.ok = false
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *indexDecoder) u16() uint16 {
	if v := d.take(2); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}

func (d *indexDecoder) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (d *indexDecoder) u64() uint64 {
	if v := d.take(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

// errIndex: the index file does not match (the caller rebuilds).
var errIndex = errors.New("store: index mismatch")

// loadIndex loads index.db if it is intact and matches the block files
// ids. It reports false (state untouched or to be reset) when it does not.
// wmu and mu are held.
func (s *FileStore) loadIndex(ids []uint32) (bool, error) {
	f, err := s.fs.Open(filepath.Join(s.cfg.Dir, indexName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	data, err := readAll(f, nil)
	f.Close()
	if err != nil || len(data) < 12 || string(data[:4]) != indexMagic {
		return false, nil
	}
	body := data[:len(data)-4]
	if crc32.Update(0, crcTable, body) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return false, nil
	}
	if err := s.decodeIndex(&indexDecoder{b: body[4:], ok: true}, ids); err != nil {
		s.log.Warn("store: index file rejected", "err", err)
		return false, nil
	}
	return true, nil
}

// decodeIndex fills the state from an index body and checks it against
// the block files.
func (s *FileStore) decodeIndex(d *indexDecoder, ids []uint32) error {
	if d.u32() != indexVersion {
		return errIndex
	}
	s.lastSeq, s.lastTs = d.u64(), int64(d.u64())
	s.firstSeq, s.firstTs = d.u64(), int64(d.u64())
	s.msgs, s.bytes, s.floor = d.u64(), d.u64(), d.u64()
	n := int(d.u32())
	if !d.ok || n != len(ids) {
		return errIndex
	}
	for i := 0; i < n; i++ {
		b := &msgBlock{id: d.u32(), first: d.u64(), size: int64(d.u64())}
		b.msgs, b.bytes = d.u64(), d.u64()
		b.dead, b.tdead = int64(d.u64()), int64(d.u64())
		if nt := int(d.u32()); d.ok && nt <= len(d.b)/8 {
			b.tombs = make([]uint64, nt)
			for j := range b.tombs {
				b.tombs[j] = d.u64()
			}
		} else {
			return errIndex
		}
		b.truncs = int(d.u32())
		b.lastOff, b.lastCRC = d.u32(), d.u32()
		slots := int(d.u32())
		raw := d.take(4 * slots)
		if !d.ok || b.id != ids[i] {
			return errIndex
		}
		b.offs = make([]uint32, slots)
		for j := range b.offs {
			b.offs[j] = binary.LittleEndian.Uint32(raw[4*j:])
		}
		b.flushed = b.size
		s.blocks = append(s.blocks, b)
		if err := s.openIndexedBlock(b, i == n-1); err != nil {
			return err
		}
	}
	subjects := int(d.u32())
	for i := 0; i < subjects && d.ok; i++ {
		subj := string(d.take(int(d.u16())))
		ss := &subjectState{subj: subj, msgs: d.u64(), first: d.u64(), last: d.u64()}
		flags := d.take(1)
		if !d.ok || ss.msgs == 0 {
			return errIndex
		}
		ss.firstStale = flags[0]&indexSubjFirstStale != 0
		ss.lastStale = flags[0]&indexSubjLastStale != 0
		if s.subjects.m == nil {
			s.subjects.m = make(map[string]*subjectState, subjects)
		}
		s.subjects.m[subj] = ss
	}
	corrupt := int(d.u32())
	for i := 0; i < corrupt && d.ok; i++ {
		s.corrupt[d.u64()] = struct{}{}
	}
	s.lost = int(d.u32())
	if !d.ok || len(d.b) != 0 {
		return errIndex
	}
	return nil
}

// openIndexedBlock opens an indexed block and checks that its file has the
// recorded size and ends with the recorded record.
func (s *FileStore) openIndexedBlock(b *msgBlock, last bool) error {
	open := s.fs.Open
	if last {
		open = s.fs.OpenAppend
	}
	f, err := open(s.blockPath(b.id))
	if err != nil {
		return errIndex
	}
	b.f, b.writable = f, last
	fi, err := f.Stat()
	if err != nil || fi.Size() != b.size {
		return errIndex
	}
	if b.lastOff == 0 {
		if b.size != blkHeaderLen {
			return errIndex
		}
		return nil
	}
	var w recReader
	h, rec, err := w.record(s, b, int64(b.lastOff))
	if err != nil || recChecksum(rec) != b.lastCRC || int64(b.lastOff)+int64(h.length) != b.size {
		return errIndex
	}
	return nil
}
