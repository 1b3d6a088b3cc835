package store

import (
	"bytes"
	"errors"
	"hash/crc32"
	"testing"
)

// This file fuzzes the FileStore's block reader: arbitrary bytes never make
// it panic or read out of bounds, and every record it hands out has a valid
// checksum. A second target opens a store whose only block is arbitrary
// bytes. Both run their seed corpora as plain unit tests.

// fuzzBlock builds a well-formed block image with every record kind.
func fuzzBlock(compress bool) []byte {
	img := make([]byte, blkHeaderLen)
	putBlockHeader(img, 1)
	img = appendControl(img, recMark, 9, 100)
	var scratch []byte
	big := bytes.Repeat([]byte("payload "), 20)
	img, scratch = appendMsgRecord(img, "a.b", []byte("NATS/1.0\r\n\r\n"), big, 10, 101, compress, scratch)
	img, scratch = appendMsgRecord(img, "c", nil, nil, 11, 102, compress, scratch)
	img = appendControl(img, recTomb, 10, 103)
	img, scratch = appendMsgRecord(img, "d.e.f", nil, []byte("x"), 13, 104, compress, scratch)
	img = appendControl(img, recFloor, 11, 104)
	// A truncation back to 11, and 12 and 13 stored again after it.
	img = appendControl(img, recTrunc, 11, 102)
	img, scratch = appendMsgRecord(img, "g", nil, []byte("y"), 12, 105, compress, scratch)
	img, _ = appendMsgRecord(img, "d.e.f", nil, bytes.Repeat([]byte("z"), 70), 13, 106, compress, scratch)
	return img
}

func addBlockSeeds(f *testing.F) {
	for _, compress := range []bool{false, true} {
		img := fuzzBlock(compress)
		f.Add(img)
		f.Add(img[:len(img)-7])
		f.Add(img[:blkHeaderLen+recHeaderLen+5])
		flipped := bytes.Clone(img)
		flipped[blkHeaderLen+recHeaderLen+recHeaderLen+3] ^= 0x10
		f.Add(flipped)
		length := bytes.Clone(img)
		length[blkHeaderLen+recHeaderLen+5] ^= 0x40 // a record's length field
		f.Add(length)
	}
	f.Add(truncBlocks()[0])
	f.Add([]byte{})
	f.Add([]byte(blkMagic))
	f.Add(bytes.Repeat([]byte{0}, 100))
}

func FuzzBlockReader(f *testing.F) {
	addBlockSeeds(f)
	f.Fuzz(func(t *testing.T, img []byte) {
		parseBlockHeader(img)
		start := min(len(img), blkHeaderLen)
		next := start
		var m Msg
		res := scanRecords(img, start, func(off int, h recHeader, rec []byte) {
			if off < next || off+len(rec) > len(img) || !bytes.Equal(rec, img[off:off+len(rec)]) {
				t.Fatalf("record at %d (+%d) overlaps %d or leaves the image", off, len(rec), next)
			}
			next = off + len(rec)
			if crc32.Update(0, crcTable, rec[4:]) != recChecksum(rec) || int(h.length) != len(rec) || !h.plausible(len(rec)) {
				t.Fatalf("record at %d handed out with a bad checksum or header %+v", off, h)
			}
			if h.kind == recMsg {
				if err := fillMsg(&m, h, rec); err != nil && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("fillMsg: %v", err)
				}
				if err := fillMsg(&m, h, rec); err == nil && (len(m.Subject) != int(h.subjLen) || m.Seq != h.seq) {
					t.Fatalf("fillMsg: %q seq %d from %+v", m.Subject, m.Seq, h)
				}
				msgSizeOf(h, rec)
			}
		}, func(sp badSpan) {
			if sp.off < next || sp.end <= sp.off || sp.end > len(img) {
				t.Fatalf("bad span %+v out of order (at %d of %d)", sp, next, len(img))
			}
			next = sp.end
		})
		if res.end < next && res.tail == nil || res.end > len(img) {
			t.Fatalf("end %d after records up to %d of %d", res.end, next, len(img))
		}
		if res.tail != nil && (res.tail.off != res.end || res.tail.end != len(img)) {
			t.Fatalf("tail %+v, end %d of %d", res.tail, res.end, len(img))
		}
	})
}

// FuzzOpenBlock opens a store whose only block file holds arbitrary bytes:
// the open succeeds, and every sequence it reports either loads or is
// ErrNotFound/ErrCorrupt.
func FuzzOpenBlock(f *testing.F) {
	addBlockSeeds(f)
	f.Fuzz(func(t *testing.T, img []byte) {
		fsys := NewCrashFS()
		fsys.MkdirAll("/s", 0o755)
		w, _ := fsys.Create("/s/" + blockName(1))
		w.Write(img)
		w.Close()
		s, err := OpenFileStore(FileConfig{Dir: "/s", FS: fsys, Sync: SyncNone})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer s.Close()
		st := s.State()
		var m Msg
		found := uint64(0)
		for seq := st.FirstSeq; seq <= st.LastSeq && seq-st.FirstSeq < 1<<16; seq++ {
			_, err := s.Load(seq, &m)
			switch {
			case err == nil:
				found++
			case !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCorrupt):
				t.Fatalf("Load(%d): %v", seq, err)
			}
		}
		if st.LastSeq-st.FirstSeq < 1<<16 && found != st.Msgs {
			t.Fatalf("State %+v, but %d load", st, found)
		}
		if _, _, err := s.Store("after", nil, []byte("ok")); err != nil {
			t.Fatalf("Store after recovery: %v", err)
		}
	})
}
