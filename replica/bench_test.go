package replica

import (
	"context"
	"fmt"
	"testing"

	"github.com/fernmq/fern/store"
)

// BenchmarkGroupPropose measures replicated proposals of 128 B on three
// members over the in-process network, each with a FileLog on the real
// disk (fsync before every acknowledgement, shared by the proposals of
// one Ready), with 1 and 64 concurrent proposers.
func BenchmarkGroupPropose(b *testing.B) {
	for _, proposers := range []int{1, 64} {
		b.Run(fmt.Sprint("proposers=", proposers), func(b *testing.B) {
			dirs := map[uint64]string{}
			c := newClusterWith(b, 3, nil, func(id uint64) LogStore {
				if dirs[id] == "" {
					dirs[id] = b.TempDir()
				}
				l, err := OpenFileLog(FileLogConfig{Dir: dirs[id], FS: store.OSFS{}})
				if err != nil {
					b.Fatal(err)
				}
				return l
			})
			lead := c.leader()
			payload := make([]byte, 128)
			b.SetParallelism(proposers)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := lead.Propose(context.Background(), payload); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "proposals/s")
		})
	}
}
