package interop

import (
	"slices"
	"strconv"
	"testing"

	"github.com/fernmq/fern/bench/harness"
)

// TestDuplicateRouteKeepsFirst makes two servers, x and y, dial each other
// while proxies hold the connections back: y's connection to x goes
// through first and becomes the route, then x's late connection to y is
// let through. The late one must be dropped and the first one kept, with
// no reconnection. The official server keeps the first registered route
// and closes a later duplicate (server/route.go addRoute,
// handleDuplicateRoute), so a peer that picks the other connection leaves
// the pair with none, and the two redial into the same collision again.
// Each case fixes which server has the lower ID, by starting the pair
// again until it holds: Fern used to keep the connection solicited by the
// lower ID, which failed exactly in the "lower id" cases below. (Official
// server IDs always begin with NA to ND, being nkeys; Fern's are "N" and
// random base32, so a Fern server's ID sorts lower about a quarter of the
// time.)
func TestDuplicateRouteKeepsFirst(t *testing.T) {
	tests := []struct {
		name   string
		x, y   string
		xLower bool // x has the lower server ID
	}{
		{"late fern dial, fern lower id", harness.KindFern, harness.KindOfficial, true},
		{"late fern dial, fern higher id", harness.KindFern, harness.KindOfficial, false},
		{"late official dial, official lower id", harness.KindOfficial, harness.KindFern, true},
		{"late official dial, official higher id", harness.KindOfficial, harness.KindFern, false},
		{"fern only, late dial from lower id", harness.KindFern, harness.KindFern, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, y, toX, toY := startCrossedPair(t, tc.x, tc.y, tc.xLower)
			nodes := []*harness.Node{y, x}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("wire (x %s, y %s):\n%s", x.ID(), y.ID(),
						transcript([]string{"toX", "toY"}, []*proxy{toX, toY}))
				}
			})

			toX.open()
			// Wait for the route, and for y to give up any extra connection
			// (the official server's pinned-account attempt).
			waitUntil(t, "one route connection, y to x", func() bool {
				_, _, live := toX.state()
				return harness.MeshErr(nodes) == nil && len(live) == 1
			})
			firstAccepted, _, first := toX.state()
			keptFirst := func(when string) {
				t.Helper()
				accepted, _, live := toX.state()
				if !slices.Equal(live, first) || accepted != firstAccepted {
					t.Fatalf("%s: first route connection toX#%v replaced: through toX now %v (accepted %d, was %d)",
						when, first, live, accepted, firstAccepted)
				}
			}

			toY.open()
			waitUntil(t, "the late connection to be dropped, or the first one", func() bool {
				accepted, ended, _ := toY.state()
				_, _, live := toX.state()
				return (accepted >= 1 && ended == accepted) || !slices.Equal(live, first)
			})
			if err := harness.WaitMesh(nodes, meshTimeout); err != nil {
				t.Fatal(err)
			}
			keptFirst("after the late dial")
			runTraffic(t, nodes, "dup", trafficMsgs)
			waitUntil(t, "every late connection to be dropped", func() bool {
				accepted, ended, _ := toY.state()
				return ended == accepted
			})
			keptFirst("after traffic")
		})
	}
}

// startCrossedPair starts y dialling x through proxy toX and x dialling y
// through toY, both proxies closed, starting the pair again until x's ID
// sorts below y's exactly when xLower. The nodes stop at cleanup.
func startCrossedPair(t *testing.T, xKind, yKind string, xLower bool) (x, y *harness.Node, toX, toY *proxy) {
	t.Helper()
	xPort, yPort := freePort(t), freePort(t)
	for range 64 {
		// Fresh proxies each time: connections from a discarded server
		// stay held and are dropped at cleanup.
		toX = newProxy(t, "127.0.0.1:"+strconv.Itoa(xPort))
		toY = newProxy(t, "127.0.0.1:"+strconv.Itoa(yPort))
		var nodes []*harness.Node
		for _, spec := range []harness.NodeSpec{
			{Kind: yKind, Name: "y-" + yKind, ClusterPort: yPort, Routes: []string{toX.URL()}, RetryInterval: fernRetry},
			{Kind: xKind, Name: "x-" + xKind, ClusterPort: xPort, Routes: []string{toY.URL()}, RetryInterval: fernRetry},
		} {
			n, err := harness.StartNode(spec)
			if err != nil {
				harness.StopAll(nodes)
				t.Fatal(err)
			}
			nodes = append(nodes, n)
		}
		y, x = nodes[0], nodes[1]
		if (x.ID() < y.ID()) == xLower {
			t.Cleanup(func() { harness.StopAll(nodes) })
			return x, y, toX, toY
		}
		harness.StopAll(nodes)
	}
	t.Fatal("could not draw server IDs in the wanted order")
	return nil, nil, nil, nil
}
