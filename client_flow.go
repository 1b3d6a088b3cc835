package fern

import "time"

// Flow control on the outbound path: what happens when a connection
// cannot write as fast as messages are queued for it.
//
// Producers (the read goroutines of clients, routes and leafs) append to a
// receiver's outbound buffer and never block while doing so. At the end
// of each read pass, before reading more from its own socket, a producer
// looks at every connection it queued bytes for in that pass and waits
// for those holding more than FlowControl.StallPending:
//
//   - While the receiver makes progress (its writer completed a write
//     since the producer started waiting), the producer keeps waiting,
//     for as long as it takes: a subscriber, route or leaf that reads,
//     however slowly, slows its publishers down to its own rate, through
//     TCP, hop by hop, and loses nothing.
//   - A receiver that makes no progress for FlowControl.StallWait is
//     marked stuck (progress: a write completed, or, on Linux, the
//     kernel's send queue for it shrank, which shows a reading peer long
//     before the kernel wakes a blocked writer): producers go on without it and do not wait for it
//     again until it writes something. A publisher is held once, for
//     StallWait, by a subscriber that stopped reading.
//   - A client (subscriber) whose queue passes MaxPending is closed as a
//     slow consumer (pending bytes); one whose socket accepts nothing for
//     WriteDeadline is closed too (write deadline). Stuck subscribers
//     reach one of those and go.
//   - A route or leaf link is never closed for pending bytes. Above
//     FlowControl.LinkMaxPending its producers wait for it even when it
//     is stuck; a link whose peer accepts nothing for WriteDeadline is
//     closed by the write deadline, and says so in the log.
//
// The server's own producers (JetStream's in-process publishers) never
// wait: their traffic is bounded by the consumers' flow-control windows.
//
// The writer writes at most maxWriteChunk bytes per system call, so that
// progress is seen at that grain and the write deadline means "no
// progress for that long", not "the whole queue in that long".
//
// The official server differs: it closes clients above max_pending as
// Fern does, but never closes routes or leafs for pending bytes and
// never bounds their queues (it retries writes past the deadline), and it
// stalls a publishing client for a bounded time per read when a receiver
// is above three quarters of its limit. Fern bounds every queue and slows
// publishers for as long as the slow receiver keeps reading.

// maxWriteChunk is the most the writer hands the socket in one write.
const maxWriteChunk = 128 << 10

// The FlowControlOptions defaults.
const (
	DefaultStallPending   = 1 << 20 // 1 MiB
	DefaultStallWait      = 100 * time.Millisecond
	DefaultLinkMaxPending = 64 << 20 // 64 MiB
)

// waitDrained runs at the end of a read pass (read goroutine only, with
// c.flushSet still holding the receivers of the pass).
func (c *client) waitDrained() {
	fc := &c.opts.FlowControl
	for dst := range c.flushSet {
		if dst.pending() > fc.StallPending {
			c.waitFor(dst, fc)
		}
	}
}

// pending is how many bytes are queued for the connection and not yet
// written.
func (c *client) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queuedLocked() + c.inflight
}

// waitFor holds this producer until dst drains below StallPending, is
// stuck (below LinkMaxPending for a link), or closes.
func (c *client) waitFor(dst *client, fc *FlowControlOptions) {
	link := dst.isRemote()
	var mark progressMark
	mark.take(dst)
	quietSince := time.Now()
	poll := min(fc.StallWait, stallPoll)
	for {
		dst.mu.Lock()
		pending := dst.queuedLocked() + dst.inflight
		mustWait := link && pending > fc.LinkMaxPending
		if dst.closed || pending <= fc.StallPending ||
			(!mustWait && dst.stuck && dst.written == dst.stuckAt) {
			dst.mu.Unlock()
			return
		}
		if dst.drained == nil {
			dst.drained = make(chan struct{})
		}
		ch := dst.drained
		dst.mu.Unlock()

		if c.stallTimer == nil {
			c.stallTimer = time.NewTimer(poll)
		} else {
			c.stallTimer.Reset(poll)
		}
		select {
		case <-ch:
			c.stallTimer.Stop()
			continue
		case <-dst.closeCh:
			c.stallTimer.Stop()
			return
		case <-c.closeCh:
			c.stallTimer.Stop()
			return
		case <-c.stallTimer.C:
		}
		if mark.moved(dst) {
			quietSince = time.Now()
			continue
		}
		if mustWait || time.Since(quietSince) < fc.StallWait {
			continue
		}
		dst.mu.Lock()
		dst.stuck, dst.stuckAt = true, dst.written
		dst.mu.Unlock()
		dst.log.Debug("connection not draining: its publishers go on without it", "pending", pending)
		return
	}
}

// stallPoll is how often a waiting producer looks for progress.
const stallPoll = 10 * time.Millisecond

// progressMark is what a waiting producer last saw of a receiver's
// progress: bytes its writer completed and, where the kernel tells,
// bytes still in the socket's send queue.
type progressMark struct {
	written uint64
	unsent  int
	kernel  bool
}

func (m *progressMark) take(dst *client) {
	dst.mu.Lock()
	m.written = dst.written
	dst.mu.Unlock()
	m.unsent, m.kernel = socketUnsent(dst.nc)
}

// moved reports whether dst made progress since the mark, and moves the
// mark.
func (m *progressMark) moved(dst *client) bool {
	old := *m
	m.take(dst)
	return m.written != old.written || (m.kernel && old.kernel && m.unsent < old.unsent)
}

// wroteLocked records n bytes written and wakes the producers waiting
// for this connection once it is below StallPending (c.mu held).
func (c *client) wroteLocked(n int) {
	c.written += uint64(n)
	if c.drained != nil && c.queuedLocked()+c.inflight <= c.opts.FlowControl.StallPending {
		close(c.drained)
		c.drained = nil
	}
}
