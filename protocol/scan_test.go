package protocol

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func naiveIsSep(c byte, crSep bool) bool { return c == ' ' || c == '\t' || crSep && c == '\r' }

// naiveFields is the obvious byte-at-a-time split.
func naiveFields(s []byte, crSep bool) (out []span) {
	start := -1
	for i, c := range s {
		if naiveIsSep(c, crSep) {
			if start >= 0 {
				out = append(out, span{start, i})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, span{start, len(s)})
	}
	return out
}

func TestFieldsModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("ab. \t\r\x00\x01\x20\x21\x80\xa0\xff")
	for iter := range 20000 {
		n := r.IntN(200)
		if iter < 300 {
			n = iter % 140 // every length around the block boundaries
		}
		s := make([]byte, n)
		for i := range s {
			s[i] = alphabet[r.IntN(len(alphabet))]
			if r.IntN(3) == 0 {
				s[i] = 'x' // longer fields
			}
		}
		crSep := r.IntN(2) == 0
		want := naiveFields(s, crSep)
		var a spans
		got := fields(s, &a, crSep)
		if len(want) > maxArgs {
			want = want[:maxArgs+1] // "too many": the first maxArgs+1 are reported
		}
		if got != len(want) || !reflect.DeepEqual(append([]span{}, a[:got]...), append([]span{}, want...)) {
			t.Fatalf("fields(%q, %v): %d %v, want %v", s, crSep, got, a[:got], want)
		}
	}
}
