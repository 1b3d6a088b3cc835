package fern

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/fernmq/fern/protocol"
)

// Outbound discipline. Producers (any read goroutine delivering to this
// connection, the timers, the connection's own replies) append bytes to
// c.out under c.mu and mark the connection for a flush; nothing blocks on
// the socket while appending. The writer goroutine takes the queued
// blocks (client_outq.go) and writes them in chunks, each under the write
// deadline.
// How producers are slowed down for a connection that falls behind, and
// when one is closed, is client_flow.go.

// writeLoop owns socket writes until the connection closes.
func (c *client) writeLoop() {
	defer c.exited()
	for {
		select {
		case <-c.flushCh:
		case <-c.closeCh:
		}
		err := c.writeQueued()
		c.mu.Lock()
		closed, flush := c.closed, c.flushOnClose
		c.mu.Unlock()
		if err != nil {
			if isTimeout(err) {
				c.closeNow(reasonSlowWrite)
			} else {
				c.closeNow(reasonWriteError)
			}
			return
		}
		if closed {
			if flush {
				_ = c.writeQueued()
			}
			_ = c.nc.Close()
			return
		}
	}
}

// writeQueued writes everything queued, one queue taken at a time.
func (c *client) writeQueued() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.queuedLocked() > 0 {
		if (c.closed && !c.flushOnClose) || c.holdOut {
			return nil
		}
		w := c.wr
		var total int
		c.taken, total = c.takeOutLocked(c.taken[:0])
		c.inflight = total
		oc := &c.cursor
		oc.bufs = c.taken
		var err error
		for !oc.done() && err == nil {
			c.mu.Unlock()
			// The deadline is per chunk: no progress for that long.
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteDeadline))
			var n int64
			n, err = oc.chunk().WriteTo(w)
			oc.advance(int(n))
			c.mu.Lock()
			c.inflight -= int(n)
			c.wroteLocked(int(n))
		}
		oc.reset()
		c.inflight = 0
		if c.holdOut {
			c.outIdle.Broadcast()
		}
		c.srv.blocks.put(c.taken)
		if err != nil {
			return err
		}
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// pendingOKLocked checks the pending limit after bytes were queued. It
// reports false when the connection must be closed as a slow consumer.
// c.mu must be held.
func (c *client) pendingOKLocked() bool {
	return c.queuedLocked()+c.inflight <= c.opts.MaxPending
}

// enqueue appends a protocol line for this connection and marks it for
// the end-of-pass flush. Used by the read goroutine.
func (c *client) enqueue(line string) {
	c.mu.Lock()
	if !c.closed {
		c.out = append(c.out, line...)
	}
	c.mu.Unlock()
	c.flushSet[c] = struct{}{}
}

// sendErr queues -ERR '<text>' for this connection.
func (c *client) sendErr(text string) {
	c.mu.Lock()
	if !c.closed {
		c.out = protocol.AppendErr(c.out, text)
	}
	c.mu.Unlock()
	c.flushSet[c] = struct{}{}
}

// sendAsync queues bytes from outside the read goroutine (timers) and
// wakes the writer at once.
func (c *client) sendAsync(line string) {
	c.mu.Lock()
	if !c.closed {
		c.out = append(c.out, line...)
	}
	c.mu.Unlock()
	c.signalFlush()
}
