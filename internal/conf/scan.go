package conf

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// eof is what peek returns at the end of the input.
const eof = -1

// cursor walks one source text byte by byte and turns offsets into
// positions. It knows the lexical classes of the format, not its grammar.
type cursor struct {
	file  string
	src   []byte
	off   int
	lines []int // offset of the first byte of each line
}

func newCursor(file string, src []byte) cursor {
	lines := []int{0}
	for i, b := range src {
		if b == '\n' {
			lines = append(lines, i+1)
		}
	}
	c := cursor{file: file, src: src, lines: lines}
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		c.off = 3 // UTF-8 byte order mark
	}
	return c
}

// pos converts a byte offset into a position.
func (c *cursor) pos(off int) Pos {
	line := sort.Search(len(c.lines), func(i int) bool { return c.lines[i] > off }) - 1
	return Pos{File: c.file, Line: line + 1, Col: off - c.lines[line] + 1}
}

// lineCol formats the line and column of off, for messages that point at
// another place in the same source.
func (c *cursor) lineCol(off int) string {
	p := c.pos(off)
	return fmt.Sprintf("%d:%d", p.Line, p.Col)
}

func (c *cursor) eof() bool { return c.off >= len(c.src) }

// peek returns the byte at the cursor, or eof.
func (c *cursor) peek() int {
	if c.off >= len(c.src) {
		return eof
	}
	return int(c.src[c.off])
}

// peekAt returns the byte n positions after the cursor, or eof.
func (c *cursor) peekAt(n int) int {
	if c.off+n >= len(c.src) {
		return eof
	}
	return int(c.src[c.off+n])
}

// isSpace reports blanks within a line.
func isSpace(c int) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' }

// isNewline reports line breaks ('\r' counts so CRLF files work).
func isNewline(c int) bool { return c == '\n' || c == '\r' }

// atComment reports whether a '#' or "//" comment starts at the cursor.
func (c *cursor) atComment() bool {
	b := c.peek()
	return b == '#' || (b == '/' && c.peekAt(1) == '/')
}

// skipSpace skips blanks within the current line.
func (c *cursor) skipSpace() {
	for isSpace(c.peek()) {
		c.off++
	}
}

// skipComment skips a comment up to (not including) the end of its line.
func (c *cursor) skipComment() {
	for c.off < len(c.src) && c.src[c.off] != '\n' && c.src[c.off] != '\r' {
		c.off++
	}
}

// skipBlank skips blanks, line breaks and comments.
func (c *cursor) skipBlank() {
	for {
		switch b := c.peek(); {
		case isSpace(b) || isNewline(b):
			c.off++
		case c.atComment():
			c.skipComment()
		default:
			return
		}
	}
}

// isWordEnd reports the bytes that end a bare (unquoted) value.
func isWordEnd(c int) bool {
	switch c {
	case eof, ' ', '\t', '\v', '\f', '\r', '\n', ',', ';', ']', '}':
		return true
	}
	return false
}

// isKeyByte reports the bytes allowed in a bare key.
func isKeyByte(b byte) bool {
	if b <= ' ' || b == 0x7f {
		return false
	}
	switch b {
	case '=', ':', '{', '}', '[', ']', ',', ';', '"', '\'', '#', '(', ')':
		return false
	}
	return true
}

// describe names the input at off for an error message.
func (c *cursor) describe(off int) string {
	if off >= len(c.src) {
		return "end of input"
	}
	switch b := c.src[off]; b {
	case '\n', '\r':
		return "end of line"
	case '\'':
		return `"'"`
	}
	r, _ := utf8.DecodeRune(c.src[off:])
	if r == utf8.RuneError {
		return fmt.Sprintf("byte 0x%02x", c.src[off])
	}
	return fmt.Sprintf("%q", string(r))
}
