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
	if !tokensNonEmpty(subj) || len(pat) == 0 {
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
