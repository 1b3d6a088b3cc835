package fern

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fernmq/fern/internal/faultnet"
	"github.com/fernmq/fern/store"
	"github.com/nats-io/nats.go"
)

// The fault topology: servers on an internal/faultnet network, each with
// JetStream on its own store.CrashFS, that a test crashes, restarts and
// partitions. It lives in the root package's tests because only tests
// may import the root (lint_test.go); see internal/faultnet's package
// doc for how to write a fault test, fault_test.go for examples.
//
// Addresses: server "n1" is host "n1" of the network, with the client
// port 4222, the route port 6222 and JetStream under /js of its CrashFS;
// the ports stay the same across restarts. Clients connect through the
// network too (connect uses nats.SetCustomDialer), from host "client"
// unless told otherwise, so a client's link can fail like any other.

// faultSeedFlag replays one seed; FERN_FAULT_SEEDS=n runs n seeds.
var faultSeedFlag = flag.Uint64("fault.seed", 0, "run the fault tests with this seed only (replay)")

const (
	faultClientPort = 4222
	faultRoutePort  = 6222
	faultStoreDir   = "/js"
	faultWait       = 20 * time.Second // healing and checks; generous under -race on 2 cores
)

// faultSeeds returns the seeds a fault test runs: the -fault.seed flag,
// else FERN_FAULT_SEEDS seeds (or def of them) from 1.
func faultSeeds(t *testing.T, def int) []uint64 {
	t.Helper()
	if *faultSeedFlag != 0 {
		return []uint64{*faultSeedFlag}
	}
	n := def
	if v := os.Getenv("FERN_FAULT_SEEDS"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k <= 0 {
			t.Fatalf("FERN_FAULT_SEEDS=%q: want a positive count", v)
		}
		n = k
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}

// runFaultSeeds runs f as one subtest per seed and, when one fails, logs
// how to replay it.
func runFaultSeeds(t *testing.T, def int, f func(t *testing.T, seed uint64)) {
	for _, seed := range faultSeeds(t, def) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("replay with -run '%s' -fault.seed=%d", t.Name(), seed)
				}
			})
			f(t, seed)
		})
	}
}

// faultTopologyOptions shapes a topology. The zero value is the seed's
// shape without JetStream: 3 core servers n1..n3 in a full mesh.
type faultTopologyOptions struct {
	// Cores is the number of core servers, n1..nN (default 3).
	Cores int
	// Leaf adds server "leaf" with one remote listing every core's
	// client URL (as ../shared/seed/leaf.conf), connected to one core at
	// a time.
	Leaf bool
	// JetStream turns JetStream on for every server, each on its own
	// CrashFS.
	JetStream bool
	// Domains gives servers a JetStream domain, by server name.
	Domains map[string]string
	// Seed seeds the network's random drops and TornCrash's choices.
	Seed uint64
	// TornCrash makes a kill keep a random prefix of the unsynced writes
	// (as a disk's writeback might) and tear the next one, instead of
	// dropping all of them.
	TornCrash bool
	// Tweak, if set, has the last word on a server's options, on every
	// start and restart.
	Tweak func(name string, o *Options)
}

// faultTopology is a running topology.
type faultTopology struct {
	t     *testing.T
	opts  faultTopologyOptions
	net   *faultnet.Network
	cores []string
	nodes map[string]*faultNode
	names []string // cores, then the leaf

	wg sync.WaitGroup // shutdowns of killed servers

	// kill, restart, apply, heal and server are called by one goroutine
	// at a time (the test's); mu guards rng only.
	mu  sync.Mutex
	rng *rand.Rand
}

// faultNode is one server and what survives its crashes.
type faultNode struct {
	name string
	fs   *store.CrashFS
	host *faultnet.Host
	srv  *Server // nil while killed
}

// startFaultTopology builds and starts a topology and waits until it is
// fully linked.
func startFaultTopology(t *testing.T, o faultTopologyOptions) *faultTopology {
	t.Helper()
	if o.Cores <= 0 {
		o.Cores = 3
	}
	top := &faultTopology{t: t, opts: o, net: faultnet.New(faultnet.Config{Seed: o.Seed}), nodes: map[string]*faultNode{},
		rng: rand.New(rand.NewPCG(o.Seed, 0xc4a54))}
	for i := 1; i <= o.Cores; i++ {
		top.cores = append(top.cores, fmt.Sprintf("n%d", i))
	}
	top.names = append(top.names, top.cores...)
	if o.Leaf {
		top.names = append(top.names, "leaf")
	}
	for _, name := range top.names {
		top.nodes[name] = &faultNode{name: name, fs: store.NewCrashFS()}
		top.net.Host(name) // fixed addresses in name order
	}
	t.Cleanup(top.close)
	for _, name := range top.names {
		if err := top.startNode(name); err != nil {
			t.Fatal(err)
		}
	}
	top.waitLinked(t)
	return top
}

// options builds a server's options for its current host incarnation.
func (top *faultTopology) options(n *faultNode) *Options {
	h := n.host
	ip := h.IP().String()
	o := &Options{
		ServerName: n.name, Host: ip, Port: faultClientPort,
		PingInterval: 250 * time.Millisecond, PingMax: 2, FirstPingDelay: 100 * time.Millisecond,
		Listen: h.Listen, Dial: h.DialContext,
	}
	if n.name == "leaf" {
		var urls []string
		for _, c := range top.cores {
			urls = append(urls, "nats://"+top.net.Host(c).Addr(faultClientPort))
		}
		// A stale interest behind a blackholed route looks like a loop
		// to the leaf: retry soon rather than after the official 30 s.
		o.LeafNode = LeafNodeOptions{Remotes: []RemoteLeafOptions{{URLs: urls}}, ReconnectInterval: 50 * time.Millisecond,
			LoopDelay: 500 * time.Millisecond}
	} else {
		o.Cluster = ClusterOptions{Name: "core", Host: ip, Port: faultRoutePort, RetryInterval: 50 * time.Millisecond}
		for _, c := range top.cores {
			if c != n.name {
				o.Cluster.Routes = append(o.Cluster.Routes, "nats-route://"+top.net.Host(c).Addr(faultRoutePort))
			}
		}
	}
	if lvl := os.Getenv("FERN_FAULT_LOG"); lvl != "" {
		// FERN_FAULT_LOG=debug (or info, warn) sends the servers' logs to
		// stderr, each line tagged with the server's name.
		var l slog.Level
		l.UnmarshalText([]byte(lvl))
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})).With("server", n.name)
	}
	if top.opts.JetStream {
		o.JetStream = JetStreamOptions{Enabled: true, StoreDir: faultStoreDir, FS: n.fs, Domain: top.opts.Domains[n.name]}
	}
	if top.opts.Tweak != nil {
		top.opts.Tweak(n.name, o)
	}
	return o
}

// startNode starts a server on the live incarnation of its host.
func (top *faultTopology) startNode(name string) error {
	n := top.nodes[name]
	n.host = top.net.Host(name)
	s, err := NewServer(top.options(n))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := s.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	n.srv = s
	return nil
}

// server is the running server called name (nil while killed).
func (top *faultTopology) server(name string) *Server { return top.nodes[name].srv }

// clientURL is the URL of a server's client port (dial it with
// top.dialer).
func (top *faultTopology) clientURL(name string) string {
	return "nats://" + top.net.Host(name).Addr(faultClientPort)
}

// connect connects a nats.go client from host "client" to a server; it
// reconnects (to the same server) after faults, forever.
func (top *faultTopology) connect(t *testing.T, server string, opts ...nats.Option) *nats.Conn {
	return top.connectFrom(t, "client", server, opts...)
}

// connectFrom connects a client from the given host of the network.
func (top *faultTopology) connectFrom(t *testing.T, from, server string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	opts = append([]nats.Option{
		nats.SetCustomDialer(top.net.Host(from)), nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond), nats.ReconnectJitter(0, 0), nats.Timeout(time.Second),
		nats.DontRandomize(), nats.NoCallbacksAfterClientClose(),
	}, opts...)
	nc, err := nats.Connect(top.clientURL(server), opts...)
	if err != nil {
		t.Fatalf("connect %s -> %s: %v", from, server, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// kill crashes a server: its host incarnation freezes (nothing more
// gets out), only what its CrashFS had synced is kept for the restart
// (with TornCrash, a random prefix of the rest), and the incarnation
// dies (listeners closed, connections reset, no more dials or listens). The abandoned server is
// shut down in the background; it can reach neither the network nor
// the clone.
func (top *faultTopology) kill(name string) error {
	n := top.nodes[name]
	if n.srv == nil {
		return fmt.Errorf("kill %s: not running", name)
	}
	// Freeze first: from now on nothing the server writes reaches a
	// peer, so every PubAck a client read was sent (after its fsync)
	// before the clone below. Then the clone, then the kill.
	n.host.Freeze()
	old, oldFS := n.srv, n.fs
	var co store.CrashOptions
	if top.opts.TornCrash {
		top.mu.Lock()
		co.KeepOps = top.rng.IntN(oldFS.UnsyncedOps() + 1)
		co.Tear = top.rng.IntN(64)
		top.mu.Unlock()
	}
	n.fs = oldFS.CrashClone(co)
	n.host.Kill()
	if top.opts.JetStream {
		top.t.Logf("kill %s: %d unsynced writes at the crash, %d kept, the next torn after %d bytes", name, oldFS.UnsyncedOps(), co.KeepOps, co.Tear)
	}
	n.srv = nil
	top.wg.Add(1)
	go func() {
		defer top.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), faultWait)
		defer cancel()
		old.Shutdown(ctx)
	}()
	return nil
}

// restart starts a killed server again, on its crash clone, with the
// same names and ports.
func (top *faultTopology) restart(name string) error {
	if top.nodes[name].srv != nil {
		return fmt.Errorf("restart %s: running", name)
	}
	return top.startNode(name)
}

// apply applies a schedule event (faultnet.Schedule.Run's callback).
func (top *faultTopology) apply(e faultnet.Event) error {
	switch e.Kind {
	case faultnet.EventKill:
		return top.kill(e.A)
	case faultnet.EventRestart:
		return top.restart(e.A)
	case faultnet.EventHealAll:
		top.net.HealAll()
		for _, name := range top.names {
			if top.nodes[name].srv == nil {
				if err := top.restart(name); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if !faultnet.ApplyNetwork(top.net, e) {
		return fmt.Errorf("unknown event %v", e)
	}
	return nil
}

// heal clears every fault, restarts killed servers and waits until the
// topology is linked again.
func (top *faultTopology) heal(t *testing.T) {
	t.Helper()
	if err := top.apply(faultnet.Event{Kind: faultnet.EventHealAll}); err != nil {
		t.Fatal(err)
	}
	top.waitLinked(t)
}

// waitLinked waits for the full mesh of routes and, with a leaf, for
// exactly one leaf connection on each side.
func (top *faultTopology) waitLinked(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(faultWait)
	for {
		msg := top.linkState()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("topology not linked after %v: %s", faultWait, msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// linkState is "" when linked, else what is missing.
func (top *faultTopology) linkState() string {
	hubs := 0
	for _, c := range top.cores {
		s := top.server(c)
		if s == nil {
			return c + " down"
		}
		if r := s.NumRoutes(); r != len(top.cores)-1 {
			return fmt.Sprintf("%s has %d routes", c, r)
		}
		hubs += s.NumLeafs()
	}
	if !top.opts.Leaf {
		return ""
	}
	lf := top.server("leaf")
	if lf == nil {
		return "leaf down"
	}
	if lf.NumLeafs() != 1 || hubs != 1 {
		return fmt.Sprintf("leaf has %d hub connections, cores hold %d", lf.NumLeafs(), hubs)
	}
	return ""
}

// close shuts every server down, the killed ones included.
func (top *faultTopology) close() {
	for _, name := range top.names {
		if s := top.nodes[name].srv; s != nil {
			ctx, cancel := context.WithTimeout(context.Background(), faultWait)
			if err := s.Shutdown(ctx); err != nil {
				top.t.Errorf("shutdown %s: %v", name, err)
			}
			cancel()
		}
	}
	top.wg.Wait()
}
