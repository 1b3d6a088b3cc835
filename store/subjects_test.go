package store

import (
	"math/rand"
	"slices"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

func TestSubjectIndexAddRemove(t *testing.T) {
	var x subjectIndex
	for seq, subj := range []string{"a", "b", "a", "c.d", "a"} {
		x.add(subj, uint64(seq+1))
	}
	// a: 1,3,5  b: 2  c.d: 4
	if got := x.len(); got != 3 {
		t.Fatalf("len = %d, want 3", got)
	}
	type bounds struct {
		Msgs, First, Last     uint64
		FirstStale, LastStale bool
	}
	get := func(subj string) *bounds {
		ss := x.get(subj)
		if ss == nil {
			return nil
		}
		return &bounds{ss.msgs, ss.first, ss.last, ss.firstStale, ss.lastStale}
	}
	steps := []struct {
		name   string
		op     func()
		subj   string
		want   *bounds
		length int
	}{
		{"initial", func() {}, "a", &bounds{3, 1, 5, false, false}, 3},
		{"remove middle keeps exact bounds", func() { x.remove("a", 3) }, "a", &bounds{2, 1, 5, false, false}, 3},
		{"re-add middle", func() { x.add("a", 6) }, "a", &bounds{3, 1, 6, false, false}, 3},
		{"remove first goes stale", func() { x.remove("a", 1) }, "a", &bounds{2, 2, 6, true, false}, 3},
		{"remove last goes stale", func() { x.remove("a", 6) }, "a", &bounds{1, 2, 5, true, true}, 3},
		{"only subject message removed", func() { x.remove("b", 2) }, "b", nil, 2},
		{"unknown subject ignored", func() { x.remove("zz", 9) }, "zz", nil, 2},
		{"new subject", func() { x.add("b", 7) }, "b", &bounds{1, 7, 7, false, false}, 3},
		{"reset", func() { x.reset() }, "a", nil, 0},
	}
	for _, s := range steps {
		s.op()
		if diff := cmp.Diff(s.want, get(s.subj)); diff != "" {
			t.Errorf("%s: %s (-want +got):\n%s", s.name, s.subj, diff)
		}
		if x.len() != s.length {
			t.Errorf("%s: len = %d, want %d", s.name, x.len(), s.length)
		}
	}
}

// The "remove last goes stale" step above ends with one message and two
// stale bounds: normalization can only make bounds exact when one of them
// already is, or when they meet. Check each case explicitly.
func TestSubjectIndexNormalize(t *testing.T) {
	tests := []struct {
		name    string
		in, out subjectState
	}{
		{"one message exact first", subjectState{msgs: 1, first: 3, last: 9, lastStale: true}, subjectState{msgs: 1, first: 3, last: 3}},
		{"one message exact last", subjectState{msgs: 1, first: 3, last: 9, firstStale: true}, subjectState{msgs: 1, first: 9, last: 9}},
		{"one message both stale", subjectState{msgs: 1, first: 3, last: 9, firstStale: true, lastStale: true}, subjectState{msgs: 1, first: 3, last: 9, firstStale: true, lastStale: true}},
		{"bounds meet", subjectState{msgs: 1, first: 4, last: 4, firstStale: true, lastStale: true}, subjectState{msgs: 1, first: 4, last: 4}},
		{"two messages stay stale", subjectState{msgs: 2, first: 3, last: 9, firstStale: true}, subjectState{msgs: 2, first: 3, last: 9, firstStale: true}},
	}
	for _, tt := range tests {
		got := tt.in
		got.normalize()
		if diff := cmp.Diff(tt.out, got, cmp.AllowUnexported(subjectState{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestSubjectIndexFirstRescans(t *testing.T) {
	var x subjectIndex
	stored := map[uint64]string{}
	for seq, subj := range []string{"a", "b", "b", "a", "b", "a"} {
		x.add(subj, uint64(seq+1))
		stored[uint64(seq+1)] = subj
	}
	calls := 0
	scan := func(subj string, lo, hi uint64) uint64 {
		calls++
		for s := lo; s <= hi; s++ {
			if stored[s] == subj {
				return s
			}
		}
		t.Fatalf("scan(%q, %d, %d) found nothing", subj, lo, hi)
		return 0
	}
	ss := x.get("a")
	if got := x.first("a", ss, scan); got != 1 || calls != 0 {
		t.Fatalf("exact first = %d (calls %d), want 1 without a scan", got, calls)
	}
	delete(stored, 1)
	x.remove("a", 1)
	if got := x.first("a", ss, scan); got != 4 || calls != 1 {
		t.Fatalf("stale first = %d (calls %d), want 4 with one scan", got, calls)
	}
	if got := x.first("a", ss, scan); got != 4 || calls != 1 {
		t.Fatalf("cached first = %d (calls %d), want 4 without another scan", got, calls)
	}
}

func TestSubjectIndexMatching(t *testing.T) {
	var x subjectIndex
	for i, subj := range []string{"orders.eu.new", "orders.us.new", "orders.eu.paid", "audit", "orders.eu.new"} {
		x.add(subj, uint64(i+1))
	}
	tests := []struct {
		filter string
		want   map[string]uint64
	}{
		{"", map[string]uint64{"orders.eu.new": 2, "orders.us.new": 1, "orders.eu.paid": 1, "audit": 1}},
		{">", map[string]uint64{"orders.eu.new": 2, "orders.us.new": 1, "orders.eu.paid": 1, "audit": 1}},
		{"orders.eu.new", map[string]uint64{"orders.eu.new": 2}},
		{"orders.*.new", map[string]uint64{"orders.eu.new": 2, "orders.us.new": 1}},
		{"orders.eu.>", map[string]uint64{"orders.eu.new": 2, "orders.eu.paid": 1}},
		{"orders", map[string]uint64{}},
		{"nothing.*", map[string]uint64{}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, x.counts(tt.filter)); diff != "" {
			t.Errorf("counts(%q) (-want +got):\n%s", tt.filter, diff)
		}
		// Stopping early yields exactly one entry.
		n := 0
		for range x.matching(tt.filter) {
			n++
			break
		}
		if want := min(1, len(tt.want)); n != want {
			t.Errorf("matching(%q) with break yielded %d, want %d", tt.filter, n, want)
		}
	}
}

func TestSubjectIndexInterns(t *testing.T) {
	var x subjectIndex
	buf := []byte("foo.bar")
	k1 := x.add(string(buf), 1)
	buf[0] = 'X' // the caller reuses its buffer
	k2 := x.add("foo.bar", 2)
	if k1 != "foo.bar" || k2 != "foo.bar" || x.get("foo.bar") == nil {
		t.Fatalf("interned keys %q %q", k1, k2)
	}
	if unsafe.StringData(k1) != unsafe.StringData(k2) {
		t.Fatal("add did not return the same interned string for a known subject")
	}
}

func TestSubjectIndexAllocs(t *testing.T) {
	var x subjectIndex
	x.add("orders.eu.new", 1)
	key := []byte("orders.eu.new")
	seq := uint64(1)
	allocs := testing.AllocsPerRun(1000, func() {
		seq++
		if x.get(string(key)) == nil {
			t.Fatal("missing")
		}
		x.add(string(key), seq)
		x.remove(string(key), seq-1)
	})
	if allocs != 0 {
		t.Fatalf("get/add/remove of a known subject: %v allocs, want 0", allocs)
	}
}

// TestSubjectIndexModel drives the index with random appends and removals
// and compares it with a naive list of (seq, subject): counts exact, bounds
// valid, first exact after rescanning.
func TestSubjectIndexModel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	subjects := []string{"a", "b", "c.d", "c.e", "f.g.h"}
	var x subjectIndex
	stored := map[uint64]string{}
	var live []uint64 // ascending
	var seq uint64
	scan := func(subj string, lo, hi uint64) uint64 {
		for s := lo; s <= hi; s++ {
			if stored[s] == subj {
				return s
			}
		}
		t.Fatalf("scan(%q, %d, %d) found nothing", subj, lo, hi)
		return 0
	}
	for i := 0; i < 2000; i++ {
		if rng.Intn(3) > 0 || len(live) == 0 {
			seq += uint64(1 + rng.Intn(2))
			subj := subjects[rng.Intn(len(subjects))]
			x.add(subj, seq)
			stored[seq] = subj
			live = append(live, seq)
		} else {
			j := rng.Intn(len(live))
			s := live[j]
			live = slices.Delete(live, j, j+1)
			x.remove(stored[s], s)
			delete(stored, s)
		}
		want := map[string][]uint64{}
		for s, subj := range stored {
			want[subj] = append(want[subj], s)
		}
		if x.len() != len(want) {
			t.Fatalf("op %d: len %d, want %d", i, x.len(), len(want))
		}
		for subj, seqs := range want {
			slices.Sort(seqs)
			ss := x.get(subj)
			if ss == nil || ss.msgs != uint64(len(seqs)) {
				t.Fatalf("op %d: %s: state %+v, want %d msgs", i, subj, ss, len(seqs))
			}
			lo, hi := seqs[0], seqs[len(seqs)-1]
			if ss.first > lo || ss.last < hi || (!ss.firstStale && ss.first != lo) || (!ss.lastStale && ss.last != hi) {
				t.Fatalf("op %d: %s: bounds %+v, stored %d..%d", i, subj, *ss, lo, hi)
			}
			if rng.Intn(4) == 0 {
				if got := x.first(subj, ss, scan); got != lo {
					t.Fatalf("op %d: %s: first %d, want %d", i, subj, got, lo)
				}
			}
		}
	}
}
