package subject

import (
	"bytes"
	"unicode/utf8"
)

// Bytes is the set of types the validation functions accept, so that callers
// holding either a string or a slice of a read buffer never convert.
type Bytes interface{ ~string | ~[]byte }

// Byte classes used by the validators (a read-only table).
const (
	clsOther = iota
	clsSep   // '.'
	clsSpace // whitespace that may never appear in a subject or queue name
)

// byteClass classifies every byte value. Whitespace is the set the reference
// server rejects: space, \t, \n, \r and \f.
var byteClass = [256]uint8{
	'.':  clsSep,
	' ':  clsSpace,
	'\t': clsSpace,
	'\n': clsSpace,
	'\r': clsSpace,
	'\f': clsSpace,
}

// Token separator and wildcards.
const (
	sep = '.'
	pwc = '*' // matches exactly one token
	fwc = '>' // matches one or more trailing tokens
)

// Valid reports whether s is a valid subscription subject: one or more
// non-empty tokens separated by '.', no whitespace, '*' and '>' are wildcards
// only as whole tokens, and a '>' token is the last one. A token such as "a*"
// or "*b" is a literal token.
func Valid[S Bytes](s S) bool {
	return validate(s, false)
}

// ValidLiteral reports whether s is a valid publish subject: Valid and without
// wildcard tokens. This is the check a server applies to PUB in pedantic mode.
func ValidLiteral[S Bytes](s S) bool {
	return validate(s, true)
}

// ValidStrict is the pedantic check used for names that end up in persistent
// state (stream subjects, durable names): Valid, and in addition s holds no NUL
// byte and is well-formed UTF-8.
func ValidStrict[S Bytes](s S) bool {
	if !Valid(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return validUTF8(s)
}

// validUTF8 reports whether s is well-formed UTF-8 without converting it.
func validUTF8[S Bytes](s S) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		var buf [utf8.UTFMax]byte
		n := copy(buf[:], s[i:min(i+utf8.UTFMax, len(s))])
		r, size := utf8.DecodeRune(buf[:n])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		i += size
	}
	return true
}

// validate is the single pass behind Valid and ValidLiteral.
func validate[S Bytes](s S, literal bool) bool {
	if len(s) == 0 {
		return false
	}
	sawFWC := false // a '>' token has been seen; nothing may follow it
	for i := 0; ; i++ {
		start := i
		for i < len(s) && byteClass[s[i]] == clsOther {
			i++
		}
		// s[start:i] is a complete token.
		if i == start || sawFWC {
			return false
		}
		if i-start == 1 {
			switch s[start] {
			case fwc:
				if literal {
					return false
				}
				sawFWC = true
			case pwc:
				if literal {
					return false
				}
			}
		}
		if i == len(s) {
			return true
		}
		if byteClass[s[i]] == clsSpace {
			return false
		}
	}
}

// ValidQueue reports whether q is a valid queue group name: non-empty and
// without whitespace. Any other byte, including '.', '*' and '>', is allowed.
func ValidQueue[S Bytes](q S) bool {
	if len(q) == 0 {
		return false
	}
	for i := 0; i < len(q); i++ {
		if byteClass[q[i]] == clsSpace {
			return false
		}
	}
	return true
}

// IsLiteral reports whether s has no wildcard token. It does not validate s;
// call it on a subject already known to be Valid.
func IsLiteral[S Bytes](s S) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != pwc && c != fwc {
			continue
		}
		if (i == 0 || s[i-1] == sep) && (i+1 == len(s) || s[i+1] == sep) {
			return false
		}
	}
	return true
}

// NumTokens returns the number of '.'-separated tokens in s (0 for an empty s).
// It does not validate s. Servers use it to enforce a token limit on SUB.
func NumTokens[S Bytes](s S) int {
	if len(s) == 0 {
		return 0
	}
	n := 1
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			n++
		}
	}
	return n
}

// tokensNonEmpty reports whether s is non-empty and has no empty token. It is
// the only check Match needs on a publish subject: a subject that passes it can
// be matched even if it holds whitespace or wildcard characters (a wildcard
// character in a published subject is an ordinary token that only wildcard
// patterns match).
func tokensNonEmpty[S Bytes](s S) bool {
	n := len(s)
	if n == 0 || s[0] == sep || s[n-1] == sep {
		return false
	}
	for i := 1; i < n; i++ {
		if s[i] == sep && s[i-1] == sep {
			return false
		}
	}
	return true
}

// tokensNonEmptyBytes is tokensNonEmpty for the []byte subjects of Match,
// using the vectorized bytes.Index.
func tokensNonEmptyBytes(s []byte) bool {
	n := len(s)
	return n > 0 && s[0] != sep && s[n-1] != sep && bytes.Index(s, []byte("..")) < 0
}
