package fern

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Cluster tests: several servers in one process on ephemeral loopback
// ports, routed as a full mesh.

const clusterWait = 10 * time.Second

// startClusterServer starts one cluster member whose routes point at the
// given route URLs.
func startClusterServer(t *testing.T, name string, routes ...string) *Server {
	t.Helper()
	s, err := NewServer(&Options{
		ServerName: name, Host: "127.0.0.1", Port: -1,
		Cluster: ClusterOptions{Name: "core", Host: "127.0.0.1", Port: -1, Routes: routes, RetryInterval: 20 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdownNow(t, s) })
	return s
}

func shutdownNow(t *testing.T, s *Server) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("shutdown %s: %v", s.opts.ServerName, err)
	}
}

func routeURL(s *Server) string { return "nats-route://" + s.ClusterAddr().String() }

// startMesh starts n servers; each knows only server 0's route URL, so
// the rest of the mesh comes from gossip.
func startMesh(t *testing.T, n int) []*Server {
	t.Helper()
	servers := []*Server{startClusterServer(t, "s0")}
	for i := 1; i < n; i++ {
		servers = append(servers, startClusterServer(t, fmt.Sprintf("s%d", i), routeURL(servers[0])))
	}
	waitMesh(t, servers)
	return servers
}

// waitMesh waits until every server has a route to every other.
func waitMesh(t *testing.T, servers []*Server) {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for {
		full := true
		for _, s := range servers {
			if s.NumRoutes() != len(servers)-1 {
				full = false
			}
		}
		if full {
			return
		}
		if time.Now().After(deadline) {
			for _, s := range servers {
				t.Logf("%s: %d routes", s.opts.ServerName, s.NumRoutes())
			}
			t.Fatalf("no full mesh of %d servers", len(servers))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitInterest waits until s knows of n subscriptions on subj (local or
// through routes).
func waitInterest(t *testing.T, s *Server, subj string, n int) {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	var r resultT
	for {
		s.subs.Match([]byte(subj), &r)
		if r.Len() >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d subscriptions on %q", s.opts.ServerName, r.Len(), n, subj)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func natsConn(t *testing.T, s *Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func TestClusterFullMeshFromOneSeed(t *testing.T) {
	startMesh(t, 5) // each of s1..s4 knows only s0
}

// A publish on any server reaches the subscribers on every server exactly
// once.
func TestClusterPubSubEveryPair(t *testing.T) {
	servers := startMesh(t, 3)
	type counter struct{ n atomic.Int64 }
	counts := make([]*counter, len(servers))
	for i, s := range servers {
		counts[i] = &counter{}
		nc := natsConn(t, s)
		c := counts[i]
		if _, err := nc.Subscribe("factory.>", func(*nats.Msg) { c.n.Add(1) }); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
	}
	for _, s := range servers {
		waitInterest(t, s, "factory.orders.new", len(servers))
	}
	const perServer = 100
	for _, s := range servers {
		nc := natsConn(t, s)
		for i := 0; i < perServer; i++ {
			nc.Publish("factory.orders.new", []byte("x"))
		}
		nc.Flush()
	}
	want := int64(perServer * len(servers))
	for i, c := range counts {
		deadline := time.Now().Add(clusterWait)
		for c.n.Load() < want && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		if got := c.n.Load(); got != want {
			t.Fatalf("subscriber on s%d got %d, want %d", i, got, want)
		}
	}
	// Flush every subscriber's path once more: no duplicate is in flight.
	for i, s := range servers {
		nc := natsConn(t, s)
		nc.Flush()
		if got := counts[i].n.Load(); got != want {
			t.Fatalf("subscriber on s%d got %d after flush, want exactly %d", i, got, want)
		}
	}
}

// A queue group spread over the cluster gets each message exactly once.
func TestClusterQueueGroupExactlyOnce(t *testing.T) {
	servers := startMesh(t, 3)
	var total atomic.Int64
	perServer := make([]atomic.Int64, len(servers))
	for i, s := range servers {
		for j := 0; j < 2; j++ {
			nc := natsConn(t, s)
			i := i
			nc.QueueSubscribe("work", "workers", func(*nats.Msg) {
				total.Add(1)
				perServer[i].Add(1)
			})
			nc.Flush()
		}
	}
	for _, s := range servers {
		waitInterest(t, s, "work", 2+(len(servers)-1)) // 2 local + one per route
	}
	const msgs = 600
	pub := natsConn(t, servers[0])
	for i := 0; i < msgs; i++ {
		pub.Publish("work", []byte("job"))
	}
	pub.Flush()
	deadline := time.Now().Add(clusterWait)
	for total.Load() < msgs && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	for _, s := range servers {
		natsConn(t, s).Flush()
	}
	if got := total.Load(); got != msgs {
		t.Fatalf("queue group got %d, want exactly %d", got, msgs)
	}
	// Local members are preferred: with members on the publisher's server
	// every message stays there.
	if perServer[0].Load() != msgs {
		t.Fatalf("local members got %d of %d; remote got %d, %d", perServer[0].Load(), msgs, perServer[1].Load(), perServer[2].Load())
	}

	// Without local members, messages go to remote members, still once.
	total.Store(0)
	pub2 := natsConn(t, startClusterServerJoined(t, servers))
	for i := 0; i < msgs; i++ {
		pub2.Publish("work", []byte("job"))
	}
	pub2.Flush()
	deadline = time.Now().Add(clusterWait)
	for total.Load() < msgs && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	for _, s := range servers {
		natsConn(t, s).Flush()
	}
	if got := total.Load(); got != msgs {
		t.Fatalf("remote queue members got %d, want exactly %d", got, msgs)
	}
}

// startClusterServerJoined adds a server to a running mesh and waits until
// it has the others' interest.
func startClusterServerJoined(t *testing.T, servers []*Server) *Server {
	s := startClusterServer(t, fmt.Sprintf("s%d", len(servers)), routeURL(servers[0]))
	waitMesh(t, append(append([]*Server(nil), servers...), s))
	waitInterest(t, s, "work", len(servers))
	return s
}

// After the last subscriber leaves, messages stop crossing the route.
func TestClusterUnsubscribeStopsRouteTraffic(t *testing.T) {
	servers := startMesh(t, 2)
	a, b := servers[0], servers[1]
	sub := natsConn(t, b)
	s1, _ := sub.SubscribeSync("alerts.critical")
	sub.Flush()
	waitInterest(t, a, "alerts.critical", 1)
	pub := natsConn(t, a)
	pub.Publish("alerts.critical", []byte("1"))
	pub.Publish("other.subject", []byte("never crosses"))
	pub.Flush()
	if _, err := s1.NextMsg(clusterWait); err != nil {
		t.Fatal(err)
	}
	r := routeTo(t, a, b)
	if n := r.msgsOut.Load(); n != 1 {
		t.Fatalf("%d messages crossed the route, want 1", n)
	}
	s1.Unsubscribe()
	sub.Flush()
	deadline := time.Now().Add(clusterWait)
	for a.subs.HasInterest([]byte("alerts.critical")) {
		if time.Now().After(deadline) {
			t.Fatal("interest not withdrawn from the route")
		}
		time.Sleep(2 * time.Millisecond)
	}
	for i := 0; i < 10; i++ {
		pub.Publish("alerts.critical", []byte("x"))
	}
	pub.Flush()
	if n := r.msgsOut.Load(); n != 1 {
		t.Fatalf("%d messages crossed the route after unsubscribe, want still 1", n)
	}
}

func routeTo(t *testing.T, from, to *Server) *client {
	from.mu.Lock()
	defer from.mu.Unlock()
	r := from.routes[to.ID()]
	if r == nil {
		t.Fatalf("%s has no route to %s", from.opts.ServerName, to.opts.ServerName)
	}
	return r
}

// Killing and restarting a server heals the mesh, with no duplicates.
func TestClusterRestartHeals(t *testing.T) {
	s0 := startClusterServer(t, "s0")
	s1 := startClusterServer(t, "s1", routeURL(s0))
	s2addr := freeRouteAddr(t)
	start2 := func() *Server {
		s, err := NewServer(&Options{
			ServerName: "s2", Host: "127.0.0.1", Port: -1,
			Cluster: ClusterOptions{Name: "core", Host: "127.0.0.1", Port: s2addr.Port, Routes: []string{routeURL(s0)}, RetryInterval: 20 * time.Millisecond},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s2 := start2()
	waitMesh(t, []*Server{s0, s1, s2})
	shutdownNow(t, s2)
	for _, s := range []*Server{s0, s1} {
		deadline := time.Now().Add(clusterWait)
		for s.NumRoutes() != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("%s still has %d routes", s.opts.ServerName, s.NumRoutes())
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	s2 = start2()
	t.Cleanup(func() { shutdownNow(t, s2) })
	waitMesh(t, []*Server{s0, s1, s2})

	var got atomic.Int64
	sub := natsConn(t, s2)
	sub.Subscribe("heal", func(*nats.Msg) { got.Add(1) })
	sub.Flush()
	waitInterest(t, s0, "heal", 1)
	waitInterest(t, s1, "heal", 1)
	for _, s := range []*Server{s0, s1} {
		nc := natsConn(t, s)
		for i := 0; i < 50; i++ {
			nc.Publish("heal", []byte("x"))
		}
		nc.Flush()
	}
	deadline := time.Now().Add(clusterWait)
	for got.Load() < 100 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	sub.Flush()
	if n := got.Load(); n != 100 {
		t.Fatalf("got %d after restart, want exactly 100", n)
	}
}

// freeRouteAddr reserves a loopback port number for a server that must
// come back on the same address after a restart.
func freeRouteAddr(t *testing.T) *net.TCPAddr {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	return addr
}

// Clients learn every member's client URL for failover.
func TestClusterConnectURLs(t *testing.T) {
	servers := startMesh(t, 3)
	nc := natsConn(t, servers[0])
	deadline := time.Now().Add(clusterWait)
	for len(nc.DiscoveredServers()) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("client discovered %v", nc.DiscoveredServers())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Malformed route input gets an error and a close, never a panic.
func TestClusterMalformedRouteInput(t *testing.T) {
	s := startClusterServer(t, "s0")
	cases := []struct{ name, send, want string }{
		{"op before connect", "PING\r\n", "-ERR 'Authorization Violation'"},
		{"client on route port", `CONNECT {"lang":"go","verbose":false}` + "\r\n", "-ERR 'attempted to connect to route port'"},
		{"wrong cluster", `CONNECT {"name":"X","cluster":"other"}` + "\r\n", `-ERR 'Rejecting connection, cluster name "other" does not match "core"'`},
		{"bad RS+", `CONNECT {"name":"NX","cluster":"core"}` + "\r\nINFO {\"server_id\":\"NX\",\"cluster\":\"core\",\"port\":1}\r\nRS+\r\n", ""},
		{"unknown op", `CONNECT {"name":"NX","cluster":"core"}` + "\r\nXYZ\r\n", "-ERR 'Unknown Protocol Operation'"},
		{"client op", `CONNECT {"name":"NX","cluster":"core"}` + "\r\nSUB foo 1\r\n", "-ERR 'Unknown Protocol Operation'"},
		{"oversize RMSG line", `CONNECT {"name":"NX","cluster":"core"}` + "\r\nRMSG $G " + strings.Repeat("a", 70000) + " 1\r\n", "-ERR 'maximum control line exceeded'"},
		{"bad RMSG size", `CONNECT {"name":"NX","cluster":"core"}` + "\r\nRMSG $G foo x\r\n", ""},
		{"RMSG payload without CRLF", `CONNECT {"name":"NX","cluster":"core"}` + "\r\nRMSG $G foo 2\r\nabcd", "-ERR 'Unknown Protocol Operation'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", s.ClusterAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			br := bufio.NewReader(nc)
			nc.SetReadDeadline(time.Now().Add(clusterWait))
			if line, _ := br.ReadString('\n'); !strings.HasPrefix(line, "INFO ") {
				t.Fatalf("no route INFO: %q", line)
			}
			nc.Write([]byte(tc.send))
			var lines []string
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					break // closed: expected
				}
				lines = append(lines, strings.TrimSpace(line))
			}
			if tc.want != "" && !containsLine(lines, tc.want) {
				t.Fatalf("got %q, want %q before the close", lines, tc.want)
			}
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// A config shaped like the seed's core.conf (routes listing the other two
// members, no cluster name) forms a cluster.
func TestClusterSeedShapedConfig(t *testing.T) {
	addrs := []*net.TCPAddr{freeRouteAddr(t), freeRouteAddr(t), freeRouteAddr(t)}
	var servers []*Server
	for i := range addrs {
		var routes []string
		for j, a := range addrs {
			if j != i {
				routes = append(routes, fmt.Sprintf("%q", "nats://"+a.String()))
			}
		}
		conf := fmt.Sprintf("listen: 127.0.0.1:-1\ncluster {\nlisten: %s\nroutes = [\n%s\n]\n}\n", addrs[i], strings.Join(routes, ",\n"))
		opts, err := ParseConfig(fmt.Sprintf("core-%d.conf", i), []byte(conf))
		if err != nil {
			t.Fatalf("config %d: %v\n%s", i, err, conf)
		}
		opts.Cluster.RetryInterval = 20 * time.Millisecond
		s, err := NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { shutdownNow(t, s) })
		servers = append(servers, s)
	}
	waitMesh(t, servers)
	// The unnamed servers agreed on one cluster name.
	deadline := time.Now().Add(clusterWait)
	for servers[0].ClusterName() != servers[1].ClusterName() || servers[1].ClusterName() != servers[2].ClusterName() {
		if time.Now().After(deadline) {
			t.Fatalf("cluster names differ: %s %s %s", servers[0].ClusterName(), servers[1].ClusterName(), servers[2].ClusterName())
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitMesh(t, servers)
	var wg sync.WaitGroup
	wg.Add(1)
	sub := natsConn(t, servers[2])
	sub.Subscribe("factory.orders.new", func(*nats.Msg) { wg.Done() })
	sub.Flush()
	waitInterest(t, servers[0], "factory.orders.new", 1)
	pub := natsConn(t, servers[0])
	pub.Publish("factory.orders.new", []byte("order"))
	pub.Flush()
	wg.Wait()
}

type resultT = subjectResult

// Routes with cluster credentials: a server without them is refused, one
// with them (in the route URL) joins.
func TestClusterAuthorization(t *testing.T) {
	newServer := func(name string, routes ...string) *Server {
		s, err := NewServer(&Options{
			ServerName: name, Host: "127.0.0.1", Port: -1,
			Cluster: ClusterOptions{Name: "core", Host: "127.0.0.1", Port: -1, Routes: routes,
				User: "ruser", Password: "s3cret", RetryInterval: 20 * time.Millisecond},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { shutdownNow(t, s) })
		return s
	}
	a := newServer("a")
	good := newServer("b", "nats-route://ruser:s3cret@"+a.ClusterAddr().String())
	waitMesh(t, []*Server{a, good})

	nc, err := net.Dial("tcp", a.ClusterAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	nc.SetReadDeadline(time.Now().Add(clusterWait))
	br.ReadString('\n') // INFO
	nc.Write([]byte(`CONNECT {"name":"NX","cluster":"core","user":"ruser","pass":"wrong"}` + "\r\n"))
	if line, _ := br.ReadString('\n'); strings.TrimSpace(line) != "-ERR 'Authorization Violation'" {
		t.Fatalf("got %q", line)
	}
	if a.NumRoutes() != 1 {
		t.Fatalf("%d routes", a.NumRoutes())
	}
}

// FuzzRouteInput feeds arbitrary bytes to an accepted route connection
// after a valid handshake: the server must never panic.
func FuzzRouteInput(f *testing.F) {
	for _, seed := range []string{
		"RS+ $G foo\r\nRS+ $G bar q 3\r\nRS- $G foo\r\nRMSG $G foo 2\r\nhi\r\n",
		"RMSG $G foo + r q1 q2 2\r\nhi\r\nRMSG $G foo | q1 0\r\n\r\n",
		"HMSG $G foo r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
		"INFO {\"server_id\":\"NY\",\"ip\":\"nats-route://127.0.0.1:1/\"}\r\n",
		"RS+ $SYS x\r\nLS+ o $G s\r\n",
		"RS+\r\n",
	} {
		f.Add([]byte(seed))
	}
	s, err := NewServer(&Options{Host: "127.0.0.1", Port: -1,
		Cluster: ClusterOptions{Name: "core", Host: "127.0.0.1", Port: -1, ConnectRetries: 0}})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Start(); err != nil {
		f.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, input []byte) {
		serverSide, clientSide := net.Pipe()
		defer clientSide.Close()
		s.createRoute(serverSide, nil, false)
		done := make(chan struct{})
		go func() {
			defer close(done)
			br := bufio.NewReader(clientSide)
			// Short: an input may switch the route to S2 (INFO with a
			// compression mode), after which PONG is not readable here.
			clientSide.SetReadDeadline(time.Now().Add(time.Second))
			for {
				line, err := br.ReadString('\n')
				if err != nil || strings.HasPrefix(line, "PONG") {
					return
				}
			}
		}()
		id := fmt.Sprintf("NFUZZ%d", n.Add(1))
		clientSide.SetWriteDeadline(time.Now().Add(time.Second))
		hello := `CONNECT {"name":"` + id + `","cluster":"core"}` + "\r\nINFO {\"server_id\":\"" + id + "\",\"cluster\":\"core\",\"port\":1}\r\n"
		if _, err := clientSide.Write([]byte(hello)); err == nil {
			if _, err := clientSide.Write(input); err == nil {
				clientSide.Write([]byte("\r\nPING\r\n"))
			}
		}
		<-done
	})
}

// no_advertise keeps a server's client URL out of the others' INFO.
func TestClusterNoAdvertise(t *testing.T) {
	a := startClusterServer(t, "a")
	b, err := NewServer(&Options{ServerName: "b", Host: "127.0.0.1", Port: -1,
		Cluster: ClusterOptions{Name: "core", Host: "127.0.0.1", Port: -1, NoAdvertise: true,
			Routes: []string{routeURL(a)}, RetryInterval: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdownNow(t, b) })
	waitMesh(t, []*Server{a, b})
	a.mu.Lock()
	urls := a.clientConnectURLsLocked()
	a.mu.Unlock()
	bURL := strings.TrimPrefix(b.ClientURL(), "nats://")
	for _, u := range urls {
		if u == bURL {
			t.Fatalf("a advertises b's client URL %s despite no_advertise: %v", bURL, urls)
		}
	}
	if len(urls) != 1 {
		t.Fatalf("a's connect_urls = %v, want only its own", urls)
	}
}
