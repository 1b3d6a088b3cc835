package harness_test

import (
	"errors"
	"testing"

	"github.com/fernmq/fern/bench/harness"
)

// Small counts: with fsync before every PubAck (the official server syncs
// each write) a sequential publish costs about a disk flush.
const (
	testJSMsgs = 500
	testJSOps  = 50
)

// TestJSWorkloads runs every JetStream workload against both kinds at both
// durabilities. The workloads check the stream's state themselves (every
// publish stored once, every consumed message acknowledged); this test
// checks the counts they report. A consumer workload the server refuses
// as not implemented is skipped, and only for Fern.
func TestJSWorkloads(t *testing.T) {
	for _, d := range harness.Durabilities() {
		for _, target := range harness.JSTargets(d) {
			t.Run(d.Key+"/"+target.Name, func(t *testing.T) {
				t.Parallel()
				url, stop, err := target.Start()
				if err != nil {
					t.Fatalf("start %s: %v", target.Name, err)
				}
				defer stop()
				for _, w := range harness.JSWorkloads() {
					t.Run(w.Key, func(t *testing.T) {
						n := testJSMsgs
						if w.Latency {
							n = testJSOps
						}
						res, err := w.Run(url, harness.Config{Msgs: n, Timeout: testTimeout})
						if errors.Is(err, harness.ErrNotImplemented) && target.Name == harness.KindFern {
							t.Skipf("%s: %v", w.Name, err)
						}
						if err != nil {
							t.Fatalf("%s: %v", w.Name, err)
						}
						wantCounts(t, res, n, n, nil)
						if res.Size != 128 || res.Elapsed <= 0 {
							t.Errorf("size=%d elapsed=%v", res.Size, res.Elapsed)
						}
						if w.Latency && (res.P50 <= 0 || res.P99 < res.P50) {
							t.Errorf("latency p50=%v p99=%v, want 0 < p50 <= p99", res.P50, res.P99)
						}
					})
				}
			})
		}
	}
}
