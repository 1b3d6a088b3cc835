package bench

import (
	"testing"

	"github.com/fernmq/fern/bench/harness"
)

// Cluster benchmarks: the publisher and the subscribers are on different
// servers of a fresh cluster of each implementation (/fern: all Fern,
// /official: all nats-server), so deliveries cross routes. One op is one
// published message; msgs/s counts deliveries (three per message for the
// 1:3 fan-out, one of them local). Cluster start, connection setup, the
// wait for routed interest and the final delivery check run with the timer
// stopped.

func BenchmarkRoutePubSub128B(b *testing.B) { benchCluster(b, harness.RoutePubSub()) }
func BenchmarkRouteFanOut3(b *testing.B)    { benchCluster(b, harness.RouteFanOut()) }

func benchCluster(b *testing.B, w harness.ClusterWorkload) {
	for _, target := range harness.ClusterTargets() {
		b.Run(target.Name, func(b *testing.B) {
			b.StopTimer()
			b.ReportAllocs()
			urls, stop, err := target.Start(w.Servers)
			if err != nil {
				b.Fatal(err)
			}
			defer stop()
			res, err := w.Run(urls, harness.Config{Msgs: b.N, Timer: b})
			if err != nil {
				b.Fatalf("%s: %v", w.Name, err)
			}
			b.SetBytes(int64(res.Delivered / res.Published * res.Size))
			b.ReportMetric(res.MsgsPerSec(), "msgs/s")
		})
	}
}
