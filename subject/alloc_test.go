package subject

import (
	"fmt"
	"testing"
)

// allocFixture is a sublist with plain, wildcard and queue subscriptions, and
// subjects hitting each kind.
func allocFixture(t testing.TB, cacheSize int) *Sublist[int] {
	s := NewSublist[int](cacheSize)
	for i := range 100 {
		mustInsert(t, s, fmt.Sprintf("lit.%d.x", i), "", i)
		mustInsert(t, s, fmt.Sprintf("pwc.%d.*", i), "", i)
		mustInsert(t, s, fmt.Sprintf("fwc.%d.>", i), "", i)
		mustInsert(t, s, fmt.Sprintf("que.%d.x", i), "q1", i)
		mustInsert(t, s, fmt.Sprintf("que.%d.x", i), "q2", i+1000)
		mustInsert(t, s, fmt.Sprintf("que.%d.*", i), "q1", i+2000)
	}
	mustInsert(t, s, "miss.*", "", 1)
	mustInsert(t, s, "miss.>", "q", 2)
	return s
}

// expectNoAllocs warms f up, then checks it allocates nothing per run.
func expectNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	for range 1000 {
		f()
	}
	if n := testing.AllocsPerRun(1000, f); n != 0 {
		t.Errorf("%s: %v allocs/op, want 0", name, n)
	}
}

func TestMatchAllocs(t *testing.T) {
	for _, cacheSize := range []int{-1, 0} {
		t.Run(fmt.Sprintf("cache=%d", cacheSize), func(t *testing.T) {
			s := allocFixture(t, cacheSize)
			var r Result[int]
			for _, tc := range []struct{ name, subject string }{
				{"literal", "lit.5.x"},
				{"pwc", "pwc.5.y"},
				{"fwc", "fwc.5.y.z"},
				{"queue", "que.5.x"},
				{"none", "nothing.here"},
				{"invalid", "a..b"},
			} {
				subj := []byte(tc.subject)
				expectNoAllocs(t, "Match "+tc.name, func() { s.Match(subj, &r) })
				expectNoAllocs(t, "HasInterest "+tc.name, func() { s.HasInterest(subj) })
			}
		})
	}
}

// TestMatchCacheMissAllocs cycles through four times more subjects than the
// cache holds, so that (almost) every match is a miss that evicts a slot.
func TestMatchCacheMissAllocs(t *testing.T) {
	const cacheSize = 64
	s := allocFixture(t, cacheSize)
	subjects := make([][]byte, 4*cacheSize)
	for i := range subjects {
		subjects[i] = fmt.Appendf(nil, "miss.%d", i)
	}
	var r Result[int]
	i := 0
	next := func() {
		s.Match(subjects[i%len(subjects)], &r)
		i++
	}
	expectNoAllocs(t, "Match cache miss", next)
	if r.Len() != 2 {
		t.Fatalf("miss result has %d values, want 2", r.Len())
	}
}

func TestMatchCacheHitAllocs(t *testing.T) {
	s := allocFixture(t, 0)
	var r Result[int]
	subj := []byte("que.7.x")
	s.Match(subj, &r)
	if s.CacheLen() == 0 {
		t.Fatal("result not cached")
	}
	expectNoAllocs(t, "Match cache hit", func() { s.Match(subj, &r) })
	expectNoAllocs(t, "HasInterest cache hit", func() { s.HasInterest(subj) })
}

func TestValidateAllocs(t *testing.T) {
	str := "foo.bar.*.baz.>"
	b := []byte("foo.bar.baz.qux")
	q := []byte("workers")
	expectNoAllocs(t, "Valid", func() {
		_ = Valid(str) && Valid(b) && ValidLiteral(b) && ValidQueue(q) && IsLiteral(b)
	})
	expectNoAllocs(t, "ValidStrict", func() { _ = ValidStrict("ünï.cöde") && ValidStrict(b) })
	expectNoAllocs(t, "Matches", func() { _ = Matches("foo.bar.baz.qux", str) })
}
