package harness

import (
	"errors"
	"testing"
	"time"
)

// The leaf workloads on both implementations: exact delivery through
// leaf -> hub -> route, and a failover that cannot be quicker than the
// leaf's reconnect interval.
func TestLeafWorkloads(t *testing.T) {
	const reconnect = 30 * time.Millisecond
	for _, kind := range []string{KindFern, KindOfficial} {
		t.Run(kind, func(t *testing.T) {
			tri, err := StartLeafTriangle(TriangleConfig{Kind: kind, Reconnect: reconnect})
			if err != nil {
				t.Fatal(err)
			}
			defer tri.Stop()
			if h := tri.Hub(); h != tri.A {
				t.Fatalf("leaf attached to %s, want A", leafNameOf(h))
			}
			const msgs = 5000
			res, err := RunLeafPubSub(tri.L, tri.B, Config{Msgs: msgs, Timeout: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if res.Delivered != msgs || len(res.PerSubscriber) != 1 || res.PerSubscriber[0] != msgs {
				t.Fatalf("delivered %d, per subscriber %v, want %d", res.Delivered, res.PerSubscriber, msgs)
			}
			// The reverse direction: B -> A -> L.
			if _, err := RunLeafPubSub(tri.B, tri.L, Config{Msgs: msgs, Timeout: 20 * time.Second}); err != nil {
				t.Fatal(err)
			}

			fo, err := RunLeafFailover(tri, 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if fo.Failover < reconnect || fo.Failover < fo.Shutdown || fo.Failover > 10*time.Second {
				t.Fatalf("failover %v (shutdown %v): want between the reconnect interval %v and 10 s",
					fo.Failover, fo.Shutdown, reconnect)
			}
			if h := tri.Hub(); h != tri.B {
				t.Fatalf("after failover the leaf is on %s, want B", leafNameOf(h))
			}
		})
	}
}

func leafNameOf(s *LeafServer) string {
	if s == nil {
		return "no server"
	}
	return s.Name()
}

func TestPollTimeout(t *testing.T) {
	start := time.Now()
	err := Poll(20*time.Millisecond, "never", func() bool { return false })
	if !errors.Is(err, ErrLeafTimeout) {
		t.Fatalf("Poll: %v, want ErrLeafTimeout", err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("Poll gave up after %v", d)
	}
	if err := Poll(time.Second, "at once", func() bool { return true }); err != nil {
		t.Fatal(err)
	}
}

func TestLeafServerUnknownKind(t *testing.T) {
	if _, err := StartLeafServer(LeafSpec{Kind: "other"}); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("StartLeafServer: %v, want ErrUnknownKind", err)
	}
}
