package harness

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// watcher collects the first asynchronous failure reported by any of a
// run's connections (a slow-consumer error, a server -ERR, a connection
// the server closed), so the timed phase can stop waiting as soon as one
// happens.
type watcher struct {
	once   sync.Once
	failed chan struct{}
	err    error // written once, before failed is closed
}

func newWatcher() *watcher { return &watcher{failed: make(chan struct{})} }

func (w *watcher) fail(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.failed)
	})
}

// Err returns the first reported failure, or nil.
func (w *watcher) Err() error {
	select {
	case <-w.failed:
		return w.err
	default:
		return nil
	}
}

// run is the state shared by one workload run: its deadline, its failure
// watcher and the connections to close at the end.
type run struct {
	url      string
	deadline time.Time
	watch    *watcher
	conns    []*nats.Conn
	closing  atomic.Bool // set once the run closes its own connections
}

func newRun(url string, cfg Config) *run {
	return &run{url: url, deadline: time.Now().Add(cfg.Timeout), watch: newWatcher()}
}

// remaining is the time left before the deadline, at least a millisecond so
// nats.go treats it as a real timeout rather than "none".
func (r *run) remaining() time.Duration {
	d := time.Until(r.deadline)
	if d < time.Millisecond {
		d = time.Millisecond
	}
	return d
}

// expired reports ErrTimeout once the deadline has passed.
func (r *run) expired(what string) error {
	if time.Now().After(r.deadline) {
		return fmt.Errorf("%w: %s", ErrTimeout, what)
	}
	return nil
}

// connect dials a new client that never reconnects and reports every
// asynchronous error, and any close the run did not ask for, to the run's
// watcher.
func (r *run) connect(name string) (*nats.Conn, error) {
	nc, err := nats.Connect(r.url,
		nats.Name(name),
		nats.NoReconnect(),
		nats.Timeout(r.remaining()),
		nats.FlusherTimeout(r.remaining()),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			r.watch.fail(fmt.Errorf("harness: %s: %w", name, err))
		}),
		nats.ClosedHandler(func(nc *nats.Conn) {
			if !r.closing.Load() {
				r.watch.fail(fmt.Errorf("harness: %s closed by the server: %w", name, closeReason(nc)))
			}
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("harness: connect %s: %w", name, err)
	}
	r.conns = append(r.conns, nc)
	return nc, nil
}

// closeReason is why nats.go closed nc: the error it recorded, or
// ErrClosedByServer when there was none (a clean EOF).
func closeReason(nc *nats.Conn) error {
	if err := nc.LastError(); err != nil {
		return err
	}
	return ErrClosedByServer
}

// flush does a PING/PONG round trip on nc within the deadline.
func (r *run) flush(nc *nats.Conn, name string) error {
	if err := nc.FlushTimeout(r.remaining()); err != nil {
		return fmt.Errorf("harness: flush %s: %w", name, err)
	}
	return nil
}

// close closes every connection the run opened.
func (r *run) close() {
	r.closing.Store(true)
	for _, nc := range r.conns {
		nc.Close()
	}
}
