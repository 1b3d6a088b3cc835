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
	r     *rand.Rand
	noAcc bool // route ops are written without an account (pinned route)
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
		default:
			return g.remoteOp(r)
		}
	}
}

// rsep separates route and leaf arguments, which may also be split by CRs.
func (g *streamGen) rsep() string {
	if g.r.IntN(8) == 0 {
		return "\r"
	}
	return g.sep()
}

// rline joins a route or leaf op name and its non-empty arguments with
// random separators (a CR may not follow the name).
func (g *streamGen) rline(name string, args ...string) string {
	var sb strings.Builder
	sb.WriteString(g.name(name))
	sb.WriteString(g.sep())
	first := true
	for _, a := range args {
		if a == "" {
			continue
		}
		if !first {
			sb.WriteString(g.rsep())
		}
		sb.WriteString(a)
		first = false
	}
	if g.r.IntN(5) == 0 {
		sb.WriteString(g.rsep())
	}
	sb.WriteString(g.eol())
	return sb.String()
}

// weight draws a queue weight as written and as parsed (invalid ones are 1).
func (g *streamGen) weight() (string, int) {
	switch g.r.IntN(6) {
	case 0:
		return "0", 1
	case 1:
		return g.token("x-+", 3), 1
	case 2:
		return "1234567890", 1
	case 3:
		return "0007", 7
	}
	n := 1 + g.r.IntN(999999999)
	return strconv.Itoa(n), n
}

// queues draws a queue list as written (random separators) and joined by
// single spaces.
func (g *streamGen) queues() (raw, joined string) {
	names := make([]string, 1+g.r.IntN(8))
	var sb strings.Builder
	for i := range names {
		names[i] = g.token("qQ_.9", 8)
		if i > 0 {
			sb.WriteString(g.rsep())
		}
		sb.WriteString(names[i])
	}
	return sb.String(), strings.Join(names, " ")
}

// remoteOp draws the arguments of a route or leaf op (r.Op).
func (g *streamGen) remoteOp(r rec) (string, rec) {
	o := r.Op
	var args []string
	switch o {
	case OpRLSub, OpRLUnsub, OpRLMsg:
		r.Origin = g.token("C12_", 4)
		args = append(args, r.Origin)
	}
	switch o {
	case OpRSub, OpRUnsub, OpRMsg, OpRHMsg, OpRLSub, OpRLUnsub, OpRLMsg:
		if !g.noAcc {
			r.Account = g.token("$GAB", 5)
			args = append(args, r.Account)
		}
	}
	r.Subject = g.subject()
	args = append(args, r.Subject)
	switch o {
	case OpRSub, OpRLSub, OpLSub:
		if g.r.IntN(2) == 0 {
			var w string
			w, r.Weight = g.weight()
			r.Queue = g.token("qQ_", 8)
			args = append(args, r.Queue, w)
		}
		return g.rline(o.String(), args...), r
	case OpRUnsub, OpRLUnsub, OpLUnsub:
		if g.r.IntN(2) == 0 {
			r.Queue = g.token("qQ_", 8)
			args = append(args, r.Queue)
		}
		return g.rline(o.String(), args...), r
	}
	// A message.
	switch g.r.IntN(5) {
	case 1:
		r.Reply = g.subject()
		args = append(args, r.Reply)
	case 2:
		r.Reply = g.subject()
		r.QueueList, r.Queues = g.queues()
		args = append(args, "+", r.Reply, r.QueueList)
	case 3:
		r.QueueList, r.Queues = g.queues()
		args = append(args, "|", r.QueueList)
	case 4:
		r.Reply = g.subject()
		args = append(args, "+", r.Reply) // no queues
	}
	hdr := ""
	if o != OpRMsg && o != OpLMsg {
		if g.r.IntN(3) > 0 {
			hdr = "NATS/1.0\r\nK: " + g.token("vV", 10) + "\r\n\r\n"
		}
		args = append(args, strconv.Itoa(len(hdr)))
	}
	r.Msg = hdr + g.payload()
	r.HeaderSize, r.Size = len(hdr), len(r.Msg)
	args = append(args, strconv.Itoa(r.Size))
	return g.rline(o.String(), args...) + r.Msg + "\r\n", r
}

func TestModelRandomStreams(t *testing.T) {
	sets := []OpSet{ClientOps, ServerOps, allOps, RouteOps, RouteOps, LeafOps}
	for seed := uint64(1); seed <= 90; seed++ {
		accept := sets[seed%uint64(len(sets))]
		noAcc := seed%uint64(len(sets)) == 4 // the second RouteOps: a pinned-account route
		g := &streamGen{r: rand.New(rand.NewPCG(seed, seed*7919)), noAcc: noAcc}
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
		got, err, buffered := parseChunks(Config{Accept: accept, NoAccount: noAcc}, chunks...)
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
