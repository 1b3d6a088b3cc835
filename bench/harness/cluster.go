package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fernmq/fern"
	"github.com/nats-io/nats-server/v2/server"
)

// Cluster nodes: a Node is one server (Fern or official) of a full-mesh
// cluster on loopback. Fern and official nodes can be mixed in one cluster;
// the interop tests do, the cluster benchmarks do not.

// Node kinds.
const (
	KindFern     = "fern"
	KindOfficial = "official"
)

// DefaultClusterName is the cluster name StartCluster gives its nodes.
const DefaultClusterName = "core"

// Cluster errors.
var (
	// ErrMeshTimeout means a cluster did not reach its full mesh in time.
	ErrMeshTimeout = errors.New("harness: cluster mesh not formed")
	// ErrUnknownKind means a NodeSpec names neither KindFern nor
	// KindOfficial.
	ErrUnknownKind = errors.New("harness: unknown node kind")
	// ErrRunning means Start was called on a node that is running.
	ErrRunning = errors.New("harness: node already running")
)

// NodeSpec describes one server of a cluster.
type NodeSpec struct {
	// Kind is KindFern or KindOfficial.
	Kind string
	// Name is the server name, unique within the cluster.
	Name string
	// Cluster is the cluster name; empty means DefaultClusterName.
	Cluster string
	// ClusterPort is the route listener port; -1 (or 0) picks an ephemeral
	// one. Once started, the node remembers the bound port so that Restart
	// listens on the same one.
	ClusterPort int
	// Routes are the nats-route:// URLs the node dials.
	Routes []string
	// RetryInterval is Fern's first route redial delay (0: Fern's default).
	// The official server always redials explicit routes every second.
	RetryInterval time.Duration
	// PoolSize is an official node's cluster pool_size (0: the default of
	// 3; -1: no pooling, as a pre-2.10 server, which is how official servers
	// treat Fern).
	PoolSize int
	// Compression is the route S2 compression mode ("off", "accept",
	// "s2_auto", "s2_uncompressed", "s2_fast", "s2_better", "s2_best");
	// empty keeps each implementation's default, "accept" for both.
	Compression string
	// TLS, if set, makes every route of the node TLS from its first byte,
	// as the official server does with a cluster tls block: the node
	// presents Cert/Key both as a server and as a client, requires client
	// certificates, and verifies the other side with CA both ways.
	// ClientCert and ClientKey are not used.
	TLS *TLSFiles
	// Logger, if set, receives the node's logs; an official server logs
	// debug lines if the logger is enabled for slog.LevelDebug, and trace
	// lines (every protocol message) for LevelDebug-4.
	Logger *slog.Logger
}

// Node is a running cluster server. Restart replaces the server behind it,
// so a test can keep using the same *Node.
type Node struct {
	spec     NodeSpec
	fern     *fern.Server
	official *server.Server
}

// StartNode starts a server from spec and waits until it accepts client
// and route connections.
func StartNode(spec NodeSpec) (*Node, error) {
	if spec.Cluster == "" {
		spec.Cluster = DefaultClusterName
	}
	if spec.ClusterPort == 0 {
		spec.ClusterPort = -1
	}
	spec.Routes = slices.Clone(spec.Routes)
	n := &Node{spec: spec}
	if err := n.start(); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Node) start() error {
	switch n.spec.Kind {
	case KindFern:
		return n.startFern()
	case KindOfficial:
		return n.startOfficial()
	default:
		return fmt.Errorf("%w: %q", ErrUnknownKind, n.spec.Kind)
	}
}

func (n *Node) startFern() error {
	sp := &n.spec
	o := &fern.Options{
		ServerName: sp.Name,
		Host:       "127.0.0.1",
		Port:       -1,
		Logger:     sp.Logger,
		Cluster: fern.ClusterOptions{
			Name:          sp.Cluster,
			Host:          "127.0.0.1",
			Port:          sp.ClusterPort,
			Routes:        sp.Routes,
			RetryInterval: sp.RetryInterval,
			Compression:   fern.CompressionOptions{Mode: sp.Compression},
		},
	}
	if sp.TLS != nil {
		o.Cluster.TLS = &fern.TLSOptions{CertFile: sp.TLS.Cert, KeyFile: sp.TLS.Key, CAFile: sp.TLS.CA,
			Verify: true, Timeout: routeTLSTimeout}
	}
	s, err := runFern(o, fmt.Sprintf("fern node %s", sp.Name))
	if err != nil {
		return err
	}
	n.fern = s
	sp.ClusterPort = portOf(s.ClusterAddr().String())
	return nil
}

func stopFern(s *fern.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	_ = s.Shutdown(ctx)
}

func (n *Node) startOfficial() error {
	sp := &n.spec
	o := &server.Options{
		ServerName: sp.Name,
		Host:       "127.0.0.1",
		Port:       -1,
		NoLog:      true,
		NoSigs:     true,
		Cluster: server.ClusterOpts{
			Name:        sp.Cluster,
			Host:        "127.0.0.1",
			Port:        sp.ClusterPort,
			PoolSize:    sp.PoolSize,
			Compression: server.CompressionOpts{Mode: sp.Compression},
		},
	}
	if len(sp.Routes) > 0 {
		// RoutesFromStr("") is one empty URL, which the server would
		// dial (and fail to) forever.
		o.Routes = server.RoutesFromStr(strings.Join(sp.Routes, ","))
	}
	if sp.TLS != nil {
		tc, err := officialRouteTLS(sp.TLS)
		if err != nil {
			return fmt.Errorf("harness: start official node %s: %w", sp.Name, err)
		}
		o.Cluster.TLSConfig, o.Cluster.TLSTimeout = tc, routeTLSTimeout.Seconds()
	}
	s, err := server.NewServer(o)
	if err != nil {
		return fmt.Errorf("harness: start official node %s: %w", sp.Name, err)
	}
	if l := sp.Logger; l != nil {
		ctx := context.Background()
		s.SetLogger(officialLogger{l.With("server", sp.Name)},
			l.Enabled(ctx, slog.LevelDebug), l.Enabled(ctx, levelTrace))
	}
	go s.Start()
	if !s.ReadyForConnections(startTimeout) {
		s.Shutdown()
		s.WaitForShutdown()
		return fmt.Errorf("harness: start official node %s: %w", sp.Name, ErrNotReady)
	}
	n.official = s
	sp.ClusterPort = s.ClusterAddr().Port
	return nil
}

// routeTLSTimeout bounds the route TLS handshakes, on either
// implementation.
const routeTLSTimeout = 2 * time.Second

// officialRouteTLS is the official server's cluster TLS configuration for
// f, built as its configuration parser builds one from a cluster tls block
// (server/opts.go getTLSConfig): client certificates are always required
// and verified, and since every server also dials the others, the CA pool
// that verifies clients also verifies servers.
func officialRouteTLS(f *TLSFiles) (*tls.Config, error) {
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: f.Cert, KeyFile: f.Key, CaFile: f.CA,
		Verify: true, Timeout: routeTLSTimeout.Seconds()})
	if err != nil {
		return nil, fmt.Errorf("route tls: %w", err)
	}
	tc.ClientAuth = tls.RequireAndVerifyClientCert
	tc.RootCAs = tc.ClientCAs
	return tc, nil
}

// portOf is the port of a host:port address (0 if it has none).
func portOf(addr string) int {
	i := strings.LastIndexByte(addr, ':')
	p, _ := strconv.Atoi(addr[i+1:])
	return p
}

// Stop shuts the server down and waits for it. Stopping twice is harmless.
func (n *Node) Stop() {
	switch {
	case n.fern != nil:
		stopFern(n.fern)
		n.fern = nil
	case n.official != nil:
		n.official.Shutdown()
		n.official.WaitForShutdown()
		n.official = nil
	}
}

// Start starts a fresh server (new server ID, new client port) for a
// stopped node, with the same spec on the same route port.
func (n *Node) Start() error {
	if n.fern != nil || n.official != nil {
		return fmt.Errorf("harness: start node %s: %w", n.spec.Name, ErrRunning)
	}
	return n.start()
}

// Restart stops the server and starts a fresh one at once (see Start).
func (n *Node) Restart() error {
	n.Stop()
	return n.start()
}

// Running reports whether the node has a running server.
func (n *Node) Running() bool { return n.fern != nil || n.official != nil }

// Kind is KindFern or KindOfficial.
func (n *Node) Kind() string { return n.spec.Kind }

// Name is the server name.
func (n *Node) Name() string { return n.spec.Name }

// ID is the running server's ID ("" when stopped).
func (n *Node) ID() string {
	switch {
	case n.fern != nil:
		return n.fern.ID()
	case n.official != nil:
		return n.official.ID()
	}
	return ""
}

// ClientURL is the nats:// URL clients connect to ("" when stopped).
func (n *Node) ClientURL() string {
	switch {
	case n.fern != nil:
		return n.fern.ClientURL()
	case n.official != nil:
		return n.official.ClientURL()
	}
	return ""
}

// FernServer is the running Fern server, or nil for an official node.
func (n *Node) FernServer() *fern.Server { return n.fern }

// OfficialServer is the running official server, or nil for a Fern node.
func (n *Node) OfficialServer() *server.Server { return n.official }

// RouteURL is the nats-route:// URL other servers dial.
func (n *Node) RouteURL() string {
	return "nats-route://127.0.0.1:" + strconv.Itoa(n.spec.ClusterPort)
}

// ClusterPort is the route listener port.
func (n *Node) ClusterPort() int { return n.spec.ClusterPort }

// NumRemotes is the number of servers this one has a route to (0 when
// stopped).
func (n *Node) NumRemotes() int {
	switch {
	case n.fern != nil:
		return n.fern.NumRoutes()
	case n.official != nil:
		return n.official.NumRemotes()
	}
	return 0
}

// HasInterest reports whether the running server knows a subscription
// matching subject: a local client's or one learned from a route (false
// when stopped).
func (n *Node) HasInterest(subject string) bool {
	switch {
	case n.fern != nil:
		return n.fern.HasInterest(subject)
	case n.official != nil:
		return n.official.GlobalAccount().SubscriptionInterest(subject)
	}
	return false
}

// RouteConns maps each remote server ID to the number of route connections
// this server holds to it. Only the official server exposes this (through
// its /routez data); for a Fern node ok is false.
func (n *Node) RouteConns() (conns map[string]int, ok bool) {
	if n.official == nil {
		return nil, false
	}
	rz, err := n.official.Routez(nil)
	if err != nil {
		return nil, false
	}
	conns = make(map[string]int)
	for _, r := range rz.Routes {
		conns[r.RemoteID]++
	}
	return conns, true
}

// RouteCompression maps each remote server ID to the compression modes
// this server's route connections to it settled on (the level each writes
// with: "off", "s2_fast", ...). Only the official server exposes this;
// for a Fern node ok is false.
func (n *Node) RouteCompression() (modes map[string][]string, ok bool) {
	if n.official == nil {
		return nil, false
	}
	rz, err := n.official.Routez(nil)
	if err != nil {
		return nil, false
	}
	modes = make(map[string][]string)
	for _, r := range rz.Routes {
		modes[r.RemoteID] = append(modes[r.RemoteID], r.Compression)
	}
	return modes, true
}

// pooled reports whether the node pools route connections (an official
// server with the default pool size).
func (n *Node) pooled() bool { return n.spec.Kind == KindOfficial && n.spec.PoolSize >= 0 }

// OfficialPairConns is how many route connections two official servers
// with default settings keep between them: the default pool of 3, plus the
// connection pinned to the system account.
const OfficialPairConns = 4

// MeshErr reports why nodes do not form a settled full mesh yet, or nil:
// every node has a route to every other; an official node holds exactly
// one connection to each Fern node (Fern announces no route pool) or
// unpooled official node, and a complete pool to each pooled official node, and no connection to a server that
// is not in nodes (for example a restarted node's previous instance).
func MeshErr(nodes []*Node) error {
	ids := make(map[string]*Node, len(nodes))
	for _, n := range nodes {
		ids[n.ID()] = n
	}
	for _, n := range nodes {
		if got := n.NumRemotes(); got != len(nodes)-1 {
			return fmt.Errorf("%s has routes to %d servers, want %d", n.Name(), got, len(nodes)-1)
		}
		conns, ok := n.RouteConns()
		if !ok {
			continue
		}
		for _, id := range slices.Sorted(maps.Keys(conns)) {
			peer := ids[id]
			if peer == nil {
				return fmt.Errorf("%s has %d connections to unknown server %s", n.Name(), conns[id], id)
			}
			want := 1
			if n.pooled() && peer.pooled() {
				want = OfficialPairConns
			}
			if conns[id] != want {
				return fmt.Errorf("%s has %d route connections to %s (%s), want %d",
					n.Name(), conns[id], peer.Name(), peer.Kind(), want)
			}
		}
	}
	return nil
}

// pollEvery is how often WaitMesh re-checks cluster state.
const pollEvery = 10 * time.Millisecond

// WaitMesh polls MeshErr until it is nil or timeout passes; the error then
// wraps ErrMeshTimeout and says what was still missing.
func WaitMesh(nodes []*Node, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		err := MeshErr(nodes)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %v: %w", ErrMeshTimeout, timeout, err)
		}
		<-tick.C
	}
}

// StartCluster starts one node per kind, named after its kind and
// position ("fern-0", "official-1"), with Fern's first route redial delay
// retry; see StartClusterSpecs.
func StartCluster(kinds []string, retry time.Duration, meshTimeout time.Duration) ([]*Node, error) {
	specs := make([]NodeSpec, len(kinds))
	for i, kind := range kinds {
		specs[i] = NodeSpec{Kind: kind, Name: fmt.Sprintf("%s-%d", kind, i), RetryInterval: retry}
	}
	return StartClusterSpecs(specs, meshTimeout)
}

// StartClusterSpecs starts one node per spec, in order; the first node is
// the seed, whose route URL is added to every other node's routes. It
// waits for the full mesh. On error the nodes already started are
// stopped.
func StartClusterSpecs(specs []NodeSpec, meshTimeout time.Duration) ([]*Node, error) {
	var nodes []*Node
	for i, spec := range specs {
		if i > 0 {
			spec.Routes = append(slices.Clone(spec.Routes), nodes[0].RouteURL())
		}
		n, err := StartNode(spec)
		if err != nil {
			StopAll(nodes)
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if err := WaitMesh(nodes, meshTimeout); err != nil {
		StopAll(nodes)
		return nil, err
	}
	return nodes, nil
}

// StopAll stops every node.
func StopAll(nodes []*Node) {
	for _, n := range nodes {
		n.Stop()
	}
}
