package fern

import (
	"context"
	"io"
	"net"
	"testing"
)

// pipeClient attaches a client to s over net.Pipe, drains what the server
// writes to it, and returns the server-side client.
func pipeClient(t testing.TB, s *Server, connect string) *client {
	t.Helper()
	serverSide, clientSide := net.Pipe()
	t.Cleanup(func() { clientSide.Close() })
	go func() { _, _ = io.Copy(io.Discard, clientSide) }()
	s.createClient(serverSide)
	s.mu.Lock()
	var c *client
	for _, cl := range s.clients {
		if cl.nc == serverSide {
			c = cl
		}
	}
	s.mu.Unlock()
	if c == nil {
		t.Fatal("client not registered")
	}
	if connect != "" {
		if _, err := clientSide.Write([]byte(connect)); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// The delivery path (match, encode into the receiver's buffer, flush
// signal) allocates nothing per message.
func TestDeliverAllocatesNothing(t *testing.T) {
	s, err := NewServer(&Options{Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	sub := pipeClient(t, s, "")
	for _, p := range []struct{ subj, queue, sid string }{{"a.b", "", "1"}, {"a.*", "", "2"}, {"a.>", "q", "3"}} {
		x := &subscription{client: sub, subject: p.subj, queue: p.queue, sid: []byte(p.sid)}
		sub.subs[p.sid] = x
		if err := s.subs.Insert(p.subj, p.queue, x); err != nil {
			t.Fatal(err)
		}
	}
	sub.headers = true
	pub := pipeClient(t, s, "")
	subj, reply, msg := []byte("a.b"), []byte("r"), []byte("NATS/1.0\r\n\r\nhello")
	run := func() {
		pub.processMsg(subj, reply, 12, msg)
		pub.processMsg(subj, nil, 0, msg[12:])
		// What the end of a read pass does, minus the writer wake-up,
		// then drop the bytes so the buffer does not grow forever.
		clear(pub.flushSet)
		sub.mu.Lock()
		sub.dropOutLocked()
		sub.mu.Unlock()
	}
	run()
	if n := testing.AllocsPerRun(1000, run); n != 0 {
		t.Fatalf("%.1f allocations per delivery", n)
	}
}

// BenchmarkDeliver measures the server's side of one publish to one
// subscriber: match, encode, queue for flush.
func BenchmarkDeliver(b *testing.B) {
	s, err := NewServer(&Options{Port: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	sub := pipeClient(b, s, "")
	x := &subscription{client: sub, subject: "bench.subject", sid: []byte("1")}
	sub.subs["1"] = x
	_ = s.subs.Insert(x.subject, "", x)
	pub := pipeClient(b, s, "")
	subj, msg := []byte("bench.subject"), make([]byte, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for i := 0; b.Loop(); i++ {
		pub.processMsg(subj, nil, 0, msg)
		if i%64 == 0 {
			clear(pub.flushSet)
			sub.mu.Lock()
			sub.dropOutLocked()
			sub.mu.Unlock()
		}
	}
}
