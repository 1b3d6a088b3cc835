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
// the socket while appending. The writer goroutine swaps c.out with a
// spare buffer and writes it in chunks, each under the write deadline.
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

// writeQueued writes everything queued, one write per batch taken.
func (c *client) writeQueued() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.out) > 0 {
		if (c.closed && !c.flushOnClose) || c.holdOut {
			return nil
		}
		data, w := c.out, c.wr
		c.out, c.spare = c.spare[:0], nil
		c.inflight = len(data)
		var err error
		for off := 0; off < len(data) && err == nil; {
			c.mu.Unlock()
			// The deadline is per chunk: no progress for that long.
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteDeadline))
			var n int
			n, err = w.Write(data[off:min(off+maxWriteChunk, len(data))])
			off += n
			c.mu.Lock()
			c.inflight = len(data) - off
			c.wroteLocked(n)
		}
		c.inflight = 0
		if c.holdOut {
			c.outIdle.Broadcast()
		}
		if cap(data) <= c.spareLimit() {
			c.spare = data[:0]
		}
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

// queueLocked checks the pending limit after bytes were appended to c.out.
// It reports false when the connection must be closed as a slow consumer.
// c.mu must be held.
func (c *client) pendingOKLocked() bool {
	return len(c.out)+c.inflight <= c.opts.MaxPending
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

// spareLimit is the largest outbound buffer this connection keeps.
func (c *client) spareLimit() int {
	if c.kind() == kindClient {
		return maxSpareOut
	}
	return maxSpareOutServer
}
