//go:build !race

package store_test

import (
	"testing"

	"github.com/fernmq/fern/store"
)

// TestFileStoreZeroAllocs holds the hot paths to zero allocations once
// buffers have grown: Store of a 128-byte message (the offset table grows
// by amortized doubling, which averages to zero per call), Load into a
// reused Msg, LoadLast of a literal subject, and LoadNext.
func TestFileStoreZeroAllocs(t *testing.T) {
	for _, comp := range []store.Compression{store.CompressNone, store.CompressS2} {
		cfg := fileCfg(store.OSFS{}, t.TempDir())
		cfg.BlockSize = 8 << 20
		cfg.Compression = comp
		s := mustOpen(t, cfg)
		data := make([]byte, 128)
		for i := range data {
			data[i] = byte(i % 7)
		}
		store128 := func() {
			if _, _, err := s.Store("alloc.test", nil, data); err != nil {
				t.Fatal(err)
			}
		}
		for range 1000 {
			store128()
		}
		if n := testing.AllocsPerRun(10000, store128); n != 0 {
			t.Errorf("compression %d: Store allocates %v per call", comp, n)
		}
		var m store.Msg
		seq := uint64(1)
		load := func() {
			if _, err := s.Load(seq, &m); err != nil {
				t.Fatal(err)
			}
			seq = seq%5000 + 1
		}
		load()
		if n := testing.AllocsPerRun(5000, load); n != 0 {
			t.Errorf("compression %d: Load allocates %v per call", comp, n)
		}
		last := func() {
			if _, err := s.LoadLast("alloc.test", &m); err != nil {
				t.Fatal(err)
			}
		}
		if n := testing.AllocsPerRun(1000, last); n != 0 {
			t.Errorf("compression %d: LoadLast allocates %v per call", comp, n)
		}
		next := func() {
			if _, err := s.LoadNext("alloc.*", seq, &m); err != nil {
				t.Fatal(err)
			}
			seq = seq%5000 + 1
		}
		if n := testing.AllocsPerRun(1000, next); n != 0 {
			t.Errorf("compression %d: LoadNext allocates %v per call", comp, n)
		}
		mustClose(t, s)
	}
}
