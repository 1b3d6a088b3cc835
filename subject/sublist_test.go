package subject

import (
	"errors"
	"fmt"
	"hash/maphash"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// sublistConfigs are the cache configurations every table test runs with.
var sublistConfigs = []struct {
	name string
	new  func() *Sublist[int]
}{
	{"cache", func() *Sublist[int] { return NewSublist[int](0) }},
	{"tinycache", func() *Sublist[int] { return NewSublist[int](2) }},
	{"nocache", func() *Sublist[int] { return NewSublist[int](-1) }},
	{"zero", func() *Sublist[int] { return new(Sublist[int]) }},
}

func mustInsert(t testing.TB, s *Sublist[int], subject, queue string, v int) {
	t.Helper()
	if err := s.Insert(subject, queue, v); err != nil {
		t.Fatalf("Insert(%q, %q, %d): %v", subject, queue, v, err)
	}
}

func mustRemove(t testing.TB, s *Sublist[int], subject, queue string, v int) {
	t.Helper()
	if err := s.Remove(subject, queue, v); err != nil {
		t.Fatalf("Remove(%q, %q, %d): %v", subject, queue, v, err)
	}
}

// expectMatch checks Match twice (the second time possibly from the cache) and
// HasInterest.
func expectMatch(t *testing.T, s *Sublist[int], subject string, want canon) {
	t.Helper()
	var r Result[int]
	for i := range 2 {
		if diff := cmp.Diff(want, matchCanon(t, s, subject, &r)); diff != "" {
			t.Fatalf("Match(%q) #%d (-want +got):\n%s", subject, i+1, diff)
		}
	}
	if got, want := s.HasInterest([]byte(subject)), r.Len() > 0; got != want {
		t.Fatalf("HasInterest(%q) = %v, want %v", subject, got, want)
	}
}

func plain(vs ...int) canon { return canon{Plain: vs} }

func TestSublistMatch(t *testing.T) {
	subs := []entry{
		{"foo", "", 1},
		{"foo.bar", "", 2},
		{"foo.*", "", 3},
		{"foo.>", "", 4},
		{"*.bar", "", 5},
		{">", "", 6},
		{"foo.bar.baz", "", 7},
		{"*.*.baz", "", 8},
		{"foo.*.>", "", 9},
		{"a*.b", "", 10},
		{"foo.bar", "workers", 11},
		{"foo.*", "workers", 12},
		{"foo.bar", "other", 13},
		{"foo.>", "", 14},
	}
	tests := []struct {
		subject string
		want    canon
	}{
		{"foo", plain(1, 6)},
		{"foo.bar", canon{Plain: []int{2, 3, 4, 5, 6, 14}, Queues: map[string][]int{"workers": {11, 12}, "other": {13}}}},
		{"foo.baz", canon{Plain: []int{3, 4, 6, 14}, Queues: map[string][]int{"workers": {12}}}},
		{"foo.bar.baz", plain(4, 6, 7, 8, 9, 14)},
		{"foo.bar.baz.qux", plain(4, 6, 9, 14)},
		{"x.bar", plain(5, 6)},
		{"x.y.baz", plain(6, 8)},
		{"bar", plain(6)},
		{"a*.b", plain(6, 10)},
		{"ab.b", plain(6)},
		{"FOO", plain(6)},
		{"foo.*", canon{Plain: []int{3, 4, 6, 14}, Queues: map[string][]int{"workers": {12}}}},
		{"", canon{}},
		{"foo..bar", canon{}},
		{".foo", canon{}},
		{"foo.", canon{}},
		{".", canon{}},
	}
	for _, cfg := range sublistConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			s := cfg.new()
			for _, e := range subs {
				mustInsert(t, s, e.Subject, e.Queue, e.V)
			}
			if s.Count() != len(subs) {
				t.Fatalf("Count() = %d, want %d", s.Count(), len(subs))
			}
			for _, tt := range tests {
				expectMatch(t, s, tt.subject, tt.want)
			}
			checkAll(t, s, subs)
		})
	}
}

func TestSublistInsertErrors(t *testing.T) {
	s := NewSublist[int](0)
	for _, subj := range []string{"", ".", "a.", ".a", "a..b", "a.>.b", "a b", "\t"} {
		if err := s.Insert(subj, "", 1); !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("Insert(%q) = %v, want ErrInvalidSubject", subj, err)
		}
		if err := s.Remove(subj, "", 1); !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("Remove(%q) = %v, want ErrInvalidSubject", subj, err)
		}
	}
	for _, q := range []string{" ", "a b", "q\n"} {
		if err := s.Insert("foo", q, 1); !errors.Is(err, ErrInvalidQueue) {
			t.Errorf("Insert(foo, %q) = %v, want ErrInvalidQueue", q, err)
		}
	}
	if s.Count() != 0 || s.Gen() != 0 {
		t.Fatalf("failed inserts changed the sublist: count %d gen %d", s.Count(), s.Gen())
	}
}

func TestSublistDuplicateInsert(t *testing.T) {
	s := NewSublist[int](0)
	mustInsert(t, s, "foo.*", "", 1)
	gen := s.Gen()
	mustInsert(t, s, "foo.*", "", 1)
	if s.Count() != 1 || s.Gen() != gen {
		t.Fatalf("duplicate insert: Count() = %d, Gen() %d -> %d", s.Count(), gen, s.Gen())
	}
	// The same value under another queue or pattern is another entry.
	mustInsert(t, s, "foo.*", "q", 1)
	mustInsert(t, s, "foo.>", "", 1)
	if s.Count() != 3 {
		t.Fatalf("Count() = %d, want 3", s.Count())
	}
	expectMatch(t, s, "foo.bar", canon{Plain: []int{1, 1}, Queues: map[string][]int{"q": {1}}})
	mustRemove(t, s, "foo.*", "", 1)
	if err := s.Remove("foo.*", "", 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Remove = %v, want ErrNotFound", err)
	}
	expectMatch(t, s, "foo.bar", canon{Plain: []int{1}, Queues: map[string][]int{"q": {1}}})
}

func TestSublistRemove(t *testing.T) {
	for _, cfg := range sublistConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			s := cfg.new()
			mustInsert(t, s, "foo.bar", "", 1)
			mustInsert(t, s, "foo.bar", "q", 2)
			mustInsert(t, s, "foo.*", "", 3)
			expectMatch(t, s, "foo.bar", canon{Plain: []int{1, 3}, Queues: map[string][]int{"q": {2}}})
			for _, e := range []entry{
				{"foo.bar", "", 2},    // wrong value
				{"foo.bar", "q", 1},   // wrong queue
				{"foo.bar", "r", 2},   // unknown queue
				{"foo.baz", "", 1},    // unknown subject
				{"foo", "", 1},        // a prefix node without values
				{"foo.bar.x", "", 1},  // below a leaf
				{"foo.>", "", 3},      // other wildcard
				{"*.bar", "", 1},      // missing wildcard level
				{"foo.bar.>", "q", 2}, // below
			} {
				if err := s.Remove(e.Subject, e.Queue, e.V); !errors.Is(err, ErrNotFound) {
					t.Fatalf("Remove(%v) = %v, want ErrNotFound", e, err)
				}
			}
			if s.Count() != 3 {
				t.Fatalf("Count() = %d after failed removes", s.Count())
			}
			mustRemove(t, s, "foo.bar", "q", 2)
			expectMatch(t, s, "foo.bar", plain(1, 3))
			mustRemove(t, s, "foo.*", "", 3)
			expectMatch(t, s, "foo.bar", plain(1))
			expectMatch(t, s, "foo.baz", canon{})
			mustRemove(t, s, "foo.bar", "", 1)
			expectMatch(t, s, "foo.bar", canon{})
			if s.Count() != 0 {
				t.Fatalf("Count() = %d, want 0", s.Count())
			}
		})
	}
}

func TestSublistPrune(t *testing.T) {
	s := NewSublist[int](0)
	patterns := []string{"a", "a.b", "a.b.c", "a.*.c", "a.>", "*", ">", "*.*.*.>", "x.y.z"}
	for i, p := range patterns {
		mustInsert(t, s, p, "", i)
		mustInsert(t, s, p, "q", i)
	}
	// Removing a deep pattern keeps its prefix nodes while they hold values.
	mustRemove(t, s, "a.b.c", "", 2)
	mustRemove(t, s, "a.b.c", "q", 2)
	if n := s.root.nodes["a"].next.nodes["b"]; n == nil || n.next != nil {
		t.Fatalf("after removing a.b.c: node a.b = %+v, want a node without next level", n)
	}
	for i, p := range patterns {
		if p == "a.b.c" {
			continue
		}
		mustRemove(t, s, p, "", i)
		mustRemove(t, s, p, "q", i)
	}
	if !s.root.isEmpty() {
		t.Fatalf("root not empty after removing everything: %+v", s.root)
	}
	if s.Count() != 0 {
		t.Fatalf("Count() = %d", s.Count())
	}
}

func TestSublistQueueGroupsMerge(t *testing.T) {
	for _, cfg := range sublistConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			s := cfg.new()
			mustInsert(t, s, "orders.new", "billing", 1)
			mustInsert(t, s, "orders.*", "billing", 2)
			mustInsert(t, s, "orders.>", "billing", 3)
			mustInsert(t, s, "orders.>", "audit", 4)
			mustInsert(t, s, ">", "audit", 5)
			expectMatch(t, s, "orders.new", canon{Queues: map[string][]int{"billing": {1, 2, 3}, "audit": {4, 5}}})
			expectMatch(t, s, "orders.old", canon{Queues: map[string][]int{"billing": {2, 3}, "audit": {4, 5}}})
			expectMatch(t, s, "orders", canon{Queues: map[string][]int{"audit": {5}}})
			var r Result[int]
			s.Match([]byte("orders.new"), &r)
			for _, g := range r.Queues {
				if g.Name != "billing" && g.Name != "audit" {
					t.Fatalf("unexpected group name %q", g.Name)
				}
			}
		})
	}
}

// TestSublistLargeSets crosses the size at which member sets and queue lists
// grow a map index, in both directions.
func TestSublistLargeSets(t *testing.T) {
	s := NewSublist[int](0)
	var m model
	for v := range 100 {
		e := entry{"big.set", "", v}
		mustInsert(t, s, e.Subject, e.Queue, e.V)
		m.insert(e)
		q := entry{"big.*", fmt.Sprintf("q%d", v%40), v}
		mustInsert(t, s, q.Subject, q.Queue, q.V)
		m.insert(q)
	}
	expectMatch(t, s, "big.set", m.match("big.set"))
	for v := 0; v < 100; v += 3 {
		mustRemove(t, s, "big.set", "", v)
		m.remove(entry{"big.set", "", v})
		q := entry{"big.*", fmt.Sprintf("q%d", v%40), v}
		mustRemove(t, s, q.Subject, q.Queue, q.V)
		m.remove(q)
		expectMatch(t, s, "big.set", m.match("big.set"))
	}
	for _, e := range append([]entry(nil), m.entries...) {
		mustRemove(t, s, e.Subject, e.Queue, e.V)
		m.remove(e)
		if len(m.entries)%17 == 0 {
			expectMatch(t, s, "big.set", m.match("big.set"))
		}
	}
	if !s.root.isEmpty() {
		t.Fatal("tree not empty")
	}
}

// TestSublistCacheInvalidation covers each way a change can make a cached
// result stale: every case first caches a result, then changes the sublist and
// matches again.
func TestSublistCacheInvalidation(t *testing.T) {
	type op struct {
		remove bool
		entry
	}
	tests := []struct {
		name    string
		setup   []entry
		subject string // matched (and cached) before and after the change
		change  []op
		want    canon
	}{
		{"insert literal after empty result", nil, "a.b",
			[]op{{false, entry{"a.b", "", 1}}}, plain(1)},
		{"insert pwc after literal match", []entry{{"a.b", "", 1}}, "a.b",
			[]op{{false, entry{"a.*", "", 2}}}, plain(1, 2)},
		{"insert fwc after literal match", []entry{{"a.b", "", 1}}, "a.b",
			[]op{{false, entry{"a.>", "", 2}}}, plain(1, 2)},
		{"insert full wildcard", nil, "a.b.c",
			[]op{{false, entry{">", "", 3}}}, plain(3)},
		{"insert leading pwc", nil, "a.b",
			[]op{{false, entry{"*.b", "", 3}}}, plain(3)},
		{"insert queue member", []entry{{"a.*", "q", 1}}, "a.b",
			[]op{{false, entry{"a.b", "q", 2}}}, canon{Queues: map[string][]int{"q": {1, 2}}}},
		{"remove literal", []entry{{"a.b", "", 1}, {"a.*", "", 2}}, "a.b",
			[]op{{true, entry{"a.b", "", 1}}}, plain(2)},
		{"remove pwc", []entry{{"a.b", "", 1}, {"a.*", "", 2}}, "a.b",
			[]op{{true, entry{"a.*", "", 2}}}, plain(1)},
		{"remove fwc", []entry{{"a.>", "", 1}}, "a.b.c",
			[]op{{true, entry{"a.>", "", 1}}}, canon{}},
		{"remove last queue member", []entry{{"a.*", "q", 1}, {"a.b", "", 2}}, "a.b",
			[]op{{true, entry{"a.*", "q", 1}}}, plain(2)},
		{"remove then reinsert", []entry{{"a.*", "", 1}}, "a.b",
			[]op{{true, entry{"a.*", "", 1}}, {false, entry{"a.*", "", 1}}}, plain(1)},
		{"non-matching insert", []entry{{"a.b", "", 1}}, "a.b",
			[]op{{false, entry{"a.c", "", 2}}, {false, entry{"b.*", "", 3}}, {false, entry{"a.b.>", "", 4}}}, plain(1)},
	}
	for _, cfg := range sublistConfigs {
		for _, tt := range tests {
			t.Run(cfg.name+"/"+tt.name, func(t *testing.T) {
				s := cfg.new()
				for _, e := range tt.setup {
					mustInsert(t, s, e.Subject, e.Queue, e.V)
				}
				var r Result[int]
				s.Match([]byte(tt.subject), &r) // cache it
				s.Match([]byte("other.subject"), &r)
				for _, o := range tt.change {
					if o.remove {
						mustRemove(t, s, o.Subject, o.Queue, o.V)
					} else {
						mustInsert(t, s, o.Subject, o.Queue, o.V)
					}
				}
				expectMatch(t, s, tt.subject, tt.want)
			})
		}
	}
}

// TestSublistCacheKeepsUnaffected checks that a change drops only cached
// results its pattern matches.
func TestSublistCacheKeepsUnaffected(t *testing.T) {
	s := NewSublist[int](0)
	mustInsert(t, s, "x.y", "", 1)
	var r Result[int]
	for _, subj := range []string{"x.y", "a.b", "a.c", "b.b"} {
		s.Match([]byte(subj), &r)
	}
	if n := s.CacheLen(); n != 4 {
		t.Fatalf("CacheLen() = %d, want 4", n)
	}
	mustInsert(t, s, "a.*", "", 2) // drops a.b and a.c
	if n := s.CacheLen(); n != 2 {
		t.Fatalf("after inserting a.*: CacheLen() = %d, want 2", n)
	}
	mustInsert(t, s, "x.y", "", 3) // drops x.y
	if n := s.CacheLen(); n != 1 {
		t.Fatalf("after inserting x.y: CacheLen() = %d, want 1", n)
	}
	mustInsert(t, s, "q.>", "", 4) // drops nothing
	if n := s.CacheLen(); n != 1 {
		t.Fatalf("after inserting q.>: CacheLen() = %d, want 1", n)
	}
}

// TestSublistCacheEviction matches many more subjects than a small cache
// holds and checks that the cache stays bounded and results stay right.
func TestSublistCacheEviction(t *testing.T) {
	s := NewSublist[int](16)
	mustInsert(t, s, "s.*", "", 1)
	mustInsert(t, s, "s.7", "", 2)
	for round := range 3 {
		for i := range 200 {
			subj := fmt.Sprintf("s.%d", i)
			want := plain(1)
			if i == 7 {
				want = plain(1, 2)
			}
			expectMatch(t, s, subj, want)
		}
		if n := s.CacheLen(); n > 16 || n == 0 {
			t.Fatalf("round %d: CacheLen() = %d, want 1..16", round, n)
		}
	}
	// A hot subject survives a stream of one-off subjects.
	var r Result[int]
	for i := range 64 {
		s.Match([]byte("s.7"), &r)
		s.Match(fmt.Appendf(nil, "s.x%d", i), &r)
	}
	if found, _ := s.cache.has(hashOf(s, "s.7"), []byte("s.7")); !found {
		t.Fatal("hot subject s.7 was evicted")
	}
}

func hashOf(s *Sublist[int], subj string) uint64 {
	return maphash.String(s.seed, subj)
}

// TestSublistCacheCopies checks that results handed out are copies: editing
// one does not change the cached result or later matches.
func TestSublistCacheCopies(t *testing.T) {
	s := NewSublist[int](0)
	mustInsert(t, s, "a", "", 1)
	mustInsert(t, s, "a", "q", 2)
	var r Result[int]
	s.Match([]byte("a"), &r)
	s.Match([]byte("a"), &r) // from the cache
	r.Plain[0] = 99
	r.Queues[0].Members[0] = 99
	r.Plain = append(r.Plain, 100)
	expectMatch(t, s, "a", canon{Plain: []int{1}, Queues: map[string][]int{"q": {2}}})
	// The subject buffer is not retained either.
	buf := []byte("a")
	s.Match(buf, &r)
	buf[0] = 'b'
	expectMatch(t, s, "a", canon{Plain: []int{1}, Queues: map[string][]int{"q": {2}}})
	expectMatch(t, s, "b", canon{})
}

// TestSublistLargeResultNotCached checks results above maxCachedLen.
func TestSublistLargeResultNotCached(t *testing.T) {
	s := NewSublist[int](0)
	var want canon
	for v := range maxCachedLen + 1 {
		mustInsert(t, s, "big", "", v)
		want.Plain = append(want.Plain, v)
	}
	expectMatch(t, s, "big", want)
	if n := s.CacheLen(); n != 0 {
		t.Fatalf("CacheLen() = %d, want 0", n)
	}
}

func TestResultReuse(t *testing.T) {
	s := NewSublist[int](-1)
	mustInsert(t, s, "a", "q1", 1)
	mustInsert(t, s, "a", "q2", 2)
	mustInsert(t, s, "b", "q3", 3)
	var r Result[int]
	s.Match([]byte("a"), &r)
	if r.Len() != 2 || len(r.Queues) != 2 {
		t.Fatalf("Match(a) = %+v", r)
	}
	s.Match([]byte("b"), &r)
	if diff := cmp.Diff(canon{Queues: map[string][]int{"q3": {3}}}, must(canonical(&r))); diff != "" {
		t.Fatalf("reused result (-want +got):\n%s", diff)
	}
	s.Match([]byte("none"), &r)
	if r.Len() != 0 || !r.Empty() || len(r.Queues) != 0 {
		t.Fatalf("Match(none) left %+v", r)
	}
	// Reset zeroes what it drops.
	if full := r.Queues[:cap(r.Queues)]; full[0].Name != "" || full[0].Members[:1][0] != 0 {
		t.Fatalf("Reset kept values alive: %+v", full)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSublistAllStops(t *testing.T) {
	s := NewSublist[int](0)
	for i := range 10 {
		mustInsert(t, s, fmt.Sprintf("s.%d", i), "", i)
	}
	calls := 0
	s.All(func(string, string, int) bool {
		calls++
		return calls < 3
	})
	if calls != 3 {
		t.Fatalf("All called fn %d times after it returned false, want 3", calls)
	}
	new(Sublist[int]).All(func(string, string, int) bool {
		t.Fatal("All on an empty sublist called fn")
		return false
	})
}

func TestSublistGen(t *testing.T) {
	s := NewSublist[int](0)
	g0 := s.Gen()
	mustInsert(t, s, "a", "", 1)
	g1 := s.Gen()
	_ = s.Remove("b", "", 1) // not found: no change
	if s.Gen() != g1 {
		t.Fatal("failed Remove changed Gen")
	}
	mustRemove(t, s, "a", "", 1)
	if !(g0 < g1 && g1 < s.Gen()) {
		t.Fatalf("Gen did not increase: %d %d %d", g0, g1, s.Gen())
	}
}

// TestSublistKeepsCopies checks that the sublist does not alias the strings it
// is given: a server may pass strings that view a reused read buffer.
func TestSublistKeepsCopies(t *testing.T) {
	s := NewSublist[int](0)
	buf := []byte("foo.bar grp")
	subj := unsafe.String(&buf[0], 7)
	queue := unsafe.String(&buf[8], 3)
	mustInsert(t, s, subj, queue, 1)
	mustInsert(t, s, "foo.baz", queue, 2) // a new queue group on an existing level
	copy(buf, "xxx.yyy zzz")
	expectMatch(t, s, "foo.bar", canon{Queues: map[string][]int{"grp": {1}}})
	expectMatch(t, s, "foo.baz", canon{Queues: map[string][]int{"grp": {2}}})
	checkAll(t, s, []entry{{"foo.bar", "grp", 1}, {"foo.baz", "grp", 2}})
}
