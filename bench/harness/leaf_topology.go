package harness

import (
	"errors"
	"fmt"
	"time"
)

// ErrLeafTimeout means a leaf topology did not reach the expected state in
// time (routes, leaf connections or interest).
var ErrLeafTimeout = errors.New("harness: leaf topology not ready")

// leafPollEvery is how often Poll re-checks server state.
const leafPollEvery = 2 * time.Millisecond

// Poll checks cond every few milliseconds until it holds or timeout
// passes; the error then wraps ErrLeafTimeout and names what.
func Poll(timeout time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(leafPollEvery)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %v: %s", ErrLeafTimeout, timeout, what)
		}
		<-tick.C
	}
	return nil
}

// LeafTriangle is the leaf benchmarks' topology, all of one kind: a
// two-server cluster A, B (cluster "core", each with a leafnodes
// listener) and a leaf L whose one remote lists A's then B's leaf URL, so
// L attaches to A and fails over to B.
type LeafTriangle struct {
	A, B, L *LeafServer
}

// Leaf triangle server names.
const (
	leafHubCluster = "core"
	leafName       = "leaf"
)

// TriangleConfig is how StartLeafTriangle builds its servers.
type TriangleConfig struct {
	// Kind is KindFern or KindOfficial, for all three servers.
	Kind string
	// Reconnect is L's reconnect interval; 0 is the default (1 s).
	Reconnect time.Duration
	// NoCompression turns leaf compression off on every server, Fern and
	// official (both default to s2_auto, which on loopback frames the
	// stream as S2 without compressing).
	NoCompression bool
	// Timeout bounds the wait for the route and L's connection; 0 means
	// 10 s.
	Timeout time.Duration
}

// StartLeafTriangle starts the topology and waits for the route between
// A and B and for L's connection to A. On error the servers already
// started are stopped.
func StartLeafTriangle(cfg TriangleConfig) (*LeafTriangle, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	tri := &LeafTriangle{}
	var err error
	tri.A, err = StartLeafServer(LeafSpec{Kind: cfg.Kind, Name: "A", Cluster: leafHubCluster,
		LeafListen: true, NoCompression: cfg.NoCompression})
	if err != nil {
		return nil, err
	}
	tri.B, err = StartLeafServer(LeafSpec{Kind: cfg.Kind, Name: "B", Cluster: leafHubCluster,
		LeafListen: true, NoCompression: cfg.NoCompression, Routes: []string{tri.A.RouteURL()}})
	if err != nil {
		tri.Stop()
		return nil, err
	}
	tri.L, err = StartLeafServer(LeafSpec{Kind: cfg.Kind, Name: leafName, NoCompression: cfg.NoCompression,
		Hubs: []string{tri.A.LeafURL(), tri.B.LeafURL()}, ReconnectInterval: cfg.Reconnect})
	if err != nil {
		tri.Stop()
		return nil, err
	}
	err = Poll(cfg.Timeout, cfg.Kind+" triangle: route A-B and leaf L on A", func() bool {
		return tri.A.NumRoutes() == 1 && tri.B.NumRoutes() == 1 &&
			tri.L.NumLeafs() == 1 && tri.A.NumLeafs() == 1
	})
	if err != nil {
		tri.Stop()
		return nil, err
	}
	return tri, nil
}

// Hub is the cluster server holding L's connection, or nil.
func (tri *LeafTriangle) Hub() *LeafServer {
	for _, s := range []*LeafServer{tri.A, tri.B} {
		if s != nil && s.running() && s.NumLeafs() > 0 {
			return s
		}
	}
	return nil
}

// Stop stops every server (leaf first, so it does not redial).
func (tri *LeafTriangle) Stop() {
	for _, s := range []*LeafServer{tri.L, tri.B, tri.A} {
		if s != nil {
			s.Stop()
		}
	}
}

// running reports whether the server has not been stopped.
func (ls *LeafServer) running() bool { return ls.fern != nil || ls.official != nil }
