package protocol

import (
	"encoding/binary"
	"math/bits"
)

// This file splits a control line into arguments. Arguments (subjects, reply
// inboxes) are often longer than 8 bytes and contain no byte below '!', so
// their end is searched a word (8 bytes) at a time for the first byte < 0x21;
// that byte, and any bytes up to an actual separator, are then checked one by
// one.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// belowBang returns 0x80 in the bytes of w below 0x21 ('!'). Only the lowest
// flag is exact (a borrow may set flags above it), which is all we use.
func belowBang(w uint64) uint64 { return (w - 0x21*ones) &^ w & highs }

// isArgSep reports whether c separates two arguments.
func isArgSep(c byte, crSep bool) bool {
	return c == ' ' || c == '\t' || (crSep && c == '\r')
}

// span is one argument's [start, end) within a control line.
type span struct{ start, end int }

// spans holds the arguments of one line on the caller's stack.
type spans [maxArgs + 1]span

// arg returns argument i of s, its capacity cut to its length.
func (a *spans) arg(s []byte, i int) []byte {
	sp := a[i]
	return s[sp.start:sp.end:sp.end]
}

// fields splits s at runs of separators (spaces, TABs and, if crSep, '\r')
// into at most maxArgs+1 spans (a count above maxArgs means "too many").
func fields(s []byte, a *spans, crSep bool) int {
	n, i := 0, 0
	for {
		for i < len(s) && isArgSep(s[i], crSep) {
			i++
		}
		if i == len(s) || n == len(a) {
			return n
		}
		start := i
		if len(s) >= 8 {
			for {
				var w uint64
				if i+8 <= len(s) {
					w = binary.LittleEndian.Uint64(s[i:])
				} else {
					// The last bytes, from an overlapping load; the bytes
					// shifted in are zero and so stop the search at len(s).
					w = binary.LittleEndian.Uint64(s[len(s)-8:]) >> (8 * uint(i+8-len(s)))
				}
				if m := belowBang(w); m != 0 {
					i = min(i+bits.TrailingZeros64(m)>>3, len(s))
					break
				}
				i += 8
			}
		}
		for i < len(s) && !isArgSep(s[i], crSep) {
			i++
		}
		a[n] = span{start, i}
		n++
	}
}
