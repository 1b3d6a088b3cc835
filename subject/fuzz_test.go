package subject

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMatch checks that a Sublist holding one pattern (plain and queued)
// matches a subject exactly when Matches and the naive oracle say so, from the
// tree and from the cache, and that the validators agree with naive ones.
func FuzzMatch(f *testing.F) {
	seeds := []struct{ subject, pattern string }{
		{"foo.bar", "foo.bar"},
		{"foo.bar", "foo.*"},
		{"foo.bar.baz", "foo.>"},
		{"foo", "foo.>"},
		{"foo", ">"},
		{"foo.bar", "*.*"},
		{"foo.bar", "*"},
		{"a.*", "a.*"},
		{"a.>", "a.b"},
		{"a..b", "a.*.b"},
		{"", ">"},
		{".", "*"},
		{"a.", "a.*"},
		{"a*.b", "a*.>"},
		{"a b.c", "*.c"},
		{"ü.x", "ü.*"},
		{"a.b.c.d.e.f", "a.*.c.*.e.>"},
	}
	for _, s := range seeds {
		f.Add(s.subject, s.pattern)
	}
	f.Fuzz(func(t *testing.T, subject, pattern string) {
		for _, in := range []string{subject, pattern} {
			if got, want := Valid(in), naiveValid(in, false); got != want {
				t.Fatalf("Valid(%q) = %v, naive %v", in, got, want)
			}
			if got, want := ValidLiteral([]byte(in)), naiveValid(in, true); got != want {
				t.Fatalf("ValidLiteral(%q) = %v, naive %v", in, got, want)
			}
			if Valid(in) && IsLiteral(in) != naiveValid(in, true) {
				t.Fatalf("IsLiteral(%q) = %v", in, IsLiteral(in))
			}
			if got, want := ValidStrict(in), naiveValid(in, false) && utf8.ValidString(in) && !strings.Contains(in, "\x00"); got != want {
				t.Fatalf("ValidStrict(%q) = %v, want %v", in, got, want)
			}
		}
		want := Matches(subject, pattern)
		if !Valid(pattern) {
			return
		}
		if naive := naiveMatch(subject, pattern); want != naive {
			t.Fatalf("Matches(%q, %q) = %v, naive %v", subject, pattern, want, naive)
		}
		if f := newPatternFilter(pattern); want &&
			!(f.mayMatch([]byte(subject)) && f.mayMatchEnds(head8(subject), tail8(subject))) {
			t.Fatalf("filter of %q rejects matching subject %q", pattern, subject)
		}
		for _, cacheSize := range []int{8, -1} { // a small cache keeps executions cheap
			s := NewSublist[int](cacheSize)
			if err := s.Insert(pattern, "", 1); err != nil {
				t.Fatalf("Insert(%q): %v", pattern, err)
			}
			if err := s.Insert(pattern, "q", 2); err != nil {
				t.Fatalf("Insert(%q, q): %v", pattern, err)
			}
			var r Result[int]
			for range 2 { // tree, then cache
				s.Match([]byte(subject), &r)
				if got := r.Len() == 2; got != want || (!want && r.Len() != 0) {
					t.Fatalf("cache %d: Match(%q) over %q = %+v, Matches = %v", cacheSize, subject, pattern, r, want)
				}
				if want && (len(r.Plain) != 1 || len(r.Queues) != 1 || r.Queues[0].Name != "q") {
					t.Fatalf("cache %d: Match(%q) over %q = %+v", cacheSize, subject, pattern, r)
				}
				if got := s.HasInterest([]byte(subject)); got != want {
					t.Fatalf("cache %d: HasInterest(%q) over %q = %v, want %v", cacheSize, subject, pattern, got, want)
				}
			}
			if err := s.Remove(pattern, "", 1); err != nil {
				t.Fatalf("Remove(%q): %v", pattern, err)
			}
			if err := s.Remove(pattern, "q", 2); err != nil {
				t.Fatalf("Remove(%q, q): %v", pattern, err)
			}
			s.Match([]byte(subject), &r)
			if r.Len() != 0 || !s.root.isEmpty() {
				t.Fatalf("cache %d: after removing %q: Match(%q) = %+v", cacheSize, pattern, subject, r)
			}
		}
	})
}
