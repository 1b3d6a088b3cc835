package harness

import (
	"errors"
	"fmt"
	"time"

	"github.com/fernmq/fern"
	"github.com/nats-io/nats-server/v2/server"
)

// startTimeout bounds how long a target may take to accept connections and
// how long it may take to shut down.
const startTimeout = 5 * time.Second

// ErrNotReady is returned when a server does not accept connections within
// the start timeout.
var ErrNotReady = errors.New("harness: server not ready")

// Target is a server implementation under test. Start launches a fresh
// instance on an ephemeral loopback port and returns its client URL and a
// function that shuts it down and waits for it to finish.
type Target struct {
	Name  string
	Start func() (url string, stop func(), err error)
}

// Targets returns Fern and the official server, in that order.
func Targets() []Target { return []Target{Fern(), Official()} }

// Fern is the Fern server embedded through its public API.
func Fern() Target { return Target{Name: "fern", Start: startFern} }

// Official is nats-server v2 embedded through its server package.
func Official() Target { return Target{Name: "official", Start: startOfficial} }

func startFern() (string, func(), error) {
	s, err := runFern(&fern.Options{Host: "127.0.0.1", Port: -1}, "fern")
	if err != nil {
		return "", nil, err
	}
	return s.ClientURL(), func() { stopFern(s) }, nil
}

// runFern creates, starts and waits for a Fern server; what names it in
// errors. A server that fails to start is shut down.
func runFern(o *fern.Options, what string) (*fern.Server, error) {
	s, err := fern.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("harness: start %s: %w", what, err)
	}
	if err := s.Start(); err != nil {
		stopFern(s)
		return nil, fmt.Errorf("harness: start %s: %w", what, err)
	}
	select {
	case <-s.Ready():
	case <-time.After(startTimeout):
		stopFern(s)
		return nil, fmt.Errorf("harness: start %s: %w", what, ErrNotReady)
	}
	return s, nil
}

func startOfficial() (string, func(), error) {
	s, err := server.NewServer(&server.Options{
		Host:   "127.0.0.1",
		Port:   -1,
		NoLog:  true,
		NoSigs: true,
	})
	if err != nil {
		return "", nil, fmt.Errorf("harness: start official: %w", err)
	}
	stop := func() {
		s.Shutdown()
		s.WaitForShutdown()
	}
	go s.Start()
	if !s.ReadyForConnections(startTimeout) {
		stop()
		return "", nil, fmt.Errorf("harness: start official: %w", ErrNotReady)
	}
	return s.ClientURL(), stop, nil
}
