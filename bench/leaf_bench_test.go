package bench

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
)

// Leaf benchmarks, on harness.LeafTriangle (a two-server cluster A, B and
// a leaf L attached to A, all Fern or all official):
//
//   - BenchmarkLeafRoutePubSub128B: a publisher on L, a subscriber on B, so
//     every message goes leaf -> hub -> route -> subscriber. One op is one
//     message; msgs/s counts deliveries.
//   - BenchmarkLeafFailover: A shuts down; ns/op is the mean time from the
//     start of its shutdown until a message published on B after the
//     shutdown reaches a subscriber on L (L redials B; 100 ms reconnect
//     interval on both implementations). Setup runs with the timer
//     stopped; ns/op is reported, not timed.
//
// Each has /fern and /official (defaults on both: leaf compression
// s2_auto, which on loopback frames S2 without compressing) and
// /fern-nocomp and /official-nocomp (leaf compression off) sub-benchmarks.
//
// TestLeafTable prints both as one markdown table, the variants
// interleaved in the same run, when BENCH_LEAF_TABLE is set:
//
//	BENCH_LEAF_TABLE=1 go test -run TestLeafTable -v .
//
// (BENCH_LEAF_MSGS, BENCH_LEAF_ROUNDS and BENCH_LEAF_FAILOVERS change the
// message count, the throughput rounds and the failovers per kind.)

const (
	// leafReconnect is the leaf reconnect interval of the failover runs.
	leafReconnect = 100 * time.Millisecond
	// leafRunTimeout bounds one workload run.
	leafRunTimeout = time.Minute
)

// leafVariant is one way to build the triangle.
type leafVariant struct {
	name string
	cfg  harness.TriangleConfig
}

// leafVariants: each implementation with its defaults (leaf compression
// s2_auto, which on loopback frames S2 without compressing), and with
// leaf compression off.
var leafVariants = []leafVariant{
	{harness.KindFern, harness.TriangleConfig{Kind: harness.KindFern}},
	{harness.KindOfficial, harness.TriangleConfig{Kind: harness.KindOfficial}},
	{"fern-nocomp", harness.TriangleConfig{Kind: harness.KindFern, NoCompression: true}},
	{"official-nocomp", harness.TriangleConfig{Kind: harness.KindOfficial, NoCompression: true}},
}

func BenchmarkLeafRoutePubSub128B(b *testing.B) {
	for _, v := range leafVariants {
		b.Run(v.name, func(b *testing.B) {
			b.StopTimer()
			b.ReportAllocs()
			tri, err := harness.StartLeafTriangle(v.cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer tri.Stop()
			res, err := harness.RunLeafPubSub(tri.L, tri.B, harness.Config{Msgs: b.N, Timer: b, Timeout: leafRunTimeout})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(res.Size))
			b.ReportMetric(res.MsgsPerSec(), "msgs/s")
		})
	}
}

func BenchmarkLeafFailover(b *testing.B) {
	for _, v := range leafVariants {
		b.Run(v.name, func(b *testing.B) {
			b.StopTimer()
			var runs []harness.FailoverResult
			for range b.N {
				res, err := leafFailoverOnce(v)
				if err != nil {
					b.Fatal(err)
				}
				runs = append(runs, res)
			}
			s := summarizeFailover(runs)
			b.ReportMetric(float64(s.mean.Nanoseconds()), "ns/op")
			b.ReportMetric(ms(s.max), "max-ms")
			b.ReportMetric(ms(s.shutdown), "shutdown-ms")
		})
	}
}

// leafFailoverOnce starts a fresh triangle and measures one failover.
func leafFailoverOnce(v leafVariant) (harness.FailoverResult, error) {
	cfg := v.cfg
	cfg.Reconnect = leafReconnect
	tri, err := harness.StartLeafTriangle(cfg)
	if err != nil {
		return harness.FailoverResult{}, err
	}
	defer tri.Stop()
	return harness.RunLeafFailover(tri, leafRunTimeout)
}

// leafPubSubOnce starts a fresh triangle and runs the throughput workload.
func leafPubSubOnce(v leafVariant, msgs int) (harness.Result, error) {
	tri, err := harness.StartLeafTriangle(v.cfg)
	if err != nil {
		return harness.Result{}, err
	}
	defer tri.Stop()
	return harness.RunLeafPubSub(tri.L, tri.B, harness.Config{Msgs: msgs, Timeout: leafRunTimeout})
}

type failoverSummary struct {
	mean, median, min, max, shutdown time.Duration
}

func summarizeFailover(runs []harness.FailoverResult) failoverSummary {
	var s failoverSummary
	if len(runs) == 0 {
		return s
	}
	var d []time.Duration
	var sum, shut time.Duration
	for _, r := range runs {
		d = append(d, r.Failover)
		sum += r.Failover
		shut += r.Shutdown
	}
	slices.Sort(d)
	s.mean = sum / time.Duration(len(runs))
	s.median = d[len(d)/2]
	s.min, s.max = d[0], d[len(d)-1]
	s.shutdown = shut / time.Duration(len(runs))
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// TestLeafTable runs the leaf workloads for both implementations,
// interleaved, and prints the markdown table (see the top of this file).
func TestLeafTable(t *testing.T) {
	if os.Getenv("BENCH_LEAF_TABLE") == "" {
		t.Skip("set BENCH_LEAF_TABLE=1 to print the leaf benchmark table")
	}
	msgs := envInt(t, "BENCH_LEAF_MSGS", 200000)
	rounds := envInt(t, "BENCH_LEAF_ROUNDS", 3)
	failovers := envInt(t, "BENCH_LEAF_FAILOVERS", 5)

	rates := map[string][]float64{}
	for round := range rounds {
		for _, v := range leafVariants {
			res, err := leafPubSubOnce(v, msgs)
			if err != nil {
				t.Fatalf("%s round %d: %v", v.name, round, err)
			}
			rates[v.name] = append(rates[v.name], res.MsgsPerSec())
		}
	}
	fo := map[string]failoverSummary{}
	runs := map[string][]harness.FailoverResult{}
	for i := range failovers {
		for _, v := range leafVariants {
			res, err := leafFailoverOnce(v)
			if err != nil {
				t.Fatalf("%s failover %d: %v", v.name, i, err)
			}
			runs[v.name] = append(runs[v.name], res)
		}
	}
	for name, r := range runs {
		fo[name] = summarizeFailover(r)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\nleaf -> hub -> route -> subscriber, 128 B, %d msgs, median of %d rounds; "+
		"failover with a 100 ms reconnect interval, %d runs each\n\n", msgs, rounds, failovers)
	fmt.Fprintln(&b, "| workload | Fern | official | Fern / official | Fern, compression off | official, compression off | Fern / official, off |")
	fmt.Fprintln(&b, "|---|---:|---:|---:|---:|---:|---:|")
	f, o, fn, n := harness.KindFern, harness.KindOfficial, "fern-nocomp", "official-nocomp"
	fr, or, fnr, nr := median(rates[f]), median(rates[o]), median(rates[fn]), median(rates[n])
	fmt.Fprintf(&b, "| L -> A -> B pub/sub 128 B (msgs/s) | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n", fr, or, fr/or, fnr, nr, fnr/nr)
	fmt.Fprintf(&b, "| failover, median (ms) | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |\n",
		ms(fo[f].median), ms(fo[o].median), ms(fo[f].median)/ms(fo[o].median), ms(fo[fn].median), ms(fo[n].median), ms(fo[fn].median)/ms(fo[n].median))
	fmt.Fprintf(&b, "| failover, min–max (ms) | %.1f–%.1f | %.1f–%.1f | | %.1f–%.1f | %.1f–%.1f | |\n",
		ms(fo[f].min), ms(fo[f].max), ms(fo[o].min), ms(fo[o].max), ms(fo[fn].min), ms(fo[fn].max), ms(fo[n].min), ms(fo[n].max))
	fmt.Fprintf(&b, "\nper-round msgs/s: %s %.0f, %s %.0f, %s %.0f, %s %.0f\n", f, rates[f], o, rates[o], fn, rates[fn], n, rates[n])
	fmt.Fprint(os.Stdout, b.String())
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}
