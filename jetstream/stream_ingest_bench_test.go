package jetstream

import (
	"testing"
)

// BenchmarkPublishAsync measures ingest: b.N publishes with a reply
// subject, acknowledged after group commit, waiting only for the last ack.
func BenchmarkPublishAsync(b *testing.B) {
	for _, storage := range []string{"file", "memory"} {
		b.Run(storage, func(b *testing.B) {
			dir := b.TempDir()
			te := &testEngine{host: newFakeHost(), dir: dir, cfg: Config{StoreDir: dir}}
			e, err := New(te.cfg, te.host)
			if err != nil || e.Start() != nil {
				b.Fatal(err)
			}
			defer e.Stop()
			te.e = e
			te.t = b
			te.mustCreate(`{"name":"B","subjects":["b"],"storage":"` + storage + `"}`)
			reply, ch := te.host.newInbox()
			done := make(chan struct{})
			go func() {
				for i := 0; i < b.N; i++ {
					<-ch
				}
				close(done)
			}()
			data := make([]byte, 128)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				te.host.deliver("b", reply, nil, data)
			}
			<-done
		})
	}
}
