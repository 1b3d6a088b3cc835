package interop

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
	"github.com/nats-io/nats.go"
)

// A traffic round checks, across a running cluster, that:
//   - every server's subscriber gets every message published on every
//     server (each ordered pair of servers, and each server to itself)
//     exactly once;
//   - a queue group with one member on every server gets every message
//     exactly once;
//   - a queue group with members on every server but the publisher's gets
//     every message exactly once, never on the publisher's server (so each
//     message crosses a route with a queue list: RMSG acc subj | q);
//   - requests with headers from every server to a responder on every
//     server get their reply (HMSG with a reply subject one way, HMSG back);
//   - every 50th data message is 100 KiB, so route frames span many reads.
//
// Before publishing, a probe barrier makes sure every server knows every
// subscription: each subscriber subscribes to its data subjects and then
// to a probe subject on the same connection, so its server sends the RS+
// for the probe after the data RS+ on each route, in order. Once a probe
// from server P reached the subscriber on X, P has processed X's data RS+.
// After publishing, a second probe from every publisher to every
// subscriber follows the data on the same paths, so once all of those
// arrived no data message from that path is still in flight, and the
// counts can be checked for exact equality once nats.go has run every
// callback (see drained).

// roundTimeout bounds each wait of a traffic round.
const roundTimeout = 10 * time.Second

// Every bigEvery-th data message carries bigPayload bytes of padding, so
// that route frames also span many reads.
const (
	bigEvery   = 50
	bigPayload = 100 << 10
)

// requestsPerPair is how many requests each server's client sends to the
// responder on each server.
const requestsPerPair = 10

// probeEvery is how often the barrier re-sends probes not yet seen.
const probeEvery = 10 * time.Millisecond

// traffic is one round of traffic over a cluster; tag keeps its subjects
// apart from those of earlier rounds.
type traffic struct {
	t     *testing.T
	nodes []*harness.Node
	tag   string
	msgs  int // per publisher and per pattern

	closing atomic.Bool
	mu      sync.Mutex
	errs    []string
	pair    [][][]bool // [subscriber][publisher][seq] delivered
	pairN   [][]int    // [subscriber][publisher] deliveries
	work    [][]int    // [publisher][seq] deliveries to the everywhere group
	far     [][]int    // [publisher][seq] deliveries to the elsewhere group
	workN   int
	farN    int
	probes  [][]bool // [subscriber][publisher] probe seen, current barrier
	nProbes int

	pubs     []*nats.Conn
	subs     []*nats.Conn
	dataSubs []*nats.Subscription // pair and queue subscriptions
}

func runTraffic(t *testing.T, nodes []*harness.Node, tag string, msgs int) {
	t.Helper()
	tr := &traffic{t: t, nodes: nodes, tag: tag, msgs: msgs}
	n := len(nodes)
	tr.pair = make([][][]bool, n)
	tr.pairN = make([][]int, n)
	for i := range n {
		tr.pair[i] = make([][]bool, n)
		for j := range n {
			tr.pair[i][j] = make([]bool, msgs)
		}
		tr.pairN[i] = make([]int, n)
	}
	tr.work = newCounts(n, msgs)
	tr.far = newCounts(n, msgs)
	defer tr.close()

	for i, node := range nodes {
		tr.pubs = append(tr.pubs, tr.connect(node, "pub"))
		tr.subs = append(tr.subs, tr.connect(node, "sub"))
		tr.subscribe(i)
	}
	tr.barrier("ready")
	for p := range nodes {
		tr.publish(p)
	}
	want := n * n * msgs // pair deliveries over all subscribers
	tr.waitFor("all deliveries", func() bool {
		return tr.sumPair() == want && tr.workN == n*msgs && tr.farN == n*msgs
	})
	tr.requests(requestsPerPair)
	tr.barrier("done")
	drained(t, tr.dataSubs...)
	tr.check()
}

func newCounts(n, msgs int) [][]int {
	c := make([][]int, n)
	for i := range c {
		c[i] = make([]int, msgs)
	}
	return c
}

func (tr *traffic) subject(parts ...any) string {
	s := tr.tag
	for _, p := range parts {
		s += "." + fmt.Sprint(p)
	}
	return s
}

// connect opens a client that never reconnects; asynchronous errors and
// closes the round did not ask for are recorded as failures.
func (tr *traffic) connect(node *harness.Node, role string) *nats.Conn {
	tr.t.Helper()
	name := role + "@" + node.Name()
	nc, err := nats.Connect(node.ClientURL(), nats.Name(name), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			tr.fail("%s: async error: %v", name, err)
		}),
		nats.ClosedHandler(func(*nats.Conn) {
			if !tr.closing.Load() {
				tr.fail("%s: closed by the server", name)
			}
		}))
	if err != nil {
		tr.t.Fatalf("connect %s: %v", name, err)
	}
	return nc
}

func (tr *traffic) close() {
	tr.closing.Store(true)
	for _, nc := range append(tr.pubs, tr.subs...) {
		nc.Close()
	}
}

func (tr *traffic) fail(format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.errs) < 20 {
		tr.errs = append(tr.errs, fmt.Sprintf(format, args...))
	}
}

// subscribe sets up server i's subscriber: the pair subjects, both queue
// groups, then the probe subjects last (see the barrier).
func (tr *traffic) subscribe(i int) {
	tr.t.Helper()
	nc := tr.subs[i]
	subs := []struct {
		subj, queue string
		cb          nats.MsgHandler
	}{
		{tr.subject("pair", "*"), "", func(m *nats.Msg) { tr.onPair(i, m) }},
		{tr.subject("work"), "everywhere", func(m *nats.Msg) { tr.onQueue(i, m, false) }},
	}
	for p := range tr.nodes {
		if p != i {
			subs = append(subs, struct {
				subj, queue string
				cb          nats.MsgHandler
			}{tr.subject("far", p), "elsewhere", func(m *nats.Msg) { tr.onQueue(i, m, true) }})
		}
	}
	subs = append(subs, struct {
		subj, queue string
		cb          nats.MsgHandler
	}{tr.subject("svc", i), "", func(m *nats.Msg) { tr.onRequest(i, m) }})
	for _, phase := range []string{"ready", "done"} {
		subs = append(subs, struct {
			subj, queue string
			cb          nats.MsgHandler
		}{tr.subject(phase, i), "", func(m *nats.Msg) { tr.onProbe(i, m) }})
	}
	for _, s := range subs {
		sub, err := nc.QueueSubscribe(s.subj, s.queue, s.cb)
		if err != nil {
			tr.t.Fatalf("subscribe %s on %s: %v", s.subj, tr.nodes[i].Name(), err)
		}
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			tr.t.Fatal(err)
		}
		if strings.Contains(s.subj, ".pair.") || s.queue != "" {
			tr.dataSubs = append(tr.dataSubs, sub)
		}
	}
	if err := nc.FlushTimeout(roundTimeout); err != nil {
		tr.t.Fatalf("flush subscriber on %s: %v", tr.nodes[i].Name(), err)
	}
}

// parse reads the "publisher:seq[|padding]" payload of a data message.
func (tr *traffic) parse(m *nats.Msg) (pub, seq int, ok bool) {
	data, _, _ := strings.Cut(string(m.Data), "|")
	a, b, found := strings.Cut(data, ":")
	p, err1 := strconv.Atoi(a)
	s, err2 := strconv.Atoi(b)
	if !found || err1 != nil || err2 != nil || p < 0 || p >= len(tr.nodes) || s < 0 || s >= tr.msgs {
		tr.fail("bad payload %q on %s", m.Data, m.Subject)
		return 0, 0, false
	}
	return p, s, true
}

func (tr *traffic) onPair(sub int, m *nats.Msg) {
	p, s, ok := tr.parse(m)
	if !ok {
		return
	}
	if m.Subject != tr.subject("pair", p) {
		tr.fail("message of %s arrived on %s", tr.nodes[p].Name(), m.Subject)
	}
	tr.mu.Lock()
	dup := tr.pair[sub][p][s]
	tr.pair[sub][p][s] = true
	tr.pairN[sub][p]++
	tr.mu.Unlock()
	if dup {
		tr.fail("duplicate: %s -> %s message %d", tr.nodes[p].Name(), tr.nodes[sub].Name(), s)
	}
}

func (tr *traffic) onQueue(sub int, m *nats.Msg, far bool) {
	p, s, ok := tr.parse(m)
	if !ok {
		return
	}
	group, counts := "everywhere", tr.work
	if far {
		group, counts = "elsewhere", tr.far
		if p == sub {
			tr.fail("queue %s: message %d of %s delivered on its own server, which has no member",
				group, s, tr.nodes[p].Name())
		}
	}
	tr.mu.Lock()
	counts[p][s]++
	dup := counts[p][s] > 1
	if far {
		tr.farN++
	} else {
		tr.workN++
	}
	tr.mu.Unlock()
	if dup {
		tr.fail("queue %s: message %d of %s delivered twice (second on %s)",
			group, s, tr.nodes[p].Name(), tr.nodes[sub].Name())
	}
}

func (tr *traffic) onProbe(sub int, m *nats.Msg) {
	p, err := strconv.Atoi(string(m.Data))
	if err != nil || p < 0 || p >= len(tr.nodes) {
		tr.fail("bad probe %q", m.Data)
		return
	}
	tr.mu.Lock()
	if tr.probes != nil && !tr.probes[sub][p] {
		tr.probes[sub][p] = true
		tr.nProbes++
	}
	tr.mu.Unlock()
}

// barrier sends probes on the phase subjects from every publisher to every
// subscriber, re-sending the missing ones every probeEvery, until each
// subscriber has one from each publisher.
func (tr *traffic) barrier(phase string) {
	tr.t.Helper()
	n := len(tr.nodes)
	tr.mu.Lock()
	tr.probes = make([][]bool, n)
	for i := range tr.probes {
		tr.probes[i] = make([]bool, n)
	}
	tr.nProbes = 0
	tr.mu.Unlock()
	deadline := time.Now().Add(roundTimeout)
	for {
		var missing [][2]int // {publisher, subscriber}
		tr.mu.Lock()
		for s := range n {
			for p := range n {
				if !tr.probes[s][p] {
					missing = append(missing, [2]int{p, s})
				}
			}
		}
		tr.mu.Unlock()
		tr.checkErrs()
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var names []string
			for _, m := range missing {
				names = append(names, tr.nodes[m[0]].Name()+"->"+tr.nodes[m[1]].Name())
			}
			tr.t.Fatalf("%s: %s barrier timed out, no probe on %v", tr.tag, phase, names)
		}
		for _, m := range missing {
			if err := tr.pubs[m[0]].Publish(tr.subject(phase, m[1]), []byte(strconv.Itoa(m[0]))); err != nil {
				tr.t.Fatalf("%s: probe from %s: %v", tr.tag, tr.nodes[m[0]].Name(), err)
			}
		}
		for _, nc := range tr.pubs {
			_ = nc.FlushTimeout(roundTimeout)
		}
		pace(probeEvery)
	}
}

// onRequest answers a request with its payload and its Fern-Seq header,
// and names the responder in another header.
func (tr *traffic) onRequest(i int, m *nats.Msg) {
	seq := m.Header.Get("Fern-Seq")
	if seq == "" || string(m.Data) != seq {
		tr.fail("request on %s: header %q, payload %q", tr.nodes[i].Name(), seq, m.Data)
	}
	resp := nats.NewMsg(m.Reply)
	resp.Header.Set("Fern-Seq", seq)
	resp.Header.Set("Fern-Responder", strconv.Itoa(i))
	resp.Data = m.Data
	if err := m.RespondMsg(resp); err != nil {
		tr.fail("respond on %s: %v", tr.nodes[i].Name(), err)
	}
}

// requests sends k requests with headers from every server's client to
// the responder on every server and checks each reply: the request and
// its reply subject cross the route one way (HMSG with a reply), the
// response the other way.
func (tr *traffic) requests(k int) {
	tr.t.Helper()
	for p, nc := range tr.pubs {
		for j := range tr.nodes {
			for r := range k {
				seq := fmt.Sprintf("%d-%d-%d", p, j, r)
				req := nats.NewMsg(tr.subject("svc", j))
				req.Header.Set("Fern-Seq", seq)
				req.Data = []byte(seq)
				resp, err := nc.RequestMsg(req, roundTimeout)
				if err != nil {
					tr.t.Fatalf("%s: request %s -> %s: %v", tr.tag, tr.nodes[p].Name(), tr.nodes[j].Name(), err)
				}
				if resp.Header.Get("Fern-Seq") != seq || string(resp.Data) != seq ||
					resp.Header.Get("Fern-Responder") != strconv.Itoa(j) {
					tr.t.Fatalf("%s: request %s -> %s: reply header %v, payload %q, want seq %s from %d",
						tr.tag, tr.nodes[p].Name(), tr.nodes[j].Name(), resp.Header, resp.Data, seq, j)
				}
			}
		}
	}
	tr.checkErrs()
}

// pace waits d between two polls of a bounded polling loop; no outcome
// depends on how long it waits.
func pace(d time.Duration) { <-time.After(d) }

// publish sends publisher p's messages of every pattern and flushes.
func (tr *traffic) publish(p int) {
	tr.t.Helper()
	nc := tr.pubs[p]
	for s := range tr.msgs {
		payload := []byte(fmt.Sprintf("%d:%d", p, s))
		if s%bigEvery == 0 {
			payload = append(payload, '|')
			payload = append(payload, make([]byte, bigPayload)...)
		}
		for _, subj := range []string{tr.subject("pair", p), tr.subject("work"), tr.subject("far", p)} {
			if err := nc.Publish(subj, payload); err != nil {
				tr.t.Fatalf("publish on %s: %v", tr.nodes[p].Name(), err)
			}
		}
	}
	if err := nc.FlushTimeout(roundTimeout); err != nil {
		tr.t.Fatalf("flush publisher on %s: %v", tr.nodes[p].Name(), err)
	}
}

func (tr *traffic) sumPair() int {
	sum := 0
	for _, row := range tr.pairN {
		for _, c := range row {
			sum += c
		}
	}
	return sum
}

// waitFor polls cond (called with tr.mu held) until it holds, a failure is
// recorded, or roundTimeout passes.
func (tr *traffic) waitFor(what string, cond func() bool) {
	tr.t.Helper()
	deadline := time.Now().Add(roundTimeout)
	for {
		tr.mu.Lock()
		ok := cond()
		tr.mu.Unlock()
		tr.checkErrs()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tr.mu.Lock()
			defer tr.mu.Unlock()
			tr.t.Fatalf("%s: timed out waiting for %s: pair deliveries %v (want %d each), "+
				"queue everywhere %d, elsewhere %d (want %d each)",
				tr.tag, what, tr.pairN, tr.msgs, tr.workN, tr.farN, len(tr.nodes)*tr.msgs)
		}
		pace(probeEvery)
	}
}

func (tr *traffic) checkErrs() {
	tr.t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.errs) > 0 {
		tr.t.Fatalf("%s:\n  %s", tr.tag, strings.Join(tr.errs, "\n  "))
	}
}

// check verifies exact counts once the done barrier has drained every path.
func (tr *traffic) check() {
	tr.t.Helper()
	tr.checkErrs()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for s, row := range tr.pairN {
		for p, c := range row {
			if c != tr.msgs {
				tr.t.Errorf("%s: %s -> %s: %d messages, want %d", tr.tag,
					tr.nodes[p].Name(), tr.nodes[s].Name(), c, tr.msgs)
			}
		}
	}
	for name, counts := range map[string][][]int{"everywhere": tr.work, "elsewhere": tr.far} {
		for p, row := range counts {
			var lost, dup []int
			for seq, c := range row {
				switch {
				case c == 0:
					lost = append(lost, seq)
				case c > 1:
					dup = append(dup, seq)
				}
			}
			if len(lost)+len(dup) > 0 {
				tr.t.Errorf("%s: queue %s, publisher %s: %d lost (first %v), %d duplicated (first %v)",
					tr.tag, name, tr.nodes[p].Name(), len(lost), head(lost), len(dup), head(dup))
			}
		}
	}
}

func head(s []int) []int { return s[:min(len(s), 5)] }
