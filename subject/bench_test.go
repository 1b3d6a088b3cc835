package subject

import (
	"fmt"
	"testing"
)

// benchFixture is allocFixture scaled up: 60k entries over six shapes.
func benchFixture(b *testing.B, cacheSize int) *Sublist[int] {
	b.Helper()
	s := NewSublist[int](cacheSize)
	for i := range 10000 {
		mustInsert(b, s, fmt.Sprintf("lit.%d.x", i), "", i)
		mustInsert(b, s, fmt.Sprintf("pwc.%d.*", i), "", i)
		mustInsert(b, s, fmt.Sprintf("fwc.%d.>", i), "", i)
		mustInsert(b, s, fmt.Sprintf("que.%d.x", i), "q1", i)
		mustInsert(b, s, fmt.Sprintf("que.%d.x", i), "q2", i)
		mustInsert(b, s, fmt.Sprintf("que.%d.*", i), "q1", i+1)
	}
	mustInsert(b, s, "miss.*", "", 1)
	mustInsert(b, s, "miss.>", "q", 2)
	return s
}

// benchMatch measures Match of one subject, uncached unless cacheSize >= 0.
func benchMatch(b *testing.B, cacheSize int, subject string, wantLen int) {
	s := benchFixture(b, cacheSize)
	subj := []byte(subject)
	var r Result[int]
	s.Match(subj, &r)
	if r.Len() != wantLen {
		b.Fatalf("Match(%q) has %d values, want %d", subject, r.Len(), wantLen)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Match(subj, &r)
	}
}

func BenchmarkMatchLiteral(b *testing.B) { benchMatch(b, -1, "lit.5.x", 1) }
func BenchmarkMatchPWC(b *testing.B)     { benchMatch(b, -1, "pwc.5.y", 1) }
func BenchmarkMatchFWC(b *testing.B)     { benchMatch(b, -1, "fwc.5.y.z", 1) }
func BenchmarkMatchQueue(b *testing.B)   { benchMatch(b, -1, "que.5.x", 3) }
func BenchmarkMatchCacheHit(b *testing.B) {
	benchMatch(b, 0, "que.5.x", 3)
}

// BenchmarkMatchCacheMiss cycles through four times more distinct subjects
// than the cache holds, after a warm-up round that grows every slot's buffers,
// so that the steady state of evicting misses is measured.
func BenchmarkMatchCacheMiss(b *testing.B) {
	s := benchFixture(b, DefaultCacheSize)
	subjects := make([][]byte, 4*DefaultCacheSize)
	for i := range subjects {
		subjects[i] = fmt.Appendf(nil, "miss.%d", i)
	}
	var r Result[int]
	for range 4 {
		for _, subj := range subjects {
			s.Match(subj, &r)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Match(subjects[i%len(subjects)], &r)
		i++
	}
}

func BenchmarkHasInterest(b *testing.B) {
	s := benchFixture(b, -1)
	subj := []byte("pwc.5.y")
	b.ReportAllocs()
	for b.Loop() {
		s.HasInterest(subj)
	}
}

// BenchmarkMatchParallel runs Match from GOMAXPROCS goroutines over 64 hot
// subjects (cache hits), over subjects that always miss, and without a cache.
func BenchmarkMatchParallel(b *testing.B) {
	for _, bc := range []struct {
		name      string
		cacheSize int
		subjects  int
		format    string
	}{
		{"hit", 0, 64, "que.%d.x"},
		{"miss", 0, 4 * DefaultCacheSize, "miss.%d"},
		{"nocache", -1, 64, "que.%d.x"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := benchFixture(b, bc.cacheSize)
			subjects := make([][]byte, bc.subjects)
			for i := range subjects {
				subjects[i] = fmt.Appendf(nil, bc.format, i)
			}
			var r Result[int]
			for range 4 {
				for _, subj := range subjects {
					s.Match(subj, &r)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var r Result[int]
				i := 0
				for pb.Next() {
					s.Match(subjects[i%len(subjects)], &r)
					i++
				}
			})
		})
	}
}

// BenchmarkInsertRemove inserts and removes one entry per iteration against
// the full fixture with a warm cache, so each change pays for invalidation.
func BenchmarkInsertRemove(b *testing.B) {
	for _, bc := range []struct{ name, subject, queue string }{
		{"literal", "lit.5.y", ""},
		{"pwc", "lit.*.y", ""},
		{"fwc", "lit.5.>", ""},
		{"queue", "que.5.x", "q3"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := benchFixture(b, 0)
			var r Result[int]
			for i := range DefaultCacheSize {
				s.Match(fmt.Appendf(nil, "lit.%d.x", i), &r)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Insert(bc.subject, bc.queue, -1); err != nil {
					b.Fatal(err)
				}
				if err := s.Remove(bc.subject, bc.queue, -1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValid(b *testing.B) {
	subj := []byte("orders.eu-west.customer-1234.created")
	b.ReportAllocs()
	for b.Loop() {
		if !Valid(subj) {
			b.Fatal("invalid")
		}
	}
}
