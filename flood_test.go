package fern

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Flood tests (issue 16): a publisher far faster than a subscriber behind
// a route or a leaf link. The subscriber reads, slowly; every message
// arrives, in order, and the link stays up. Without flow control the
// receiving server's queue for the subscriber, then the link's, pass
// max_pending and the link (or the subscriber) is cut.

// floodMsgs is how many messages each flood publishes.
const floodMsgs = 1_000_000

// floodOpts are the options of a flood test's servers: a small
// max_pending, so that a flood passes it quickly without flow control.
func floodOpts(name string) *Options {
	o := &Options{ServerName: name, Host: "127.0.0.1", Port: -1, MaxPending: 4 << 20, MaxPayload: 64 << 10}
	if os.Getenv("FERN_FLOOD_LOG") != "" {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("server", name)
	}
	return o
}

// pacedReader reads at most rate bytes a second.
type pacedReader struct {
	r     io.Reader
	rate  int
	start time.Time
	n     int
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if len(b) > 16<<10 {
		b = b[:16<<10]
	}
	if p.start.IsZero() {
		p.start = time.Now()
	}
	// Pacing a load, not synchronizing: the reader is slow on purpose.
	if ahead := time.Duration(p.n)*time.Second/time.Duration(p.rate) - time.Since(p.start); ahead > 0 {
		time.Sleep(ahead)
	}
	n, err := p.r.Read(b)
	p.n += n
	return n, err
}

// slowSubscriber subscribes subj over a raw connection and reads at rate
// bytes a second; it sends the count of in-order messages on done when it
// has want of them, or an error.
func slowSubscriber(t *testing.T, s *Server, subj string, rate, want int) (ready, done chan error) {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	ready, done = make(chan error, 1), make(chan error, 1)
	go func() {
		br := bufio.NewReaderSize(&pacedReader{r: nc, rate: rate}, 64<<10)
		if _, err := br.ReadString('\n'); err != nil { // INFO
			ready <- err
			return
		}
		fmt.Fprintf(nc, "CONNECT {\"verbose\":false}\r\nSUB %s 1\r\nPING\r\n", subj)
		if line, err := br.ReadString('\n'); err != nil || line != "PONG\r\n" {
			ready <- fmt.Errorf("no PONG: %q %v", line, err)
			return
		}
		ready <- nil
		next := 0
		for next < want {
			_ = nc.SetReadDeadline(time.Now().Add(20 * time.Second))
			line, err := br.ReadString('\n')
			if err != nil {
				done <- fmt.Errorf("after %d messages: %w", next, err)
				return
			}
			if line == "PING\r\n" {
				nc.Write([]byte("PONG\r\n"))
				continue
			}
			f := strings.Fields(line)
			if len(f) != 4 || f[0] != "MSG" {
				done <- fmt.Errorf("after %d messages: unexpected %q", next, line)
				return
			}
			size, _ := strconv.Atoi(f[3])
			payload := make([]byte, size+2)
			if _, err := io.ReadFull(br, payload); err != nil {
				done <- fmt.Errorf("after %d messages: %w", next, err)
				return
			}
			if seq, _ := strconv.Atoi(string(payload[:size])); seq != next {
				done <- fmt.Errorf("message %d is %d: lost or reordered", next, seq)
				return
			}
			next++
		}
		done <- nil
	}()
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	return ready, done
}

// floodPublish publishes n numbered messages on subj as fast as nats.go
// goes, then flushes.
func floodPublish(t *testing.T, url, subj string, n int) {
	t.Helper()
	nc, err := nats.Connect(url, nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for i := 0; i < n; i++ {
		if err := nc.Publish(subj, []byte(fmt.Sprintf("%08d", i))); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	if err := nc.FlushTimeout(time.Minute); err != nil {
		t.Fatal(err)
	}
}

func waitFlood(t *testing.T, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the slow subscriber did not get the flood in 2 minutes")
	}
}

// A 1:1 flood across a route to a subscriber reading at 8 MB/s.
func TestFloodAcrossRouteToSlowSubscriber(t *testing.T) {
	oa := floodOpts("a")
	oa.Cluster = ClusterOptions{Name: "flood", Host: "127.0.0.1", Port: -1, RetryInterval: 20 * time.Millisecond}
	a := startServer(t, oa)
	ob := floodOpts("b")
	ob.Cluster = ClusterOptions{Name: "flood", Host: "127.0.0.1", Port: -1, Routes: []string{routeURL(a)}, RetryInterval: 20 * time.Millisecond}
	b := startServer(t, ob)
	waitMesh(t, []*Server{a, b})
	route := routeTo(t, a, b)

	_, done := slowSubscriber(t, b, "flood", 8<<20, floodMsgs)
	waitInterest(t, a, "flood", 1)
	floodPublish(t, a.ClientURL(), "flood", floodMsgs)
	waitFlood(t, done)
	if route.isClosed() || routeTo(t, a, b) != route {
		t.Fatal("the route was cut during the flood")
	}
}

// A 1:1 flood from a leaf to a subscriber on its hub reading at 8 MB/s.
func TestFloodLeafToHubSlowSubscriber(t *testing.T) {
	oh := floodOpts("hub")
	oh.LeafNode = LeafNodeOptions{Host: "127.0.0.1", Port: -1}
	hub := startServer(t, oh)
	ol := floodOpts("leaf")
	ol.LeafNode = LeafNodeOptions{Remotes: []RemoteLeafOptions{{URLs: []string{"nats://" + hub.LeafAddr().String()}}}, ReconnectInterval: 20 * time.Millisecond}
	leaf := startServer(t, ol)
	waitFor(t, "the leaf link", func() bool { return hub.NumLeafs() == 1 && leaf.NumLeafs() == 1 })
	link := leafOf(t, hub)

	_, done := slowSubscriber(t, hub, "flood", 8<<20, floodMsgs)
	waitInterest(t, leaf, "flood", 1)
	floodPublish(t, leaf.ClientURL(), "flood", floodMsgs)
	waitFlood(t, done)
	if link.isClosed() || leafOf(t, hub) != link {
		t.Fatal("the leaf link was cut during the flood")
	}
}

// leafOf is s's one leaf connection.
func leafOf(t *testing.T, s *Server) *client {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.leafs {
		return c
	}
	t.Fatal("no leaf connection")
	return nil
}

// fastSubscriber subscribes subj over a raw connection and reads as fast
// as it can; done gets nil once it has read want payload bytes.
func fastSubscriber(t *testing.T, s *Server, subj string, want int) chan error {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	br := bufio.NewReaderSize(nc, 256<<10)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(nc, "CONNECT {\"verbose\":false}\r\nSUB %s 1\r\nPING\r\n", subj)
	if line, err := br.ReadString('\n'); err != nil || line != "PONG\r\n" {
		t.Fatalf("no PONG: %q %v", line, err)
	}
	done := make(chan error, 1)
	go func() {
		got := 0
		for got < want {
			_ = nc.SetReadDeadline(time.Now().Add(20 * time.Second))
			line, err := br.ReadString('\n')
			if err != nil {
				done <- fmt.Errorf("after %d bytes: %w", got, err)
				return
			}
			f := strings.Fields(line)
			if len(f) != 4 || f[0] != "MSG" {
				continue // PING and the like
			}
			size, _ := strconv.Atoi(f[3])
			if _, err := br.Discard(size + 2); err != nil {
				done <- err
				return
			}
			got += size
		}
		done <- nil
	}()
	return done
}

// freshMemoryCost is how long this process takes to get and touch n
// bytes of memory it did not have, in 64 KiB blocks (as an outbound
// queue grows). The memory is returned to the OS after, so the server's
// heap stays as cold as before.
func freshMemoryCost(n int) time.Duration {
	debug.FreeOSMemory()
	start := time.Now()
	blocks := make([][]byte, 0, n/outBlockSize)
	for len(blocks) < cap(blocks) {
		b := make([]byte, outBlockSize)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		blocks = append(blocks, b)
	}
	took := time.Since(start)
	runtime.KeepAlive(blocks)
	blocks = nil
	debug.FreeOSMemory()
	return took
}

// floodBytes publishes total bytes in 4 KiB messages and returns how long
// the publisher took (to its final flush).
func floodBytes(t *testing.T, s *Server, subj string, total int) time.Duration {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	payload := make([]byte, 4<<10)
	start := time.Now()
	for sent := 0; sent < total; sent += len(payload) {
		if err := nc.Publish(subj, payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.FlushTimeout(time.Minute); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

// A subscriber that never reads, beside a fast one, on a 256 MiB flood:
// the fast one gets all of it, the dead one is cut, and the publisher is
// held once for StallWait, not for the dead one's write deadline.
func TestFloodDeadSubscriberDoesNotHoldThePublisher(t *testing.T) {
	const total = 256 << 20
	o := floodOpts("s")
	o.MaxPending, o.MaxPayload = DefaultMaxPending, DefaultMaxPayload
	s := startServer(t, o)
	run := func(dead bool) time.Duration {
		subj := fmt.Sprint("flood.", dead)
		if dead {
			rc, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rc.Close() })
			fmt.Fprintf(rc, "CONNECT {\"verbose\":false}\r\nSUB %s 1\r\n", subj)
		}
		done := fastSubscriber(t, s, subj, total)
		waitFor(t, "the subscriptions", func() bool {
			var r resultT
			s.subs.Match([]byte(subj), &r)
			return r.Len() == map[bool]int{false: 1, true: 2}[dead]
		})
		took := floodBytes(t, s, subj, total)
		waitFlood(t, done)
		return took
	}
	alone := run(false)
	withDead := run(true)
	// Left: the two fast subscribers (the publishers have gone).
	waitFor(t, "the dead subscriber cut", func() bool { return s.NumClients() == 2 })
	t.Logf("publisher: %v alone, %v beside a dead subscriber", alone, withDead)
	// The dead one costs the publisher one StallWait hold, the copying
	// into its queue, and what the machine takes to give the process the
	// memory of that queue (MaxPending of fresh pages: about 200 ms for
	// 64 MiB on a VM that reports freed pages to its host, measured idle;
	// allowed twice that under load). On a quiet machine that is 2.5-3x
	// the time alone (README, Floods); the bound leaves room for -race
	// and a busy machine, and is still far below what waiting for the
	// dead one would cost (the write deadline, 10 s).
	limit := alone*3 + DefaultStallWait + 2*freshMemoryCost(DefaultMaxPending)
	t.Logf("limit %v", limit)
	if withDead > limit {
		t.Fatalf("the dead subscriber held the publisher: %v, more than %v", withDead, limit)
	}
}

// A leaf link whose peer stops reading is closed by the write deadline,
// with the reason in the log, and the publisher is not held by it beyond
// that.
func TestFloodDeadLinkClosedByWriteDeadline(t *testing.T) {
	logs, logger := countingLogger(slog.LevelInfo)
	o := floodOpts("hub")
	o.Logger, o.WriteDeadline = logger, 300*time.Millisecond
	o.LeafNode = LeafNodeOptions{Host: "127.0.0.1", Port: -1}
	hub := startServer(t, o)
	nc, err := net.Dial("tcp", hub.LeafAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	// A leaf that subscribes and then never reads again.
	fmt.Fprintf(nc, "CONNECT {\"server_id\":\"NDEAD\",\"name\":\"dead\",\"cluster\":\"dead\",\"headers\":true}\r\nLS+ flood\r\n")
	waitFor(t, "the dead leaf's interest", func() bool { return hub.HasInterest("flood") })
	pub, err := nats.Connect(hub.ClientURL(), nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	payload := make([]byte, 32<<10)
	for i := 0; i < 4096 && hub.NumLeafs() == 1; i++ { // bounded: 128 MiB at most
		if err := pub.Publish("flood", payload); err != nil {
			break
		}
		if i%64 == 0 {
			pub.Flush()
		}
	}
	waitFor(t, "the dead link closed", func() bool { return hub.NumLeafs() == 0 })
	if err := pub.FlushTimeout(10 * time.Second); err != nil {
		t.Fatalf("the publisher is still held: %v", err)
	}
	if logs.count(msgLine("link closed: its peer accepted nothing for the write deadline")) != 1 {
		t.Fatal("no log line says why the link was closed")
	}
}
