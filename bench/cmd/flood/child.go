package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fernmq/fern/bench/harness"
)

// runChild starts the topology and serves until stdin closes.
func runChild(kind, topo string) error {
	var pubURL, subURL string
	var stop func()
	switch topo {
	case "single":
		n, err := harness.StartNode(harness.NodeSpec{Kind: kind, Name: kind})
		if err != nil {
			return err
		}
		pubURL, subURL, stop = n.ClientURL(), n.ClientURL(), n.Stop
	case "route":
		nodes, err := harness.StartCluster([]string{kind, kind}, 20*time.Millisecond, 10*time.Second)
		if err != nil {
			return err
		}
		pubURL, subURL, stop = nodes[0].ClientURL(), nodes[1].ClientURL(), func() { harness.StopAll(nodes) }
	case "leaf":
		hub, err := harness.StartLeafServer(harness.LeafSpec{Kind: kind, Name: "hub", LeafListen: true})
		if err != nil {
			return err
		}
		leaf, err := harness.StartLeafServer(harness.LeafSpec{Kind: kind, Name: "leaf", Hubs: []string{hub.LeafURL()}})
		if err != nil {
			hub.Stop()
			return err
		}
		if err := harness.Poll(10*time.Second, "leaf link", func() bool { return hub.NumLeafs() == 1 }); err != nil {
			return err
		}
		pubURL, subURL, stop = leaf.ClientURL(), hub.ClientURL(), func() { leaf.Stop(); hub.Stop() }
	default:
		return fmt.Errorf("unknown topology %q", topo)
	}
	defer stop()
	fmt.Printf("URLS %s %s\n", pubURL, subURL)
	io.Copy(io.Discard, os.Stdin)
	return nil
}
