package subject

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		in      string
		valid   bool // Valid
		literal bool // ValidLiteral
	}{
		{"", false, false},
		{".", false, false},
		{"..", false, false},
		{"a.", false, false},
		{".a", false, false},
		{"a..b", false, false},
		{"a.>.b", false, false},
		{">.a", false, false},
		{">.>", false, false},
		{"a.>.", false, false},
		{"a", true, true},
		{"foo.bar.baz", true, true},
		{"a.*b", true, true},
		{"a.b*", true, true},
		{"a.>b", true, true},
		{"a.b>", true, true},
		{"**", true, true},
		{">>", true, true},
		{"*", true, false},
		{">", true, false},
		{"*.*", true, false},
		{"a.*.b", true, false},
		{"a.*.>", true, false},
		{"*.>", true, false},
		{"a.>", true, false},
		{"a b", false, false},
		{" ", false, false},
		{"a.\tb", false, false},
		{"a\t", false, false},
		{"\n", false, false},
		{"a.b\r", false, false},
		{"a\fb", false, false},
		{"a. ", false, false},
		{" .a", false, false},
		{"a\vb", true, true},           // \v is not in the reference whitespace set
		{"$SYS.ACCOUNT.x", true, true}, // '$' is an ordinary byte
		{"ünïcode.tökens", true, true},
		{"a\x00b", true, true}, // rejected only by ValidStrict
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.valid {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.valid)
		}
		if got := Valid([]byte(tt.in)); got != tt.valid {
			t.Errorf("Valid([]byte(%q)) = %v, want %v", tt.in, got, tt.valid)
		}
		if got := ValidLiteral(tt.in); got != tt.literal {
			t.Errorf("ValidLiteral(%q) = %v, want %v", tt.in, got, tt.literal)
		}
		if got := ValidLiteral([]byte(tt.in)); got != tt.literal {
			t.Errorf("ValidLiteral([]byte(%q)) = %v, want %v", tt.in, got, tt.literal)
		}
		if tt.valid {
			if got, want := IsLiteral(tt.in), tt.literal; got != want {
				t.Errorf("IsLiteral(%q) = %v, want %v", tt.in, got, want)
			}
		}
	}
}

// A named type with an underlying string or []byte is accepted too.
type rawSubject []byte

func TestValidNamedTypes(t *testing.T) {
	if !Valid(rawSubject("a.b")) || Valid(rawSubject("a..b")) {
		t.Fatal("Valid on a named []byte type")
	}
	type name string
	if !ValidQueue(name("q")) || ValidQueue(name("q q")) {
		t.Fatal("ValidQueue on a named string type")
	}
}

func TestValidStrict(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"a.b", true},
		{"ünïcode.tökens", true},
		{"emoji.😀", true},
		{"a\x00b", false},
		{"a.\xff", false},
		{"a.\xc3", false},          // truncated two-byte sequence at the end
		{"a.\xc3.b", false},        // truncated in the middle
		{"a.\xed\xa0\x80", false},  // surrogate
		{"a.\xf0\x9f\x98", false},  // truncated four-byte sequence
		{"a..b", false},            // not Valid
		{"a.*", true},              // wildcards are fine
		{"\xef\xbf\xbd.x", true},   // an encoded U+FFFD is well-formed
		{"a.\xe2\x82\xac.b", true}, // €
	}
	for _, tt := range tests {
		if got := ValidStrict(tt.in); got != tt.want {
			t.Errorf("ValidStrict(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if got := ValidStrict([]byte(tt.in)); got != tt.want {
			t.Errorf("ValidStrict([]byte(%q)) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidQueue(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false},
		{"q", true},
		{"workers.v1", true},
		{"*", true},
		{">", true},
		{"a..b", true}, // no token structure is required of queue names
		{"a b", false},
		{"\t", false},
		{"q\n", false},
		{"q\r", false},
		{"\fq", false},
	}
	for _, tt := range tests {
		if got := ValidQueue(tt.in); got != tt.want {
			t.Errorf("ValidQueue(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if got := ValidQueue([]byte(tt.in)); got != tt.want {
			t.Errorf("ValidQueue([]byte(%q)) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsLiteral(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"a", true},
		{"a.b", true},
		{"*", false},
		{">", false},
		{"a.*", false},
		{"*.a", false},
		{"a.*.b", false},
		{"a.>", false},
		{"a*.b", true},
		{"a.*b", true},
		{"a.b>", true},
		{">a", true},
	}
	for _, tt := range tests {
		if got := IsLiteral(tt.in); got != tt.want {
			t.Errorf("IsLiteral(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if got := IsLiteral([]byte(tt.in)); got != tt.want {
			t.Errorf("IsLiteral([]byte(%q)) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNumTokens(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"a", 1},
		{"a.b", 2},
		{"a.b.>", 3},
		{"a..b", 3},
		{".", 2},
	}
	for _, tt := range tests {
		if got := NumTokens(tt.in); got != tt.want {
			t.Errorf("NumTokens(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		subject, pattern string
		want             bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"a", "*", true},
		{"a", ">", true},
		{"a.b", ">", true},
		{"a.b", "*", false},
		{"a.b", "a.*", true},
		{"a.b", "a.>", true},
		{"a", "a.>", false},
		{"a", "a.*", false},
		{"a.b.c", "a.>", true},
		{"a.b.c", "a.*", false},
		{"a.b.c", "a.*.c", true},
		{"a.b.c", "*.*.*", true},
		{"a.b.c", "*.*.>", true},
		{"a.b", "*.*.>", false},
		{"a.b.c", "a.b", false},
		{"a.b", "a.b.c", false},
		{"ab", "a", false},
		{"a", "ab", false},
		{"Foo", "foo", false}, // case-sensitive
		{"a.*", "a.*", true},  // a '*' token in a subject is matched by wildcards
		{"a.*", "a.b", false},
		{"a.>", "a.*", true},
		{"a*.b", "a*.b", true},
		{"a*.b", "*.b", true},
		{"", ">", false},
		{"a..b", "a.*.b", false},
		{"a..b", ">", false},
		{".a", ">", false},
		{"a.", ">", false},
		{"a.", "a.*", false},
		{"a", "", false},
	}
	for _, tt := range tests {
		if got := Matches(tt.subject, tt.pattern); got != tt.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tt.subject, tt.pattern, got, tt.want)
		}
		if got := matchPattern([]byte(tt.subject), tt.pattern); got != tt.want {
			t.Errorf("matchPattern([]byte(%q), %q) = %v, want %v", tt.subject, tt.pattern, got, tt.want)
		}
		if got := naiveMatch(tt.subject, tt.pattern); got != tt.want {
			t.Errorf("naiveMatch(%q, %q) = %v, want %v (the test oracle is wrong)", tt.subject, tt.pattern, got, tt.want)
		}
	}
}

func TestPatternFilter(t *testing.T) {
	tests := []struct {
		pattern, prefix, suffix string
	}{
		{"a.b", "a.b", ""},
		{"*", "", ""},
		{">", "", ""},
		{"a.*", "a.", ""},
		{"a.*.c", "a.", ".c"},
		{"*.b.c", "", ".b.c"},
		{"a.*.b.*.c.d", "a.", ".c.d"},
		{"a.*.b.>", "a.", ""},
		{"a*.b", "a*.b", ""},
		{"orders.europe.*.created.v1", "orders.europe.", ".created.v1"},
		{"x.*.long-suffix-token", "x.", ".long-suffix-token"},
	}
	for _, tt := range tests {
		f := newPatternFilter(tt.pattern)
		if f.prefix != tt.prefix || f.suffix != tt.suffix {
			t.Errorf("newPatternFilter(%q) = %+v, want prefix %q suffix %q", tt.pattern, f, tt.prefix, tt.suffix)
		}
		if !f.mayMatchEnds(head8(tt.prefix+"x"+tt.suffix), tail8(tt.prefix+"x"+tt.suffix)) {
			t.Errorf("filter of %q rejects the ends of %q", tt.pattern, tt.prefix+"x"+tt.suffix)
		}
	}
	// The filter must pass every subject that matches.
	rng := rand.New(rand.NewPCG(7, 7))
	long := strings.NewReplacer("a", "alphabetical", "b", "b", "c", "charlie-9")
	for i := range 20000 {
		subj, pat := randomSubject(rng), randomPattern(rng)
		if i%2 == 1 { // tokens longer than the 8 packed bytes
			subj, pat = long.Replace(subj), long.Replace(pat)
		}
		f := newPatternFilter(pat)
		if naiveMatch(subj, pat) && !(f.mayMatch([]byte(subj)) && f.mayMatchEnds(head8(subj), tail8(subj))) {
			t.Fatalf("filter of %q rejects matching subject %q", pat, subj)
		}
	}
}
