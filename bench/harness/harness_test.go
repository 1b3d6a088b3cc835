package harness_test

import (
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
)

// Tiny counts keep the whole matrix (2 targets × 5 workloads) well under
// the time budget with -race on two cores.
const (
	testMsgs     = 2000
	testRequests = 200
	testTimeout  = 10 * time.Second
)

// TestWorkloadsDeliverExactly runs every workload against every target and
// checks the delivery counts the workload reports. The workloads verify
// these themselves; checking them again here keeps the test honest if that
// verification regresses.
func TestWorkloadsDeliverExactly(t *testing.T) {
	tests := []struct {
		w     harness.Workload
		msgs  int
		check func(t *testing.T, n int, res harness.Result)
	}{
		{harness.PubOnly(), testMsgs, func(t *testing.T, n int, res harness.Result) {
			wantCounts(t, res, n, n, nil)
		}},
		{harness.PubSub(), testMsgs, func(t *testing.T, n int, res harness.Result) {
			wantCounts(t, res, n, n, []uint64{uint64(n)})
		}},
		{harness.FanOut(), testMsgs, func(t *testing.T, n int, res harness.Result) {
			want := make([]uint64, 10)
			for i := range want {
				want[i] = uint64(n)
			}
			wantCounts(t, res, n, n*10, want)
		}},
		{harness.Queue(), testMsgs, func(t *testing.T, n int, res harness.Result) {
			wantCounts(t, res, n, n, nil)
			if len(res.PerSubscriber) != 5 {
				t.Fatalf("queue members = %d, want 5", len(res.PerSubscriber))
			}
			var sum uint64
			for _, c := range res.PerSubscriber {
				sum += c
			}
			if sum != uint64(n) {
				t.Errorf("queue delivered %d in total (%v), want exactly %d", sum, res.PerSubscriber, n)
			}
		}},
		{harness.RequestReply(), testRequests, func(t *testing.T, n int, res harness.Result) {
			// One warm-up request precedes the timed ones.
			wantCounts(t, res, n, n, []uint64{uint64(n + 1), uint64(n + 1)})
			if res.P50 <= 0 || res.P99 < res.P50 {
				t.Errorf("latency p50=%v p99=%v, want 0 < p50 <= p99", res.P50, res.P99)
			}
		}},
	}
	for _, target := range harness.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			url, stop, err := target.Start()
			if err != nil {
				t.Fatalf("start %s: %v", target.Name, err)
			}
			defer stop()
			for _, tc := range tests {
				t.Run(tc.w.Key, func(t *testing.T) {
					res, err := tc.w.Run(url, harness.Config{Msgs: tc.msgs, Timeout: testTimeout})
					if err != nil {
						t.Fatalf("%s: %v", tc.w.Name, err)
					}
					if res.Size != tc.w.Size || res.Elapsed <= 0 || res.MsgsPerSec() <= 0 {
						t.Errorf("size=%d elapsed=%v rate=%v", res.Size, res.Elapsed, res.MsgsPerSec())
					}
					tc.check(t, tc.msgs, res)
				})
			}
		})
	}
}

func wantCounts(t *testing.T, res harness.Result, published, delivered int, per []uint64) {
	t.Helper()
	if res.Published != published || res.Delivered != delivered {
		t.Errorf("published=%d delivered=%d, want %d and %d", res.Published, res.Delivered, published, delivered)
	}
	if per == nil {
		return
	}
	if len(res.PerSubscriber) != len(per) {
		t.Fatalf("per-subscriber counts %v, want %v", res.PerSubscriber, per)
	}
	for i := range per {
		if res.PerSubscriber[i] != per[i] {
			t.Errorf("per-subscriber counts %v, want %v", res.PerSubscriber, per)
			return
		}
	}
}

func TestRunRejectsEmptyConfig(t *testing.T) {
	for _, w := range harness.Workloads() {
		if _, err := w.Run("nats://127.0.0.1:1", harness.Config{}); err != harness.ErrConfig {
			t.Errorf("%s with Msgs=0: err = %v, want ErrConfig", w.Key, err)
		}
	}
}
