package fern

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fernmq/fern/internal/compress"
	"github.com/fernmq/fern/internal/testcert"
	"github.com/nats-io/nats.go"
)

// Transport tests: S2 compression negotiated on leaf and route
// connections, and TLS on the client, leafnodes and websocket listeners.

// readCountConn counts the bytes read from a connection.
type readCountConn struct {
	net.Conn
	in *atomic.Int64
}

func (c readCountConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

// countingDial dials TCP and counts what the dialled connections read.
func countingDial(in, dials *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return readCountConn{nc, in}, nil
	}
}

func startServer(t *testing.T, o *Options) *Server {
	t.Helper()
	if o.Host == "" {
		o.Host, o.Port = "127.0.0.1", -1
	}
	s, err := NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdownNow(t, s) })
	return s
}

// leafModes returns the negotiated compression of s's leaf connections
// (registered ones: their handshake fields are settled).
func leafModes(s *Server) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var modes []string
	for _, c := range s.leafs {
		modes = append(modes, c.leaf.compression)
	}
	return modes
}

func routeModes(s *Server) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var modes []string
	for _, c := range s.routes {
		modes = append(modes, c.route.compression)
	}
	return modes
}

// checkFlow sends payload from a to b and from b to a and checks it
// arrives intact.
func checkFlow(t *testing.T, a, b *Server, payload []byte) {
	t.Helper()
	for _, dir := range [][2]*Server{{a, b}, {b, a}} {
		pub, sub := natsConn(t, dir[0]), natsConn(t, dir[1])
		subj := fmt.Sprintf("flow.%s", dir[0].opts.ServerName)
		s, err := sub.SubscribeSync(subj)
		if err != nil {
			t.Fatal(err)
		}
		sub.Flush()
		waitInterest(t, dir[0], subj, 1)
		for i := 0; i < 3; i++ {
			if err := pub.Publish(subj, payload); err != nil {
				t.Fatal(err)
			}
		}
		pub.Flush()
		for i := 0; i < 3; i++ {
			m, err := s.NextMsg(clusterWait)
			if err != nil {
				t.Fatalf("%s -> %s: message %d: %v", dir[0].opts.ServerName, dir[1].opts.ServerName, i, err)
			}
			if !bytes.Equal(m.Data, payload) {
				t.Fatalf("%s -> %s: payload changed in transit", dir[0].opts.ServerName, dir[1].opts.ServerName)
			}
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestLeafCompressionNegotiation(t *testing.T) {
	long := []time.Duration{time.Hour}        // s2_auto: always uncompressed
	fastOnly := []time.Duration{0, time.Hour} // s2_auto: always fast
	cases := []struct {
		name             string
		hub, leaf        CompressionOptions
		wantHub, wantLF  string // the mode each side writes with
		compressedToLeaf bool
	}{
		{"auto both (loopback: uncompressed)", CompressionOptions{RTTThresholds: long}, CompressionOptions{RTTThresholds: long},
			compress.S2Uncompressed, compress.S2Uncompressed, false},
		{"auto thresholds pick fast", CompressionOptions{Mode: "s2_auto", RTTThresholds: fastOnly}, CompressionOptions{Mode: "s2_auto", RTTThresholds: fastOnly},
			compress.S2Fast, compress.S2Fast, true},
		{"asymmetric levels", CompressionOptions{Mode: "s2_fast"}, CompressionOptions{Mode: "s2_best"},
			compress.S2Fast, compress.S2Best, true},
		{"hub accepts the leaf's level", CompressionOptions{Mode: "accept"}, CompressionOptions{Mode: "better"},
			compress.S2Better, compress.S2Better, true},
		{"hub off", CompressionOptions{Mode: "off"}, CompressionOptions{},
			"", compress.Off, false},
		{"hub cannot compress", CompressionOptions{Mode: "not supported"}, CompressionOptions{},
			"", compress.NotSupported, false},
		{"leaf off", CompressionOptions{Mode: "s2_fast"}, CompressionOptions{Mode: "off"},
			"", compress.Off, false},
		{"accept both: none", CompressionOptions{Mode: "accept"}, CompressionOptions{Mode: "accept"},
			"", compress.Off, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hub := startServer(t, &Options{ServerName: "hub", LeafNode: LeafNodeOptions{Host: "127.0.0.1", Port: -1, Compression: tc.hub}})
			var in, dials atomic.Int64
			lf := startServer(t, &Options{ServerName: "leaf", LeafNode: LeafNodeOptions{
				Remotes:           []RemoteLeafOptions{{URLs: []string{"nats://" + hub.LeafAddr().String()}, Compression: tc.leaf}},
				ReconnectInterval: 20 * time.Millisecond, Dial: countingDial(&in, &dials)}})
			waitFor(t, "leaf link", func() bool { return hub.NumLeafs() == 1 && lf.NumLeafs() == 1 })
			if got := leafModes(hub); got[0] != tc.wantHub {
				t.Errorf("hub writes with %q, want %q", got[0], tc.wantHub)
			}
			if got := leafModes(lf); got[0] != tc.wantLF {
				t.Errorf("leaf writes with %q, want %q", got[0], tc.wantLF)
			}
			checkFlow(t, hub, lf, randomBytes(10_000))

			// 3 x 256 KiB of zeros from the hub to the leaf: compressed, far
			// fewer bytes cross than the payload.
			zeros := make([]byte, 256<<10)
			before := in.Load()
			checkFlow(t, hub, lf, zeros)
			crossed := in.Load() - before
			if tc.compressedToLeaf != (crossed < int64(len(zeros))) {
				t.Errorf("%d bytes reached the leaf for 3 x %d payload bytes (compressed: %v)", crossed, len(zeros), tc.compressedToLeaf)
			}
		})
	}
}

func TestRouteCompressionNegotiation(t *testing.T) {
	cases := []struct {
		name                  string
		accept, solicit       string // configured modes ("" = default accept)
		wantAccept, wantSolic string
	}{
		{"default accept both: none", "", "", compress.Off, compress.Off},
		{"acceptor asks", "s2_fast", "", compress.S2Fast, compress.S2Fast},
		{"solicitor asks", "accept", "s2_best", compress.S2Best, compress.S2Best},
		{"asymmetric", "s2_better", "s2_fast", compress.S2Better, compress.S2Fast},
		{"acceptor off", "off", "s2_fast", compress.Off, compress.Off},
		{"solicitor off", "s2_fast", "off", compress.Off, compress.Off},
		{"on means fast", "on", "", compress.S2Fast, compress.S2Fast},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := startServer(t, &Options{ServerName: "a", Cluster: ClusterOptions{Name: "c", Host: "127.0.0.1", Port: -1,
				Compression: CompressionOptions{Mode: tc.accept}}})
			b := startServer(t, &Options{ServerName: "b", Cluster: ClusterOptions{Name: "c", Host: "127.0.0.1", Port: -1,
				Routes: []string{routeURL(a)}, RetryInterval: 20 * time.Millisecond, Compression: CompressionOptions{Mode: tc.solicit}}})
			waitMesh(t, []*Server{a, b})
			if got := routeModes(a); got[0] != tc.wantAccept {
				t.Errorf("accept side writes with %q, want %q", got[0], tc.wantAccept)
			}
			if got := routeModes(b); got[0] != tc.wantSolic {
				t.Errorf("solicit side writes with %q, want %q", got[0], tc.wantSolic)
			}
			checkFlow(t, a, b, randomBytes(100_000))
			checkFlow(t, a, b, make([]byte, 300_000))
		})
	}
}

// A compressed mesh of three heals after a member restarts.
func TestRouteCompressionMesh(t *testing.T) {
	core := startCore(t, func(o *Options) { o.Cluster.Compression.Mode = "s2_fast" })
	for _, s := range core {
		for _, m := range routeModes(s) {
			if m != compress.S2Fast {
				t.Fatalf("%s: route mode %q", s.opts.ServerName, m)
			}
		}
	}
	checkFlow(t, core[1], core[2], randomBytes(50_000))
}

func writeCerts(t *testing.T) testcert.Files {
	t.Helper()
	f, err := testcert.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLeafTLS(t *testing.T) {
	certs := writeCerts(t)
	for _, mode := range []string{"off", "s2_fast"} {
		t.Run("compression "+mode, func(t *testing.T) {
			hub := startServer(t, &Options{ServerName: "hub", LeafNode: LeafNodeOptions{Host: "127.0.0.1", Port: -1,
				Compression: CompressionOptions{Mode: mode},
				TLS:         &TLSOptions{CertFile: certs.ServerCert, KeyFile: certs.ServerKey, CAFile: certs.CA, Verify: true}}})
			lf := startServer(t, &Options{ServerName: "leaf", LeafNode: LeafNodeOptions{
				Remotes: []RemoteLeafOptions{{URLs: []string{"tls://" + hub.LeafAddr().String()},
					Compression: CompressionOptions{Mode: mode},
					TLS:         &TLSOptions{CertFile: certs.ClientCert, KeyFile: certs.ClientKey, CAFile: certs.CA}}},
				ReconnectInterval: 20 * time.Millisecond}})
			waitFor(t, "leaf link", func() bool { return hub.NumLeafs() == 1 && lf.NumLeafs() == 1 })
			checkFlow(t, hub, lf, randomBytes(20_000))
		})
	}
}

// The hub requires TLS; a leaf that does not trust its certificate, or
// has no client certificate, never gets a link.
func TestLeafTLSRefused(t *testing.T) {
	certs := writeCerts(t)
	otherCA, err := testcert.OtherCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hub := startServer(t, &Options{ServerName: "hub", LeafNode: LeafNodeOptions{Host: "127.0.0.1", Port: -1,
		TLS: &TLSOptions{CertFile: certs.ServerCert, KeyFile: certs.ServerKey, CAFile: certs.CA, Verify: true}}})
	for name, remoteTLS := range map[string]*TLSOptions{
		"wrong CA":              {CertFile: certs.ClientCert, KeyFile: certs.ClientKey, CAFile: otherCA},
		"no client certificate": {CAFile: certs.CA},
		"no TLS configured":     nil, // tls_required in INFO: system roots do not know the test CA
	} {
		t.Run(name, func(t *testing.T) {
			var in, dials atomic.Int64
			lf := startServer(t, &Options{ServerName: "leaf", LeafNode: LeafNodeOptions{
				Remotes:           []RemoteLeafOptions{{URLs: []string{"nats://" + hub.LeafAddr().String()}, TLS: remoteTLS}},
				ReconnectInterval: 5 * time.Millisecond, Dial: countingDial(&in, &dials)}})
			waitFor(t, "three refused attempts", func() bool { return dials.Load() >= 3 })
			if lf.NumLeafs() != 0 || hub.NumLeafs() != 0 {
				t.Fatalf("link registered without a valid TLS handshake")
			}
		})
	}
}

// nats.go over TLS to the client port, and a leaf on that same port (the
// seed's shape with TLS).
func TestClientPortTLS(t *testing.T) {
	certs := writeCerts(t)
	hub := startServer(t, &Options{ServerName: "hub", TLS: &TLSOptions{CertFile: certs.ServerCert, KeyFile: certs.ServerKey}})
	nc, err := nats.Connect(hub.ClientURL(), nats.RootCAs(certs.CA), nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Request("nobody", nil, time.Second); err != nats.ErrNoResponders {
		t.Fatalf("request over TLS: %v", err)
	}
	if plain, err := nats.Connect(hub.ClientURL(), nats.NoReconnect()); err == nil {
		plain.Close()
		t.Fatal("a client without TLS connected to a TLS port")
	}
	lf := startServer(t, &Options{ServerName: "leaf", LeafNode: LeafNodeOptions{
		Remotes:           []RemoteLeafOptions{{URLs: []string{hub.ClientURL()}, TLS: &TLSOptions{CAFile: certs.CA}}},
		ReconnectInterval: 20 * time.Millisecond}})
	waitFor(t, "leaf link", func() bool { return hub.NumLeafs() == 1 && lf.NumLeafs() == 1 })
	pub := nc
	sub := natsConn(t, lf)
	s, _ := sub.SubscribeSync("factory.alerts.critical")
	sub.Flush()
	waitInterest(t, hub, "factory.alerts.critical", 1)
	pub.Publish("factory.alerts.critical", []byte("fire"))
	if m, err := s.NextMsg(clusterWait); err != nil || string(m.Data) != "fire" {
		t.Fatalf("alert over a TLS leaf link: %v", err)
	}
}

// wss:// leaf to a websocket listener with TLS.
func TestWebsocketLeafTLS(t *testing.T) {
	certs := writeCerts(t)
	hub := startServer(t, &Options{ServerName: "hub",
		LeafNode:  LeafNodeOptions{Host: "127.0.0.1", Port: -1},
		Websocket: WebsocketOptions{Host: "127.0.0.1", Port: -1, TLS: &TLSOptions{CertFile: certs.ServerCert, KeyFile: certs.ServerKey}}})
	lf := startServer(t, &Options{ServerName: "leaf", LeafNode: LeafNodeOptions{
		Remotes:           []RemoteLeafOptions{{URLs: []string{"wss://" + hub.WebsocketAddr().String()}, TLS: &TLSOptions{CAFile: certs.CA}}},
		ReconnectInterval: 20 * time.Millisecond}})
	waitFor(t, "leaf link", func() bool { return hub.NumLeafs() == 1 && lf.NumLeafs() == 1 })
	checkFlow(t, hub, lf, randomBytes(20_000))
}

// leafnodes { authorization { user, password } }: the leaf's URL carries
// the credentials; wrong ones are refused.
func TestLeafCredentials(t *testing.T) {
	hub := startServer(t, &Options{ServerName: "hub", LeafNode: LeafNodeOptions{Host: "127.0.0.1", Port: -1, User: "leaf", Password: "s3cret"}})
	var in, dials atomic.Int64
	bad := startServer(t, &Options{ServerName: "bad", LeafNode: LeafNodeOptions{
		Remotes:           []RemoteLeafOptions{{URLs: []string{"nats://leaf:wrong@" + hub.LeafAddr().String()}}},
		ReconnectInterval: 5 * time.Millisecond, Dial: countingDial(&in, &dials)}})
	waitFor(t, "three refused attempts", func() bool { return dials.Load() >= 3 })
	if hub.NumLeafs() != 0 || bad.NumLeafs() != 0 {
		t.Fatalf("a link with the wrong password registered (hub %d, leaf %d)", hub.NumLeafs(), bad.NumLeafs())
	}
	shutdownNow(t, bad)
	good := startServer(t, &Options{ServerName: "good", LeafNode: LeafNodeOptions{
		Remotes:           []RemoteLeafOptions{{URLs: []string{"nats://leaf:s3cret@" + hub.LeafAddr().String()}}},
		ReconnectInterval: 5 * time.Millisecond}})
	waitFor(t, "leaf link", func() bool { return hub.NumLeafs() == 1 && good.NumLeafs() == 1 })
	checkFlow(t, hub, good, []byte("hello"))
}

// cluster { tls {} }: routes are TLS from the first byte, with client
// certificates both ways; a server without TLS, or with a certificate
// the cluster does not trust, never joins.
func TestRouteTLS(t *testing.T) {
	certs := writeCerts(t)
	routeTLS := &TLSOptions{CertFile: certs.ServerCert, KeyFile: certs.ServerKey, CAFile: certs.CA}
	for _, mode := range []string{"accept", "s2_fast"} {
		t.Run("compression "+mode, func(t *testing.T) {
			core := startCore(t, func(o *Options) {
				o.Cluster.TLS = routeTLS
				o.Cluster.Compression.Mode = mode
			})
			want := compress.Off
			if mode == "s2_fast" {
				want = compress.S2Fast
			}
			for _, m := range routeModes(core[1]) {
				if m != want {
					t.Fatalf("route mode %q inside TLS, want %q", m, want)
				}
			}
			checkFlow(t, core[0], core[2], randomBytes(50_000))
		})
	}

	var seedLogs logCounter
	// Refused handshakes are logged once per address (then a summary a
	// minute); each one's close is at debug level.
	seed := startServer(t, &Options{ServerName: "seed", Logger: slog.New(slog.NewTextHandler(&seedLogs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Cluster: ClusterOptions{Name: "c", Host: "127.0.0.1", Port: -1, TLS: routeTLS}})
	otherCA, err := testcert.OtherCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		tls  *TLSOptions
	}{
		{"no TLS", nil},
		{"untrusted", &TLSOptions{CertFile: certs.ClientCert, KeyFile: certs.ClientKey, CAFile: otherCA}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := seedLogs.count(`reason="TLS handshake error"`)
			bad := startServer(t, &Options{ServerName: "bad", Cluster: ClusterOptions{Name: "c", Host: "127.0.0.1", Port: -1,
				TLS: tc.tls, Routes: []string{routeURL(seed)}, RetryInterval: 5 * time.Millisecond}})
			waitFor(t, "three refused route handshakes", func() bool { return seedLogs.count(`reason="TLS handshake error"`) >= before+3 })
			if bad.NumRoutes() != 0 || seed.NumRoutes() != 0 {
				t.Fatalf("route registered (seed %d, bad %d)", seed.NumRoutes(), bad.NumRoutes())
			}
		})
	}
}

// logCounter collects log output and counts lines containing a text.
type logCounter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCounter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logCounter) count(text string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), text)
}

// s2_auto follows the round-trip time measured by PINGs: a new level gets
// a new S2 writer mid-connection, and the peer's reader takes the new
// stream without losing a byte.
func TestS2AutoRetunesMidStream(t *testing.T) {
	hub := startServer(t, &Options{ServerName: "hub", LeafNode: LeafNodeOptions{Host: "127.0.0.1", Port: -1,
		Compression: CompressionOptions{Mode: "s2_auto", RTTThresholds: []time.Duration{time.Hour}}}})
	lf := startServer(t, &Options{ServerName: "leaf", LeafNode: LeafNodeOptions{
		Remotes:           []RemoteLeafOptions{{URLs: []string{"nats://" + hub.LeafAddr().String()}, Compression: CompressionOptions{Mode: "s2_auto", RTTThresholds: []time.Duration{time.Hour}}}},
		ReconnectInterval: 20 * time.Millisecond}})
	waitFor(t, "leaf link", func() bool { return hub.NumLeafs() == 1 && lf.NumLeafs() == 1 })
	hub.mu.Lock()
	var c *client
	for _, l := range hub.leafs {
		c = l
	}
	hub.mu.Unlock()
	checkFlow(t, hub, lf, randomBytes(30_000))
	for _, tc := range []struct {
		rtt        time.Duration
		thresholds []time.Duration
		want       string
	}{
		{20 * time.Millisecond, []time.Duration{time.Millisecond, time.Second}, compress.S2Fast},
		{2 * time.Second, []time.Duration{time.Millisecond, time.Second, time.Second * 1}, compress.S2Best},
		{time.Microsecond, []time.Duration{time.Millisecond}, compress.S2Uncompressed},
	} {
		c.mu.Lock()
		if c.s2auto == nil {
			c.mu.Unlock()
			t.Fatal("an s2_auto link has no auto state")
		}
		c.s2auto.thresholds = tc.thresholds
		c.retuneS2Locked(tc.rtt)
		got := c.s2auto.level
		c.mu.Unlock()
		if got != tc.want {
			t.Fatalf("rtt %v: level %q, want %q", tc.rtt, got, tc.want)
		}
		checkFlow(t, hub, lf, randomBytes(30_000))
		checkFlow(t, hub, lf, make([]byte, 100_000))
	}
	// A PONG answering our PING measures the round trip and retunes.
	c.mu.Lock()
	c.s2auto.thresholds = []time.Duration{0, time.Hour} // any RTT: fast
	c.s2auto.level = compress.S2Uncompressed
	c.pingSent = time.Now()
	c.mu.Unlock()
	c.processPong()
	c.mu.Lock()
	got := c.s2auto.level
	c.mu.Unlock()
	if got != compress.S2Fast {
		t.Fatalf("after a PONG: level %q, want %q", got, compress.S2Fast)
	}
	checkFlow(t, hub, lf, randomBytes(30_000))
}
