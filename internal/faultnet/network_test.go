package faultnet

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pipePair listens on b and dials it from a; it returns both ends.
func pipePair(t *testing.T, n *Network, a, b string) (client, server net.Conn) {
	t.Helper()
	ln, err := n.Host(b).Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	client, err = n.Host(a).Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

func TestNetworkBuffersAndCloses(t *testing.T) {
	n := New(Config{Buffer: 1 << 10})
	c, s := pipePair(t, n, "a", "b")
	if ra, ok := s.RemoteAddr().(*net.TCPAddr); !ok || ra.IP.String() != n.Host("a").IP().String() {
		t.Fatalf("remote addr %v", s.RemoteAddr())
	}
	// Both sides write before reading: buffered, no deadlock.
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte("world")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, s, 5); string(got) != "hello" {
		t.Fatalf("got %q", got)
	}
	if got := readN(t, c, 5); string(got) != "world" {
		t.Fatalf("got %q", got)
	}
	// A full buffer blocks the writer until its deadline.
	s.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		_, err = s.Write(make([]byte, 512))
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past a full buffer: %v", err)
	}
	// A read deadline set while a read blocks ends it.
	s.SetWriteDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := s.Read(make([]byte, 1)); done <- err }()
	s.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read deadline: %v", err)
	}
	// Close: the peer reads what was written, then EOF; writes to a
	// closed peer fail; the closed end's own ops fail with ErrClosed.
	c.SetReadDeadline(time.Time{})
	io.ReadFull(c, make([]byte, 1024))
	s.Write([]byte("bye"))
	s.Close()
	if got := readN(t, c, 3); string(got) != "bye" {
		t.Fatalf("got %q", got)
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after close: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write to closed peer: %v", err)
	}
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after own close: %v", err)
	}
	c.Close()
	if n.Conns("a", "b") != 0 {
		t.Fatal("closed pair still registered")
	}
}

func TestNetworkCutRefusesAndHealHeals(t *testing.T) {
	n := New(Config{})
	c, s := pipePair(t, n, "a", "b")
	blocked := make(chan error, 1)
	go func() { _, err := s.Read(make([]byte, 1)); blocked <- err }()
	n.Cut("a", "b")
	if err := <-blocked; !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Fatalf("blocked read on cut: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Fatalf("write on cut: %v", err)
	}
	addr := s.LocalAddr().String()
	if _, err := n.Host("a").Dial("tcp", addr); !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Fatalf("dial across a cut: %v", err)
	}
	// Other links are untouched.
	if _, err := n.Host("c").Dial("tcp", addr); err != nil {
		t.Fatalf("dial from another host: %v", err)
	}
	n.Heal("a", "b")
	c2, err := n.Host("a").Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial after heal: %v", err)
	}
	c2.Close()
	// Host-wide: isolate refuses every link, rejoin restores.
	n.Isolate("b")
	if _, err := n.Host("c").Dial("tcp", addr); !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Fatalf("dial to isolated host: %v", err)
	}
	n.Rejoin("b")
	if c3, err := n.Host("c").Dial("tcp", addr); err != nil {
		t.Fatalf("dial after rejoin: %v", err)
	} else {
		c3.Close()
	}
}

func TestNetworkBlackholeHoldsThenDelivers(t *testing.T) {
	n := New(Config{})
	c, s := pipePair(t, n, "a", "b")
	n.Blackhole("a", "b")
	c.Write([]byte("held"))
	s.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, err := s.Read(make([]byte, 4)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read through a blackhole: %v", err)
	}
	dialed := make(chan error, 1)
	go func() {
		c2, err := n.Host("a").Dial("tcp", s.LocalAddr().String())
		if err == nil {
			c2.Close()
		}
		dialed <- err
	}()
	n.Heal("a", "b")
	if err := <-dialed; err != nil {
		t.Fatalf("dial that waited for heal: %v", err)
	}
	s.SetReadDeadline(time.Time{})
	if got := readN(t, s, 4); string(got) != "held" {
		t.Fatalf("after heal: %q", got)
	}
}

func TestNetworkDelayDelays(t *testing.T) {
	n := New(Config{})
	c, s := pipePair(t, n, "a", "b")
	const d = 50 * time.Millisecond
	n.Delay("a", "b", d)
	start := time.Now()
	c.Write([]byte("slow"))
	readN(t, s, 4)
	if el := time.Since(start); el < d {
		t.Fatalf("delivered after %v, want >= %v", el, d)
	}
	n.Heal("a", "b")
	start = time.Now()
	c.Write([]byte("fast"))
	readN(t, s, 4)
	if el := time.Since(start); el >= d {
		t.Fatalf("healed link still slow: %v", el)
	}
}

func TestNetworkDropBreaks(t *testing.T) {
	n := New(Config{Seed: 1})
	c, s := pipePair(t, n, "a", "b")
	n.SetLink("a", "b", Fault{DropAfter: 10})
	if k, err := c.Write(make([]byte, 6)); k != 6 || err != nil {
		t.Fatal(k, err)
	}
	if k, err := c.Write(make([]byte, 6)); k != 4 || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("write past DropAfter: %d %v", k, err)
	}
	if _, err := s.Read(make([]byte, 100)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("peer of a dropped conn: %v", err)
	}
	n.SetLink("a", "b", Fault{DropProb: 1})
	c2, err := n.Host("a").Dial("tcp", s.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Write([]byte("x")); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("DropProb 1: %v", err)
	}
}

func TestNetworkKillEndsIncarnation(t *testing.T) {
	n := New(Config{})
	c, s := pipePair(t, n, "a", "b")
	old := n.Host("b")
	ip := old.IP()
	old.Kill()
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("conn of killed host: %v", err)
	}
	_ = s
	if _, err := old.Listen("tcp", ":1"); !errors.Is(err, ErrHostDown) {
		t.Fatalf("listen on a dead incarnation: %v", err)
	}
	if _, err := old.Dial("tcp", "a:1"); !errors.Is(err, ErrHostDown) {
		t.Fatalf("dial from a dead incarnation: %v", err)
	}
	nb := n.Host("b")
	if nb == old || nb.IP() != ip || !nb.Alive() || old.Alive() {
		t.Fatal("restart: want a new live incarnation with the same address")
	}
	ln, err := nb.Listen("tcp", nb.Addr(4222))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := n.Host("a").Dial("tcp", "b:4222"); err != nil {
		t.Fatalf("dial by name: %v", err)
	}
}

func TestNetworkFreezeHoldsEverything(t *testing.T) {
	n := New(Config{})
	c, s := pipePair(t, n, "a", "b")
	c.Write([]byte("unread"))
	n.Host("b").Freeze()
	s.Write([]byte("after"))
	n.HealAll() // a heal does not thaw a frozen host
	for _, end := range []net.Conn{c, s} {
		end.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := end.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read through a frozen host: %v", err)
		}
	}
	if _, err := n.Host("a").Dial("tcp", s.LocalAddr().String()); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to a frozen host: %v", err)
	}
	if _, err := n.Host("b").Dial("tcp", "a:1"); !errors.Is(err, ErrHostDown) {
		t.Fatalf("dial from a frozen host: %v", err)
	}
	n.Host("b").Kill()
	if _, err := c.Read(make([]byte, 8)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("after kill: %v", err)
	}
}

func TestNetworkConcurrentStream(t *testing.T) {
	n := New(Config{Buffer: 4 << 10})
	c, s := pipePair(t, n, "a", "b")
	n.Delay("a", "b", time.Millisecond)
	want := bytes.Repeat([]byte("0123456789"), 10_000)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for off := 0; off < len(want); off += 777 {
			c.Write(want[off:min(off+777, len(want))])
		}
		c.Close()
	}()
	got, err := io.ReadAll(s)
	wg.Wait()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("stream: %d bytes, %v", len(got), err)
	}
}
