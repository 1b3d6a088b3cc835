package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/fernmq/fern"
	"github.com/fernmq/fern/bench/harness"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// JetStream defaults for -js, where one stored message costs far more
// than a core publish (with fsync before every PubAck, about a disk
// flush per sequential operation).
const (
	jsDefaultMsgs = 10_000
	jsDefaultOps  = 500
)

// runJS measures harness.JSWorkloads at every durability on Fern and the
// official server (harness.MeasureJS: interleaved rounds, fresh server and
// store directory per run) and prints the table. -n is the message count
// of the throughput workloads (default 10000), -reqs the operation count
// of the sequential ones (default 500). It returns the exit status: 1 if
// a run failed for another reason than a feature Fern reports as not
// implemented.
func runJS(n, ops, rounds int, timeout time.Duration) int {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["n"] {
		n = jsDefaultMsgs
	}
	if !set["reqs"] || ops <= 0 {
		ops = jsDefaultOps
	}
	if n < 1 || rounds < 1 {
		fmt.Fprintln(os.Stderr, "compare: -n and -rounds must be at least 1")
		return 2
	}
	tbl := harness.MeasureJS(harness.JSTableConfig{Msgs: n, Ops: ops, Rounds: rounds, Timeout: timeout}, os.Stderr)
	fmt.Printf("Fern %s vs nats-server %s, both embedded, driven by nats.go %s. Measured %s on %s.\n\n",
		fern.Version, server.VERSION, nats.Version, time.Now().Format("2006-01-02"), cpuModel())
	fmt.Print(tbl.Header())
	fmt.Println()
	fmt.Print(tbl.Markdown())
	for _, e := range tbl.Errors() {
		fmt.Fprintln(os.Stderr, e)
	}
	if tbl.Failed {
		return 1
	}
	return 0
}
