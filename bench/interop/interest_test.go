package interop

import (
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fernmq/fern/bench/harness"
	"github.com/nats-io/nats.go"
)

// TestMixedInterestOnTheWire checks interest propagation between a Fern
// and an official server over their single route, read off the wire
// through a proxy: RS+ for a plain subject once, RS+ with the new weight
// for each queue member change, RS- when interest ends, and no RMSG for a
// subject once its RS- has been processed.
func TestMixedInterestOnTheWire(t *testing.T) {
	offPort := freePort(t)
	toOff := newProxy(t, "127.0.0.1:"+strconv.Itoa(offPort))
	off, err := harness.StartNode(harness.NodeSpec{Kind: harness.KindOfficial, Name: "official", ClusterPort: offPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(off.Stop)
	fern, err := harness.StartNode(harness.NodeSpec{Kind: harness.KindFern, Name: "fern",
		Routes: []string{toOff.URL()}, RetryInterval: fernRetry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fern.Stop)
	toOff.open()
	nodes := []*harness.Node{fern, off}
	if err := harness.WaitMesh(nodes, meshTimeout); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("wire (fern %s, official %s):\n%s", fern.ID(), off.ID(),
				transcript([]string{"fern->official"}, []*proxy{toOff}))
		}
	})
	// The only route goes through the proxy: "->" is what Fern sends,
	// "<-" what the official server sends.
	for _, tc := range []struct {
		name     string
		sub, pub *harness.Node
		subDir   string // direction of the subscriber server's protocol
	}{
		{"fern subscribes", fern, off, "->"},
		{"official subscribes", off, fern, "<-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := strings.ReplaceAll(tc.sub.Name(), "-", "") // subjects unique per case
			plain, queue := prefix+".plain", prefix+".q"
			subConn := dialNode(t, tc.sub)
			pubConn := dialNode(t, tc.pub)
			var plainN, queueN atomic.Int64
			count := func(n *atomic.Int64) nats.MsgHandler { return func(*nats.Msg) { n.Add(1) } }
			ps := subOK(subConn.Subscribe(plain, count(&plainN)))(t)
			q1 := subOK(subConn.QueueSubscribe(queue, "g", count(&queueN)))(t)
			q2 := subOK(subConn.QueueSubscribe(queue, "g", count(&queueN)))(t)
			routeFence(t, subConn, pubConn, prefix+".fence1")
			wantWireLines(t, toOff.lines(tc.subDir), []string{
				"RS+ $G " + plain, "RS+ $G " + queue + " g 1", "RS+ $G " + queue + " g 2"})

			const msgs = 50
			for range msgs {
				pubOne(t, pubConn, plain)
				pubOne(t, pubConn, queue)
			}
			routeFence(t, subConn, pubConn, prefix+".fence2")
			drained(t, ps, q1, q2)
			if plainN.Load() != msgs || queueN.Load() != msgs {
				t.Fatalf("delivered plain %d, queue %d; want %d each", plainN.Load(), queueN.Load(), msgs)
			}

			unsubOK(t, q1)
			routeFence(t, subConn, pubConn, prefix+".fence3")
			wantWireLines(t, toOff.lines(tc.subDir), []string{"RS+ $G " + queue + " g 1"})
			unsubOK(t, q2)
			unsubOK(t, ps)
			routeFence(t, subConn, pubConn, prefix+".fence4")
			wantWireLines(t, toOff.lines(tc.subDir), []string{"RS- $G " + queue + " g", "RS- $G " + plain})

			before := countRMsgs(toOff.lines(oppositeDir(tc.subDir)), prefix)
			for range msgs {
				pubOne(t, pubConn, plain)
				pubOne(t, pubConn, queue)
			}
			routeFence(t, subConn, pubConn, prefix+".fence5")
			if after := countRMsgs(toOff.lines(oppositeDir(tc.subDir)), prefix); after != before {
				t.Fatalf("%s forwarded %d messages on subjects without interest", tc.pub.Name(), after-before)
			}
		})
	}
}

// drained waits until nats.go has run the callback of every message the
// subscriptions received: each subscription's callbacks run on their own
// goroutine, so a fence's arrival does not mean earlier messages were
// handled, but Pending drops only when a callback has returned.
func drained(t *testing.T, subs ...*nats.Subscription) {
	t.Helper()
	waitUntil(t, "callbacks to drain", func() bool {
		for _, s := range subs {
			if n, _, err := s.Pending(); err != nil || n != 0 {
				return false
			}
		}
		return true
	})
}

func oppositeDir(dir string) string {
	if dir == "->" {
		return "<-"
	}
	return "->"
}

// countRMsgs counts RMSG/HMSG lines for subjects under prefix (fences excluded).
func countRMsgs(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 3 && (f[0] == "RMSG" || f[0] == "HMSG") && strings.HasPrefix(f[2], prefix+".") &&
			!strings.HasPrefix(f[2], prefix+".fence") {
			n++
		}
	}
	return n
}

// wantWireLines checks that want occur in lines in this order (the last
// occurrence of the first one counts, so a repeated line is found again).
func wantWireLines(t *testing.T, lines, want []string) {
	t.Helper()
	start := 0
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i] == want[0] {
			start = i
			break
		}
	}
	rest := lines[start:]
	for _, w := range want {
		i := slices.Index(rest, w)
		if i < 0 {
			t.Fatalf("wire has no %q in order %q", w, want)
		}
		rest = rest[i+1:]
	}
}

// routeFence subscribes subConn to subj and publishes on it from pubConn until
// one arrives: the subscriber's earlier SUB and UNSUB reached the
// publisher's server before it (one route, in order), and every message
// published before the fence reached the subscriber's server before it.
func routeFence(t *testing.T, subConn, pubConn *nats.Conn, subj string) {
	t.Helper()
	got := make(chan struct{}, 1)
	sub := subOK(subConn.Subscribe(subj, func(*nats.Msg) {
		select {
		case got <- struct{}{}:
		default:
		}
	}))(t)
	defer unsubOK(t, sub)
	if err := subConn.Flush(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "fence "+subj, func() bool {
		pubOne(t, pubConn, subj)
		if err := pubConn.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := subConn.Flush(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
			return true
		default:
			return false
		}
	})
}

func dialNode(t *testing.T, n *harness.Node) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(n.ClientURL(), nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func subOK(sub *nats.Subscription, err error) func(*testing.T) *nats.Subscription {
	return func(t *testing.T) *nats.Subscription {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
}

func pubOne(t *testing.T, nc *nats.Conn, subj string) {
	t.Helper()
	if err := nc.Publish(subj, []byte("m")); err != nil {
		t.Fatal(err)
	}
}

func unsubOK(t *testing.T, s *nats.Subscription) {
	t.Helper()
	if err := s.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
}
