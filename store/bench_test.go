package store_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fernmq/fern/store"
)

// Benchmarks of the stores (go test -bench . -benchmem ./store). All
// FileStore benchmarks run on the real disk in b.TempDir(). The 1 GiB
// recovery and 1,000,000-subject benchmarks build their data once per run
// (it takes a while) outside the timer.

var benchSizes = []struct {
	name string
	size int
}{{"16B", 16}, {"128B", 128}, {"1KiB", 1024}}

func benchOpen(b *testing.B, cfg store.FileConfig) *store.FileStore {
	b.Helper()
	if cfg.Dir == "" {
		cfg.Dir = b.TempDir()
	}
	s, err := store.OpenFileStore(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() }) // after the timer stopped
	return s
}

// reportRate adds msgs/s to a benchmark that did b.N messages.
func reportRate(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkFileStoreAppend stores messages from one writer. "async" is
// SyncNone and ends with one Sync (inside the timing), so the bytes are on
// disk when the clock stops; "always" fsyncs every message.
func BenchmarkFileStoreAppend(b *testing.B) {
	for _, sz := range benchSizes {
		for _, mode := range []struct {
			name string
			sync store.SyncPolicy
		}{{"async", store.SyncNone}, {"always", store.SyncAlways}} {
			b.Run(sz.name+"/"+mode.name, func(b *testing.B) {
				s := benchOpen(b, store.FileConfig{Sync: mode.sync})
				data := make([]byte, sz.size)
				b.SetBytes(int64(sz.size))
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for range b.N {
					if _, _, err := s.Store("bench.append", nil, data); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Sync(); err != nil {
					b.Fatal(err)
				}
				reportRate(b, start)
			})
		}
	}
}

// BenchmarkFileStoreGroupCommit: N writers each store a 128-byte message
// and wait until it is durable. msgs/fsync shows how many acknowledgements
// one fsync serves.
func BenchmarkFileStoreGroupCommit(b *testing.B) {
	for _, writers := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			h := &hookFS{FS: store.OSFS{}}
			s := benchOpen(b, store.FileConfig{FS: h, Sync: store.SyncNone})
			data := make([]byte, 128)
			b.SetBytes(128)
			b.ReportAllocs()
			h.syncs.Store(0)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			per := b.N / writers
			for w := range writers {
				n := per
				if w == 0 {
					n += b.N % writers
				}
				wg.Go(func() {
					for range n {
						seq, _, err := s.Store("bench.gc", nil, data)
						if err == nil {
							err = s.WaitDurable(context.Background(), seq)
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			reportRate(b, start)
			b.ReportMetric(float64(b.N)/float64(max(h.syncs.Load(), 1)), "msgs/fsync")
		})
	}
}

// BenchmarkFileStoreLoad loads 128-byte messages by sequence with a reused
// Msg, from the page cache.
func BenchmarkFileStoreLoad(b *testing.B) {
	const n = 100_000
	s := benchOpen(b, store.FileConfig{Sync: store.SyncNone})
	data := make([]byte, 128)
	for range n {
		if _, _, err := s.Store("bench.load", nil, data); err != nil {
			b.Fatal(err)
		}
	}
	s.Sync()
	for _, order := range []string{"sequential", "random"} {
		b.Run(order, func(b *testing.B) {
			seqs := make([]uint64, 4096)
			r := rand.New(rand.NewSource(1))
			for i := range seqs {
				seqs[i] = uint64(i%n) + 1
				if order == "random" {
					seqs[i] = uint64(r.Intn(n)) + 1
				}
			}
			var m store.Msg
			b.SetBytes(128)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.Load(seqs[i%len(seqs)], &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFileStoreLoadLastBySubject looks up the last message of one of
// 1,000,000 subjects.
func BenchmarkFileStoreLoadLastBySubject(b *testing.B) {
	const subjects = 1_000_000
	s := benchOpen(b, store.FileConfig{Sync: store.SyncNone})
	names := make([]string, subjects)
	data := make([]byte, 32)
	for i := range names {
		names[i] = fmt.Sprintf("kv.bucket.key%07d", i)
		if _, _, err := s.Store(names[i], nil, data); err != nil {
			b.Fatal(err)
		}
	}
	r := rand.New(rand.NewSource(1))
	order := make([]string, 4096)
	for i := range order {
		order[i] = names[r.Intn(subjects)]
	}
	b.Run("literal", func(b *testing.B) {
		var m store.Msg
		b.ReportAllocs()
		for i := range b.N {
			if _, err := s.LoadLast(order[i%len(order)], &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFileStoreRecovery opens a 1 GiB store (128-byte messages,
// about 6.3 million records) with the index file written by Close, and
// without it (every block scanned and checksummed).
func BenchmarkFileStoreRecovery(b *testing.B) {
	const total = 1 << 30
	dir := b.TempDir()
	s, err := store.OpenFileStore(store.FileConfig{Dir: dir, Sync: store.SyncNone})
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 128)
	var written int64
	for i := 0; written < total; i++ {
		subj := fmt.Sprintf("bench.recover.%d", i%16)
		if _, _, err := s.Store(subj, nil, data); err != nil {
			b.Fatal(err)
		}
		written += int64(32 + len(subj) + len(data))
	}
	want := s.State()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	index := filepath.Join(dir, "index.db")
	for _, withIndex := range []bool{true, false} {
		name := "index"
		if !withIndex {
			name = "rebuild"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(written)
			for range b.N {
				b.StopTimer()
				if !withIndex {
					if err := os.Remove(index); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				s, err := store.OpenFileStore(store.FileConfig{Dir: dir, Sync: store.SyncNone})
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if got := s.State(); got != want {
					b.Fatalf("recovered %+v, want %+v", got, want)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(want.Msgs), "msgs")
		})
	}
}

// BenchmarkMemStoreAppend is the in-memory store, for reference.
func BenchmarkMemStoreAppend(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			s, err := store.NewMemStore(store.MemConfig{Limits: store.Limits{MaxMsgs: 1 << 20}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			data := make([]byte, sz.size)
			b.SetBytes(int64(sz.size))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if _, _, err := s.Store("bench.append", nil, data); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, start)
		})
	}
}
