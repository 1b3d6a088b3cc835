package conf

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Limits on untrusted input.
const (
	// MaxDepth is how deeply maps and arrays may nest.
	MaxDepth = 64
	// MaxIncludeDepth is how long a chain of includes may be.
	MaxIncludeDepth = 16
	// MaxFileSize is the largest configuration file (or text) accepted.
	MaxFileSize = 16 << 20
)

// Reader parses configuration text. The zero Reader sees no environment
// variables and reads include files from the operating system.
type Reader struct {
	// Env looks up environment variables for $VAR references; nil means
	// there is no environment.
	Env func(name string) (string, bool)
	// ReadFile reads an include file; nil means the OS file system, with
	// files over MaxFileSize rejected.
	ReadFile func(path string) ([]byte, error)
}

// ParseFile reads and parses the file at path, with the process environment
// available to $VAR references.
func ParseFile(path string) (*Node, error) {
	return Reader{Env: os.LookupEnv}.ParseFile(path)
}

// Parse parses data as the contents of a file called name. Includes resolve
// relative to name's directory; env (which may be nil) looks up environment
// variables.
func Parse(name string, data []byte, env func(string) (string, bool)) (*Node, error) {
	return Reader{Env: env}.Parse(name, data)
}

// ParseFile reads and parses the file at path.
func (r Reader) ParseFile(path string) (*Node, error) {
	data, err := r.readFile(path)
	if err != nil {
		return nil, err
	}
	return r.Parse(path, data)
}

// Parse parses data as the contents of a file called name. The result is a
// Map node holding the top-level keys.
func (r Reader) Parse(name string, data []byte) (*Node, error) {
	root := &Node{Kind: Map, Pos: Pos{File: name, Line: 1, Col: 1}}
	if len(data) > MaxFileSize {
		return nil, &Error{Pos: root.Pos, Msg: fmt.Sprintf("input is larger than %d bytes", MaxFileSize), Err: ErrLimit}
	}
	st := &state{reader: r, envBusy: map[string]bool{}}
	if name != "" {
		st.includes = []string{canonicalPath(name)}
	}
	p := newParser(name, data, st)
	if err := p.parseDocument(root); err != nil {
		return nil, err
	}
	return root, nil
}

// readFile reads path with r.ReadFile, or from the OS with a size cap.
func (r Reader) readFile(path string) ([]byte, error) {
	if r.ReadFile != nil {
		return r.ReadFile(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: %w: file is larger than %d bytes", path, ErrLimit, MaxFileSize)
	}
	return data, nil
}

// canonicalPath names a file for include-cycle detection.
func canonicalPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

// state is shared by the parser of a file, the parsers of the files it
// includes and those of environment values.
type state struct {
	reader   Reader
	includes []string        // canonical paths of the files being parsed, outermost first
	envBusy  map[string]bool // environment variables being expanded (cycle check)
}
