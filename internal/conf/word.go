package conf

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// datetimeLayout is the only datetime form: ISO8601 in Zulu time.
const datetimeLayout = "2006-01-02T15:04:05Z"

// word types a bare value: boolean, variable reference, number, datetime,
// or else string.
func (p *parser) word(w string, off int) (*Node, error) {
	n := &Node{Kind: String, Pos: p.pos(off), Str: w, Raw: w}
	if b, ok := parseBool(w); ok {
		n.Kind, n.Str, n.Bool = Bool, "", b
		return n, nil
	}
	if w[0] == '$' && !isBcrypt(w) {
		return p.variable(w[1:], off)
	}
	kind, err := classifyNumber(w, n)
	if err != nil {
		return nil, p.fail(off, ErrValue, "%v", err)
	}
	if kind != String {
		n.Kind, n.Str = kind, ""
	}
	return n, nil
}

func parseBool(w string) (value, ok bool) {
	switch strings.ToLower(w) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	return false, false
}

// isBcrypt reports a bcrypt hash, which is kept as a literal string even
// though it starts with '$'.
func isBcrypt(w string) bool {
	return strings.HasPrefix(w, "$2a$") || strings.HasPrefix(w, "$2b$") || strings.HasPrefix(w, "$2y$")
}

// classifyNumber fills n from w when w is an integer (with an optional size
// suffix), a float or a datetime, and returns the kind it found. Words that
// merely start with digits ("10s", "1.2.3.4", "127.0.0.1:4222") are String.
// Numbers that are well formed but do not fit are errors.
func classifyNumber(w string, n *Node) (Kind, error) {
	digits := strings.TrimPrefix(w, "-")
	neg := len(digits) < len(w)
	k := 0
	for k < len(digits) && digits[k] >= '0' && digits[k] <= '9' {
		k++
	}
	if k == 0 {
		return String, nil
	}
	intPart := w[:len(w)-len(digits)+k]
	rest := digits[k:]
	switch {
	case rest == "":
		v, err := parseInt(intPart)
		n.Int = v
		return Int, err
	case !neg && k == 4 && rest[0] == '-':
		t, err := time.Parse(datetimeLayout, w)
		if err != nil || len(w) != len(datetimeLayout) {
			return 0, errors.New("invalid datetime " + strconv.Quote(w) + ": want the ISO8601 Zulu form " + datetimeLayout)
		}
		n.Time = t
		return Time, nil
	case rest[0] == '.':
		if !allDigits(rest[1:]) {
			return String, nil
		}
		f, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return 0, errors.New("float " + strconv.Quote(w) + " is out of range")
		}
		n.Float = f
		return Float, nil
	}
	mult, ok := sizeSuffix(rest)
	if !ok {
		return String, nil
	}
	v, err := parseInt(intPart)
	if err != nil {
		return 0, err
	}
	if v > math.MaxInt64/mult || v < math.MinInt64/mult {
		return 0, errors.New("integer " + strconv.Quote(w) + " is out of range")
	}
	n.Int = v * mult
	return Int, nil
}

func parseInt(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errors.New("integer " + strconv.Quote(s) + " is out of range")
	}
	return v, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// sizeSuffix returns the multiplier of a size suffix: k, m, g, t, p, e are
// powers of 1000; with b, i or ib appended they are powers of 1024.
func sizeSuffix(s string) (int64, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	s = strings.ToLower(s)
	exp := strings.IndexByte("kmgtpe", s[0]) + 1
	if exp == 0 {
		return 0, false
	}
	var base int64
	switch s[1:] {
	case "":
		base = 1000
	case "b", "i", "ib":
		base = 1024
	default:
		return 0, false
	}
	m := int64(1)
	for range exp {
		m *= base
	}
	return m, true
}
