package main

import (
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		vals []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		if got := median(tc.vals); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.vals, got, tc.want)
		}
	}
}

func TestHuman(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{2_504_000, "2.50M"},
		{758_400, "758k"},
		{8_279, "8.28k"},
		{912, "912"},
	}
	for _, tc := range tests {
		if got := human(tc.v); got != tc.want {
			t.Errorf("human(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestMarkdownPairsRounds checks that ratios are taken per round (so a slow
// round that hits both targets cancels out), that latency workloads get
// p50/p99 rows, and that a target with no successful run shows as failed.
func TestMarkdownPairsRounds(t *testing.T) {
	ws := []harness.Workload{harness.PubSub(), harness.RequestReply()}
	ts := harness.Targets()
	tbl := newTable(ws, ts, 3)
	rate := func(perSec int) harness.Result {
		return harness.Result{Published: perSec, Delivered: perSec, Size: 128, Elapsed: time.Second}
	}
	// Fern is twice as fast in two rounds of three, at very different
	// overall speeds: the median ratio is 2, while the ratio of the medians
	// (5k / 10k) would be 0.5.
	for round, pair := range [][2]int{{2000, 1000}, {40000, 20000}, {5000, 10000}} {
		tbl.add(0, 0, round, rate(pair[0]))
		tbl.add(0, 1, round, rate(pair[1]))
	}
	tbl.add(1, 1, 0, harness.Result{Published: 10, Delivered: 10, Size: 128, Elapsed: time.Millisecond,
		P50: 80 * time.Microsecond, P99: 300 * time.Microsecond})
	tbl.fail()

	got := tbl.markdown()
	for _, want := range []string{
		"| workload | Fern | official | ratio Fern/official |",
		"| pub→sub 1:1 128 B | 5.00k msgs/s (0.6 MB/s) | 10k msgs/s (1.3 MB/s) | 2.00× |",
		"| request/reply 128 B | failed | 10k req/s | — |",
		"| request/reply 128 B p50 latency | failed | 80.0 µs | — |",
		"| request/reply 128 B p99 latency | failed | 300.0 µs | — |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if !tbl.failed {
		t.Error("table not marked failed")
	}
}
