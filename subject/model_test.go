package subject

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// naiveMatch is the test oracle: a token-by-token matcher written as plainly
// as possible, sharing no code with Matches or the tree.
func naiveMatch(subject, pattern string) bool {
	if subject == "" || pattern == "" {
		return false
	}
	st := strings.Split(subject, ".")
	for _, t := range st {
		if t == "" {
			return false
		}
	}
	pt := strings.Split(pattern, ".")
	for i, p := range pt {
		if p == ">" {
			return i < len(st)
		}
		if i >= len(st) {
			return false
		}
		if p != "*" && p != st[i] {
			return false
		}
	}
	return len(pt) == len(st)
}

// naiveValid is the test oracle for Valid and ValidLiteral.
func naiveValid(s string, literal bool) bool {
	if s == "" || strings.ContainsAny(s, " \t\n\r\f") {
		return false
	}
	toks := strings.Split(s, ".")
	for i, t := range toks {
		switch {
		case t == "":
			return false
		case (t == "*" || t == ">") && literal:
			return false
		case t == ">" && i != len(toks)-1:
			return false
		}
	}
	return true
}

// entry is one stored (pattern, queue, value).
type entry struct {
	Subject, Queue string
	V              int
}

// model is the naive Sublist: a list scanned in full on every match.
type model struct {
	entries []entry
}

func (m *model) insert(e entry) {
	if !slices.Contains(m.entries, e) {
		m.entries = append(m.entries, e)
	}
}

func (m *model) remove(e entry) bool {
	i := slices.Index(m.entries, e)
	if i < 0 {
		return false
	}
	m.entries = slices.Delete(m.entries, i, i+1)
	return true
}

func (m *model) match(subject string) canon {
	var c canon
	for _, e := range m.entries {
		if !naiveMatch(subject, e.Subject) {
			continue
		}
		if e.Queue == "" {
			c.Plain = append(c.Plain, e.V)
			continue
		}
		if c.Queues == nil {
			c.Queues = map[string][]int{}
		}
		c.Queues[e.Queue] = append(c.Queues[e.Queue], e.V)
	}
	return c.sorted()
}

// canon is a Result in a canonical form that cmp can compare: sorted, with
// queue groups keyed by name, and nil for empty.
type canon struct {
	Plain  []int
	Queues map[string][]int
}

func (c canon) sorted() canon {
	slices.Sort(c.Plain)
	for _, m := range c.Queues {
		slices.Sort(m)
	}
	return c
}

// canonical converts r, and reports malformed results (an empty or duplicated
// queue group) as errors.
func canonical(r *Result[int]) (canon, error) {
	var c canon
	c.Plain = append(c.Plain, r.Plain...)
	for _, g := range r.Queues {
		if len(g.Members) == 0 {
			return c, fmt.Errorf("empty queue group %q in result", g.Name)
		}
		if c.Queues == nil {
			c.Queues = map[string][]int{}
		}
		if _, dup := c.Queues[g.Name]; dup {
			return c, fmt.Errorf("queue group %q appears twice in result", g.Name)
		}
		c.Queues[g.Name] = append([]int(nil), g.Members...)
	}
	return c.sorted(), nil
}

// matchCanon runs Match into r and returns the canonical result.
func matchCanon(t testing.TB, s *Sublist[int], subject string, r *Result[int]) canon {
	t.Helper()
	s.Match([]byte(subject), r)
	c, err := canonical(r)
	if err != nil {
		t.Fatalf("Match(%q): %v", subject, err)
	}
	if got, want := r.Len(), len(c.Plain)+countQueued(c); got != want {
		t.Fatalf("Match(%q): Len() = %d, want %d", subject, got, want)
	}
	return c
}

func countQueued(c canon) int {
	n := 0
	for _, m := range c.Queues {
		n += len(m)
	}
	return n
}

// Small alphabets so that random patterns and subjects often meet.
var (
	modelTokens = []string{"a", "b", "c", "*", ">"}
	modelQueues = []string{"", "", "q1", "q2"}
)

// randomPattern returns a valid pattern of 1..4 tokens.
func randomPattern(rng *rand.Rand) string {
	n := 1 + rng.IntN(4)
	toks := make([]string, 0, n)
	for i := range n {
		tok := modelTokens[rng.IntN(len(modelTokens))]
		if tok == ">" && i != n-1 {
			tok = "*"
		}
		toks = append(toks, tok)
	}
	return strings.Join(toks, ".")
}

// randomSubject returns a literal subject of 1..5 tokens.
func randomSubject(rng *rand.Rand) string {
	n := 1 + rng.IntN(5)
	toks := make([]string, n)
	for i := range toks {
		toks[i] = modelTokens[rng.IntN(3)]
	}
	return strings.Join(toks, ".")
}

func randomEntry(rng *rand.Rand, maxV int) entry {
	return entry{
		Subject: randomPattern(rng),
		Queue:   modelQueues[rng.IntN(len(modelQueues))],
		V:       rng.IntN(maxV),
	}
}

// TestModel runs random insert/remove/match sequences against the naive model,
// with the default cache, a tiny cache that evicts constantly, and no cache.
func TestModel(t *testing.T) {
	for _, cacheSize := range []int{0, 4, -1} {
		t.Run(fmt.Sprintf("cache=%d", cacheSize), func(t *testing.T) {
			for seed := range uint64(20) {
				runModel(t, seed, cacheSize, 400)
			}
		})
	}
}

func runModel(t *testing.T, seed uint64, cacheSize, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	s := NewSublist[int](cacheSize)
	var m model
	var r Result[int]
	for step := range steps {
		switch op := rng.IntN(10); {
		case op < 4:
			e := randomEntry(rng, 5)
			if err := s.Insert(e.Subject, e.Queue, e.V); err != nil {
				t.Fatalf("seed %d step %d: Insert(%v): %v", seed, step, e, err)
			}
			m.insert(e)
		case op < 6:
			e := randomEntry(rng, 5)
			if len(m.entries) > 0 && rng.IntN(2) == 0 {
				e = m.entries[rng.IntN(len(m.entries))]
			}
			err := s.Remove(e.Subject, e.Queue, e.V)
			if had := m.remove(e); had != (err == nil) || (!had && !errors.Is(err, ErrNotFound)) {
				t.Fatalf("seed %d step %d: Remove(%v) = %v, model had it: %v", seed, step, e, err, had)
			}
		default:
			subj := randomSubject(rng)
			got := matchCanon(t, s, subj, &r)
			if diff := cmp.Diff(m.match(subj), got); diff != "" {
				t.Fatalf("seed %d step %d: Match(%q) (-model +sublist):\n%s", seed, step, subj, diff)
			}
			if want := len(got.Plain)+countQueued(got) > 0; s.HasInterest([]byte(subj)) != want {
				t.Fatalf("seed %d step %d: HasInterest(%q) != %v", seed, step, subj, want)
			}
		}
		if s.Count() != len(m.entries) {
			t.Fatalf("seed %d step %d: Count() = %d, model has %d", seed, step, s.Count(), len(m.entries))
		}
	}
	checkAll(t, s, m.entries)
	// Removing everything must leave an empty tree.
	for _, e := range slices.Clone(m.entries) {
		if err := s.Remove(e.Subject, e.Queue, e.V); err != nil {
			t.Fatalf("seed %d: final Remove(%v): %v", seed, e, err)
		}
	}
	if !s.root.isEmpty() || s.Count() != 0 {
		t.Fatalf("seed %d: tree not empty after removing everything", seed)
	}
}

// checkAll compares the entries reported by All with want.
func checkAll(t *testing.T, s *Sublist[int], want []entry) {
	t.Helper()
	var got []entry
	s.All(func(subject, queue string, v int) bool {
		got = append(got, entry{subject, queue, v})
		return true
	})
	less := func(a, b entry) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	}
	slices.SortFunc(got, less)
	want = slices.Clone(want)
	slices.SortFunc(want, less)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("All (-want +got):\n%s", diff)
	}
}

// Entry states tracked by the concurrent model test.
const (
	stAbsent   = iota // not stored, no operation in progress
	stChanging        // an Insert or Remove is in progress
	stPresent         // stored, no operation in progress
)

// trackedEntry is one entry owned by a single writer goroutine. seq counts
// state changes, so that a reader can tell that nothing happened to the entry
// while it was matching.
type trackedEntry struct {
	entry
	state atomic.Int32
	seq   atomic.Uint64
}

func (e *trackedEntry) set(state int32) {
	e.state.Store(state)
	e.seq.Add(1)
}

// snapshot is an entry's (state, seq) as a reader saw it before matching.
type snapshot struct {
	state int32
	seq   uint64
}

// TestModelConcurrent interleaves writers and readers. Each writer owns a
// disjoint set of entries and toggles them; each reader matches a subject and
// checks that the result contains every matching entry that was present for
// the whole duration of the match and no entry that was absent throughout.
// Entries that changed during the match may go either way.
func TestModelConcurrent(t *testing.T) {
	for _, cacheSize := range []int{0, 8, -1} {
		t.Run(fmt.Sprintf("cache=%d", cacheSize), func(t *testing.T) {
			runConcurrentModel(t, cacheSize)
		})
	}
}

func runConcurrentModel(t *testing.T, cacheSize int) {
	const (
		writers      = 3
		perWriter    = 12
		writerOps    = 400
		readers      = 3
		readerRounds = 400
	)
	s := NewSublist[int](cacheSize)
	rng := rand.New(rand.NewPCG(1, 2))
	entries := make([]*trackedEntry, writers*perWriter)
	for i := range entries {
		e := randomEntry(rng, 1)
		e.V = i // unique values make every entry identifiable in results
		entries[i] = &trackedEntry{entry: e}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for w := range writers {
		own := entries[w*perWriter : (w+1)*perWriter]
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for range writerOps {
				e := own[rng.IntN(len(own))]
				present := e.state.Load() == stPresent
				e.set(stChanging)
				var err error
				if present {
					err = s.Remove(e.Subject, e.Queue, e.V)
					e.set(stAbsent)
				} else {
					err = s.Insert(e.Subject, e.Queue, e.V)
					e.set(stPresent)
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d: %v: %w", w, e.entry, err)
					return
				}
			}
		})
	}
	for rd := range readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(rd), 4))
			before := make([]snapshot, len(entries))
			var r Result[int]
			for range readerRounds {
				subj := randomSubject(rng)
				for i, e := range entries {
					// seq first: a state read after it can only be newer.
					seq := e.seq.Load()
					before[i] = snapshot{e.state.Load(), seq}
				}
				s.Match([]byte(subj), &r)
				if err := checkConcurrentResult(subj, &r, entries, before); err != nil {
					errs <- fmt.Errorf("reader %d: %w", rd, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Quiescent: everything must agree exactly with the final states.
	var m model
	for _, e := range entries {
		if e.state.Load() == stPresent {
			m.insert(e.entry)
		}
	}
	var r Result[int]
	for range 200 {
		subj := randomSubject(rng)
		if diff := cmp.Diff(m.match(subj), matchCanon(t, s, subj, &r)); diff != "" {
			t.Fatalf("after the run, Match(%q) (-model +sublist):\n%s", subj, diff)
		}
	}
	checkAll(t, s, m.entries)
}

// checkConcurrentResult checks one reader's result against the entry states
// seen before the match and read again after it.
func checkConcurrentResult(subj string, r *Result[int], entries []*trackedEntry, before []snapshot) error {
	c, err := canonical(r)
	if err != nil {
		return err
	}
	where := make(map[int]string) // value -> queue ("" for plain)
	for _, v := range c.Plain {
		where[v] = ""
	}
	for q, members := range c.Queues {
		for _, v := range members {
			if _, dup := where[v]; dup {
				return fmt.Errorf("Match(%q): value %d appears twice", subj, v)
			}
			where[v] = q
		}
	}
	if len(where) != r.Len() {
		return fmt.Errorf("Match(%q): duplicate values in %v", subj, c)
	}
	for i, e := range entries {
		q, got := where[e.V]
		if got && (q != e.Queue || !naiveMatch(subj, e.Subject)) {
			return fmt.Errorf("Match(%q): value %d of %v reported under queue %q", subj, e.V, e.entry, q)
		}
		stable := before[i].state != stChanging && e.seq.Load() == before[i].seq
		if !stable {
			continue
		}
		want := before[i].state == stPresent && naiveMatch(subj, e.Subject)
		if got != want {
			return fmt.Errorf("Match(%q): entry %v stable in state %d, reported %v, want %v",
				subj, e.entry, before[i].state, got, want)
		}
	}
	return nil
}

// TestCacheNoStaleStore targets the race between a reader storing a freshly
// computed result in the cache and a writer invalidating it: one writer toggles
// a single pattern and, after each change, matches itself; readers hammer the
// same subject so that their stores race with the writer's invalidations.
func TestCacheNoStaleStore(t *testing.T) {
	s := NewSublist[int](0)
	subj := []byte("a.b")
	var stop atomic.Bool
	var wg sync.WaitGroup
	// One reader per spare core: more would make the writer wait for time
	// slices rather than for the lock.
	for range max(1, runtime.GOMAXPROCS(0)-1) {
		wg.Go(func() {
			var r Result[int]
			for !stop.Load() {
				s.Match(subj, &r)
			}
		})
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	var r Result[int]
	for i := range 20000 {
		present := i%2 == 0
		if present {
			mustInsert(t, s, "a.*", "", 1)
		} else {
			mustRemove(t, s, "a.*", "", 1)
		}
		if s.Match(subj, &r); (r.Len() == 1) != present {
			t.Fatalf("iteration %d: Match after the change = %+v, want present=%v", i, r, present)
		}
	}
}
