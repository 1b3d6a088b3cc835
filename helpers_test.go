package fern_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern"
	"github.com/nats-io/nats.go"
)

// testTimeout bounds every wait in these tests; they synchronize on
// events and only use it as a failure limit.
const testTimeout = 5 * time.Second

// runServer starts a server on an ephemeral loopback port and shuts it
// down when the test ends.
func runServer(t testing.TB, opts *fern.Options) *fern.Server {
	t.Helper()
	if opts == nil {
		opts = &fern.Options{}
	}
	o := *opts
	o.Host, o.Port = "127.0.0.1", -1
	s, err := fern.NewServer(&o)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// connect dials s with nats.go.
func connect(t testing.TB, s *fern.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("nats.Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// rawConn is a plain TCP client for checking the exact protocol bytes.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// dialRawNoInfo connects without reading anything.
func dialRawNoInfo(t testing.TB, s *fern.Server) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(s.ClientURL(), "nats://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// dialRaw connects and reads the server's INFO line.
func dialRaw(t testing.TB, s *fern.Server) *rawConn {
	t.Helper()
	rc := dialRawNoInfo(t, s)
	if line := rc.readLine(); !strings.HasPrefix(line, "INFO {") || !strings.HasSuffix(line, "} \r\n") {
		t.Fatalf("first line is not INFO: %q", line)
	}
	return rc
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := rc.nc.Write([]byte(s)); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

// readLine reads one CRLF-terminated line (with its CRLF).
func (rc *rawConn) readLine() string {
	rc.t.Helper()
	_ = rc.nc.SetReadDeadline(time.Now().Add(testTimeout))
	line, err := rc.br.ReadString('\n')
	if err != nil {
		rc.t.Fatalf("read: %v (got %q)", err, line)
	}
	return line
}

// expect reads one line and checks it.
func (rc *rawConn) expect(want string) {
	rc.t.Helper()
	if got := rc.readLine(); got != want {
		rc.t.Fatalf("got %q, want %q", got, want)
	}
}

// expectClosed checks that the server closes the connection, skipping
// PINGs it may send first.
func (rc *rawConn) expectClosed() {
	rc.t.Helper()
	_ = rc.nc.SetReadDeadline(time.Now().Add(testTimeout))
	for {
		line, err := rc.br.ReadString('\n')
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				rc.t.Fatalf("connection still open")
			}
			return
		}
		if line != "PING\r\n" {
			rc.t.Fatalf("unexpected %q before close", line)
		}
	}
}

// waitFor polls cond until it holds or the test times out; used only for
// server-side state that has no event to wait on.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
