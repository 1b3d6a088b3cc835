package conf

import (
	"errors"
	"path/filepath"
	"strings"
)

// variable resolves the reference $name written at off: the nearest earlier
// key of an enclosing map, else the environment.
func (p *parser) variable(name string, off int) (*Node, error) {
	if name == "" {
		return nil, p.fail(off, ErrVariable, "\"$\" must be followed by a variable name")
	}
	for i := len(p.scopes) - 1; i >= 0; i-- {
		m := p.scopes[i]
		for j := len(m.Map) - 1; j >= 0; j-- {
			if m.Map[j].Key == name {
				m.Map[j].Referenced = true
				return p.reference(m.Map[j].Value, off), nil
			}
		}
	}
	if p.st.envBusy[name] {
		return nil, p.fail(off, ErrVariable, "variable $%s refers to itself (reference cycle)", name)
	}
	var text string
	found := false
	if p.st.reader.Env != nil {
		text, found = p.st.reader.Env(name)
	}
	if !found {
		return nil, p.fail(off, ErrVariable, "variable $%s is not defined: no earlier key %q in scope and no environment variable", name, name)
	}
	v, err := p.envValue(name, text)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && errors.Is(e.Err, ErrVariable) && strings.HasPrefix(e.Pos.File, "$") {
			// A nested environment reference failed: report it here, keeping
			// the chain in the message.
			return nil, p.fail(off, ErrVariable, "variable $%s: %s", name, e.Msg)
		}
		return nil, p.fail(off, errors.Join(ErrVariable, err), "variable $%s: environment value %q does not parse: %s", name, text, msgOf(err))
	}
	return p.reference(v, off), nil
}

// reference returns a copy of v placed at off (its children are shared).
func (p *parser) reference(v *Node, off int) *Node {
	c := *v
	c.Pos = p.pos(off)
	return &c
}

// envValue parses the text of environment variable name as one value.
// Nodes inside it are positioned in a pseudo-file named "$name".
func (p *parser) envValue(name, text string) (*Node, error) {
	p.st.envBusy[name] = true
	defer delete(p.st.envBusy, name)
	sub := newParser("$"+name, []byte(text), p.st)
	sub.dir, sub.depth = p.dir, p.depth
	sub.skipSpace()
	if sub.eof() {
		return &Node{Kind: String}, nil
	}
	v, err := sub.parseValue()
	if err != nil {
		return nil, err
	}
	sub.skipBlank()
	if !sub.eof() {
		return nil, sub.fail(sub.off, ErrSyntax, "unexpected %s after the value", sub.describe(sub.off))
	}
	return v, nil
}

func msgOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return err.Error()
}

// parseInclude handles "include path" (the keyword is consumed): it parses
// the file and merges its keys into m.
func (p *parser) parseInclude(m *Node) error {
	pathOff := p.off
	var path string
	switch q := p.peek(); q {
	case '"', '\'':
		end := -1
		for i := p.off + 1; i < len(p.src) && !isNewline(int(p.src[i])); i++ {
			if p.src[i] == byte(q) {
				end = i
				break
			}
		}
		if end < 0 {
			return p.fail(pathOff, ErrSyntax, "include path is not closed on its line")
		}
		path = string(p.src[p.off+1 : end])
		p.off = end + 1
	case '{', '[', '(':
		return p.fail(pathOff, ErrSyntax, "include expects a file path, found %s", p.describe(pathOff))
	default:
		for !isWordEnd(p.peek()) {
			p.off++
		}
		path = string(p.src[pathOff:p.off])
	}
	if path == "" {
		return p.fail(pathOff, ErrSyntax, "include expects a file path")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	canon := canonicalPath(path)
	for _, f := range p.st.includes {
		if f == canon {
			return p.fail(pathOff, ErrInclude, "include cycle: %s is already being parsed", path)
		}
	}
	if len(p.st.includes) >= MaxIncludeDepth {
		return p.fail(pathOff, ErrLimit, "includes nest deeper than %d files", MaxIncludeDepth)
	}
	data, err := p.st.reader.readFile(path)
	if err != nil {
		return p.fail(pathOff, errors.Join(ErrInclude, err), "include %s: %v", path, err)
	}
	if len(data) > MaxFileSize {
		return p.fail(pathOff, ErrLimit, "include %s: file is larger than %d bytes", path, MaxFileSize)
	}
	p.st.includes = append(p.st.includes, canon)
	defer func() { p.st.includes = p.st.includes[:len(p.st.includes)-1] }()
	sub := newParser(path, data, p.st)
	// The included file's keys go into m, which parseDocument pushes as its
	// own innermost scope; it sees the enclosing scopes for $VAR lookup.
	outer := p.scopes[:len(p.scopes)-1]
	sub.scopes = outer[:len(outer):len(outer)]
	sub.depth = p.depth
	if err := sub.parseDocument(m); err != nil {
		return err
	}
	return nil
}
