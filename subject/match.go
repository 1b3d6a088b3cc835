package subject

// Matches reports whether the literal subject matches pattern. A '*' token in
// pattern matches exactly one token, a '>' token matches one or more remaining
// tokens, and any other token matches an identical token. A subject that is
// empty or has an empty token matches nothing. The pattern is expected to be
// Valid; for an invalid pattern the result is unspecified (but Matches never
// panics). Matches allocates nothing.
//
// Matches agrees with Sublist.Match: a Sublist holding only pattern returns an
// entry for subject exactly when Matches(subject, pattern) is true.
func Matches(subject, pattern string) bool {
	return matchPattern(subject, pattern)
}

// matchPattern is Matches for either a string or a []byte subject (the cache
// keeps its keys as []byte).
func matchPattern[S Bytes](subj S, pat string) bool {
	return tokensNonEmpty(subj) && matchTokens(subj, pat)
}

// matchTokens is matchPattern for a subject known to have no empty token.
func matchTokens[S Bytes](subj S, pat string) bool {
	if len(pat) == 0 {
		return false
	}
	si, pi := 0, 0 // start of the current token in subj and pat
	for {
		se := si
		for se < len(subj) && subj[se] != sep {
			se++
		}
		pe := pi
		for pe < len(pat) && pat[pe] != sep {
			pe++
		}
		switch {
		case pe-pi == 1 && pat[pi] == fwc:
			// The subject has at least the current token left.
			return true
		case pe-pi == 1 && pat[pi] == pwc:
			// Any single token.
		case !tokenEqual(subj[si:se], pat[pi:pe]):
			return false
		}
		sDone, pDone := se == len(subj), pe == len(pat)
		if sDone || pDone {
			return sDone && pDone
		}
		si, pi = se+1, pe+1
	}
}

// tokenEqual compares a subject token with a pattern token byte by byte, so
// that no conversion (and no allocation) happens for a []byte subject.
func tokenEqual[S Bytes](a S, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// patternFilter is a cheap necessary condition for a subject to match a
// pattern: the subject starts with the pattern's literal tokens before its
// first wildcard and, unless the pattern has a '>', ends with its literal
// tokens after its last '*'. Cache invalidation uses it to skip most cached
// subjects without tokenizing them.
//
// The first and last 8 bytes of prefix and suffix are also kept packed, so
// that mayMatchEnds can test a subject's packed ends (head8, tail8) with two
// integer comparisons.
type patternFilter struct {
	prefix, suffix string
	head, headMask uint64
	tail, tailMask uint64
}

// newPatternFilter returns the filter for a Valid pattern.
func newPatternFilter(pattern string) patternFilter {
	var f patternFilter
	first, last := -1, -1 // start of the first and the last wildcard token
	hasFWC := false
	for start := 0; start < len(pattern); {
		end := tokenEnd(pattern, start)
		if end-start == 1 && (pattern[start] == pwc || pattern[start] == fwc) {
			if first < 0 {
				first = start
			}
			last = start
			hasFWC = hasFWC || pattern[start] == fwc
		}
		start = end + 1
	}
	switch {
	case first < 0: // literal: the whole pattern
		f.prefix = pattern
	case hasFWC:
		f.prefix = pattern[:first]
	default:
		f.prefix, f.suffix = pattern[:first], pattern[last+1:]
	}
	f.head, f.headMask = head8(f.prefix), mask8(len(f.prefix))
	f.tail, f.tailMask = tail8(f.suffix), mask8(len(f.suffix))
	return f
}

// mayMatchEnds is the part of mayMatch that only needs head8(subj) and
// tail8(subj).
func (f *patternFilter) mayMatchEnds(head, tail uint64) bool {
	return (head^f.head)&f.headMask == 0 && (tail^f.tail)&f.tailMask == 0
}

// mayMatch reports whether subj passes the filter.
func (f *patternFilter) mayMatch(subj []byte) bool {
	return len(subj) >= len(f.prefix)+len(f.suffix) &&
		string(subj[:len(f.prefix)]) == f.prefix &&
		string(subj[len(subj)-len(f.suffix):]) == f.suffix
}

// head8 packs the first (up to) 8 bytes of b into a uint64, b[0] lowest.
func head8[S Bytes](b S) uint64 {
	var h uint64
	for i := range min(len(b), 8) {
		h |= uint64(b[i]) << (8 * i)
	}
	return h
}

// tail8 packs the last (up to) 8 bytes of b into a uint64, the last byte
// lowest.
func tail8[S Bytes](b S) uint64 {
	var t uint64
	for i := range min(len(b), 8) {
		t |= uint64(b[len(b)-1-i]) << (8 * i)
	}
	return t
}

// mask8 selects the low min(n, 8) bytes of a head8 or tail8 value.
func mask8(n int) uint64 {
	if n >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*n) - 1
}
