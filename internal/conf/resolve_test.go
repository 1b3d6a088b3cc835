package conf

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// memFS serves include files from a map keyed by cleaned path.
func memFS(files map[string]string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		if s, ok := files[filepath.Clean(path)]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
}

// envMap is an injectable environment.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestVariables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		env      map[string]string
		want     *Node
	}{
		{"earlier key", "TOKEN: abc\nauthorization { token: $TOKEN }", nil,
			obj("TOKEN", str("abc"), "authorization", obj("token", str("abc")))},
		{"inner scope shadows outer", "v: 1\na { v: 2, x: $v }\ny: $v", nil,
			obj("v", num(1), "a", obj("v", num(2), "x", num(2)), "y", num(1))},
		{"outer scope from nested map", "v: 1\na { b { c: $v } }", nil,
			obj("v", num(1), "a", obj("b", obj("c", num(1))))},
		{"map value", "m: {p: 1}\nn: $m", nil, obj("m", obj("p", num(1)), "n", obj("p", num(1)))},
		{"in arrays", "a: 1\nb: [$a, [$a]]", nil, obj("a", num(1), "b", arr(num(1), arr(num(1))))},
		{"last definition wins", "a: 1\na: 2\nb: $a", nil, obj("a", num(1), "a", num(2), "b", num(2))},
		{"case sensitive", "a: 1\nb: $A", map[string]string{"A": "env"}, obj("a", num(1), "b", str("env"))},
		{"key beats environment", "PORT: 1\na: $PORT", map[string]string{"PORT": "2"}, obj("PORT", num(1), "a", num(1))},
		{"quoted is literal", "a: 1\nb: \"$a\"\nc: '$a'", nil, obj("a", num(1), "b", str("$a"), "c", str("$a"))},
		{"bcrypt is literal", "a: $2a$11$x\nb: $2b$10$y\nc: $2y$04$z", nil,
			obj("a", str("$2a$11$x"), "b", str("$2b$10$y"), "c", str("$2y$04$z"))},
		{"env integer", "a: $PORT", map[string]string{"PORT": "4222"}, obj("a", num(4222))},
		{"env size", "a: $SIZE", map[string]string{"SIZE": "1MB"}, obj("a", num(1<<20))},
		{"env string", "a: $S", map[string]string{"S": "hello"}, obj("a", str("hello"))},
		{"env string starting with digit", "a: $S", map[string]string{"S": "3bc"}, obj("a", str("3bc"))},
		{"env quoted", "a: $S", map[string]string{"S": `"x y"`}, obj("a", str("x y"))},
		{"env empty", "a: $S", map[string]string{"S": ""}, obj("a", str(""))},
		{"env blank", "a: $S", map[string]string{"S": "  "}, obj("a", str(""))},
		{"env padded", "a: $S", map[string]string{"S": " 5 \n"}, obj("a", num(5))},
		{"env bool", "a: $S", map[string]string{"S": "off"}, obj("a", boo(false))},
		{"env array", "a: $S", map[string]string{"S": "[1, two]"}, obj("a", arr(num(1), str("two")))},
		{"env map", "a: $S", map[string]string{"S": "{ x: 1, y: $T }", "T": "t"}, obj("a", obj("x", num(1), "y", str("t")))},
		{"env chain", "a: $A", map[string]string{"A": "$B", "B": "$C", "C": "7k"}, obj("a", num(7000))},
		{"env diamond is not a cycle", "a: $A", map[string]string{"A": "[$B, $B]", "B": "1"}, obj("a", arr(num(1), num(1)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("v.conf", []byte(tt.in), envMap(tt.env))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got, treeOpts); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestVariableMetadata(t *testing.T) {
	t.Parallel()
	in := "TOKEN: abc\nother: 1\nauth {\n  token: $TOKEN\n}"
	root, err := Parse("v.conf", []byte(in), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !root.Map[0].Referenced || root.Map[1].Referenced || root.Map[2].Value.Map[0].Referenced {
		t.Errorf("Referenced flags = %v %v %v, want true false false",
			root.Map[0].Referenced, root.Map[1].Referenced, root.Map[2].Value.Map[0].Referenced)
	}
	ref := root.Map[2].Value.Map[0].Value
	if want := (Pos{File: "v.conf", Line: 4, Col: 10}); ref.Pos != want {
		t.Errorf("resolved value at %v, want the reference position %v", ref.Pos, want)
	}
	if ref.Raw != "abc" {
		t.Errorf("resolved value raw = %q, want the definition's %q", ref.Raw, "abc")
	}
	// The definition keeps its own position.
	if want := (Pos{File: "v.conf", Line: 1, Col: 8}); root.Map[0].Value.Pos != want {
		t.Errorf("definition at %v, want %v", root.Map[0].Value.Pos, want)
	}
}

func TestVariableErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		env      map[string]string
		pos      string
		class    error
		msg      string
	}{
		{"undefined", "a: 1\nb: $X", nil, "2:4", ErrVariable, "variable $X is not defined"},
		{"no environment at all", "b: $HOME", nil, "1:4", ErrVariable, "$HOME is not defined"},
		{"self cycle", "a: $A", map[string]string{"A": "$A"}, "1:4", ErrVariable, "variable $A: variable $A refers to itself"},
		{"cycle", "x: 1\na: $A", map[string]string{"A": "$B", "B": "[$A]"}, "2:4", ErrVariable, "reference cycle"},
		{"undefined in env", "a: $A", map[string]string{"A": "$NOPE"}, "1:4", ErrVariable, "variable $A: variable $NOPE is not defined"},
		{"env does not parse", "a: $A", map[string]string{"A": "x y"}, "1:4", ErrSyntax, `variable $A: environment value "x y" does not parse`},
		{"env unclosed", "a: $A", map[string]string{"A": "[1"}, "1:4", ErrVariable, "does not parse"},
		{"env keys do not see file keys", "K: 1\na: $A", map[string]string{"A": "$K"}, "2:4", ErrVariable, "$K is not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := envMap(tt.env)
			if tt.env == nil {
				env = nil
			}
			_, err := Parse("v.conf", []byte(tt.in), env)
			checkError(t, err, "v.conf:"+tt.pos, tt.class, tt.msg)
		})
	}
}

func TestInclude(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"dir/main.conf":  "port: 1\ninclude sub/a.conf\ncluster {\n  include 'sub/c.conf'\n}\ntail: 1\n",
		"dir/sub/a.conf": "include \"b.conf\"\nname: a # from a",
		"dir/sub/b.conf": "{ debug: true }",
		"dir/sub/c.conf": "name: c\nport: $port; n: $name",
	}
	r := Reader{Env: noEnv, ReadFile: memFS(files)}
	got, err := r.ParseFile("dir/main.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := obj("port", num(1), "debug", boo(true), "name", str("a"),
		"cluster", obj("name", str("c"), "port", num(1), "n", str("c")), "tail", num(1))
	if diff := cmp.Diff(want, got, treeOpts); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if want := (Pos{File: filepath.Join("dir", "sub", "b.conf"), Line: 1, Col: 3}); got.Map[1].KeyPos != want {
		t.Errorf("included key at %v, want %v", got.Map[1].KeyPos, want)
	}
	if want := (Pos{File: "dir/main.conf", Line: 6, Col: 1}); got.Map[4].KeyPos != want {
		t.Errorf("key after include at %v, want %v", got.Map[4].KeyPos, want)
	}
	if !got.Map[0].Referenced {
		t.Error("port, referenced from an included file, is not marked Referenced")
	}
}

func TestIncludeErrors(t *testing.T) {
	t.Parallel()
	chain := map[string]string{}
	for i := range MaxIncludeDepth + 1 {
		chain[fmt.Sprintf("c%d.conf", i)] = fmt.Sprintf("x%d: 1\ninclude c%d.conf\n", i, i+1)
	}
	chain[fmt.Sprintf("c%d.conf", MaxIncludeDepth+1)] = "end: 1"
	tests := []struct {
		name  string
		files map[string]string
		pos   string
		class error
		msg   string
	}{
		{"self", map[string]string{"main.conf": "a: 1\ninclude main.conf"}, "main.conf:2:9", ErrInclude, "include cycle"},
		{"cycle", map[string]string{"main.conf": "include x.conf", "x.conf": "\n include ./main.conf"}, "x.conf:2:10", ErrInclude, "include cycle: main.conf"},
		{"missing", map[string]string{"main.conf": "a {\n include nope.conf\n}"}, "main.conf:2:10", fs.ErrNotExist, "include nope.conf"},
		{"syntax error inside", map[string]string{"main.conf": "include bad.conf", "bad.conf": "ok: 1\nbad: [1"}, "bad.conf:2:8", ErrSyntax, "not closed"},
		{"variable error inside", map[string]string{"main.conf": "include bad.conf", "bad.conf": "a: $later\nlater: 1"}, "bad.conf:1:4", ErrVariable, "$later is not defined"},
		{"too deep", chain, fmt.Sprintf("c%d.conf:2:9", MaxIncludeDepth-1), ErrLimit, "includes nest deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Reader{Env: noEnv, ReadFile: memFS(tt.files)}
			name := "main.conf"
			if tt.files["main.conf"] == "" {
				name = "c0.conf"
			}
			_, err := r.ParseFile(name)
			checkError(t, err, tt.pos, tt.class, tt.msg)
		})
	}
}

// TestIncludeOS reads real files: relative paths, nesting, the size cap and
// an include cycle through the OS reader.
func TestIncludeOS(t *testing.T) {
	t.Parallel()
	got, err := Reader{}.ParseFile("testdata/include/main.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := obj("port", num(4222), "accounts", obj("users", arr(obj("user", str("alice")), obj("user", str("bob")))), "debug", boo(true))
	if diff := cmp.Diff(want, got, treeOpts); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	_, err = Reader{}.ParseFile("testdata/include/cycle-a.conf")
	checkError(t, err, filepath.Join("testdata", "include", "cycle-b.conf")+":1:9", ErrInclude, "include cycle")

	_, err = ParseFile("testdata/does-not-exist.conf")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root file: %v, want fs.ErrNotExist", err)
	}
	_, err = Reader{}.Parse("testdata/include/x.conf", []byte("include ../include"))
	if !errors.Is(err, ErrInclude) || !strings.Contains(err.Error(), "x.conf:1:9") {
		t.Errorf("including a directory: %v, want ErrInclude at x.conf:1:9", err)
	}
}
