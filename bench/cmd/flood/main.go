// Command flood runs the flood workloads of issue 16 against Fern and the
// official server, each server in a child process of its own so that its
// memory can be measured: fan-out 1:5 on one server, a routed 1:1 across
// a 2-server cluster, and a leaf-to-hub 1:1. Every round of every workload
// runs on both, interleaved; the table reports the rounds that lost
// nothing, the median delivery rate and its ratio, and the child's peak
// RSS and its RSS a few seconds after the burst.
//
//	go run ./cmd/flood -rounds 10
//
// In child mode (-child fern|official -topo single|route|leaf) it starts
// the topology, prints "URLS <publisher url> <subscriber url>" and runs
// until its standard input closes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fernmq/fern/bench/harness"
)

func main() {
	child := flag.String("child", "", "child mode: fern or official")
	topo := flag.String("topo", "single", "child mode: single, route or leaf")
	rounds := flag.Int("rounds", 10, "rounds per workload and server")
	fanMsgs := flag.Int("fanout-msgs", 500_000, "messages per fan-out round")
	msgs := flag.Int("msgs", 1_000_000, "messages per routed and leaf round")
	size := flag.Int("size", 128, "payload bytes")
	only := flag.String("only", "", "run only this workload (fanout, route, leaf)")
	flag.Parse()
	if *child != "" {
		if err := runChild(*child, *topo); err != nil {
			log.Fatal(err)
		}
		return
	}
	workloads := []workload{
		{name: "fan-out 1:5", topo: "single", subs: 5, msgs: *fanMsgs},
		{name: "routed 1:1", topo: "route", subs: 1, msgs: *msgs},
		{name: "leaf to hub 1:1", topo: "leaf", subs: 1, msgs: *msgs},
	}
	fmt.Printf("| workload | msgs x subs | rounds without loss (fern / official) | fern msgs/s | official msgs/s | ratio | fern peak RSS | official peak RSS | fern RSS 3 s after | official RSS 3 s after |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, w := range workloads {
		if *only != "" && !strings.HasPrefix(w.topo, *only) && !strings.HasPrefix(w.name, *only) {
			continue
		}
		res := map[string][]result{}
		for r := 0; r < *rounds; r++ {
			for _, kind := range []string{harness.KindFern, harness.KindOfficial} {
				out, err := runRound(kind, w, *size)
				if err != nil {
					log.Fatalf("%s %s round %d: %v", w.name, kind, r+1, err)
				}
				fmt.Fprintf(os.Stderr, "%s %s round %d: %s\n", w.name, kind, r+1, out)
				res[kind] = append(res[kind], out)
			}
		}
		f, o := summarize(res[harness.KindFern]), summarize(res[harness.KindOfficial])
		fmt.Printf("| %s | %d x %d | %d / %d of %d | %.0f | %.0f | %.2f | %s | %s | %s | %s |\n",
			w.name, w.msgs, w.subs, f.clean, o.clean, *rounds, f.rate, o.rate, f.rate/o.rate,
			mib(f.peak), mib(o.peak), mib(f.after), mib(o.after))
	}
}

type workload struct {
	name string
	topo string
	subs int
	msgs int
}

type result struct {
	lost        int
	rate        float64 // deliveries a second
	peak, after int64   // RSS bytes
	before      int64
}

func (r result) String() string {
	return fmt.Sprintf("lost %d, %.0f msgs/s, RSS before %s peak %s after %s", r.lost, r.rate, mib(r.before), mib(r.peak), mib(r.after))
}

type summary struct {
	clean       int
	rate        float64
	peak, after int64
}

func summarize(rs []result) summary {
	var s summary
	var rates []float64
	var peaks, afters []int64
	for _, r := range rs {
		if r.lost == 0 {
			s.clean++
		}
		rates = append(rates, r.rate)
		peaks = append(peaks, r.peak)
		afters = append(afters, r.after)
	}
	slices.Sort(rates)
	slices.Sort(peaks)
	slices.Sort(afters)
	s.rate, s.peak, s.after = rates[len(rates)/2], peaks[len(peaks)/2], afters[len(afters)/2]
	return s
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// runRound starts a child for kind, runs w against it and measures it.
func runRound(kind string, w workload, size int) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(exe, "-child", kind, "-topo", w.topo)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return result{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return result{}, fmt.Errorf("child: %w", err)
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "URLS" {
		return result{}, fmt.Errorf("child said %q", line)
	}
	go io.Copy(io.Discard, stdout)
	return flood(cmd.Process.Pid, f[1], f[2], w, size)
}

// rss is a process's resident set size, from /proc.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// sampleRSS records the peak RSS of pid until stop is closed.
func sampleRSS(pid int, stop chan struct{}) chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, rss(pid))
			select {
			case <-stop:
				out <- max(peak, rss(pid))
				return
			case <-t.C:
			}
		}
	}()
	return out
}
