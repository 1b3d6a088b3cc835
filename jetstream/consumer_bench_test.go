package jetstream

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkConsumerDeliver measures the consumer delivery path on the
// fake host: b.N stored messages delivered to a push consumer (ack none,
// and explicit with every delivery acked by its receiver) and to a pull
// consumer (explicit, acked). Publishing is outside the timer.
func BenchmarkConsumerDeliver(b *testing.B) {
	for _, tc := range []struct {
		name, cfg string
		ack, pull bool
	}{
		{"push-none", `,"deliver_subject":"bd","ack_policy":"none"`, false, false},
		{"push-explicit", `,"deliver_subject":"bd","ack_policy":"explicit","max_ack_pending":-1`, true, false},
		{"pull-explicit", `,"ack_policy":"explicit","max_ack_pending":-1`, true, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			te := &testEngine{t: b, host: newFakeHost(), cfg: Config{StoreDir: b.TempDir()}}
			te.start()
			defer te.e.Stop()
			te.mustCreate(`{"name":"B","subjects":["b.>"],"storage":"memory"}`)
			data := make([]byte, 128)
			for i := 0; i < b.N; i++ {
				te.host.deliver("b.x", "", nil, data)
			}
			s := te.e.Stream("B")
			deadline := time.Now().Add(time.Minute)
			for s.Store().State().Msgs < uint64(b.N) {
				if time.Now().After(deadline) {
					b.Fatal("publishes not stored")
				}
				time.Sleep(time.Millisecond)
			}
			var got atomic.Int64
			done := make(chan struct{})
			sub, err := te.host.Subscribe("bd", "", func(_, reply string, hdr, _ []byte) {
				if len(hdr) > 0 && reply == "" {
					return // heartbeat
				}
				if tc.ack {
					te.host.deliver(reply, "", nil, nil)
				}
				if got.Add(1) == int64(b.N) {
					close(done)
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Unsubscribe()
			b.ReportAllocs()
			b.ResetTimer()
			te.mustConsumerTB(b, "B", "C", tc.cfg)
			if tc.pull {
				te.host.deliver("$JS.API.CONSUMER.MSG.NEXT.B.C", "bd", nil, []byte(fmt.Sprintf(`{"batch":%d}`, b.N)))
			}
			select {
			case <-done:
			case <-time.After(5 * time.Minute):
				b.Fatalf("delivered %d of %d", got.Load(), b.N)
			}
			b.StopTimer()
		})
	}
}

// mustConsumerTB is mustConsumer for benchmarks.
func (te *testEngine) mustConsumerTB(tb testing.TB, stream, name, cfg string) {
	body := fmt.Sprintf(`{"stream_name":%q,"config":{"durable_name":%q%s}}`, stream, name, cfg)
	r := te.api("$JS.API.CONSUMER.CREATE."+stream+"."+name, body)
	if r["error"] != nil {
		tb.Fatalf("create %s: %v", name, r["error"])
	}
}
