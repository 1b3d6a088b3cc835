package conf

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// format renders a parsed tree back to config text: keys and strings quoted,
// numbers in decimal. It gives up (false) after budget nodes, since $VAR
// copies can make a small input expand exponentially when printed.
func format(root *Node, budget int) (string, bool) {
	var b strings.Builder
	ok := formatEntries(&b, root.Map, &budget)
	return b.String(), ok
}

func formatEntries(b *strings.Builder, entries []Entry, budget *int) bool {
	for _, e := range entries {
		q := `"`
		if strings.Contains(e.Key, `"`) {
			q = "'"
		}
		b.WriteString(q + e.Key + q + ": ")
		if !formatValue(b, e.Value, budget) {
			return false
		}
		b.WriteString("\n")
	}
	return true
}

func formatValue(b *strings.Builder, n *Node, budget *int) bool {
	if *budget--; *budget < 0 {
		return false
	}
	switch n.Kind {
	case String:
		b.WriteByte('"')
		for i := 0; i < len(n.Str); i++ {
			switch c := n.Str[i]; {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20 || c >= 0x7f:
				b.WriteString(`\x` + strconv.FormatUint(uint64(c)>>4, 16) + strconv.FormatUint(uint64(c)&15, 16))
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	case Int:
		b.WriteString(strconv.FormatInt(n.Int, 10))
	case Float:
		s := strconv.FormatFloat(n.Float, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		b.WriteString(s)
	case Bool:
		b.WriteString(strconv.FormatBool(n.Bool))
	case Time:
		b.WriteString(n.Time.Format(datetimeLayout))
	case Map:
		b.WriteString("{\n")
		if !formatEntries(b, n.Map, budget) {
			return false
		}
		b.WriteString("}")
	case Array:
		b.WriteString("[\n")
		for _, v := range n.Array {
			if !formatValue(b, v, budget) {
				return false
			}
			b.WriteString(",\n")
		}
		b.WriteString("]")
	default:
		panic("format: node of invalid kind")
	}
	return true
}

// checkPositions fails the test if a node or key has no valid position.
func checkPositions(t *testing.T, n *Node, budget *int) {
	if *budget--; *budget < 0 {
		return
	}
	if n.Pos.Line < 1 || n.Pos.Col < 1 || n.Kind < String || n.Kind > Array {
		t.Fatalf("node %+v has an invalid position or kind", n)
	}
	for _, e := range n.Map {
		if e.KeyPos.Line < 1 || e.KeyPos.Col < 1 || e.Value == nil {
			t.Fatalf("entry %q has an invalid position or no value", e.Key)
		}
		checkPositions(t, e.Value, budget)
	}
	for _, v := range n.Array {
		checkPositions(t, v, budget)
	}
}

// roundTrip parses src, prints the tree and parses it again; both trees
// must be equal.
func roundTrip(t *testing.T, r Reader, src []byte) {
	t.Helper()
	root, err := r.Parse("fuzz.conf", src)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T) is not an *Error", err, err)
		}
		if e.Pos.Line < 1 || e.Pos.Col < 1 || e.Err == nil {
			t.Fatalf("error %q has an invalid position or no class", err)
		}
		return
	}
	budget := 100000
	checkPositions(t, root, &budget)
	text, ok := format(root, 100000)
	if !ok {
		return
	}
	again, err := Reader{}.Parse("", []byte(text))
	if err != nil {
		t.Fatalf("reparsing the printed tree failed: %v\ninput: %q\nprinted: %q", err, src, text)
	}
	if diff := cmp.Diff(root, again, treeOpts); diff != "" {
		t.Fatalf("round trip changed the tree (-first +second):\n%s\ninput: %q\nprinted: %q", diff, src, text)
	}
}

// fuzzReader gives fuzz inputs a small environment and include files, so
// variables and includes are exercised without touching the real ones.
func fuzzReader() Reader {
	return Reader{
		Env: envMap(map[string]string{
			"PORT": "4222", "SIZE": "1MB", "LIST": "[1, $PORT]", "MAP": "{a: $SIZE}",
			"LOOP": "$LOOP", "BAD": "x y", "EMPTY": "",
		}),
		ReadFile: memFS(map[string]string{
			"inc.conf":  "port: 1\nnested { a: [1, 2] }",
			"loop.conf": "include loop.conf",
			"vars.conf": "x: $port",
			"bad.conf":  "a: [",
		}),
	}
}

// fuzzSeeds are the repository's config files plus short inputs for each
// syntax feature.
func fuzzSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{
		[]byte("port: 4222\nhost = 0.0.0.0; debug true, max_payload: 2MB\n"),
		[]byte("{ \"a\": [1, 2.5, -3, on, 2024-01-02T03:04:05Z, 'x', \"\\x41\\t\"], b {c: d} }"),
		[]byte("TOKEN: abc\nauth { token: $TOKEN, list: [$TOKEN] }\nenv: [$PORT, $SIZE, $LIST, $MAP]"),
		[]byte("include inc.conf\nsub { include 'vars.conf' }"),
		[]byte("a: $LOOP"), []byte("b: $BAD"), []byte("include loop.conf"),
		[]byte("pem: (\n-----BEGIN-----\nabc\n)\n"),
		[]byte("a: [\n  # c\n  1 // c\n  2,\n]\n"),
		[]byte("\xEF\xBB\xBF{{a:1}}\r\n"),
	}
	for _, glob := range []string{"testdata/*/*.conf", "testdata/*/*/*.conf", "../../testdata/conf/*.conf"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			seeds = append(seeds, data)
		}
	}
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	r := fuzzReader()
	f.Fuzz(func(t *testing.T, src []byte) {
		roundTrip(t, r, src)
	})
}
