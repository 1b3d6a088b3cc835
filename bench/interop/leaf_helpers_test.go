package interop

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
	"github.com/nats-io/nats.go"
)

// Helpers of the leaf interop tests (leaf_test.go):
//
//   - leafTap: a TCP relay between a leaf and its hub that records both
//     directions, so a failing test shows the leaf protocol exchange
//     (control lines; payloads are skipped by their size);
//   - leafPeer: a nats.go client whose subscriptions all deliver into one
//     channel, read by one goroutine that records every message, so the
//     arrival of a fence message proves every earlier message on that
//     connection has been recorded (a server keeps the order of what one
//     publisher sends along one path);
//   - leafBook: what every peer received, checked for exactly-once
//     delivery.

// leafWait bounds every wait on server state in the leaf tests.
const leafWait = 10 * time.Second

// leafWaitFor polls cond every few milliseconds, failing the test after
// leafWait with what and, if tap is not nil, the wire exchange.
func leafWaitFor(t *testing.T, tap *leafTap, what string, cond func() bool) {
	t.Helper()
	if err := harness.Poll(leafWait, what, cond); err != nil {
		if tap != nil {
			t.Logf("wire (leaf -> hub is \"->\"):\n%s", tap.transcript())
		}
		t.Fatal(err)
	}
}

// startLeafServer starts a server of a leaf topology, without leaf
// compression and (official leaf) without discovered hub URLs, stopped
// when the test ends.
func startLeafServer(t *testing.T, spec harness.LeafSpec) *harness.LeafServer {
	t.Helper()
	// The taps read the protocol, and a leaf must redial through its tap.
	spec.NoCompression, spec.IgnoreDiscovered = true, true
	s, err := harness.StartLeafServer(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// leafTap relays the connections a leaf opens to its hub and records
// what each side sends.
type leafTap struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  int
	chunks []leafTapChunk
	socks  []net.Conn
	// down refuses new connections (closed at once), as a link that
	// stays cut would.
	down bool
}

type leafTapChunk struct {
	at   time.Time
	conn int
	dir  string // "->" leaf to hub, "<-" hub to leaf
	data []byte
}

// newLeafTap relays to target (a nats://host:port URL) until the test
// ends.
func newLeafTap(t *testing.T, target string) *leafTap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &leafTap{ln: ln, target: strings.TrimPrefix(target, "nats://")}
	tp.wg.Add(1)
	go tp.acceptLoop()
	t.Cleanup(tp.close)
	return tp
}

// URL is the hub URL that goes through the tap.
func (tp *leafTap) URL() string { return "nats://" + tp.ln.Addr().String() }

func (tp *leafTap) acceptLoop() {
	defer tp.wg.Done()
	for {
		c, err := tp.ln.Accept()
		if err != nil {
			return
		}
		tp.mu.Lock()
		down := tp.down
		tp.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", tp.target)
		if err != nil {
			c.Close()
			continue
		}
		tp.mu.Lock()
		tp.conns++
		id := tp.conns
		tp.socks = append(tp.socks, c, up)
		tp.mu.Unlock()
		tp.wg.Add(2)
		go tp.pipe(id, "->", up, c)
		go tp.pipe(id, "<-", c, up)
	}
}

func (tp *leafTap) pipe(id int, dir string, dst, src net.Conn) {
	defer tp.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			tp.mu.Lock()
			tp.chunks = append(tp.chunks, leafTapChunk{time.Now(), id, dir, bytes.Clone(buf[:n])})
			tp.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	// One side ended: end both, so the other pipe returns too.
	src.Close()
	dst.Close()
}

func (tp *leafTap) close() {
	_ = tp.ln.Close()
	tp.mu.Lock()
	for _, c := range tp.socks {
		_ = c.Close()
	}
	tp.mu.Unlock()
	tp.wg.Wait()
}

// cut closes every connection relayed so far, as a network failure would;
// the tap goes on accepting.
func (tp *leafTap) cut() {
	tp.mu.Lock()
	socks := tp.socks
	tp.socks = nil
	tp.mu.Unlock()
	for _, c := range socks {
		_ = c.Close()
	}
}

// setDown cuts the link and keeps it cut (down) or lets the leaf redial
// (up).
func (tp *leafTap) setDown(down bool) {
	tp.mu.Lock()
	tp.down = down
	tp.mu.Unlock()
	if down {
		tp.cut()
	}
}

// accepted is how many leaf connections the tap has relayed.
func (tp *leafTap) accepted() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.conns
}

// leafWireOp is one protocol line seen on the wire (payloads left out).
type leafWireOp struct {
	at   time.Time
	conn int
	dir  string
	line string
}

// ops splits what was recorded into protocol lines per connection and
// direction, skipping message payloads by the size their line announces.
func (tp *leafTap) ops() []leafWireOp {
	type stream struct {
		pend []byte
		skip int
	}
	tp.mu.Lock()
	chunks := slices.Clone(tp.chunks)
	tp.mu.Unlock()
	streams := map[string]*stream{}
	var out []leafWireOp
	for _, c := range chunks {
		key := strconv.Itoa(c.conn) + c.dir
		st := streams[key]
		if st == nil {
			st = &stream{}
			streams[key] = st
		}
		st.pend = append(st.pend, c.data...)
		for {
			if st.skip > 0 {
				n := min(st.skip, len(st.pend))
				st.pend, st.skip = st.pend[n:], st.skip-n
				if st.skip > 0 {
					break
				}
				continue
			}
			i := bytes.Index(st.pend, []byte("\r\n"))
			if i < 0 {
				break
			}
			line := string(st.pend[:i])
			st.pend = st.pend[i+2:]
			out = append(out, leafWireOp{c.at, c.conn, c.dir, line})
			st.skip = leafPayloadSize(line)
		}
	}
	return out
}

// leafPayloadSize is the number of bytes (payload and CRLF) that follow a
// message line, or 0 for other lines.
func leafPayloadSize(line string) int {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	switch strings.ToUpper(f[0]) {
	case "LMSG", "HMSG", "MSG", "RMSG", "PUB", "HPUB":
		n, err := strconv.Atoi(f[len(f)-1])
		if err != nil {
			return 0
		}
		return n + 2
	}
	return 0
}

// count is how many lines went in direction dir ("->" or "<-") whose
// first two fields are op and subject (subject "" matches any).
func (tp *leafTap) count(dir, op, subject string) int {
	n := 0
	for _, o := range tp.ops() {
		f := strings.Fields(o.line)
		if o.dir == dir && len(f) >= 2 && f[0] == op && (subject == "" || f[1] == subject) {
			n++
		}
	}
	return n
}

// last is the last interest line (LS+ or LS-) for subject that went in
// direction dir, or "".
func (tp *leafTap) last(dir, subject string) string {
	line := ""
	for _, o := range tp.ops() {
		f := strings.Fields(o.line)
		if o.dir == dir && len(f) >= 2 && (f[0] == "LS+" || f[0] == "LS-") && f[1] == subject {
			line = o.line
		}
	}
	return line
}

// pingsAnswered reports whether each direction of connection conn has
// carried at least one PING and the other direction at least as many PONGs.
func (tp *leafTap) pingsAnswered(conn int) bool {
	n := map[string]int{}
	for _, o := range tp.ops() {
		if o.conn == conn && (o.line == "PING" || o.line == "PONG") {
			n[o.dir+o.line]++
		}
	}
	return n["->PING"] > 0 && n["<-PING"] > 0 && n["<-PONG"] >= n["->PING"] && n["->PONG"] >= n["<-PING"]
}

// errLines are the -ERR lines seen in either direction.
func (tp *leafTap) errLines() []string {
	var errs []string
	for _, o := range tp.ops() {
		if strings.HasPrefix(o.line, "-ERR") {
			errs = append(errs, fmt.Sprintf("#%d %s %s", o.conn, o.dir, o.line))
		}
	}
	return errs
}

// transcript renders the recorded exchange, one protocol line per row,
// long lines shortened, leaving out the official server's $SYS interest
// and the message lines of bulk traffic beyond the first few per
// direction.
func (tp *leafTap) transcript() string {
	var b strings.Builder
	msgs := map[string]int{}
	left := 0
	for _, o := range tp.ops() {
		line := o.line
		if strings.HasPrefix(line, "LS+ $SYS.") || strings.HasPrefix(line, "LS- $SYS.") {
			left++
			continue
		}
		if leafPayloadSize(line) > 0 {
			k := strconv.Itoa(o.conn) + o.dir
			if msgs[k]++; msgs[k] > 20 {
				left++
				continue
			}
		}
		if len(line) > 160 {
			line = line[:160] + "…"
		}
		fmt.Fprintf(&b, "%s #%d %s %s\n", o.at.Format("05.000000"), o.conn, o.dir, line)
	}
	fmt.Fprintf(&b, "(%d lines left out: $SYS interest, bulk messages)\n", left)
	return b.String()
}

// leafBook records what every peer received.
type leafBook struct {
	mu sync.Mutex
	// got counts deliveries: [peer "|" subscription subject "|" queue][payload].
	got map[string]map[string]int
	// fences are the fence payloads each peer has seen.
	fences map[string]map[string]bool
	errs   []string
}

func newLeafBook() *leafBook {
	return &leafBook{got: map[string]map[string]int{}, fences: map[string]map[string]bool{}}
}

// leafFenceSubject is the subject on which peer receives fence messages.
func leafFenceSubject(peer string) string { return "fence." + peer }

func (bk *leafBook) record(peer string, m *nats.Msg) {
	bk.mu.Lock()
	defer bk.mu.Unlock()
	if m.Subject == leafFenceSubject(peer) {
		if bk.fences[peer] == nil {
			bk.fences[peer] = map[string]bool{}
		}
		bk.fences[peer][string(m.Data)] = true
		return
	}
	data := string(m.Data)
	// Payloads published with a header carry it as Seq: <payload>.
	if h := m.Header.Get("Seq"); h != "" && h != data {
		bk.errs = append(bk.errs, fmt.Sprintf("%s: %s: header Seq %q on payload %q", peer, m.Subject, h, data))
	}
	key := peer + "|" + m.Sub.Subject + "|" + m.Sub.Queue
	if bk.got[key] == nil {
		bk.got[key] = map[string]int{}
	}
	bk.got[key][data]++
}

// delivered is how many messages with payloads in want the subscriptions
// in keys received, in total.
func (bk *leafBook) delivered(keys []string, want []string) int {
	bk.mu.Lock()
	defer bk.mu.Unlock()
	n := 0
	for _, k := range keys {
		for _, p := range want {
			n += bk.got[k][p]
		}
	}
	return n
}

func (bk *leafBook) fenced(peer, token string) bool {
	bk.mu.Lock()
	defer bk.mu.Unlock()
	return bk.fences[peer][token]
}

// exactlyOnce reports, for the subscriptions in keys taken together,
// every payload of want not received exactly once, and any payload
// received that is not in want (at most a few of each).
func (bk *leafBook) exactlyOnce(keys []string, want []string) []string {
	bk.mu.Lock()
	defer bk.mu.Unlock()
	total := map[string]int{}
	for _, k := range keys {
		for p, n := range bk.got[k] {
			total[p] += n
		}
	}
	var bad []string
	for _, p := range want {
		if total[p] != 1 {
			bad = append(bad, fmt.Sprintf("%q x%d", p, total[p]))
		}
		delete(total, p)
	}
	for _, p := range slices.Sorted(maps.Keys(total)) {
		bad = append(bad, fmt.Sprintf("unexpected %q x%d", p, total[p]))
	}
	bad = append(bad, bk.errs...)
	return bad[:min(len(bad), 10)]
}

// leafPeer is a client of one server whose subscriptions all deliver, in
// arrival order, into the book.
type leafPeer struct {
	name string
	srv  *harness.LeafServer
	nc   *nats.Conn
	ch   chan *nats.Msg
	book *leafBook
}

// leafPeerBuffer is the delivery channel's capacity: more than any test
// has in flight, so nats.go never drops.
const leafPeerBuffer = 1 << 14

// newLeafPeer connects a peer to srv and subscribes it to its fence
// subject; the connection closes when the test ends.
func newLeafPeer(t *testing.T, book *leafBook, srv *harness.LeafServer, name string) *leafPeer {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL(), nats.Name(name), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			book.mu.Lock()
			book.errs = append(book.errs, fmt.Sprintf("%s: async error: %v", name, err))
			book.mu.Unlock()
		}))
	if err != nil {
		t.Fatalf("connect %s to %s: %v", name, srv.Name(), err)
	}
	p := &leafPeer{name: name, srv: srv, nc: nc, ch: make(chan *nats.Msg, leafPeerBuffer), book: book}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case m := <-p.ch:
				book.record(name, m)
			case <-quit:
				return
			}
		}
	}()
	t.Cleanup(func() {
		nc.Close()
		close(quit)
		<-done
	})
	p.sub(t, leafFenceSubject(name), "")
	return p
}

// sub subscribes the peer (to a queue group if queue is not empty) and
// flushes, so its server has the subscription.
func (p *leafPeer) sub(t *testing.T, subject, queue string) *nats.Subscription {
	t.Helper()
	var s *nats.Subscription
	var err error
	if queue == "" {
		s, err = p.nc.ChanSubscribe(subject, p.ch)
	} else {
		s, err = p.nc.ChanQueueSubscribe(subject, queue, p.ch)
	}
	if err != nil {
		t.Fatalf("%s: subscribe %s %s: %v", p.name, subject, queue, err)
	}
	if err := p.nc.Flush(); err != nil {
		t.Fatalf("%s: flush: %v", p.name, err)
	}
	return s
}

// key names one of the peer's subscriptions in the book.
func (p *leafPeer) key(subject, queue string) string { return p.name + "|" + subject + "|" + queue }

// publish sends payloads to subject; every third one carries a header.
func (p *leafPeer) publish(t *testing.T, subject string, leafPayloads []string) {
	t.Helper()
	for i, pl := range leafPayloads {
		var err error
		if i%3 == 2 {
			m := nats.NewMsg(subject)
			m.Data = []byte(pl)
			m.Header.Set("Seq", pl)
			err = p.nc.PublishMsg(m)
		} else {
			err = p.nc.Publish(subject, []byte(pl))
		}
		if err != nil {
			t.Fatalf("%s: publish %s: %v", p.name, subject, err)
		}
	}
	if err := p.nc.Flush(); err != nil {
		t.Fatalf("%s: flush: %v", p.name, err)
	}
}

// fence sends a fence from p to each of peers and waits until each has
// seen it: then every message p published earlier to a subject they
// subscribe has been recorded.
func (p *leafPeer) fence(t *testing.T, tap *leafTap, peers ...*leafPeer) {
	t.Helper()
	token := fmt.Sprintf("from-%s-%d", p.name, time.Now().UnixNano())
	for _, q := range peers {
		subj := leafFenceSubject(q.name)
		leafWaitFor(t, tap, p.srv.Name()+" knows "+subj, func() bool { return p.srv.HasInterest(subj) })
		if err := p.nc.Publish(subj, []byte(token)); err != nil {
			t.Fatalf("%s: publish fence: %v", p.name, err)
		}
	}
	for _, q := range peers {
		leafWaitFor(t, tap, "fence from "+p.name+" at "+q.name, func() bool { return q.book.fenced(q.name, token) })
	}
}

// leafPayloads are n distinct payloads tagged with tag.
func leafPayloads(tag string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = tag + ":" + strconv.Itoa(i)
	}
	return out
}
