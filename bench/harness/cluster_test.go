package harness_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
)

// TestClusterWorkloadsDeliverExactly runs every cluster workload on a
// cluster of each implementation and checks the counts it reports: every
// subscriber, local or across a route, gets every message exactly once.
func TestClusterWorkloadsDeliverExactly(t *testing.T) {
	for _, target := range harness.ClusterTargets() {
		t.Run(target.Name, func(t *testing.T) {
			for _, w := range harness.ClusterWorkloads() {
				t.Run(w.Key, func(t *testing.T) {
					urls, stop, err := target.Start(w.Servers)
					if err != nil {
						t.Fatalf("start %d %s servers: %v", w.Servers, target.Name, err)
					}
					defer stop()
					res, err := w.Run(urls, harness.Config{Msgs: testMsgs, Timeout: testTimeout})
					if err != nil {
						t.Fatalf("%s: %v", w.Name, err)
					}
					want := make([]uint64, len(w.Subscribers))
					for i := range want {
						want[i] = testMsgs
					}
					wantCounts(t, res, testMsgs, testMsgs*len(w.Subscribers), want)
					if res.Size != w.Size || res.Elapsed <= 0 {
						t.Errorf("size=%d elapsed=%v", res.Size, res.Elapsed)
					}
				})
			}
		})
	}
}

func TestClusterRunRejectsBadConfig(t *testing.T) {
	for _, w := range harness.ClusterWorkloads() {
		if _, err := w.Run(make([]string, w.Servers), harness.Config{}); err != harness.ErrConfig {
			t.Errorf("%s with Msgs=0: err = %v, want ErrConfig", w.Key, err)
		}
		if _, err := w.Run(make([]string, w.Servers-1), harness.Config{Msgs: 1}); err != harness.ErrConfig {
			t.Errorf("%s with %d URLs: err = %v, want ErrConfig", w.Key, w.Servers-1, err)
		}
	}
}

// TestMeshErrSeesMissingRoutes checks the mesh condition the cluster
// helpers wait on: two servers that do not route to each other are not a
// mesh, and WaitMesh gives up with ErrMeshTimeout saying why.
func TestMeshErrSeesMissingRoutes(t *testing.T) {
	for _, kind := range []string{harness.KindFern, harness.KindOfficial} {
		t.Run(kind, func(t *testing.T) {
			var nodes []*harness.Node
			defer func() { harness.StopAll(nodes) }()
			for _, name := range []string{"a", "b"} {
				n, err := harness.StartNode(harness.NodeSpec{Kind: kind, Name: name})
				if err != nil {
					t.Fatal(err)
				}
				nodes = append(nodes, n)
			}
			err := harness.WaitMesh(nodes, 50*time.Millisecond)
			if !errors.Is(err, harness.ErrMeshTimeout) || !strings.Contains(err.Error(), "has routes to 0 servers") {
				t.Fatalf("WaitMesh on two unrouted servers: %v", err)
			}
		})
	}
}

func TestStartNodeRejectsUnknownKind(t *testing.T) {
	if _, err := harness.StartNode(harness.NodeSpec{Kind: "nope"}); !errors.Is(err, harness.ErrUnknownKind) {
		t.Fatalf("err = %v, want ErrUnknownKind", err)
	}
}
