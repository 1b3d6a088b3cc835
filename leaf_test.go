package fern

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Leaf tests: the seed's topology in one process. Three core servers in a
// full mesh; a factory leaf whose remotes are the cores' client URLs.

type seedTopology struct {
	core []*Server
	leaf *Server
}

// startCore starts a three-server core cluster.
func startCore(t *testing.T, opts func(*Options)) []*Server {
	t.Helper()
	var core []*Server
	for i := 0; i < 3; i++ {
		o := &Options{ServerName: fmt.Sprintf("nats-%d", i+1), Host: "127.0.0.1", Port: -1,
			Cluster: ClusterOptions{Name: "core", Host: "127.0.0.1", Port: -1, RetryInterval: 20 * time.Millisecond}}
		if i > 0 {
			o.Cluster.Routes = []string{routeURL(core[0])}
		}
		if opts != nil {
			opts(o)
		}
		s, err := NewServer(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { shutdownNow(t, s) })
		core = append(core, s)
	}
	waitMesh(t, core)
	return core
}

// startLeaf starts a leaf whose one remote lists the given client URLs.
func startLeaf(t *testing.T, name string, urls ...string) *Server {
	t.Helper()
	s, err := NewServer(&Options{ServerName: name, Host: "127.0.0.1", Port: -1,
		LeafNode: LeafNodeOptions{Remotes: []RemoteLeafOptions{{URLs: urls}}, ReconnectInterval: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdownNow(t, s) })
	return s
}

func startSeed(t *testing.T) *seedTopology {
	t.Helper()
	core := startCore(t, nil)
	var urls []string
	for _, s := range core {
		urls = append(urls, s.ClientURL())
	}
	lf := startLeaf(t, "leaf-factory", urls...)
	waitFor(t, "leaf connected", func() bool { return lf.NumLeafs() == 1 })
	return &seedTopology{core: core, leaf: lf}
}

// waitFor polls cond (server state without an event) with a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// hubOf returns the core server the leaf is connected to.
func (st *seedTopology) hubOf(t *testing.T) *Server {
	t.Helper()
	for _, s := range st.core {
		if s.NumLeafs() == 1 {
			return s
		}
	}
	t.Fatal("no core server holds the leaf")
	return nil
}

// Both directions of the seed's story, from and to every core server.
func TestLeafSeedBothDirections(t *testing.T) {
	st := startSeed(t)

	// factory.orders.new: published on the leaf, received on every core.
	var up atomic.Int64
	for _, s := range st.core {
		nc := natsConn(t, s)
		nc.Subscribe("factory.orders.new", func(*nats.Msg) { up.Add(1) })
		nc.Flush()
	}
	waitInterest(t, st.leaf, "factory.orders.new", 1)
	leafPub := natsConn(t, st.leaf)
	leafPub.Publish("factory.orders.new", []byte("order-1"))
	leafPub.Flush()
	waitFor(t, "orders on all three cores", func() bool { return up.Load() == 3 })

	// factory.alerts.critical: published on any core, received on the leaf.
	var down atomic.Int64
	leafSub := natsConn(t, st.leaf)
	leafSub.Subscribe("factory.alerts.critical", func(*nats.Msg) { down.Add(1) })
	leafSub.Flush()
	for _, s := range st.core {
		waitInterest(t, s, "factory.alerts.critical", 1)
	}
	for _, s := range st.core {
		nc := natsConn(t, s)
		nc.Publish("factory.alerts.critical", []byte("fire"))
		nc.Flush()
	}
	waitFor(t, "alerts from all three cores", func() bool { return down.Load() == 3 })
	leafSub.Flush()
	if n := down.Load(); n != 3 {
		t.Fatalf("leaf got %d alerts, want exactly 3", n)
	}
}

func TestLeafRequestReplyAndQueues(t *testing.T) {
	st := startSeed(t)
	// A service on the core answers requests from the leaf.
	svc := natsConn(t, st.core[2])
	svc.Subscribe("svc.stock", func(m *nats.Msg) { m.Respond([]byte("42")) })
	svc.Flush()
	waitInterest(t, st.leaf, "svc.stock", 1)
	cli := natsConn(t, st.leaf)
	for i := 0; i < 20; i++ {
		r, err := cli.Request("svc.stock", nil, clusterWait)
		if err != nil || string(r.Data) != "42" {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	// A queue group with members on the leaf and on two cores: each
	// message is delivered once in total.
	var total atomic.Int64
	for _, s := range []*Server{st.leaf, st.core[1], st.core[2]} {
		nc := natsConn(t, s)
		nc.QueueSubscribe("jobs", "workers", func(*nats.Msg) { total.Add(1) })
		nc.Flush()
	}
	waitInterest(t, st.core[0], "jobs", 2)
	waitInterest(t, st.leaf, "jobs", 2)
	const msgs = 300
	for _, s := range []*Server{st.core[0], st.leaf} {
		nc := natsConn(t, s)
		for i := 0; i < msgs; i++ {
			nc.Publish("jobs", []byte("x"))
		}
		nc.Flush()
	}
	waitFor(t, "queue deliveries", func() bool { return total.Load() >= 2*msgs })
	for _, s := range append(st.core, st.leaf) {
		natsConn(t, s).Flush()
	}
	if n := total.Load(); n != 2*msgs {
		t.Fatalf("queue group got %d, want exactly %d", n, 2*msgs)
	}
}

// Only subjects with interest on the other side cross, and withdrawn
// interest stops the traffic.
func TestLeafInterestWithdrawal(t *testing.T) {
	st := startSeed(t)
	leafConn := func(s *Server) *client {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.leafs {
			return c
		}
		return nil
	}
	up := leafConn(st.leaf)
	coreSub := natsConn(t, st.core[1])
	sub, _ := coreSub.SubscribeSync("factory.orders.new")
	coreSub.Flush()
	waitInterest(t, st.leaf, "factory.orders.new", 1)
	pub := natsConn(t, st.leaf)
	pub.Publish("factory.orders.new", []byte("1"))
	pub.Publish("factory.nobody.wants", []byte("never crosses"))
	pub.Flush()
	if _, err := sub.NextMsg(clusterWait); err != nil {
		t.Fatal(err)
	}
	if n := up.msgsOut.Load(); n != 1 {
		t.Fatalf("%d messages crossed the leaf link, want 1", n)
	}
	sub.Unsubscribe()
	coreSub.Flush()
	waitFor(t, "interest withdrawn from the leaf", func() bool {
		return !st.leaf.subs.HasInterest([]byte("factory.orders.new"))
	})
	for i := 0; i < 10; i++ {
		pub.Publish("factory.orders.new", []byte("x"))
	}
	pub.Flush()
	if n := up.msgsOut.Load(); n != 1 {
		t.Fatalf("%d messages crossed after withdrawal, want still 1", n)
	}
}

// The leaf fails over when its core server dies, and works alone while
// every core is down; on reconnect interest is resynced.
func TestLeafFailoverAndAutonomy(t *testing.T) {
	st := startSeed(t)
	var got atomic.Int64
	leafSub := natsConn(t, st.leaf)
	leafSub.Subscribe("factory.alerts.critical", func(*nats.Msg) { got.Add(1) })
	leafSub.Flush()

	hub := st.hubOf(t)
	start := time.Now()
	shutdownNow(t, hub)
	waitFor(t, "leaf reconnected to another core", func() bool {
		for _, s := range st.core {
			if s != hub && s.NumLeafs() == 1 {
				return true
			}
		}
		return false
	})
	t.Logf("leaf failover took %v", time.Since(start))
	var survivors []*Server
	for _, s := range st.core {
		if s != hub {
			survivors = append(survivors, s)
		}
	}
	for _, s := range survivors {
		waitInterest(t, s, "factory.alerts.critical", 1)
	}
	nc := natsConn(t, survivors[1])
	nc.Publish("factory.alerts.critical", []byte("after failover"))
	nc.Flush()
	waitFor(t, "alert after failover", func() bool { return got.Load() == 1 })

	// All cores down: local pub/sub and request/reply keep working.
	for _, s := range survivors {
		shutdownNow(t, s)
	}
	waitFor(t, "leaf alone", func() bool { return st.leaf.NumLeafs() == 0 })
	local := natsConn(t, st.leaf)
	local.Subscribe("local.svc", func(m *nats.Msg) { m.Respond([]byte("ok")) })
	local.Flush()
	if r, err := local.Request("local.svc", nil, clusterWait); err != nil || string(r.Data) != "ok" {
		t.Fatalf("local request while cut off: %v", err)
	}
	local.Publish("factory.alerts.critical", []byte("local"))
	local.Flush()
	waitFor(t, "local alert", func() bool { return got.Load() == 2 })
	// Nothing learned from the dead hub remains.
	if st.leaf.subs.HasInterest([]byte("nobody.at.core")) {
		t.Fatal("stale interest")
	}
}

// CIDR admission: a leaf from an allowed range joins, one from outside
// every range is refused with -ERR 'Authorization Violation' before any
// interest crosses; plain clients are not affected.
func TestLeafCIDRAdmission(t *testing.T) {
	cases := []struct {
		name  string
		cidrs []string
		host  string // leaf's source (loopback v4 or v6)
		admit bool
	}{
		{"v4 allowed", []string{"127.0.0.0/8"}, "127.0.0.1", true},
		{"v4 refused", []string{"192.168.1.0/24"}, "127.0.0.1", false},
		{"v4 bare address", []string{"127.0.0.1"}, "127.0.0.1", true},
		{"v6 allowed", []string{"::1/128"}, "::1", true},
		{"v6 refused", []string{"fd00::/8", "10.0.0.0/8"}, "::1", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var prefixes []netip.Prefix
			for _, c := range tc.cidrs {
				p, err := netip.ParsePrefix(c)
				if err != nil { // a bare address
					a := netip.MustParseAddr(c)
					p = netip.PrefixFrom(a, a.BitLen())
				}
				prefixes = append(prefixes, p)
			}
			hub, err := NewServer(&Options{ServerName: "hub", Host: tc.host, Port: -1,
				Authorization: Authorization{AllowedLeafCIDRs: prefixes}})
			if err != nil {
				t.Fatal(err)
			}
			if err := hub.Start(); err != nil {
				t.Skipf("cannot listen on %s: %v", tc.host, err)
			}
			t.Cleanup(func() { shutdownNow(t, hub) })
			// Raw leaf handshake on the client port.
			nc, err := net.Dial("tcp", hub.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			br := bufio.NewReader(nc)
			nc.SetReadDeadline(time.Now().Add(clusterWait))
			br.ReadString('\n') // client INFO
			nc.Write([]byte(`CONNECT {"server_id":"NLEAF","name":"leaf","cluster":"leaf","headers":true,"protocol":1}` + "\r\n"))
			line, _ := br.ReadString('\n')
			if !tc.admit {
				if strings.TrimSpace(line) != "-ERR 'Authorization Violation'" {
					t.Fatalf("got %q, want the refusal", line)
				}
				if _, err := br.ReadString('\n'); err == nil {
					t.Fatal("refused leaf got more than the -ERR")
				}
				if hub.NumLeafs() != 0 {
					t.Fatal("refused leaf registered")
				}
				// A plain client from the same address is fine.
				c, err := nats.Connect(hub.ClientURL())
				if err != nil {
					t.Fatalf("client refused: %v", err)
				}
				c.Close()
				return
			}
			if !strings.HasPrefix(line, "INFO ") || !strings.Contains(line, `"connect_info":true`) {
				t.Fatalf("got %q, want the connect_info INFO", line)
			}
			waitFor(t, "leaf registered", func() bool { return hub.NumLeafs() == 1 })
		})
	}
}

// Malformed leaf input gets the official error and a close.
func TestLeafMalformedInput(t *testing.T) {
	hub, err := NewServer(&Options{Host: "127.0.0.1", Port: -1, MaxPayload: 1024,
		LeafNode: LeafNodeOptions{Host: "127.0.0.1", Port: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdownNow(t, hub) })
	hello := `CONNECT {"server_id":"NL","name":"l","cluster":"l","headers":true}` + "\r\n"
	cases := []struct{ name, send, want string }{
		{"op before connect", "PING\r\n", "-ERR 'Authorization Violation'"},
		{"client on leaf port", `CONNECT {"lang":"go"}` + "\r\n", "-ERR 'attempted to connect to leaf node port'"},
		{"bad LS+", hello + "LS+\r\n", ""},
		{"oversize LMSG", hello + "LMSG foo 2048\r\n", "-ERR 'Maximum Payload Violation'"},
		{"bad LMSG size", hello + "LMSG foo x\r\n", ""},
		{"route op on leaf", hello + "RS+ $G foo\r\n", "-ERR 'Unknown Protocol Operation'"},
		{"loop", hello + "LS+ " + hub.loopSubject() + "\r\n", `-ERR 'Loop detected for leafnode account="$G". Delaying attempt to reconnect for 30s'`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", hub.LeafAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			br := bufio.NewReader(nc)
			nc.SetReadDeadline(time.Now().Add(clusterWait))
			if line, _ := br.ReadString('\n'); !strings.Contains(line, `"info_on_connect":true`) {
				t.Fatalf("leaf INFO: %q", line)
			}
			nc.Write([]byte(tc.send))
			var lines []string
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					break
				}
				lines = append(lines, strings.TrimSpace(line))
			}
			if tc.want != "" && !containsLine(lines, tc.want) {
				t.Fatalf("got %q, want %q before the close", lines, tc.want)
			}
		})
	}
}

// A queue group whose only members are behind a leaf gets messages that
// reach the hub over a route (found by the official-interop tests).
func TestLeafQueueBehindLeafFromRoute(t *testing.T) {
	core := startCore(t, nil)
	lf := startLeaf(t, "leaf-q", core[0].ClientURL())
	waitFor(t, "leaf connected", func() bool { return lf.NumLeafs() == 1 })
	var got atomic.Int64
	for i := 0; i < 2; i++ {
		nc := natsConn(t, lf)
		nc.QueueSubscribe("q.jobs", "workers", func(*nats.Msg) { got.Add(1) })
		nc.Flush()
	}
	for _, s := range core {
		waitInterest(t, s, "q.jobs", 1)
	}
	const msgs = 100
	pub := natsConn(t, core[2]) // not the leaf's hub: the message crosses a route first
	for i := 0; i < msgs; i++ {
		pub.Publish("q.jobs", []byte("x"))
	}
	pub.Flush()
	waitFor(t, "queue members behind the leaf", func() bool { return got.Load() >= msgs })
	natsConn(t, lf).Flush()
	if n := got.Load(); n != msgs {
		t.Fatalf("got %d, want exactly %d", n, msgs)
	}
}

// A hub that never answers CONNECT with its connect_info INFO: the leaf
// does not register the link and gives up with the official error.
func TestLeafWaitsForConnectInfo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lf := startLeaf(t, "leaf", "nats://"+ln.Addr().String())
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "INFO {\"server_id\":\"NFAKEHUB\",\"server_name\":\"mute\",\"version\":\"2.15.2\",\"proto\":1,\"headers\":true,\"max_payload\":1048576,\"client_id\":1,\"info_on_connect\":true,\"leafnode_urls\":[\"x:1\"]}\r\n")
	r := bufio.NewReader(nc)
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "CONNECT ") {
		t.Fatalf("leaf sent %q, %v", line, err)
	}
	nc.SetReadDeadline(time.Now().Add(clusterWait))
	for {
		line, err = r.ReadString('\n')
		if err != nil {
			t.Fatalf("no stale error from the leaf: %v", err)
		}
		if strings.HasPrefix(line, "LS+") {
			t.Fatalf("leaf sent interest before connect_info: %q", line)
		}
		if strings.HasPrefix(line, "-ERR 'Stale Leaf Node Connection - Closing'") {
			break
		}
	}
	if lf.NumLeafs() != 0 {
		t.Fatal("link registered without connect_info")
	}
}
