package conf

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
)

// parser builds the node tree of one source text (a file, an included file
// or an environment value) by recursive descent.
//
//	document := blank ( '{' entries '}' | entries ) blank EOF
//	entries  := { blank ( entry end | 'include' path end ) }
//	entry    := key [ '=' | ':' ] value        (value on the key's line)
//	end      := newline | ',' | ';' | comment | '}' (left for the map) | EOF
//	value    := map | array | "string" | 'string' | ( block ) | word
//	array    := '[' { blank value [ ',' | newline ] } ']'
type parser struct {
	cursor
	dir    string  // directory that relative includes resolve against
	scopes []*Node // maps under construction, innermost last ($VAR lookup)
	depth  int     // nesting of maps and arrays, across includes
	st     *state
}

func newParser(file string, src []byte, st *state) *parser {
	return &parser{cursor: newCursor(file, src), dir: filepath.Dir(file), st: st}
}

func (p *parser) fail(off int, class error, format string, args ...any) *Error {
	return &Error{Pos: p.pos(off), Msg: fmt.Sprintf(format, args...), Err: class}
}

// parseDocument parses a whole source into m, which may already hold keys
// (an include merges into the including map). The document may be wrapped
// in one or more pairs of braces.
func (p *parser) parseDocument(m *Node) error {
	p.skipBlank()
	var opens []int
	for p.peek() == '{' {
		if len(opens) >= MaxDepth {
			return p.fail(p.off, ErrLimit, "more than %d nested braces", MaxDepth)
		}
		opens = append(opens, p.off)
		p.off++
		p.skipBlank()
	}
	if len(opens) == 0 {
		return p.parseEntries(m, -1)
	}
	if err := p.parseEntries(m, opens[len(opens)-1]); err != nil {
		return err
	}
	for i := len(opens) - 2; i >= 0; i-- {
		p.skipBlank()
		if p.peek() != '}' {
			return p.fail(p.off, ErrSyntax, "expected \"}\" to close the \"{\" at %s, found %s", p.lineCol(opens[i]), p.describe(p.off))
		}
		p.off++
	}
	p.skipBlank()
	if !p.eof() {
		return p.fail(p.off, ErrSyntax, "unexpected %s after the closing \"}\" of the document", p.describe(p.off))
	}
	return nil
}

// parseEntries parses key/value entries into m until the '}' that closes
// the brace at offset open, or until EOF when open is -1.
func (p *parser) parseEntries(m *Node, open int) error {
	p.scopes = append(p.scopes, m)
	defer func() { p.scopes = p.scopes[:len(p.scopes)-1] }()
	for {
		p.skipBlank()
		switch p.peek() {
		case eof:
			if open >= 0 {
				return p.fail(p.off, ErrSyntax, "unexpected end of input: the \"{\" at %s is not closed", p.lineCol(open))
			}
			return nil
		case '}':
			if open < 0 {
				return p.fail(p.off, ErrSyntax, "unexpected \"}\" with no open \"{\"")
			}
			p.off++
			return nil
		}
		if err := p.parseEntry(m); err != nil {
			return err
		}
		if err := p.endValue(open >= 0); err != nil {
			return err
		}
	}
}

// endValue checks what follows a value in a map and consumes a terminator.
func (p *parser) endValue(inBraces bool) error {
	p.skipSpace()
	switch c := p.peek(); {
	case c == eof || p.atComment():
	case c == '\n' || c == '\r' || c == ',' || c == ';':
		p.off++
	case c == '}' && inBraces:
	default:
		return p.fail(p.off, ErrSyntax, "expected a new line, \",\" or \";\" after the value, found %s", p.describe(p.off))
	}
	return nil
}

// atValueEnd reports whether nothing that could start a value is at the
// cursor.
func (p *parser) atValueEnd() bool {
	c := p.peek()
	return c == eof || isNewline(c) || c == ',' || c == ';' || c == '}' || c == ']' || p.atComment()
}

// parseEntry parses one "key [sep] value" or "include path" into m.
func (p *parser) parseEntry(m *Node) error {
	keyOff := p.off
	key, quoted, err := p.parseKey()
	if err != nil {
		return err
	}
	p.skipSpace()
	sep := p.peek() == '=' || p.peek() == ':'
	if !quoted && !sep && p.off > keyOff+len(key) && strings.EqualFold(key, "include") {
		return p.parseInclude(m)
	}
	if sep {
		p.off++
		p.skipSpace()
	}
	if p.atValueEnd() {
		return p.fail(p.off, ErrSyntax, "missing value for key %q", key)
	}
	v, err := p.parseValue()
	if err != nil {
		return err
	}
	m.Map = append(m.Map, Entry{Key: key, KeyPos: p.pos(keyOff), Value: v})
	return nil
}

// parseKey parses a bare or quoted key. Quoted keys have no escapes.
func (p *parser) parseKey() (key string, quoted bool, err error) {
	start := p.off
	if q := p.peek(); q == '"' || q == '\'' {
		p.off++
		for {
			c := p.peek()
			if c == eof || isNewline(c) {
				return "", false, p.fail(start, ErrSyntax, "quoted key is not closed on its line")
			}
			p.off++
			if c == q {
				return string(p.src[start+1 : p.off-1]), true, nil
			}
		}
	}
	for p.off < len(p.src) && isKeyByte(p.src[p.off]) {
		p.off++
	}
	if p.off == start {
		return "", false, p.fail(p.off, ErrSyntax, "expected a key, found %s", p.describe(p.off))
	}
	key = string(p.src[start:p.off])
	switch c := p.peek(); {
	case c == eof || isSpace(c) || isNewline(c) || c == '=' || c == ':' || c == '{' || c == '[':
		return key, false, nil
	}
	return "", false, p.fail(p.off, ErrSyntax, "unexpected %s after key %q", p.describe(p.off), key)
}

// parseValue parses any value at the cursor.
func (p *parser) parseValue() (*Node, error) {
	switch p.peek() {
	case '{':
		return p.parseMap()
	case '[':
		return p.parseArray()
	case '"':
		return p.parseQuoted()
	case '\'':
		return p.parseRaw()
	case '(':
		return p.parseBlock()
	}
	start := p.off
	for !isWordEnd(p.peek()) {
		p.off++
	}
	if p.off == start {
		return nil, p.fail(p.off, ErrSyntax, "expected a value, found %s", p.describe(p.off))
	}
	return p.word(string(p.src[start:p.off]), start)
}

// nest guards the nesting depth before a map or array at the cursor.
func (p *parser) nest() error {
	if p.depth >= MaxDepth {
		return p.fail(p.off, ErrLimit, "maps and arrays nest deeper than %d levels", MaxDepth)
	}
	p.depth++
	return nil
}

func (p *parser) parseMap() (*Node, error) {
	if err := p.nest(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	open := p.off
	p.off++
	n := &Node{Kind: Map, Pos: p.pos(open)}
	if err := p.parseEntries(n, open); err != nil {
		return nil, err
	}
	return n, nil
}

func (p *parser) parseArray() (*Node, error) {
	if err := p.nest(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	open := p.off
	p.off++
	n := &Node{Kind: Array, Pos: p.pos(open)}
	for {
		p.skipBlank()
		switch p.peek() {
		case eof:
			return nil, p.fail(p.off, ErrSyntax, "unexpected end of input: the \"[\" at %s is not closed", p.lineCol(open))
		case ']':
			p.off++
			return n, nil
		case ',':
			return nil, p.fail(p.off, ErrSyntax, "unexpected \",\" in array: expected a value")
		}
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		n.Array = append(n.Array, v)
		p.skipSpace()
		switch c := p.peek(); {
		case c == ',' || isNewline(c):
			p.off++
		case c == ']' || c == eof || p.atComment():
			// handled at the top of the loop
		default:
			return nil, p.fail(p.off, ErrSyntax, "expected \",\" or \"]\" after an array element, found %s", p.describe(p.off))
		}
	}
}

// parseQuoted parses a double-quoted string with \t \n \r \" \\ \xHH escapes.
// It may span lines.
func (p *parser) parseQuoted() (*Node, error) {
	open := p.off
	p.off++
	var buf []byte
	start := p.off
	for {
		switch p.peek() {
		case eof:
			return nil, p.fail(open, ErrSyntax, "string is not closed: missing '\"'")
		case '"':
			s := string(append(buf, p.src[start:p.off]...))
			p.off++
			return &Node{Kind: String, Pos: p.pos(open), Str: s, Raw: string(p.src[open:p.off])}, nil
		case '\\':
			buf = append(buf, p.src[start:p.off]...)
			esc := p.off
			p.off++
			switch c := p.peek(); c {
			case 't':
				buf = append(buf, '\t')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case '"', '\\':
				buf = append(buf, byte(c))
			case 'x':
				if p.off+3 > len(p.src) {
					return nil, p.fail(esc, ErrSyntax, "escape \\x needs two hexadecimal digits")
				}
				var b [1]byte
				if _, err := hex.Decode(b[:], p.src[p.off+1:p.off+3]); err != nil {
					return nil, p.fail(esc, ErrSyntax, "escape \\x needs two hexadecimal digits, found %q", p.src[p.off+1:p.off+3])
				}
				buf = append(buf, b[0])
				p.off += 2
			case eof:
				return nil, p.fail(open, ErrSyntax, "string is not closed: missing '\"'")
			default:
				return nil, p.fail(esc, ErrSyntax, "invalid escape \\%s in string (allowed: \\t \\n \\r \\\" \\\\ \\xHH)", strings.Trim(p.describe(p.off), `"`))
			}
			p.off++
			start = p.off
		default:
			p.off++
		}
	}
}

// parseRaw parses a single-quoted string: no escapes, may span lines.
func (p *parser) parseRaw() (*Node, error) {
	open := p.off
	end := bytes.IndexByte(p.src[open+1:], '\'')
	if end < 0 {
		return nil, p.fail(open, ErrSyntax, "string is not closed: missing \"'\"")
	}
	p.off = open + 1 + end + 1
	return &Node{Kind: String, Pos: p.pos(open), Str: string(p.src[open+1 : open+1+end]), Raw: string(p.src[open:p.off])}, nil
}

// parseBlock parses a block string: everything after '(' up to the line
// break before a line that holds only ')'.
func (p *parser) parseBlock() (*Node, error) {
	open := p.off
	for from := open + 1; ; {
		i := bytes.Index(p.src[from:], []byte("\n)"))
		if i < 0 {
			return nil, p.fail(open, ErrSyntax, "block string is not closed: expected \")\" alone on a line")
		}
		nl := from + i
		after := nl + 2
		rest := p.src[after:]
		if len(rest) == 0 || rest[0] == '\n' || (rest[0] == '\r' && (len(rest) == 1 || rest[1] == '\n')) {
			end := nl
			if end > open+1 && p.src[end-1] == '\r' {
				end--
			}
			p.off = after
			return &Node{Kind: String, Pos: p.pos(open), Str: string(p.src[open+1 : end]), Raw: string(p.src[open:after])}, nil
		}
		from = nl + 1
	}
}
