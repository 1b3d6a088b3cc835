package conf

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Pos is a position in a configuration source. Line and Col are 1-based; Col
// counts bytes.
type Pos struct {
	File      string
	Line, Col int
}

// String formats p as "file:line:col" (or "line:col" without a file name).
func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Kind is the type of a Node.
type Kind uint8

// Node kinds. The zero Kind is invalid.
const (
	String Kind = iota + 1
	Int
	Float
	Bool
	Time
	Map
	Array
)

// String names the kind as used in error messages ("integer", "map", ...).
func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Int:
		return "integer"
	case Float:
		return "float"
	case Bool:
		return "boolean"
	case Time:
		return "datetime"
	case Map:
		return "map"
	case Array:
		return "array"
	}
	return "invalid"
}

// Node is one parsed value. Only the field that matches Kind is meaningful.
// A value copied through a $VAR reference shares its children with the
// original, so treat a parsed tree as read-only.
type Node struct {
	Kind  Kind
	Pos   Pos
	Str   string
	Int   int64
	Float float64
	Bool  bool
	Time  time.Time
	Map   []Entry // in source order; a repeated key appears twice (the last one wins)
	Array []*Node
	// Raw is the source text of a scalar as written ("2MB", "'x'", "on").
	// A value that came from a $VAR reference keeps the Raw of its definition.
	Raw string
}

// Entry is one key of a map.
type Entry struct {
	Key    string
	KeyPos Pos
	Value  *Node
	// Referenced is set when a $VAR reference used this entry's value.
	Referenced bool
}

// Text renders a scalar for messages: the string itself, or the source text
// of other scalars. Maps and arrays render as "{...}" and "[...]".
func (n *Node) Text() string {
	switch n.Kind {
	case String:
		return n.Str
	case Map:
		return "{...}"
	case Array:
		return "[...]"
	}
	if n.Raw != "" {
		return n.Raw
	}
	switch n.Kind {
	case Int:
		return strconv.FormatInt(n.Int, 10)
	case Float:
		return strconv.FormatFloat(n.Float, 'g', -1, 64)
	case Bool:
		return strconv.FormatBool(n.Bool)
	case Time:
		return n.Time.Format(datetimeLayout)
	}
	return ""
}

// Sentinel errors wrapped by *Error; test with errors.Is.
var (
	ErrSyntax   = errors.New("conf: syntax error")
	ErrValue    = errors.New("conf: invalid value")
	ErrVariable = errors.New("conf: bad variable reference")
	ErrInclude  = errors.New("conf: include failed")
	ErrLimit    = errors.New("conf: input exceeds a limit")
)

// Error is a positioned parse error.
type Error struct {
	Pos Pos
	Msg string
	// Err classifies the error: one of the sentinels above, possibly joined
	// with an underlying cause such as an fs error.
	Err error
}

// Error formats e as "file:line:col: msg".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Unwrap returns the classification (and cause) of e.
func (e *Error) Unwrap() error { return e.Err }
