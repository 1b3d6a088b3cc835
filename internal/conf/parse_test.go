package conf

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Tree builders for expected values. Positions and raw text are compared
// separately (TestPositions), so they are left zero here.
func str(v string) *Node  { return &Node{Kind: String, Str: v} }
func num(v int64) *Node   { return &Node{Kind: Int, Int: v} }
func flt(v float64) *Node { return &Node{Kind: Float, Float: v} }
func boo(v bool) *Node    { return &Node{Kind: Bool, Bool: v} }
func arr(vs ...*Node) *Node {
	return &Node{Kind: Array, Array: vs}
}
func dt(v string) *Node {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		panic(err)
	}
	return &Node{Kind: Time, Time: t}
}

// obj builds a map from alternating keys and values.
func obj(kv ...any) *Node {
	n := &Node{Kind: Map}
	for i := 0; i < len(kv); i += 2 {
		n.Map = append(n.Map, Entry{Key: kv[i].(string), Value: kv[i+1].(*Node)})
	}
	return n
}

// treeOpts compares trees by value only.
var treeOpts = cmp.Options{
	cmpopts.IgnoreFields(Node{}, "Pos", "Raw"),
	cmpopts.IgnoreFields(Entry{}, "KeyPos", "Referenced"),
	cmpopts.EquateEmpty(),
}

func noEnv(string) (string, bool) { return "", false }

func TestParseValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     *Node
	}{
		{"empty", "", obj()},
		{"only comments", "# one\n// two\n\n   # three", obj()},
		{"separators", "a: 1\nb = 2\nc 3\nd:4\ne=5\nf\t6", obj("a", num(1), "b", num(2), "c", num(3), "d", num(4), "e", num(5), "f", num(6))},
		{"terminators", "a: 1, b: 2; c: 3\n", obj("a", num(1), "b", num(2), "c", num(3))},
		{"space before terminator", "a: 1 ;\nb: x ,\n", obj("a", num(1), "b", str("x"))},
		{"crlf", "a: 1\r\nb: two\r\n", obj("a", num(1), "b", str("two"))},
		{"byte order mark", "\xEF\xBB\xBFa: 1", obj("a", num(1))},
		{"wrapped", "{ a: 1 }", obj("a", num(1))},
		{"wrapped multiline", "\n{\n  a: 1\n  b: 2\n}\n# done\n", obj("a", num(1), "b", num(2))},
		{"wrapped twice", "{ { listen: 0.0.0.0:4222 // c\n } # x\n }", obj("listen", str("0.0.0.0:4222"))},
		{"json", `{"port": 4222, "debug": false, "cluster": {"routes": ["nats://a:1", "nats://b:2"],}, "n": [],}`,
			obj("port", num(4222), "debug", boo(false), "cluster", obj("routes", arr(str("nats://a:1"), str("nats://b:2"))), "n", arr())},
		{"quoted keys", `"a b": 1` + "\n'c:d' = 2\n\"\" 3", obj("a b", num(1), "c:d", num(2), "", num(3))},
		{"trailing comments", "a: 1 # one\nb: 2 // two\nc: 3#three", obj("a", num(1), "b", num(2), "c", str("3#three"))},
		{"booleans", "a: true\nb: FALSE\nc: Yes\nd: no\ne: ON\nf: off", obj("a", boo(true), "b", boo(false), "c", boo(true), "d", boo(false), "e", boo(true), "f", boo(false))},
		{"quoted booleans are strings", `a: "true"`, obj("a", str("true"))},
		{"integers", "a: 0\nb: -17\nc: 0042\nd: 9223372036854775807\ne: -9223372036854775808",
			obj("a", num(0), "b", num(-17), "c", num(42), "d", num(math.MaxInt64), "e", num(math.MinInt64))},
		{"floats", "a: 1.5\nb: -0.25\nc: 10.0", obj("a", flt(1.5), "b", flt(-0.25), "c", flt(10))},
		{"datetime", "a: 2024-01-02T03:04:05Z", obj("a", dt("2024-01-02T03:04:05Z"))},
		{"address-like words", "a: 127.0.0.1\nb: 0.0.0.0:4222\nc: nats://host:4222\nd: localhost:4222\ne: 1.2.3\nf: 10.0.0.0/8\ng: ::1",
			obj("a", str("127.0.0.1"), "b", str("0.0.0.0:4222"), "c", str("nats://host:4222"), "d", str("localhost:4222"), "e", str("1.2.3"), "f", str("10.0.0.0/8"), "g", str("::1"))},
		{"duration-like words", "a: 10s\nb: 1h30m\nc: 2m\nd: 500ms\ne: -1s\nf: 1.5k",
			obj("a", str("10s"), "b", str("1h30m"), "c", num(2_000_000), "d", str("500ms"), "e", str("-1s"), "f", str("1.5k"))},
		{"bare strings", "a: hello\nb: foo{bar\nc: $2a$11$abc/def.ghi\nd: x=y:z\ne: ./store", obj("a", str("hello"), "b", str("foo{bar"), "c", str("$2a$11$abc/def.ghi"), "d", str("x=y:z"), "e", str("./store"))},
		{"unicode", "ключ: значение\nk: \"héllo\"", obj("ключ", str("значение"), "k", str("héllo"))},
		{"double quoted escapes", `a: "t\tn\nr\r q\" b\\ x\x41\x7e"`, obj("a", str("t\tn\nr\r q\" b\\ xA~"))},
		{"double quoted spans lines", "a: \"one\ntwo\"", obj("a", str("one\ntwo"))},
		{"double quoted is literal", `a: "$HOME # not a comment, {}[]"`, obj("a", str("$HOME # not a comment, {}[]"))},
		{"single quoted is raw", `a: 'c:\tmp\n $X "q"'`, obj("a", str(`c:\tmp\n $X "q"`))},
		{"empty strings", `a: ""` + "\nb: ''", obj("a", str(""), "b", str(""))},
		{"block string", "a: (\nline one\n  line (two)\n)\nb: 1", obj("a", str("\nline one\n  line (two)"), "b", num(1))},
		{"block string at eof", "a: (\nx\n)", obj("a", str("\nx"))},
		{"block string crlf", "a: (\r\nx\r\n)\r\nb: 1", obj("a", str("\r\nx"), "b", num(1))},
		{"map", "cluster { port: 6222, name: c1 }", obj("cluster", obj("port", num(6222), "name", str("c1")))},
		{"map with separator", "cluster: {\n  port = 6222\n}\nx = {}", obj("cluster", obj("port", num(6222)), "x", obj())},
		{"map without space", "a{b{c:1}}", obj("a", obj("b", obj("c", num(1))))},
		{"map comments", "a {\n # c\n b: 1 # c\n // c\n}", obj("a", obj("b", num(1)))},
		{"array multiline", "a: [\n  1\n  two, 3.5\n  # comment\n  true, // c\n]", obj("a", arr(num(1), str("two"), flt(3.5), boo(true)))},
		{"array inline", "a [1,2 , 3]", obj("a", arr(num(1), num(2), num(3)))},
		{"array trailing comma", "a: [1, 2,]", obj("a", arr(num(1), num(2)))},
		{"array empty", "a: []\nb: [\n]", obj("a", arr(), "b", arr())},
		{"array nested", "a: [[1], [], [[x]]]", obj("a", arr(arr(num(1)), arr(), arr(arr(str("x")))))},
		{"array of maps", "remotes = [\n{ url: \"nats://a:1\" },\n{ urls: [b, c] }\n]",
			obj("remotes", arr(obj("url", str("nats://a:1")), obj("urls", arr(str("b"), str("c")))))},
		{"duplicate keys kept in order", "a: 1\na: 2", obj("a", num(1), "a", num(2))},
		{"include as ordinary key", "include: 1\nINCLUDE = 2", obj("include", num(1), "INCLUDE", num(2))},
		{"quoted include key", `"include" x`, obj("include", str("x"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("t.conf", []byte(tt.in), noEnv)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got, treeOpts); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			roundTrip(t, Reader{Env: noEnv}, []byte(tt.in))
		})
	}
}

func TestSizeSuffixes(t *testing.T) {
	t.Parallel()
	const k, ki = 1000, 1024
	tests := []struct {
		in   string
		want int64
	}{
		{"1k", k}, {"1K", k}, {"1kb", ki}, {"1KB", ki}, {"1ki", ki}, {"1Ki", ki}, {"1kib", ki}, {"1KiB", ki},
		{"3m", 3 * k * k}, {"3mb", 3 * ki * ki}, {"3MI", 3 * ki * ki}, {"3MiB", 3 * ki * ki},
		{"2g", 2 * k * k * k}, {"2GB", 2 << 30}, {"2gi", 2 << 30}, {"2gib", 2 << 30},
		{"1t", 1e12}, {"1tb", 1 << 40}, {"1p", 1e15}, {"1pb", 1 << 50}, {"1e", 1e18}, {"1eb", 1 << 60}, {"7EiB", 7 << 60},
		{"-2k", -2000}, {"-1mb", -(1 << 20)}, {"0g", 0},
		{"9223372036854775k", 9223372036854775000}, {"-9223372036854775k", -9223372036854775000},
	}
	for _, tt := range tests {
		got, err := Parse("", []byte("v: "+tt.in), noEnv)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if v := got.Map[0].Value; v.Kind != Int || v.Int != tt.want || v.Raw != tt.in {
			t.Errorf("%s = %v %d (raw %q), want integer %d", tt.in, v.Kind, v.Int, v.Raw, tt.want)
		}
	}
	// Not a size: these stay strings.
	for _, in := range []string{"1kbb", "1x", "1ms", "1kibi", "1bk"} {
		got, err := Parse("", []byte("v: ["+in+"]"), noEnv)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if v := got.Map[0].Value.Array[0]; v.Kind != String {
			t.Errorf("%s parsed as %v, want a string", in, v.Kind)
		}
	}
}

func TestPositions(t *testing.T) {
	t.Parallel()
	in := "# header\nport: 4222\ncluster {\n  routes = [\n    \"nats://a:1\",\n\tb\n  ]\n}\n  x: 'y'\n"
	root, err := Parse("pos.conf", []byte(in), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	p := func(line, col int) Pos { return Pos{File: "pos.conf", Line: line, Col: col} }
	cluster := root.Map[1].Value
	routes := cluster.Map[0].Value
	checks := []struct {
		what      string
		got, want Pos
	}{
		{"root", root.Pos, p(1, 1)},
		{"key port", root.Map[0].KeyPos, p(2, 1)},
		{"value 4222", root.Map[0].Value.Pos, p(2, 7)},
		{"key cluster", root.Map[1].KeyPos, p(3, 1)},
		{"cluster map", cluster.Pos, p(3, 9)},
		{"key routes", cluster.Map[0].KeyPos, p(4, 3)},
		{"routes array", routes.Pos, p(4, 12)},
		{"route 0", routes.Array[0].Pos, p(5, 5)},
		{"route 1 (after tab)", routes.Array[1].Pos, p(6, 2)},
		{"key x", root.Map[2].KeyPos, p(9, 3)},
		{"value y", root.Map[2].Value.Pos, p(9, 6)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s at %v, want %v", c.what, c.got, c.want)
		}
	}
	if raw := routes.Array[0].Raw; raw != `"nats://a:1"` {
		t.Errorf("raw of quoted route = %q", raw)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		pos      string // "line:col"
		class    error
		msg      string // substring
	}{
		{"key without value", "port", "1:5", ErrSyntax, `missing value for key "port"`},
		{"key without value at eol", "a: 1\nport:  \nb: 2", "2:8", ErrSyntax, `missing value for key "port"`},
		{"value on next line", "port =\n4222", "1:7", ErrSyntax, "missing value"},
		{"value then comment only", "a: # c", "1:4", ErrSyntax, "missing value"},
		{"separator first", "= 1", "1:1", ErrSyntax, `expected a key, found "="`},
		{"comma only", "a: 1\n,", "2:1", ErrSyntax, `expected a key, found ","`},
		{"junk in key", "a}b: 1", "1:2", ErrSyntax, `unexpected "}" after key "a"`},
		{"quoted key open", "\"abc: 1\nb: 2", "1:1", ErrSyntax, "quoted key is not closed"},
		{"two values", "a: 1 2", "1:6", ErrSyntax, `expected a new line, "," or ";" after the value, found "2"`},
		{"stray close", "a: 1\n}", "2:1", ErrSyntax, `unexpected "}" with no open "{"`},
		{"unclosed map", "a {\n  b: 1\n", "3:1", ErrSyntax, `the "{" at 1:3 is not closed`},
		{"unclosed wrapper", "{ a: 1", "1:7", ErrSyntax, `the "{" at 1:1 is not closed`},
		{"junk after wrapper", "{ a: 1 }\nb: 2", "2:1", ErrSyntax, "after the closing"},
		{"unclosed double wrapper", "{{ a: 1 }", "1:10", ErrSyntax, `expected "}" to close the "{" at 1:1`},
		{"unclosed array", "a: [1,\n2", "2:2", ErrSyntax, `the "[" at 1:4 is not closed`},
		{"array leading comma", "a: [,1]", "1:5", ErrSyntax, `unexpected "," in array`},
		{"array double comma", "a: [1,,2]", "1:7", ErrSyntax, `unexpected "," in array`},
		{"array missing comma", "a: [1 2]", "1:7", ErrSyntax, `expected "," or "]" after an array element, found "2"`},
		{"array brace", "a: [1}", "1:6", ErrSyntax, `expected "," or "]"`},
		{"array close brace", "a: [}]", "1:5", ErrSyntax, `expected a value, found "}"`},
		{"quote after value", "a: 1 'x'", "1:6", ErrSyntax, `found "'"`},
		{"invalid utf-8 after value", "a: 1 \xff", "1:6", ErrSyntax, "found byte 0xff"},
		{"unclosed string", "a: 1\nb: \"abc\n", "2:4", ErrSyntax, `string is not closed: missing '"'`},
		{"unclosed raw string", "a: 'abc", "1:4", ErrSyntax, "string is not closed"},
		{"bad escape", `a: "x\qy"`, "1:6", ErrSyntax, `invalid escape \q`},
		{"bad hex escape", `a: "x\xZ1"`, "1:6", ErrSyntax, `escape \x needs two hexadecimal digits, found "Z1"`},
		{"short hex escape", `a: "\x4`, "1:5", ErrSyntax, `escape \x needs two hexadecimal digits`},
		{"escape at eof", `a: "\`, "1:4", ErrSyntax, "string is not closed"},
		{"unclosed block", "a: (\nfoo\n )\n", "1:4", ErrSyntax, "block string is not closed"},
		{"block on one line", "a: (foo)", "1:4", ErrSyntax, "block string is not closed"},
		{"integer overflow", "a: 9223372036854775808", "1:4", ErrValue, `integer "9223372036854775808" is out of range`},
		{"negative overflow", "a: -9223372036854775809", "1:4", ErrValue, "out of range"},
		{"suffix overflow", "a: 9223372036854776k", "1:4", ErrValue, `integer "9223372036854776k" is out of range`},
		{"huge suffix overflow", "a: 8eb", "1:4", ErrValue, "out of range"},
		{"float overflow", "a: 1" + strings.Repeat("0", 400) + ".5", "1:4", ErrValue, "float"},
		{"bad datetime", "a: 2024-13-01T00:00:00Z", "1:4", ErrValue, "invalid datetime"},
		{"partial datetime", "a: 2024-01-02", "1:4", ErrValue, "ISO8601 Zulu"},
		{"long datetime", "a: 2024-01-02T03:04:05Zed", "1:4", ErrValue, "invalid datetime"},
		{"empty variable", "a: $", "1:4", ErrVariable, `"$" must be followed`},
		{"undefined variable", "a: 1\nb: [x, $NOPE]", "2:8", ErrVariable, "variable $NOPE is not defined"},
		{"later key is not in scope", "a: $b\nb: 1", "1:4", ErrVariable, "$b is not defined"},
		{"sibling map is not in scope", "x { v: 1 }\ny { a: $v }", "2:8", ErrVariable, "$v is not defined"},
		{"include without path", "include ;", "1:9", ErrSyntax, "include expects a file path"},
		{"include map", "include {a: 1}", "1:9", ErrSyntax, `include expects a file path, found "{"`},
		{"include unclosed quote", "include 'x.conf", "1:9", ErrSyntax, "include path is not closed"},
		{"include missing file", "a { include nope.conf }", "1:13", ErrInclude, "include nope.conf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Reader{Env: noEnv, ReadFile: memFS(nil)}.Parse("e.conf", []byte(tt.in))
			checkError(t, err, "e.conf:"+tt.pos, tt.class, tt.msg)
		})
	}
}

// checkError asserts err is an *Error at pos ("file:line:col") of the given
// class whose message contains msg.
func checkError(t *testing.T, err error, pos string, class error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s: ...%s", pos, msg)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if got := e.Pos.String(); got != pos {
		t.Errorf("error at %s, want %s (%v)", got, pos, err)
	}
	if !errors.Is(err, class) {
		t.Errorf("error %v is not %v", err, class)
	}
	if !strings.Contains(e.Msg, msg) {
		t.Errorf("error %q does not contain %q", e.Msg, msg)
	}
	if want := pos + ": " + e.Msg; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	deep := func(open, close string, n int) string {
		return "a: " + strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	ok := []string{deep("[", "]", MaxDepth), deep("{b:", "}", MaxDepth)}
	for _, in := range ok {
		if _, err := Parse("", []byte(in), noEnv); err != nil {
			t.Errorf("depth %d: %v", MaxDepth, err)
		}
	}
	bad := []string{
		deep("[", "]", MaxDepth+1),
		deep("{b:", "}", MaxDepth+1),
		deep("[", "]", 100000),
		strings.Repeat("{", 100000),
	}
	for _, in := range bad {
		_, err := Parse("", []byte(in), noEnv)
		if !errors.Is(err, ErrLimit) {
			t.Errorf("input of %d bytes: got %v, want ErrLimit", len(in), err)
		}
	}
	big := make([]byte, MaxFileSize+1)
	if _, err := Parse("big.conf", big, nil); !errors.Is(err, ErrLimit) {
		t.Errorf("oversized input: got %v, want ErrLimit", err)
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	want := map[Kind]string{String: "string", Int: "integer", Float: "float", Bool: "boolean", Time: "datetime", Map: "map", Array: "array", 0: "invalid"}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), s)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	root, err := Parse("", []byte("a: 2MB\nb: 'x y'\nc: On\nd: 1.50\ne: {}\nf: []\ng: 2024-01-02T03:04:05Z"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2MB", "x y", "On", "1.50", "{...}", "[...]", "2024-01-02T03:04:05Z"}
	for i, e := range root.Map {
		if got := e.Value.Text(); got != want[i] {
			t.Errorf("%s: Text() = %q, want %q", e.Key, got, want[i])
		}
	}
	synthetic := []struct {
		n    *Node
		want string
	}{
		{num(-3), "-3"}, {flt(0.5), "0.5"}, {boo(true), "true"}, {dt("2024-01-02T03:04:05Z"), "2024-01-02T03:04:05Z"}, {&Node{}, ""},
	}
	for _, s := range synthetic {
		if got := s.n.Text(); got != s.want {
			t.Errorf("Text() of %v = %q, want %q", s.n.Kind, got, s.want)
		}
	}
}
