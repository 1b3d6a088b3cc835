package faultnet

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// pipe is one direction of a conn: a bounded byte queue with TCP-like
// semantics. Writes are copied in (they block only once Config.Buffer
// bytes wait unread), reads take what is there, each chunk no earlier
// than its arrival time (delay). The writer's close is an EOF after the
// queued bytes; the reader's close makes later writes fail (EPIPE); a
// reset (a cut or a drop) fails both ends at once and discards the queue.
type pipe struct {
	mu      sync.Mutex
	chunks  []chunk
	size    int
	limit   int
	wclosed bool  // the writing end closed: EOF once drained
	rclosed bool  // the reading end closed
	reset   error // set by a cut, a drop or a kill
	hold    bool  // blackholed: the reader sees nothing until it clears
	wake    chan struct{}
}

type chunk struct {
	b  []byte
	at time.Time // when the reader may see it
}

func newPipe(limit int) *pipe {
	return &pipe{limit: limit, wake: make(chan struct{})}
}

// changedLocked wakes every waiter; p.mu is held.
func (p *pipe) changedLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// write queues b (all of it) once there is room, visible after delay.
func (p *pipe) write(b []byte, delay time.Duration, dl *deadline) (int, error) {
	for {
		p.mu.Lock()
		err := dl.expired()
		switch {
		case p.reset != nil:
			err := p.reset
			p.mu.Unlock()
			return 0, err
		case p.wclosed:
			p.mu.Unlock()
			return 0, net.ErrClosed
		case p.rclosed:
			p.mu.Unlock()
			return 0, syscall.EPIPE
		case err != nil:
			p.mu.Unlock()
			return 0, err
		case p.size < p.limit:
			at := time.Time{}
			if delay > 0 {
				at = time.Now().Add(delay)
			}
			p.chunks = append(p.chunks, chunk{b: append([]byte(nil), b...), at: at})
			p.size += len(b)
			p.changedLocked()
			p.mu.Unlock()
			return len(b), nil
		}
		wake := p.wake
		p.mu.Unlock()
		dl.wait(wake, time.Time{})
	}
}

// read copies queued bytes into b, waiting for some.
func (p *pipe) read(b []byte, dl *deadline) (int, error) {
	for {
		p.mu.Lock()
		err := dl.expired()
		var until time.Time
		switch {
		case p.reset != nil:
			err := p.reset
			p.mu.Unlock()
			return 0, err
		case p.rclosed:
			p.mu.Unlock()
			return 0, net.ErrClosed
		case err != nil:
			p.mu.Unlock()
			return 0, err
		case len(p.chunks) > 0 && !p.hold:
			head := &p.chunks[0]
			if head.at.IsZero() || !time.Now().Before(head.at) {
				n := p.takeLocked(b)
				p.mu.Unlock()
				return n, nil
			}
			until = head.at
		case len(p.chunks) == 0 && p.wclosed:
			p.mu.Unlock()
			return 0, io.EOF
		}
		wake := p.wake
		p.mu.Unlock()
		dl.wait(wake, until)
	}
}

// takeLocked copies the visible chunks' bytes into b; p.mu is held.
func (p *pipe) takeLocked(b []byte) int {
	n := 0
	now := time.Now()
	for n < len(b) && len(p.chunks) > 0 {
		head := &p.chunks[0]
		if !head.at.IsZero() && now.Before(head.at) {
			break
		}
		k := copy(b[n:], head.b)
		n += k
		if k == len(head.b) {
			p.chunks[0] = chunk{}
			p.chunks = p.chunks[1:]
		} else {
			head.b = head.b[k:]
		}
	}
	p.size -= n
	p.changedLocked()
	return n
}

// closeWrite, closeRead, setReset and setHold change the state and wake
// the waiters.
func (p *pipe) closeWrite() { p.update(func() { p.wclosed = true }) }
func (p *pipe) closeRead() {
	p.update(func() { p.rclosed = true; p.chunks, p.size = nil, 0 })
}
func (p *pipe) setReset(err error) {
	p.update(func() {
		if p.reset == nil {
			p.reset = err
			p.chunks, p.size = nil, 0
		}
	})
}
func (p *pipe) setHold(h bool) { p.update(func() { p.hold = h }) }

func (p *pipe) update(f func()) {
	p.mu.Lock()
	f()
	p.changedLocked()
	p.mu.Unlock()
}

// deadline is a settable read or write deadline that wakes its waiters
// when it changes.
type deadline struct {
	mu      sync.Mutex
	t       time.Time
	changed chan struct{}
}

func newDeadline() *deadline { return &deadline{changed: make(chan struct{})} }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	d.t = t
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()
}

func (d *deadline) get() (time.Time, chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.t, d.changed
}

// expired returns os.ErrDeadlineExceeded (a net.Error whose Timeout is
// true) once the deadline has passed.
func (d *deadline) expired() error {
	t, _ := d.get()
	if !t.IsZero() && !time.Now().Before(t) {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// wait blocks until wake is closed, the deadline changes or passes, or
// until (if set) is reached.
func (d *deadline) wait(wake chan struct{}, until time.Time) {
	t, changed := d.get()
	if until.IsZero() || (!t.IsZero() && t.Before(until)) {
		until = t
	}
	var timer <-chan time.Time
	if !until.IsZero() {
		tm := time.NewTimer(time.Until(until))
		defer tm.Stop()
		timer = tm.C
	}
	select {
	case <-wake:
	case <-changed:
	case <-timer:
	}
}
