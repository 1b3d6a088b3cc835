package interop

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fernmq/fern/bench/harness"
)

// Transport interop: S2 compression and TLS on leaf connections between
// Fern and official servers, in both directions, and route compression in
// mixed clusters.
//
// Every leaf dials its hub through a leafTap, and routes that involve a
// Fern node dial the seed through one, so the tests read the wire: the
// INFO exchange in the clear, then an S2 stream (decoded chunk by chunk,
// checksums verified) or TLS records. Bursts of 3 x 256 KiB of zeros show
// whether each direction really compresses: a few hundred bytes on the
// wire with any S2 level, at least the payload without compression. The
// official server's own account of the mode it settled on (leafz, routez)
// is checked as well. Traffic in every direction is random, compressible
// and checked byte for byte.

// leafTxCase is one leaf pairing for runLeafTx.
type leafTxCase struct {
	name              string
	hubKind, leafKind string
	// hubMode and leafMode are the leaf compression modes ("" is the
	// default, s2_auto) of the hub's listener and the leaf's remote.
	hubMode, leafMode string
	// tls puts the leaf connection under TLS, the hub verifying the
	// leaf's client certificate.
	tls bool
	// framed: both directions switch to S2 after the INFO exchange.
	framed bool
	// shrinks: both directions compress the zero bursts (else neither
	// does). Not checked when auto.
	shrinks bool
	// auto: the level follows the round trip. On loopback s2_auto picks
	// uncompressed framing, but a slow -race run may pick a compressing
	// level, so only the framing is checked.
	auto bool
	// officialMode is the mode the official server's leaf connection
	// must settle on; "s2_*" is any S2 level.
	officialMode string
}

func TestLeafCompressionInterop(t *testing.T) {
	const o, f = harness.KindOfficial, harness.KindFern
	tests := []leafTxCase{
		{name: "official leaf on fern hub: default s2_auto both", hubKind: f, leafKind: o,
			framed: true, auto: true, officialMode: "s2_*"},
		{name: "official leaf on fern hub: s2_fast both", hubKind: f, leafKind: o, hubMode: "s2_fast", leafMode: "s2_fast",
			framed: true, shrinks: true, officialMode: "s2_fast"},
		{name: "official leaf on fern hub: official s2_best, fern s2_fast", hubKind: f, leafKind: o, hubMode: "s2_fast", leafMode: "s2_best",
			framed: true, shrinks: true, officialMode: "s2_best"},
		{name: "official leaf on fern hub: fern off", hubKind: f, leafKind: o, hubMode: "off",
			officialMode: fernHubOff},
		{name: "fern leaf on official hub: default s2_auto both", hubKind: o, leafKind: f,
			framed: true, auto: true, officialMode: "s2_*"},
		{name: "fern leaf on official hub: s2_fast both", hubKind: o, leafKind: f, hubMode: "s2_fast", leafMode: "s2_fast",
			framed: true, shrinks: true, officialMode: "s2_fast"},
		{name: "fern leaf on official hub: official s2_best, fern s2_fast", hubKind: o, leafKind: f, hubMode: "s2_best", leafMode: "s2_fast",
			framed: true, shrinks: true, officialMode: "s2_best"},
		{name: "fern leaf on official hub: fern off", hubKind: o, leafKind: f, leafMode: "off",
			officialMode: "off"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runLeafTx(t, tc) })
	}
}

func TestLeafTLSInterop(t *testing.T) {
	const o, f = harness.KindOfficial, harness.KindFern
	tests := []leafTxCase{
		{name: "official leaf on fern hub: tls", hubKind: f, leafKind: o, hubMode: "off", leafMode: "off",
			tls: true, officialMode: fernHubOff},
		{name: "official leaf on fern hub: tls + s2_fast", hubKind: f, leafKind: o, hubMode: "s2_fast", leafMode: "s2_fast",
			tls: true, shrinks: true, officialMode: "s2_fast"},
		{name: "fern leaf on official hub: tls", hubKind: o, leafKind: f, hubMode: "off", leafMode: "off",
			tls: true, officialMode: "off"},
		{name: "fern leaf on official hub: tls + s2_fast", hubKind: o, leafKind: f, hubMode: "s2_fast", leafMode: "s2_fast",
			tls: true, shrinks: true, officialMode: "s2_fast"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runLeafTx(t, tc) })
	}
}

// TestLeafTLSVerifiesClientCert: a hub that verifies client certificates
// refuses a leaf that has none, on every attempt, while the same leaf
// with a certificate attaches (TestLeafTLSInterop).
func TestLeafTLSVerifiesClientCert(t *testing.T) {
	for _, tc := range []struct{ name, hubKind, leafKind string }{
		{"official leaf on fern hub", harness.KindFern, harness.KindOfficial},
		{"fern leaf on official hub", harness.KindOfficial, harness.KindFern},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := writeTLSFiles(t)
			noCert := files
			noCert.ClientCert, noCert.ClientKey = "", ""
			hub := startTxLeafServer(t, harness.LeafSpec{Kind: tc.hubKind, Name: "hub-" + tc.hubKind,
				LeafListen: true, TLS: &files})
			tap := newLeafTap(t, hub.LeafURL())
			leaf := startTxLeafServer(t, harness.LeafSpec{Kind: tc.leafKind, Name: "leaf-" + tc.leafKind,
				Hubs: []string{tap.URL()}, TLS: &noCert, ReconnectInterval: leafReconnect})
			attached := false
			err := harness.Poll(txWait, "three refused attempts", func() bool {
				attached = attached || hub.NumLeafs() > 0
				return tap.accepted() >= 3
			})
			if err != nil {
				t.Fatal(err)
			}
			if attached || hub.NumLeafs() > 0 {
				t.Fatalf("hub accepted a leaf without a client certificate (leaf reports %d connections)\n%s",
					leaf.NumLeafs(), describeWire(tap, 1))
			}
			// Each attempt got as far as the TLS handshake: the hub's INFO
			// in the clear, then the leaf's ClientHello.
			if up := tap.stream(1, "->"); !isTLSRecord(up) {
				t.Fatalf("leaf's first bytes %q, want a TLS handshake record", up[:min(len(up), 16)])
			}
		})
	}
}

// startTxLeafServer starts a server of a leaf topology that keeps to its
// configured hub URLs, stopped when the test ends.
func startTxLeafServer(t *testing.T, spec harness.LeafSpec) *harness.LeafServer {
	t.Helper()
	spec.IgnoreDiscovered = true
	s, err := harness.StartLeafServer(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// runLeafTx attaches a leaf to a hub through a tap as tc says, carries
// payloads and zero bursts both ways, and checks deliveries, what crossed
// the wire and the official server's settled mode.
func runLeafTx(t *testing.T, tc leafTxCase) {
	var files *harness.TLSFiles
	if tc.tls {
		f := writeTLSFiles(t)
		files = &f
	}
	hub := startTxLeafServer(t, harness.LeafSpec{Kind: tc.hubKind, Name: "hub-" + tc.hubKind,
		LeafListen: true, Compression: tc.hubMode, TLS: files})
	tap := newLeafTap(t, hub.LeafURL())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("wire (leaf -> hub is \"->\"):\n%s", describeWire(tap, 1))
		}
	})
	leaf := startTxLeafServer(t, harness.LeafSpec{Kind: tc.leafKind, Name: "leaf-" + tc.leafKind,
		Hubs: []string{tap.URL()}, Compression: tc.leafMode, TLS: files, ReconnectInterval: leafReconnect})
	if err := harness.Poll(txWait, "leaf attached", func() bool { return hub.NumLeafs() == 1 && leaf.NumLeafs() == 1 }); err != nil {
		t.Fatal(err)
	}

	rng := newTxRand(t)
	atHub := connectTx(t, "hub client", hub.ClientURL(), hub.HasInterest)
	atLeaf := connectTx(t, "leaf client", leaf.ClientURL(), leaf.HasInterest)
	up, down := txPayloads(rng), txPayloads(rng)
	txSend(t, atLeaf, atHub, "tx.up", up)
	txSend(t, atHub, atLeaf, "tx.down", down)
	upWire := txBurst(t, tap, "->", atLeaf, atHub, "tx.zeros.up")
	downWire := txBurst(t, tap, "<-", atHub, atLeaf, "tx.zeros.down")
	t.Logf("%d bytes of zeros took %d bytes leaf -> hub, %d bytes hub -> leaf", burstRaw, upWire, downWire)
	if !tc.auto {
		checkShrink(t, "leaf -> hub", upWire, tc.shrinks)
		checkShrink(t, "hub -> leaf", downWire, tc.shrinks)
	}

	official := hub
	if tc.leafKind == harness.KindOfficial {
		official = leaf
	}
	modes, _ := official.LeafCompression()
	if len(modes) != 1 || !modeMatches(modes[0], tc.officialMode) {
		t.Errorf("official %s settled on leaf compression %q, want %q", official.Name(), modes, tc.officialMode)
	}
	if n := tap.accepted(); n != 1 {
		t.Errorf("leaf opened %d connections, want 1", n)
	}
	if tc.tls {
		checkTLSWire(t, tap, up, down)
		return
	}
	checkLeafS2Wire(t, tap, tc, len(up), len(down))
}

// fernHubOff is what an official leaf settles on with a Fern hub whose
// leaf compression is off: like an official hub, Fern announces
// "compression":"off" and the leaf settles on "off".
const fernHubOff = "off"

// modeMatches reports whether a settled mode is one of want's
// alternatives (separated by "|"; "s2_*" is any S2 level).
func modeMatches(mode, want string) bool {
	for _, w := range strings.Split(want, "|") {
		if w == mode || w == "s2_*" && strings.HasPrefix(mode, "s2_") && mode != "s2_auto" {
			return true
		}
	}
	return false
}

// checkLeafS2Wire checks both directions of the leaf connection. Framed:
// the INFO exchange alone in the clear, each INFO announcing its side's
// configured mode, then an S2 stream that starts with the leaf's CONNECT
// and the hub's INFO again and carries every message (compressed chunks
// when tc.shrinks). Not framed: everything in the clear.
func checkLeafS2Wire(t *testing.T, tap *leafTap, tc leafTxCase, nUp, nDown int) {
	t.Helper()
	for _, d := range []struct {
		dir, firstOp, mode string
		subjects           map[string]int
	}{
		{"->", "CONNECT", tc.leafMode, map[string]int{"tx.up": nUp + 1, "tx.zeros.up": burstMsgs + 1}},
		{"<-", "INFO", tc.hubMode, map[string]int{"tx.down": nDown + 1, "tx.zeros.down": burstMsgs + 1}},
	} {
		w := readS2Wire(tap.stream(1, d.dir))
		clear := protoLines(w.clear)
		if w.err != nil || w.framed != tc.framed {
			t.Errorf("%s: S2 stream %v (err %v), want %v", d.dir, w.framed, w.err, tc.framed)
			continue
		}
		lines := clear
		if tc.framed {
			if ops := opsOf(clear); !slices.Equal(ops, []string{"INFO"}) || !bytes.HasSuffix(w.clear, []byte("\r\n")) {
				t.Errorf("%s: before the S2 stream %q, want one INFO line", d.dir, ops)
				continue
			}
			want := cmp.Or(d.mode, "s2_auto")
			if got := infoField(clear[0], "compression"); got != want {
				t.Errorf("%s: INFO in the clear announces compression %q, want %q", d.dir, got, want)
			}
			lines = protoLines(w.plain)
			if len(lines) == 0 || opsOf(lines)[0] != d.firstOp {
				t.Errorf("%s: S2 stream starts with %q, want %s", d.dir, lines[:min(len(lines), 1)], d.firstOp)
				continue
			}
			if d.dir == "<-" {
				if got := infoField(lines[0], "compression"); got != cmp.Or(tc.hubMode, "s2_auto") {
					t.Errorf("<-: compressed INFO announces compression %q, want %q", got, cmp.Or(tc.hubMode, "s2_auto"))
				}
			}
			if tc.shrinks && w.compressed == 0 {
				t.Errorf("%s: S2 stream of %d uncompressed chunks, want compressed ones", d.dir, w.uncompressed)
			}
		}
		for subj, want := range d.subjects {
			if got := countMsgs(lines, subj); got != want {
				t.Errorf("%s: %d messages on %s in the stream, want %d", d.dir, got, subj, want)
			}
		}
	}
}

// infoField is a string field of an INFO line's JSON ("" if absent).
func infoField(line, field string) string {
	_, js, _ := strings.Cut(line, " ")
	var m map[string]any
	if json.Unmarshal([]byte(js), &m) != nil {
		return ""
	}
	s, _ := m[field].(string)
	return s
}

// isTLSRecord reports whether b starts with a TLS handshake record.
func isTLSRecord(b []byte) bool { return len(b) >= 3 && b[0] == 0x16 && b[1] == 0x03 }

// checkTLSWire: the hub's INFO, saying TLS is required, is the only clear
// text; the leaf starts with a TLS handshake record, and the hub's next
// bytes are one too; no protocol line or payload appears in clear text
// after that.
func checkTLSWire(t *testing.T, tap *leafTap, up, down [][]byte) {
	t.Helper()
	toHub, toLeaf := tap.stream(1, "->"), tap.stream(1, "<-")
	i := bytes.Index(toLeaf, []byte("\r\n"))
	if i < 0 || !bytes.HasPrefix(toLeaf, []byte("INFO ")) {
		t.Fatalf("hub's first bytes %q, want its INFO", toLeaf[:min(len(toLeaf), 64)])
	}
	info := string(toLeaf[:i])
	var fields map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(info, "INFO ")), &fields); err != nil || fields["tls_required"] != true {
		t.Errorf("hub's INFO %s: tls_required %v (%v), want true", info, fields["tls_required"], err)
	}
	if !isTLSRecord(toLeaf[i+2:]) || !isTLSRecord(toHub) {
		t.Fatalf("after the INFO: hub sent %q, leaf sent %q, want TLS handshake records",
			toLeaf[i+2:min(len(toLeaf), i+18)], toHub[:min(len(toHub), 16)])
	}
	secrets := [][]byte{[]byte("CONNECT {"), []byte("LMSG tx.up"), []byte("LMSG tx.down"), []byte("LS+ tx.")}
	for _, p := range append(slices.Clone(up), down...) {
		if len(p) >= 4096 {
			secrets = append(secrets, p[len(p)/2:len(p)/2+48])
		}
	}
	for _, s := range secrets {
		if bytes.Contains(toHub, s) || bytes.Contains(toLeaf[i+2:], s) {
			t.Errorf("%q crossed in clear text", s[:min(len(s), 24)])
		}
	}
}

// clusterTxCase is one mixed cluster for TestClusterCompressionInterop.
type clusterTxCase struct {
	name  string
	kinds []string
	// modes are the nodes' route compression modes ("" is the default,
	// accept).
	modes []string
	// officialMode is the mode every route connection of an official
	// node must settle on.
	officialMode string
}

// TestClusterCompressionInterop builds mixed clusters with route
// compression. Node 0 is the seed. Every other node dials it through a
// tap unless both are official (they pool routes, which a relay would
// only complicate), so the route between the seed and each Fern node, or
// each node of a Fern seed, is read on the wire; the official servers'
// routez covers every route they hold. Traffic crosses every ordered pair
// of servers with large compressible payloads.
func TestClusterCompressionInterop(t *testing.T) {
	const o, f = harness.KindOfficial, harness.KindFern
	tests := []clusterTxCase{
		{"1 official + 2 fern: s2_fast on all", []string{f, o, f}, []string{"s2_fast", "s2_fast", "s2_fast"}, "s2_fast"},
		{"2 official + 1 fern: s2_fast on all", []string{o, f, o}, []string{"s2_fast", "s2_fast", "s2_fast"}, "s2_fast"},
		{"1 official + 2 fern: official s2_fast, fern accept", []string{f, o, f}, []string{"", "s2_fast", ""}, "s2_fast"},
		{"2 official + 1 fern: official s2_fast, fern accept", []string{o, f, o}, []string{"s2_fast", "", "s2_fast"}, "s2_fast"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runClusterTx(t, tc) })
	}
}

// routeCompresses reports whether two route modes negotiate S2: neither
// is off, and they are not both accept.
func routeCompresses(a, b string) bool {
	a, b = cmp.Or(a, "accept"), cmp.Or(b, "accept")
	return a != "off" && b != "off" && !(a == "accept" && b == "accept")
}

func runClusterTx(t *testing.T, tc clusterTxCase) {
	var nodes []*harness.Node
	taps := map[int]*leafTap{} // by the index of the node that dials the seed through it
	for i, kind := range tc.kinds {
		spec := harness.NodeSpec{Kind: kind, Name: fmt.Sprintf("%s-%d", kind, i), RetryInterval: fernRetry,
			Compression: tc.modes[i]}
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
	// Cleanups run last first: the nodes stop before the taps close, so
	// that no route is cut and redialled while the servers shut down.
	t.Cleanup(func() { harness.StopAll(nodes) })
	t.Cleanup(func() {
		if t.Failed() {
			for i, tap := range taps {
				for c := 1; c <= tap.accepted(); c++ {
					t.Logf("wire of route %s -> %s (\"->\"):\n%s", nodes[i].Name(), nodes[0].Name(), describeWire(tap, c))
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
			if i != j {
				payloads := [][]byte{compressible(rng, 256<<10), compressible(rng, 1024), compressible(rng, 64<<10)}
				txSend(t, ends[i], ends[j], fmt.Sprintf("tx.%d.%d", i, j), payloads)
			}
		}
	}

	for i, tap := range taps {
		want := routeCompresses(tc.modes[i], tc.modes[0])
		toSeed := fmt.Sprintf("tx.zeros.%d.0", i)
		fromSeed := fmt.Sprintf("tx.zeros.0.%d", i)
		up := txBurst(t, tap, "->", ends[i], ends[0], toSeed)
		down := txBurst(t, tap, "<-", ends[0], ends[i], fromSeed)
		t.Logf("route %s -> %s: %d bytes of zeros took %d bytes, %d the other way", nodes[i].Name(), nodes[0].Name(), burstRaw, up, down)
		checkShrink(t, nodes[i].Name()+" -> "+nodes[0].Name(), up, want)
		checkShrink(t, nodes[0].Name()+" -> "+nodes[i].Name(), down, want)
		conn, err := routeConn(tap)
		if err != nil {
			t.Errorf("route %s -> %s: %v", nodes[i].Name(), nodes[0].Name(), err)
			continue
		}
		checkRouteS2Wire(t, tap, conn, nodes[i].Name()+" -> "+nodes[0].Name(), want,
			map[string]map[string]int{"->": {toSeed: burstMsgs + 1}, "<-": {fromSeed: burstMsgs + 1}})
	}

	for _, n := range nodes {
		modes, ok := n.RouteCompression()
		if !ok {
			continue
		}
		for id, ms := range modes {
			for _, m := range ms {
				if m != tc.officialMode {
					t.Errorf("%s: route to %s settled on compression %q, want %q", n.Name(), id, m, tc.officialMode)
				}
			}
		}
	}
	if err := harness.MeshErr(nodes); err != nil {
		t.Errorf("mesh changed during the test: %v", err)
	}
}

// routeConn is the one connection through tap that carries the route.
// An official server also dials a route dedicated to the $SYS account
// (its INFO says route_account "$SYS"), which a Fern peer refuses; any
// other connection is an error (a redial, a duplicate).
func routeConn(tap *leafTap) (int, error) {
	conn := 0
	for c := 1; c <= tap.accepted(); c++ {
		acct := "?"
		for _, l := range protoLines(readS2Wire(tap.stream(c, "->")).clear) {
			if strings.HasPrefix(l, "INFO ") {
				acct = infoField(l, "route_account")
			}
		}
		switch {
		case acct == "$SYS":
		case acct != "" || conn != 0:
			return 0, fmt.Errorf("connection #%d through the tap is neither the route nor a $SYS probe (route_account %q, route #%d)", c, acct, conn)
		default:
			conn = c
		}
	}
	if conn == 0 {
		return 0, fmt.Errorf("no route connection among %d through the tap", tap.accepted())
	}
	return conn, nil
}

// checkRouteS2Wire checks both directions of a route relayed by tap:
// framed, only the CONNECT and INFO exchange (and keepalives) in the
// clear, then an S2 stream of compressed chunks carrying the messages;
// not framed, the messages in the clear.
func checkRouteS2Wire(t *testing.T, tap *leafTap, conn int, what string, framed bool, msgs map[string]map[string]int) {
	t.Helper()
	for _, dir := range []string{"->", "<-"} {
		w := readS2Wire(tap.stream(conn, dir))
		if w.err != nil || w.framed != framed {
			t.Errorf("%s %s: S2 stream %v (err %v), want %v", what, dir, w.framed, w.err, framed)
			continue
		}
		lines := protoLines(w.clear)
		if framed {
			ops := opsOf(lines)
			extra := slices.DeleteFunc(slices.Clone(ops), func(op string) bool {
				return op == "CONNECT" || op == "INFO" || op == "PING" || op == "PONG"
			})
			if !slices.Contains(ops, "INFO") || len(extra) > 0 || !bytes.HasSuffix(w.clear, []byte("\r\n")) {
				t.Errorf("%s %s: before the S2 stream %q, want only the CONNECT and INFO exchange", what, dir, ops)
			}
			if w.compressed == 0 {
				t.Errorf("%s %s: S2 stream of %d uncompressed chunks, want compressed ones", what, dir, w.uncompressed)
			}
			lines = protoLines(w.plain)
		}
		for subj, want := range msgs[dir] {
			if got := countMsgs(lines, subj); got != want {
				t.Errorf("%s %s: %d messages on %s in the stream, want %d", what, dir, got, subj, want)
			}
		}
	}
}
