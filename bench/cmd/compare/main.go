// Command compare runs every harness workload against Fern and the official
// nats-server, embedded side by side in this process, and prints a markdown
// table of medians and Fern/official ratios.
//
//	cd bench && go run ./cmd/compare [-n N] [-reqs R] [-rounds K]
//	cd bench && go run ./cmd/compare -js [-n N] [-reqs R] [-rounds K]
//
// Rounds are interleaved: within each round every workload runs on both
// targets back to back, each on a freshly started server after a forced GC,
// so slow drift of the machine (thermal state, other load) affects both
// alike. The order alternates between rounds (Fern first in odd rounds, the
// official server first in even ones) so neither target always inherits the
// other's leftovers. Each cell of the table is the median over the rounds,
// and each ratio is the median of the per-round ratios. Progress goes to stderr and the table to stdout. A failed run is
// reported on stderr, shown as "failed" in the table, and makes the command
// exit with status 1.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/fernmq/fern/bench/harness"
)

func main() {
	n := flag.Int("n", 200_000, "messages published per run of each publish workload")
	reqs := flag.Int("reqs", 0, "requests per request/reply run (default n/40)")
	rounds := flag.Int("rounds", 3, "interleaved rounds; each cell is the median")
	timeout := flag.Duration("timeout", 2*time.Minute, "bound on each single run")
	js := flag.Bool("js", false, "compare the JetStream workloads instead (see js.go)")
	flag.Parse()
	if *js {
		os.Exit(runJS(*n, *reqs, *rounds, *timeout))
	}
	if *reqs <= 0 {
		*reqs = max(*n/40, 1)
	}
	if *n < 1 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "compare: -n and -rounds must be at least 1")
		os.Exit(2)
	}

	cfg := runConfig{msgs: *n, reqs: *reqs, timeout: *timeout}
	tbl := measure(harness.Workloads(), harness.Targets(), *rounds, cfg)
	fmt.Println(header(*n, *reqs, *rounds))
	fmt.Println()
	fmt.Print(tbl.markdown())
	if tbl.failed {
		os.Exit(1)
	}
}

type runConfig struct {
	msgs, reqs int
	timeout    time.Duration
}

// measure runs rounds × workloads × targets, interleaving targets within
// each workload of each round, and collects every result.
func measure(ws []harness.Workload, ts []harness.Target, rounds int, cfg runConfig) *table {
	tbl := newTable(ws, ts, rounds)
	for r := range rounds {
		for wi, w := range ws {
			msgs := cfg.msgs
			if w.Latency {
				msgs = cfg.reqs
			}
			for k := range ts {
				ti := k
				if r%2 == 1 {
					ti = len(ts) - 1 - k
				}
				t := ts[ti]
				res, err := runOnce(t, w, harness.Config{Msgs: msgs, Timeout: cfg.timeout})
				if err != nil {
					fmt.Fprintf(os.Stderr, "round %d/%d %s %s: %v\n", r+1, rounds, w.Name, t.Name, err)
					tbl.fail()
					continue
				}
				fmt.Fprintf(os.Stderr, "round %d/%d %-26s %-8s %s\n", r+1, rounds, w.Name, t.Name, describe(w, res))
				tbl.add(wi, ti, r, res)
			}
		}
	}
	return tbl
}

// runOnce starts a fresh server, collects garbage left by earlier runs so
// it is not charged to this one, runs the workload and stops the server.
func runOnce(t harness.Target, w harness.Workload, cfg harness.Config) (harness.Result, error) {
	url, stop, err := t.Start()
	if err != nil {
		return harness.Result{}, err
	}
	defer stop()
	runtime.GC()
	return w.Run(url, cfg)
}

func describe(w harness.Workload, res harness.Result) string {
	if w.Latency {
		return fmt.Sprintf("%s req/s, p50 %s, p99 %s", human(res.MsgsPerSec()), micros(res.P50), micros(res.P99))
	}
	return fmt.Sprintf("%s msgs/s, %.1f MB/s", human(res.MsgsPerSec()), res.MBPerSec())
}
