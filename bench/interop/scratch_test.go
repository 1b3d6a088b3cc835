package interop

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"

	"github.com/fernmq/fern/bench/harness"
)

func TestScratchShared(t *testing.T) {
	kinds := []string{os.Getenv("K0"), os.Getenv("K1"), os.Getenv("K2")}
	ports := make([]int, len(kinds))
	routes := make([]string, len(kinds))
	for i := range kinds {
		ports[i] = freePort(t)
		routes[i] = "nats-route://127.0.0.1:" + strconv.Itoa(ports[i])
	}
	var nodes []*harness.Node
	t.Cleanup(func() { harness.StopAll(nodes) })
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for i, kind := range kinds {
		n, err := harness.StartNode(harness.NodeSpec{
			Kind: kind, Name: fmt.Sprintf("%s-%d", kind, i),
			ClusterPort: ports[i], Routes: routes, RetryInterval: fernRetry, Logger: lg,
		})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	if err := harness.WaitMesh(nodes, meshTimeout); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		fmt.Fprintln(os.Stderr, "NODE", n.Name(), n.ID())
	}
	fmt.Fprintln(os.Stderr, "MESH OK")
	runTraffic(t, nodes, "shared", trafficMsgs)
	fmt.Fprintln(os.Stderr, "TRAFFIC DONE")
}
