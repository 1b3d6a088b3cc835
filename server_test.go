package fern_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern"
	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
)

func TestServerStartPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	s, err := fern.NewServer(&fern.Options{Host: "127.0.0.1", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start()
	if err == nil {
		s.Shutdown(context.Background())
		t.Fatal("Start succeeded on a port in use")
	}
	if want := strconv.Itoa(port); !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name the port", err)
	}
	select {
	case <-s.Ready():
		t.Fatal("Ready closed after a failed Start")
	default:
	}
}

func TestServerLifecycle(t *testing.T) {
	s, err := fern.NewServer(&fern.Options{Host: "127.0.0.1", Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	// Shutdown before Start is fine, and Start afterwards refuses.
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); !errors.Is(err, fern.ErrServerClosed) {
		t.Fatalf("Start after Shutdown: %v", err)
	}

	s2, _ := fern.NewServer(&fern.Options{Host: "127.0.0.1", Port: -1})
	if err := s2.Start(); err != nil {
		t.Fatal(err)
	}
	<-s2.Ready()
	if err := s2.Start(); !errors.Is(err, fern.ErrAlreadyStarted) {
		t.Fatalf("second Start: %v", err)
	}
	nc, err := nats.Connect(s2.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	nc.SetReconnectHandler(nil)
	for i := 0; i < 2; i++ { // twice: idempotent
		if err := s2.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown #%d: %v", i+1, err)
		}
	}
	if _, err := net.Dial("tcp", s2.Addr().String()); err == nil {
		t.Fatal("listener still accepting after Shutdown")
	}
	nc.Close()
	<-closed
}

// Shutdown flushes what is queued: a subscriber gets every message
// published before Shutdown started.
func TestServerShutdownFlushes(t *testing.T) {
	s, _ := fern.NewServer(&fern.Options{Host: "127.0.0.1", Port: -1})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	rc := dialRaw(t, s)
	rc.send("CONNECT {\"verbose\":false}\r\nSUB x 1\r\nPUB x 2\r\nhi\r\nPING\r\n")
	rc.expect("MSG x 1 2\r\n")
	rc.expect("hi\r\n")
	rc.expect("PONG\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	rc.expectClosed()
	if s.NumClients() != 0 {
		t.Fatalf("%d clients left after Shutdown", s.NumClients())
	}
}

func TestServerTwoInOneProcess(t *testing.T) {
	a := runServer(t, &fern.Options{ServerName: "a"})
	b := runServer(t, &fern.Options{ServerName: "b"})
	if a.ID() == b.ID() {
		t.Fatal("two servers share an ID")
	}
	na, nb := connect(t, a), connect(t, b)
	sb, _ := nb.SubscribeSync("shared")
	nb.Flush()
	na.Publish("shared", []byte("x"))
	na.Flush()
	if _, err := sb.NextMsg(50 * time.Millisecond); err == nil {
		t.Fatal("a message crossed between two unconnected servers")
	}
	if a.NumSubscriptions() != 0 || b.NumSubscriptions() != 1 {
		t.Fatalf("subscriptions leak across servers: a=%d b=%d", a.NumSubscriptions(), b.NumSubscriptions())
	}
}

func TestNewServerDoesNotMutateOptions(t *testing.T) {
	opts := &fern.Options{Port: -1, Cluster: fern.ClusterOptions{}}
	before := *opts
	s, err := fern.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	_ = s
	if diff := cmp.Diff(before, *opts, cmp.AllowUnexported()); diff != "" {
		t.Fatalf("NewServer changed the caller's Options (-before +after):\n%s", diff)
	}
}

func TestNewServerValidates(t *testing.T) {
	cases := []struct {
		name string
		opts fern.Options
		want string
	}{
		{"port", fern.Options{Port: 70000}, "Port=70000"},
		{"payload over pending", fern.Options{MaxPayload: 2 << 20, MaxPending: 1 << 20}, "MaxPayload"},
		{"negative", fern.Options{MaxConnections: -5}, "MaxConnections"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fern.NewServer(&tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
