package faultnet

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// pair is one connection: two conns over two pipes, between two host
// incarnations. The network keeps every open pair so faults reach them.
type pair struct {
	n       *Network
	hosts   [2]*Host // dialer, listener
	ends    [2]*conn
	carried atomic.Int64 // bytes written, both directions (DropAfter)
	closed  atomic.Int32 // ends closed; 2: the pair is gone
}

func newPair(n *Network, from, to *Host, local, remote *net.TCPAddr) *pair {
	p := &pair{n: n, hosts: [2]*Host{from, to}}
	ab, ba := newPipe(n.cfg.Buffer), newPipe(n.cfg.Buffer)
	p.ends[0] = &conn{p: p, r: ba, w: ab, local: local, remote: remote, rd: newDeadline(), wd: newDeadline()}
	p.ends[1] = &conn{p: p, r: ab, w: ba, local: remote, remote: local, rd: newDeadline(), wd: newDeadline()}
	return p
}

// involves reports whether the pair runs between hosts named a and b
// (either way round).
func (p *pair) involves(a, b string) bool {
	x, y := p.hosts[0].name, p.hosts[1].name
	return (x == a && y == b) || (x == b && y == a)
}

// breakWith resets both directions: every pending and later read and
// write of both ends fails with err (a cut, a drop, a kill).
func (p *pair) breakWith(err error) {
	p.ends[0].w.setReset(err)
	p.ends[1].w.setReset(err)
	p.n.forget(p)
}

func (p *pair) setHold(h bool) {
	p.ends[0].w.setHold(h)
	p.ends[1].w.setHold(h)
}

// conn is one end of a pair: a net.Conn with deadlines.
type conn struct {
	p             *pair
	r, w          *pipe
	local, remote *net.TCPAddr
	rd, wd        *deadline
	closeOnce     sync.Once
}

var _ net.Conn = (*conn)(nil)

func (c *conn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.local, Addr: c.remote, Err: err}
}

// Read implements net.Conn.
func (c *conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err := c.r.read(b, c.rd)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, c.opErr("read", err)
	}
	return n, err
}

// Write implements net.Conn: the network's faults for this link decide
// the delay and whether the connection breaks during the write.
func (c *conn) Write(b []byte) (int, error) {
	delay, allow := c.p.n.writePolicy(c.p, len(b))
	if allow < len(b) {
		n := 0
		if allow > 0 {
			n, _ = c.w.write(b[:allow], delay, c.wd)
		}
		c.p.breakWith(syscall.ECONNRESET)
		return n, c.opErr("write", syscall.ECONNRESET)
	}
	total := 0
	for total < len(b) {
		// Chunks of at most the buffer size keep a huge write from
		// holding memory the reader has not asked for.
		end := min(len(b), total+c.p.n.cfg.Buffer)
		n, err := c.w.write(b[total:end], delay, c.wd)
		total += n
		if err != nil {
			return total, c.opErr("write", err)
		}
	}
	c.p.carried.Add(int64(total))
	return total, nil
}

// Close implements net.Conn: the peer reads what was written, then EOF;
// the peer's later writes fail.
func (c *conn) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		c.w.closeWrite()
		c.r.closeRead()
		if c.p.closed.Add(1) == 2 {
			c.p.n.forget(c.p)
		}
	})
	if !first {
		return c.opErr("close", net.ErrClosed)
	}
	return nil
}

// LocalAddr implements net.Conn.
func (c *conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr implements net.Conn.
func (c *conn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline implements net.Conn.
func (c *conn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

// SetReadDeadline implements net.Conn.
func (c *conn) SetReadDeadline(t time.Time) error { c.rd.set(t); return nil }

// SetWriteDeadline implements net.Conn.
func (c *conn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }
