package fern

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Fault tests: whole topologies on internal/faultnet (fault_topology_test.go).

// TestFaultTopologyLinksAndHeals is the harness's own check at the server
// level: the topology links up, traffic flows both ways through the
// leaf, a cut of the leaf's hub link moves it to another core, a killed
// core comes back on its ports and rejoins the mesh.
func TestFaultTopologyLinksAndHeals(t *testing.T) {
	top := startFaultTopology(t, faultTopologyOptions{Leaf: true, JetStream: true, Domains: map[string]string{"leaf": "factory"}})
	probeBothWays(t, top)

	hub := ""
	for _, c := range top.cores {
		if top.server(c).NumLeafs() == 1 {
			hub = c
		}
	}
	top.net.Cut("leaf", hub)
	waitFor(t, "the leaf on another hub", func() bool {
		return top.server(hub).NumLeafs() == 0 && top.server("leaf").NumLeafs() == 1 && top.linkState() == ""
	})
	probeBothWays(t, top)

	if err := top.kill("n2"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n1 sees n2 gone", func() bool { return top.server("n1").NumRoutes() == 1 })
	top.heal(t)
	probeBothWays(t, top)
}

// probeBothWays checks, with bounded retries while interest propagates,
// that a request from every core reaches a responder on the leaf and one
// from the leaf reaches a responder on every core.
func probeBothWays(t *testing.T, top *faultTopology) {
	t.Helper()
	leaf := top.connect(t, "leaf")
	leaf.Subscribe("probe.down", func(m *nats.Msg) { m.Respond([]byte("leaf")) })
	leaf.Flush()
	for _, c := range top.cores {
		nc := top.connect(t, c)
		subj := "probe.up." + c
		nc.Subscribe(subj, func(m *nats.Msg) { m.Respond([]byte(c)) })
		nc.Flush()
		requestUntil(t, nc, "probe.down", "leaf")
		requestUntil(t, leaf, subj, c)
		nc.Close()
	}
	leaf.Close()
}

// requestUntil retries a request until it gets the expected answer
// (interest takes a moment to cross routes and leaf links).
func requestUntil(t *testing.T, nc *nats.Conn, subj, want string) {
	t.Helper()
	deadline := time.Now().Add(faultWait)
	for {
		m, err := nc.Request(subj, nil, 200*time.Millisecond)
		if err == nil && string(m.Data) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s: no answer %q after %v (last: %v)", subj, want, faultWait, err)
		}
	}
}
