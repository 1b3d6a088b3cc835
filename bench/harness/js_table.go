package harness

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"
)

// The JetStream comparison table: every JetStream workload at every
// durability on Fern and on the official server, interleaved (within a
// round each workload runs on both kinds back to back, each on a fresh
// server after a forced GC, the order of the kinds alternating between
// rounds), reported as medians over the rounds with the median of the
// per-round Fern/official ratios. TestJSTable in the bench package and
// `go run ./cmd/compare -js` print it.

// JSTableConfig is one table's measurement.
type JSTableConfig struct {
	// Msgs is the message count of the throughput workloads (async
	// publish; the consumer workloads read that many).
	Msgs int
	// Ops is the operation count of the sequential workloads (sync
	// publish, KV put, KV get).
	Ops int
	// Rounds is the number of interleaved rounds; each cell is a median.
	Rounds int
	// Timeout bounds each run; 0 means DefaultTimeout.
	Timeout time.Duration
	// Durabilities and Workloads default to Durabilities() and
	// JSWorkloads().
	Durabilities []Durability
	Workloads    []Workload
}

// jsKinds are the table's columns, Fern first.
var jsKinds = [2]string{KindFern, KindOfficial}

// JSTable holds every run's outcome.
type JSTable struct {
	cfg JSTableConfig
	// cells[workload][durability][kind] holds one outcome per round.
	cells [][][2][]jsOutcome
	// Failed reports a run that failed for a reason other than
	// ErrNotImplemented.
	Failed bool
}

type jsOutcome struct {
	res *Result // nil: the run failed
	err error
}

// MeasureJS runs the table, writing one progress line per run to progress.
func MeasureJS(cfg JSTableConfig, progress io.Writer) *JSTable {
	if cfg.Durabilities == nil {
		cfg.Durabilities = Durabilities()
	}
	if cfg.Workloads == nil {
		cfg.Workloads = JSWorkloads()
	}
	t := &JSTable{cfg: cfg, cells: make([][][2][]jsOutcome, len(cfg.Workloads))}
	for wi := range t.cells {
		t.cells[wi] = make([][2][]jsOutcome, len(cfg.Durabilities))
	}
	for round := range cfg.Rounds {
		for di, d := range cfg.Durabilities {
			for wi, w := range cfg.Workloads {
				for k := range jsKinds {
					ki := k
					if round%2 == 1 {
						ki = len(jsKinds) - 1 - k
					}
					o := t.runOnce(w, d, jsKinds[ki])
					t.cells[wi][di][ki] = append(t.cells[wi][di][ki], o)
					fmt.Fprintf(progress, "round %d/%d %-8s %-40s %-8s %s\n",
						round+1, cfg.Rounds, d.Key, w.Name, jsKinds[ki], describeJS(w, o))
				}
			}
		}
	}
	return t
}

func (t *JSTable) runOnce(w Workload, d Durability, kind string) jsOutcome {
	url, stop, err := JSTarget(kind, d).Start()
	if err != nil {
		t.Failed = true
		return jsOutcome{err: err}
	}
	defer stop()
	runtime.GC()
	n := t.cfg.Msgs
	if w.Latency {
		n = t.cfg.Ops
	}
	res, err := w.Run(url, Config{Msgs: n, Timeout: t.cfg.Timeout})
	if err != nil {
		if !errors.Is(err, ErrNotImplemented) {
			t.Failed = true
		}
		return jsOutcome{err: err}
	}
	return jsOutcome{res: &res}
}

func describeJS(w Workload, o jsOutcome) string {
	if o.res == nil {
		return "error: " + o.err.Error()
	}
	if w.Latency {
		return fmt.Sprintf("%s ops/s, p50 %s, p99 %s", humanRate(o.res.MsgsPerSec()),
			microseconds(o.res.P50), microseconds(o.res.P99))
	}
	return fmt.Sprintf("%s msgs/s", humanRate(o.res.MsgsPerSec()))
}

// Header describes the measurement: counts, rounds, machine, and each
// durability setting in each implementation's terms.
func (t *JSTable) Header() string {
	var b strings.Builder
	fmt.Fprintf(&b, "JetStream, one server, file storage, 1 replica, 128 B payloads; %d msgs per "+
		"throughput run, %d ops per sequential run, median of %d interleaved rounds; %s %s/%s, "+
		"%d cores, GOMAXPROCS=%d.\n\nDurability settings:\n\n",
		t.cfg.Msgs, t.cfg.Ops, t.cfg.Rounds, runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), runtime.GOMAXPROCS(0))
	for _, d := range t.cfg.Durabilities {
		fmt.Fprintf(&b, "- %s: Fern %s; official %s.\n", d.Name, d.Fern, d.Official)
	}
	return b.String()
}

// Markdown renders one row per workload and durability.
func (t *JSTable) Markdown() string {
	var b strings.Builder
	b.WriteString("| workload | durability | Fern | official | ratio Fern/official |\n")
	b.WriteString("|---|---|---:|---:|---:|\n")
	for wi, w := range t.cfg.Workloads {
		for di, d := range t.cfg.Durabilities {
			cell := t.cells[wi][di]
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", w.Name, d.Name,
				jsCell(w, cell[0]), jsCell(w, cell[1]), jsRatio(cell[0], cell[1]))
		}
	}
	b.WriteString("\nThroughput rows count messages stored (publish) or delivered (consumers) " +
		"per second; sequential rows count completed operations per second, one in flight, with " +
		"the median p50 latency. A ratio above 1 means Fern is faster.\n")
	return b.String()
}

// jsCell is a kind's median over its successful rounds.
func jsCell(w Workload, runs []jsOutcome) string {
	var rates, p50s []float64
	var lastErr error
	for _, o := range runs {
		if o.res == nil {
			lastErr = o.err
			continue
		}
		rates = append(rates, o.res.MsgsPerSec())
		p50s = append(p50s, float64(o.res.P50))
	}
	switch {
	case len(rates) > 0 && w.Latency:
		return fmt.Sprintf("%s ops/s, p50 %s", humanRate(medianOf(rates)),
			microseconds(time.Duration(medianOf(p50s))))
	case len(rates) > 0:
		return humanRate(medianOf(rates)) + " msgs/s"
	case errors.Is(lastErr, ErrNotImplemented):
		return "not implemented"
	default:
		return "failed"
	}
}

// jsRatio is the median of the per-round throughput ratios.
func jsRatio(fern, official []jsOutcome) string {
	var ratios []float64
	for i := range min(len(fern), len(official)) {
		f, o := fern[i].res, official[i].res
		if f != nil && o != nil && o.MsgsPerSec() > 0 {
			ratios = append(ratios, f.MsgsPerSec()/o.MsgsPerSec())
		}
	}
	if len(ratios) == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", medianOf(ratios))
}

// Errors lists every failed run (ErrNotImplemented included), one per
// line.
func (t *JSTable) Errors() []string {
	var out []string
	for wi, w := range t.cfg.Workloads {
		for di, d := range t.cfg.Durabilities {
			for ki, runs := range t.cells[wi][di] {
				for round, o := range runs {
					if o.err != nil {
						out = append(out, fmt.Sprintf("%s / %s / %s round %d: %v",
							w.Name, d.Key, jsKinds[ki], round+1, o.err))
					}
				}
			}
		}
	}
	return out
}

// medianOf is the middle value, or the mean of the two middle values.
func medianOf(vals []float64) float64 {
	s := slices.Sorted(slices.Values(vals))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// humanRate abbreviates a rate: 2.50M, 758k, 8.28k, 912.
func humanRate(v float64) string {
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

func microseconds(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}
