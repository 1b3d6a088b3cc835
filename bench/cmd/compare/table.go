package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fernmq/fern/bench/harness"
)

// table holds every result by workload, target and round.
type table struct {
	ws      []harness.Workload
	ts      []harness.Target
	results [][][]*harness.Result // [workload][target][round]; nil = failed
	failed  bool
}

func newTable(ws []harness.Workload, ts []harness.Target, rounds int) *table {
	results := make([][][]*harness.Result, len(ws))
	for i := range results {
		results[i] = make([][]*harness.Result, len(ts))
		for j := range results[i] {
			results[i][j] = make([]*harness.Result, rounds)
		}
	}
	return &table{ws: ws, ts: ts, results: results}
}

func (t *table) add(w, target, round int, res harness.Result) {
	t.results[w][target][round] = &res
}

func (t *table) fail() { t.failed = true }

// metric extracts one number from a result; unit formats it.
type metric struct {
	label  string
	value  func(harness.Result) float64
	format func(v float64, w harness.Workload) string
}

var (
	throughput = metric{
		value: harness.Result.MsgsPerSec,
		format: func(v float64, w harness.Workload) string {
			if w.Latency {
				return human(v) + " req/s"
			}
			return fmt.Sprintf("%s msgs/s (%.1f MB/s)", human(v), v*float64(w.Size)/1e6)
		},
	}
	p50 = metric{
		label:  " p50 latency",
		value:  func(r harness.Result) float64 { return float64(r.P50) },
		format: func(v float64, _ harness.Workload) string { return micros(time.Duration(v)) },
	}
	p99 = metric{
		label:  " p99 latency",
		value:  func(r harness.Result) float64 { return float64(r.P99) },
		format: func(v float64, _ harness.Workload) string { return micros(time.Duration(v)) },
	}
)

// markdown renders one row per workload (three for a latency workload:
// throughput, p50, p99) with the median of each target and their ratio.
func (t *table) markdown() string {
	var b strings.Builder
	b.WriteString("| workload |")
	for _, target := range t.ts {
		fmt.Fprintf(&b, " %s |", columnName(target.Name))
	}
	b.WriteString(" ratio Fern/official |\n|---|")
	for range t.ts {
		b.WriteString("---:|")
	}
	b.WriteString("---:|\n")
	for wi, w := range t.ws {
		ms := []metric{throughput}
		if w.Latency {
			ms = append(ms, p50, p99)
		}
		for _, m := range ms {
			t.row(&b, wi, w, m)
		}
	}
	b.WriteString("\nCells are medians over the rounds; the ratio is the median of the per-round ratios " +
		"(both targets measured back to back in the same round). " +
		"Throughput counts delivered messages (a 1:10 fan-out delivers ten per publish) " +
		"and, for request/reply, completed round trips. A throughput ratio above 1 means Fern is faster; " +
		"a latency ratio below 1 means Fern is faster.\n")
	return b.String()
}

// row writes one metric of one workload: each target's median over its
// successful rounds, then the median over rounds of the ratio between the
// first two targets' results in the same round. Pairing by round cancels
// drift that affects both targets alike.
func (t *table) row(b *strings.Builder, wi int, w harness.Workload, m metric) {
	fmt.Fprintf(b, "| %s%s |", w.Name, m.label)
	for ti := range t.ts {
		var vals []float64
		for _, r := range t.results[wi][ti] {
			if r != nil {
				vals = append(vals, m.value(*r))
			}
		}
		if len(vals) == 0 {
			b.WriteString(" failed |")
			continue
		}
		fmt.Fprintf(b, " %s |", m.format(median(vals), w))
	}
	var ratios []float64
	if len(t.ts) >= 2 {
		for round, a := range t.results[wi][0] {
			o := t.results[wi][1][round]
			if a != nil && o != nil && m.value(*o) > 0 {
				ratios = append(ratios, m.value(*a)/m.value(*o))
			}
		}
	}
	if len(ratios) == 0 {
		b.WriteString(" — |\n")
		return
	}
	fmt.Fprintf(b, " %.2f× |\n", median(ratios))
}

// median is the middle value, or the mean of the two middle values.
func median(vals []float64) float64 {
	s := slices.Clone(vals)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// columnName is how a target is titled in the table.
func columnName(target string) string {
	if target == "fern" {
		return "Fern"
	}
	return target
}

// human abbreviates a rate to three significant figures or so: 2.50M,
// 758k, 8.28k, 912.
func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.2fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// micros formats a latency in microseconds.
func micros(d time.Duration) string {
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}
