package interop

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/fernmq/fern/bench/harness"
)

// Route TLS interop: mixed clusters whose routes are TLS from their first
// byte, as the official server makes them with a cluster tls block. Every
// server presents one certificate as a server and as a client, client
// certificates are required, and one CA verifies both ways.
//
// As in TestClusterCompressionInterop, every route between the seed and a
// Fern node, or each node of a Fern seed, goes through a leafTap, and the
// bytes it relayed are read as TLS records: each connection, both ways,
// must be a well-formed record sequence that starts with a handshake
// record (16 03), and the route must carry the messages as application
// data. Traffic crosses every ordered pair of servers with a random
// 64 KiB payload, checked byte for byte.

// routeTLSPayload is the size of the random payload each ordered pair
// exchanges.
const routeTLSPayload = 64 << 10

// routeTLSCase is one mixed cluster with route TLS on every node.
type routeTLSCase struct {
	name  string
	kinds []string
	// compression is every node's route compression mode ("" keeps the
	// default, accept, so routes do not compress).
	compression string
}

// TestClusterTLSInterop forms mixed clusters with route TLS on every node
// and checks the mesh, the traffic between every ordered pair, the wire of
// the tapped routes, and (on official nodes) the compression each route
// settled on, and that no route handshake failed on the way.
func TestClusterTLSInterop(t *testing.T) {
	const o, f = harness.KindOfficial, harness.KindFern
	tests := []routeTLSCase{
		// The official node dials the Fern seed (tapped), as does the
		// other Fern node; the official node and the second Fern node meet
		// through gossip.
		{"1 official + 2 fern", []string{f, o, f}, ""},
		// The Fern node dials the official seed (tapped); the official
		// nodes pool their routes.
		{"2 official + 1 fern", []string{o, f, o}, ""},
		// Both official nodes dial the Fern seed (tapped) and meet through
		// gossip; every route compresses inside TLS.
		{"2 official + 1 fern, s2_fast on all", []string{f, o, o}, "s2_fast"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runRouteTLS(t, tc) })
	}
}

func runRouteTLS(t *testing.T, tc routeTLSCase) {
	files := writeTLSFiles(t)
	var nodes []*harness.Node
	logs := make([]*routeTLSLog, len(tc.kinds))
	taps := map[int]*leafTap{} // by the index of the node that dials the seed through it
	for i, kind := range tc.kinds {
		logs[i] = &routeTLSLog{}
		spec := harness.NodeSpec{Kind: kind, Name: fmt.Sprintf("%s-%d", kind, i), RetryInterval: fernRetry,
			Compression: tc.compression, TLS: &files, Logger: slog.New(logs[i].handler())}
		if i > 0 {
			route := nodes[0].RouteURL()
			if kind == harness.KindFern || tc.kinds[0] == harness.KindFern {
				tap := newLeafTap(t, strings.TrimPrefix(route, "nats-route://"))
				taps[i] = tap
				route = "nats-route://" + strings.TrimPrefix(tap.URL(), "nats://")
			}
			spec.Routes = []string{route}
		}
		n, err := harness.StartNode(spec)
		if err != nil {
			harness.StopAll(nodes)
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	// Cleanups run last first: the nodes stop before the taps close.
	t.Cleanup(func() { harness.StopAll(nodes) })
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for i, l := range logs {
			t.Logf("%s warnings and errors:\n%s", nodes[i].Name(), l.dump())
		}
		for i, tap := range taps {
			for c := 1; c <= tap.accepted(); c++ {
				for _, dir := range []string{"->", "<-"} {
					b := tap.stream(c, dir)
					t.Logf("route %s -> %s #%d %s: %d bytes, first % x", nodes[i].Name(), nodes[0].Name(),
						c, dir, len(b), b[:min(len(b), 16)])
				}
			}
		}
	})
	if err := harness.WaitMesh(nodes, meshTimeout); err != nil {
		t.Fatal(err)
	}

	rng := newTxRand(t)
	ends := make([]txEnd, len(nodes))
	for i, n := range nodes {
		ends[i] = connectTx(t, n.Name()+" client", n.ClientURL(), n.HasInterest)
	}
	for i := range nodes {
		for j := range nodes {
			if i == j {
				continue
			}
			p := make([]byte, routeTLSPayload)
			for k := range p {
				p[k] = byte(rng.Uint32())
			}
			txSend(t, ends[i], ends[j], fmt.Sprintf("tls.%d.%d", i, j), [][]byte{p})
		}
	}

	for i, tap := range taps {
		checkRouteTLSWire(t, tap, nodes[i].Name()+" -> "+nodes[0].Name())
	}
	want := cmp.Or(tc.compression, "off")
	for _, n := range nodes {
		modes, ok := n.RouteCompression()
		if !ok {
			continue
		}
		for id, ms := range modes {
			for _, m := range ms {
				if m != want {
					t.Errorf("%s: route to %s settled on compression %q, want %q", n.Name(), id, m, want)
				}
			}
		}
	}
	for i, l := range logs {
		if n := l.count(officialTLSRefusal) + l.count(fernTLSRefusal); n > 0 {
			t.Errorf("%s: %d failed route handshakes", nodes[i].Name(), n)
		}
	}
	if err := harness.MeshErr(nodes); err != nil {
		t.Errorf("mesh changed during the test: %v", err)
	}
}

// checkRouteTLSWire checks every connection relayed by tap: both ways a
// well-formed sequence of TLS records from the first byte, starting with a
// handshake record. One of them, the route, must carry at least a payload
// of application data each way (the payloads between the two servers).
func checkRouteTLSWire(t *testing.T, tap *leafTap, what string) {
	t.Helper()
	if tap.accepted() == 0 {
		t.Errorf("%s: no connection through the tap", what)
		return
	}
	carried := false
	for c := 1; c <= tap.accepted(); c++ {
		var app [2]int
		for k, dir := range []string{"->", "<-"} {
			n, err := readTLSRecords(tap.stream(c, dir))
			if err != nil {
				t.Errorf("%s #%d %s: %v", what, c, dir, err)
			}
			app[k] = n
		}
		t.Logf("%s #%d: %d bytes of application data out, %d back", what, c, app[0], app[1])
		if app[0] >= routeTLSPayload && app[1] >= routeTLSPayload {
			carried = true
		}
	}
	if !carried {
		t.Errorf("%s: no connection through the tap carried %d bytes of application data each way", what, routeTLSPayload)
	}
}

// readTLSRecords walks b as TLS records and returns how many bytes of
// application data they hold. b must start with a handshake record
// (content type 22, version 3.x); every record must have a known content
// type (20 to 23), version 3.x and a length within the limit of a
// ciphertext record. A last record cut short is fine: it had not crossed
// yet. An empty b (nothing sent) is no error.
func readTLSRecords(b []byte) (appData int, err error) {
	if len(b) == 0 {
		return 0, nil
	}
	if len(b) < 2 || b[0] != 0x16 || b[1] != 0x03 {
		return 0, fmt.Errorf("starts with % x (%q), want a TLS handshake record (16 03)", b[:min(len(b), 8)], b[:min(len(b), 32)])
	}
	const maxRecord = 16384 + 2048
	at := 0
	for len(b)-at >= 5 {
		typ, major := b[at], b[at+1]
		n := int(b[at+3])<<8 | int(b[at+4])
		if typ < 20 || typ > 23 || major != 3 || n > maxRecord {
			return appData, fmt.Errorf("at byte %d: % x is no TLS record header", at, b[at:at+5])
		}
		if typ == 23 {
			appData += n
		}
		at += 5 + n
	}
	return appData, nil
}

// TestReadTLSRecords checks the wire check itself: clear text and broken
// framing are errors, a cut-short last record is not.
func TestReadTLSRecords(t *testing.T) {
	record := func(typ byte, n int) []byte {
		return append([]byte{typ, 0x03, 0x03, byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name    string
		wire    []byte
		appData int
		bad     bool
	}{
		{"nothing sent", nil, 0, false},
		{"handshake only", record(22, 300), 0, false},
		{"handshake then data", cat(record(22, 300), record(20, 1), record(23, 1000), record(23, 17)), 1017, false},
		{"last record cut short", cat(record(22, 10), record(23, 500)[:200]), 500, false},
		{"clear INFO", []byte("INFO {\"server_id\":\"x\"}\r\n"), 0, true},
		{"data record first", record(23, 10), 0, true},
		{"clear text after the handshake", cat(record(22, 10), []byte("CONNECT {}\r\n")), 0, true},
		{"oversized record", cat(record(22, 10), []byte{23, 3, 3, 0xff, 0xff}), 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readTLSRecords(tc.wire)
			if (err != nil) != tc.bad || (!tc.bad && got != tc.appData) {
				t.Errorf("readTLSRecords = %d, %v; want %d, error %v", got, err, tc.appData, tc.bad)
			}
		})
	}
}

// Refusal: a server whose certificate another CA signed never gets a
// route. A bounded number of dials through a tap must each fail (the
// official server logs each failed route handshake) while neither server
// registers a route.
const (
	// refuseFernDials is how many refused dials a Fern node makes (its
	// redial delay starts at fernRetry and doubles).
	refuseFernDials = 3
	// refuseOfficialDials is how many refused dials an official node makes
	// (it redials an explicit route once a second).
	refuseOfficialDials = 2
	// officialTLSRefusal is what the official server logs for a failed
	// route handshake, as either side (server/client.go doTLSHandshake).
	officialTLSRefusal = "TLS route handshake error"
	// fernTLSRefusal is what Fern logs for a failed handshake.
	fernTLSRefusal = "connection upgrade failed"
)

// TestClusterTLSRefusesOtherCA checks that route TLS keeps out a server
// whose certificate another CA signed, both ways: a Fern node dialling an
// official seed, and an official node dialling a Fern seed.
func TestClusterTLSRefusesOtherCA(t *testing.T) {
	const o, f = harness.KindOfficial, harness.KindFern
	tests := []struct {
		seed, dialer string
		dials        int
	}{
		{o, f, refuseFernDials},
		{f, o, refuseOfficialDials},
	}
	for _, tc := range tests {
		t.Run(tc.dialer+" dials "+tc.seed+" seed", func(t *testing.T) {
			ours, theirs := writeTLSFiles(t), writeTLSFiles(t)
			seedLog, dialerLog := &routeTLSLog{}, &routeTLSLog{}
			seed, err := harness.StartNode(harness.NodeSpec{Kind: tc.seed, Name: tc.seed + "-seed",
				TLS: &ours, Logger: slog.New(seedLog.handler())})
			if err != nil {
				t.Fatal(err)
			}
			tap := newLeafTap(t, strings.TrimPrefix(seed.RouteURL(), "nats-route://"))
			dialer, err := harness.StartNode(harness.NodeSpec{Kind: tc.dialer, Name: tc.dialer + "-other-ca",
				TLS: &theirs, RetryInterval: fernRetry, Logger: slog.New(dialerLog.handler()),
				Routes: []string{"nats-route://" + strings.TrimPrefix(tap.URL(), "nats://")}})
			if err != nil {
				seed.Stop()
				t.Fatal(err)
			}
			nodes := []*harness.Node{seed, dialer}
			t.Cleanup(func() { harness.StopAll(nodes) })
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("%s log:\n%s", seed.Name(), seedLog.dump())
					t.Logf("%s log:\n%s", dialer.Name(), dialerLog.dump())
				}
			})
			official := seedLog
			if tc.dialer == o {
				official = dialerLog
			}
			routed := ""
			noRoute := func() bool {
				for _, n := range nodes {
					if r := n.NumRemotes(); r != 0 && routed == "" {
						routed = fmt.Sprintf("%s registered %d routes", n.Name(), r)
					}
				}
				return routed == ""
			}
			// Once the tap has accepted one dial more than counted, the
			// counted ones are over; the official side has logged each.
			what := fmt.Sprintf("%d refused dials of %s", tc.dials, dialer.Name())
			err = harness.Poll(leafWait, what, func() bool {
				return !noRoute() || tap.accepted() > tc.dials && official.count(officialTLSRefusal) >= tc.dials
			})
			if err != nil {
				t.Fatalf("%v: tap accepted %d, official refusals %d", err, tap.accepted(), official.count(officialTLSRefusal))
			}
			if !noRoute() {
				t.Fatalf("route with another CA: %s", routed)
			}
			fernLog := seedLog
			if tc.seed == o {
				fernLog = dialerLog
			}
			if got := fernLog.count(fernTLSRefusal); got == 0 {
				t.Errorf("Fern logged no %q", fernTLSRefusal)
			}
			t.Logf("official: %s", official.first(officialTLSRefusal))
			t.Logf("fern: %s", fernLog.first(fernTLSRefusal))
			for c := 1; c <= tc.dials; c++ {
				for _, dir := range []string{"->", "<-"} {
					if _, err := readTLSRecords(tap.stream(c, dir)); err != nil {
						t.Errorf("dial #%d %s: %v", c, dir, err)
					}
				}
				if b := tap.stream(c, "->"); len(b) == 0 {
					t.Errorf("dial #%d: the dialer sent nothing, want a TLS ClientHello", c)
				}
			}
		})
	}
}

// routeTLSLog records the warnings and errors of one server (either
// implementation), so a test can count refusals and show them on failure.
// Only warnings and errors are enabled, so the official server runs
// without debug and trace logging.
type routeTLSLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *routeTLSLog) handler() slog.Handler { return routeTLSLogHandler{log: l} }

// count is how many lines contain s.
func (l *routeTLSLog) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// first is the first line that contains s, or "".
func (l *routeTLSLog) first(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

func (l *routeTLSLog) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// routeTLSLogHandler writes records into a routeTLSLog as one line each:
// level, message, then the attributes as key=value.
type routeTLSLogHandler struct {
	log   *routeTLSLog
	attrs string
}

func (h routeTLSLogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h routeTLSLogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message + h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.log.mu.Lock()
	h.log.lines = append(h.log.lines, b.String())
	h.log.mu.Unlock()
	return nil
}

func (h routeTLSLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	return routeTLSLogHandler{log: h.log, attrs: b.String()}
}

func (h routeTLSLogHandler) WithGroup(string) slog.Handler { return h }
