package bench

import (
	"testing"

	"github.com/fernmq/fern/bench/harness"
)

// Each benchmark runs one workload with b.N messages (b.N requests for
// request/reply) against a fresh Fern and a fresh official server. One op
// is one published message; msgs/s counts deliveries, so for the 1:10
// fan-out it is ten times 1/(ns/op). Connection setup and the final
// delivery check run with the timer stopped, so ns/op, B/op and allocs/op
// cover only the timed phase. Allocations are counted process-wide, so they
// include the nats.go clients (the same code for both targets) as well as
// the server.

func BenchmarkPubOnly16B(b *testing.B)   { benchWorkload(b, harness.PubOnly()) }
func BenchmarkPubSub128B(b *testing.B)   { benchWorkload(b, harness.PubSub()) }
func BenchmarkFanOut10(b *testing.B)     { benchWorkload(b, harness.FanOut()) }
func BenchmarkQueue5(b *testing.B)       { benchWorkload(b, harness.Queue()) }
func BenchmarkRequestReply(b *testing.B) { benchWorkload(b, harness.RequestReply()) }

func benchWorkload(b *testing.B, w harness.Workload) {
	for _, target := range harness.Targets() {
		b.Run(target.Name, func(b *testing.B) {
			b.StopTimer()
			b.ReportAllocs()
			url, stop, err := target.Start()
			if err != nil {
				b.Fatal(err)
			}
			defer stop()
			res, err := w.Run(url, harness.Config{Msgs: b.N, Timer: b})
			if err != nil {
				b.Fatalf("%s: %v", w.Name, err)
			}
			b.SetBytes(int64(res.Delivered / res.Published * res.Size))
			b.ReportMetric(res.MsgsPerSec(), "msgs/s")
			if w.Latency {
				b.ReportMetric(float64(res.P50.Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(res.P99.Nanoseconds()), "p99-ns")
			}
		})
	}
}
