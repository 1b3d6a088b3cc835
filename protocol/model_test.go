package protocol

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// This file is a model-based test: a generator draws random ops (the model),
// writes each one in a randomly chosen but valid spelling (op case, runs of
// spaces and TABs, CRLF or bare LF, junk after PING), and the parser, fed the
// stream in random chunks, must return exactly the drawn ops.

type streamGen struct {
	r *rand.Rand
}

func (g *streamGen) token(alphabet string, n int) string {
	var sb strings.Builder
	for range 1 + g.r.IntN(n) {
		sb.WriteByte(alphabet[g.r.IntN(len(alphabet))])
	}
	return sb.String()
}

func (g *streamGen) subject() string { return g.token("abcXYZ.*>_$-0189", 12) }

func (g *streamGen) maybe(s string) string {
	if g.r.IntN(2) == 0 {
		return ""
	}
	return s
}

// name writes an op name in random case.
func (g *streamGen) name(n string) string {
	b := []byte(n)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' && g.r.IntN(2) == 0 {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func (g *streamGen) sep() string {
	s := []string{" ", " ", " ", "\t", "  ", " \t "}
	return s[g.r.IntN(len(s))]
}

func (g *streamGen) eol() string {
	if g.r.IntN(4) == 0 {
		return "\n"
	}
	return "\r\n"
}

// line joins an op name and arguments with random separators.
func (g *streamGen) line(name string, args ...string) string {
	var sb strings.Builder
	sb.WriteString(g.name(name))
	for _, a := range args {
		if a != "" {
			sb.WriteString(g.sep())
			sb.WriteString(a)
		}
	}
	if g.r.IntN(5) == 0 {
		sb.WriteString(g.sep()) // trailing separators are allowed
	}
	sb.WriteString(g.eol())
	return sb.String()
}

func (g *streamGen) payload() string {
	n := g.r.IntN(40)
	if g.r.IntN(20) == 0 {
		n = 10000 + g.r.IntN(20000) // big enough to span several chunks
	}
	const alphabet = "ab\r\n PING\x00\xff"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

// op draws one op accepted by the given set and returns its wire form and
// the record the parser must produce.
func (g *streamGen) op(accept OpSet) (string, rec) {
	for {
		o := Op(1 + g.r.IntN(int(numOps)-1))
		if !accept.Has(o) {
			continue
		}
		r := rec{Op: o}
		switch o {
		case OpInfo, OpConnect:
			r.Arg = `{"k":"` + g.token("abc {}:", 20) + `"}`
			return g.line(o.String(), r.Arg), r
		case OpPub, OpMsg:
			r.Subject, r.Reply, r.Msg = g.subject(), g.maybe(g.subject()), g.payload()
			r.Size = len(r.Msg)
			if o == OpPub {
				return g.line("PUB", r.Subject, r.Reply, strconv.Itoa(r.Size)) + r.Msg + "\r\n", r
			}
			r.Sid = g.token("0123456789", 5)
			return g.line("MSG", r.Subject, r.Sid, r.Reply, strconv.Itoa(r.Size)) + r.Msg + "\r\n", r
		case OpHPub, OpHMsg:
			r.Subject, r.Reply = g.subject(), g.maybe(g.subject())
			hdr := "NATS/1.0\r\nK: " + g.token("vV", 10) + "\r\n\r\n"
			r.Msg = hdr + g.payload()
			r.HeaderSize, r.Size = len(hdr), len(r.Msg)
			sizes := []string{strconv.Itoa(r.HeaderSize), strconv.Itoa(r.Size)}
			if o == OpHPub {
				return g.line("HPUB", r.Subject, r.Reply, sizes[0], sizes[1]) + r.Msg + "\r\n", r
			}
			r.Sid = g.token("0123456789", 5)
			return g.line("HMSG", r.Subject, r.Sid, r.Reply, sizes[0], sizes[1]) + r.Msg + "\r\n", r
		case OpSub:
			r.Subject, r.Queue, r.Sid = g.subject(), g.maybe(g.token("qQ_", 8)), g.token("0123456789", 5)
			return g.line("SUB", r.Subject, r.Queue, r.Sid), r
		case OpUnsub:
			r.Sid = g.token("0123456789", 5)
			if g.r.IntN(2) == 0 {
				r.Max = g.r.IntN(1000000)
				return g.line("UNSUB", r.Sid, strconv.Itoa(r.Max)), r
			}
			return g.line("UNSUB", r.Sid), r
		case OpPing, OpPong, OpOK:
			junk := ""
			if g.r.IntN(5) == 0 {
				junk = g.token("xyz ", 5)
			}
			return g.name(o.String()) + junk + g.eol(), r
		case OpErr:
			r.Arg = g.token("abc \"", 20)
			r.Arg = strings.Trim(r.Arg, " ")
			return g.line("-ERR", "'"+r.Arg+"'"), r
		}
	}
}

func TestModelRandomStreams(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		g := &streamGen{r: rand.New(rand.NewPCG(seed, seed*7919))}
		accept := []OpSet{ClientOps, ServerOps, allOps}[seed%3]
		var stream strings.Builder
		var want []rec
		for range 200 {
			wire, r := g.op(accept)
			stream.WriteString(wire)
			want = append(want, r)
		}
		in := []byte(stream.String())
		var chunks [][]byte
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 1+g.r.IntN([]int{3, 64, 4096}[g.r.IntN(3)]))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		got, err, buffered := parseChunks(Config{Accept: accept}, chunks...)
		if err != nil || buffered != 0 {
			t.Fatalf("seed %d: error %v, buffered %d after %d ops", seed, err, buffered, len(got))
		}
		if !reflect.DeepEqual(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("seed %d: op %d:\n got %v\nwant %v", seed, i, got[i], want[i])
				}
			}
			t.Fatalf("seed %d: %d ops, want %d", seed, len(got), len(want))
		}
	}
}
