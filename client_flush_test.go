package fern

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingConn counts the writes the server makes to a connection.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// One read pass that triggers many deliveries to a connection ends in one
// write to it, not one per message.
func TestFlushOncePerReadPass(t *testing.T) {
	s, err := NewServer(&Options{Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	serverSide, clientSide := net.Pipe()
	defer clientSide.Close()
	cc := &countingConn{Conn: serverSide}
	s.createClient(cc)

	br := bufio.NewReader(clientSide)
	readLine := func() string {
		_ = clientSide.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return line
	}
	if line := readLine(); !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("got %q", line)
	}
	write := func(s string) {
		if _, err := clientSide.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	write("CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPING\r\n")
	if line := readLine(); line != "PONG\r\n" {
		t.Fatalf("got %q", line)
	}
	before := cc.writes.Load()
	const msgs = 60 // 906 bytes: one read of the initial 1 KiB buffer
	write(strings.Repeat("PUB foo 2\r\nhi\r\n", msgs) + "PING\r\n")
	for i := 0; i < msgs; i++ {
		if l := readLine(); l != "MSG foo 1 2\r\n" {
			t.Fatalf("msg %d: got %q", i, l)
		}
		readLine()
	}
	if line := readLine(); line != "PONG\r\n" {
		t.Fatalf("got %q", line)
	}
	// The parser saw all the PUBs in one read, and the pass signals the
	// writer once at its end. The writer may still take a first part early
	// (it drains whatever is queued while finishing the PONG before), so a
	// loaded machine sees a few writes; a flush per message would be 61.
	if n := cc.writes.Load() - before; n > msgs/4 {
		t.Fatalf("%d writes for one read pass of %d messages, want a handful", n, msgs)
	}
}

func TestTraceRedactsSecrets(t *testing.T) {
	got := redactSecrets([]byte(`{"user":"u","pass":"hunter2","auth_token":"tok","verbose":false}`))
	if strings.Contains(got, "hunter2") || strings.Contains(got, "tok\"") || !strings.Contains(got, `"user":"u"`) {
		t.Fatalf("redacted CONNECT: %s", got)
	}
}
