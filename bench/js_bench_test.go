package bench

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
)

// JetStream benchmarks: one server of each kind with JetStream on a fresh
// temporary store directory, file storage, one replica, 128 B payloads,
// at two durabilities (harness.Durabilities), each a sub-benchmark
// <durability>/<kind>:
//
//   - fsync: a PubAck means the message is fsynced. Fern's default (group
//     commit) against the official `sync_interval: always`;
//   - interval: a PubAck means the message was written; fsync every two
//     minutes. Fern with SyncInterval 2m against the official default.
//
// One op is one message stored (publish), one operation (KV put, KV get)
// or one message delivered (consumers). Setup (server start, stream
// create, pre-filling the stream for the consumer benchmarks) and the
// final state checks run with the timer stopped. Allocations are counted
// process-wide: client and server. A consumer benchmark is skipped where
// the server answers the consumer create with "not implemented".
//
// TestJSTable prints the markdown table, the kinds interleaved:
//
//	BENCH_JS_TABLE=1 go test -run TestJSTable -v .
//
// (BENCH_JS_MSGS, BENCH_JS_OPS and BENCH_JS_ROUNDS change the message
// count of the throughput workloads, default 10000, the operation count
// of the sequential ones, default 500, and the rounds, default 3;
// BENCH_JS_SYNC_ALWAYS=1 adds a third durability, Fern SyncAlways against
// the official `sync_interval: always`: an fsync per message on both.)

// jsRunTimeout bounds one JetStream workload run.
const jsRunTimeout = 2 * time.Minute

func BenchmarkJSPublishAsync128B(b *testing.B) { benchJS(b, harness.JSPublishAsync()) }
func BenchmarkJSPublishSync128B(b *testing.B)  { benchJS(b, harness.JSPublishSync()) }
func BenchmarkKVPut128B(b *testing.B)          { benchJS(b, harness.KVPut()) }
func BenchmarkKVGet128B(b *testing.B)          { benchJS(b, harness.KVGet()) }
func BenchmarkJSConsumeAck128B(b *testing.B)   { benchJS(b, harness.JSConsume()) }
func BenchmarkJSFetch100(b *testing.B)         { benchJS(b, harness.JSFetch()) }
func BenchmarkJSOrdered128B(b *testing.B)      { benchJS(b, harness.JSOrdered()) }

func benchJS(b *testing.B, w harness.Workload) {
	for _, d := range harness.Durabilities() {
		b.Run(d.Key, func(b *testing.B) {
			for _, target := range harness.JSTargets(d) {
				b.Run(target.Name, func(b *testing.B) {
					b.StopTimer()
					b.ReportAllocs()
					url, stop, err := target.Start()
					if err != nil {
						b.Fatal(err)
					}
					defer stop()
					res, err := w.Run(url, harness.Config{Msgs: b.N, Timer: b, Timeout: jsRunTimeout})
					if errors.Is(err, harness.ErrNotImplemented) {
						b.Skipf("%s: %v", w.Name, err)
					}
					if err != nil {
						b.Fatalf("%s (%s): %v", w.Name, d.Name, err)
					}
					b.SetBytes(int64(res.Size))
					b.ReportMetric(res.MsgsPerSec(), "msgs/s")
					if w.Latency {
						b.ReportMetric(float64(res.P50.Nanoseconds()), "p50-ns")
						b.ReportMetric(float64(res.P99.Nanoseconds()), "p99-ns")
					}
				})
			}
		})
	}
}

// TestJSTable runs every JetStream workload at both durabilities on both
// kinds, interleaved, and prints the markdown table (see the top of this
// file). It fails if a run fails for any reason but a consumer refused as
// not implemented.
func TestJSTable(t *testing.T) {
	if os.Getenv("BENCH_JS_TABLE") == "" {
		t.Skip("set BENCH_JS_TABLE=1 to print the JetStream benchmark table")
	}
	durabilities := harness.Durabilities()
	if os.Getenv("BENCH_JS_SYNC_ALWAYS") != "" {
		durabilities = append(durabilities, harness.DurabilityEachWrite())
	}
	tbl := harness.MeasureJS(harness.JSTableConfig{
		Msgs:         envInt(t, "BENCH_JS_MSGS", 10000),
		Ops:          envInt(t, "BENCH_JS_OPS", 500),
		Rounds:       envInt(t, "BENCH_JS_ROUNDS", 3),
		Timeout:      jsRunTimeout,
		Durabilities: durabilities,
	}, testLog{t})
	os.Stdout.WriteString("\n" + tbl.Header() + "\n" + tbl.Markdown())
	for _, e := range tbl.Errors() {
		t.Log(e)
	}
	if tbl.Failed {
		t.Error("some runs failed (see above)")
	}
}

// testLog writes progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
