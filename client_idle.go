package fern

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Memory after a burst. Outbound blocks go back to the server's pool as
// soon as they are written (client_outq.go); the pool gives the garbage
// collector every block that stayed unused for a whole trim period
// (idleTrimPeriod), and a connection that wrote nothing for a period
// drops its queue's bookkeeping. In a quiet period (little allocated)
// after a burst, or after blocks or buffers were given back, or with more
// than keptFree of free heap kept from the OS, the server returns the
// freed memory to the OS at once (a forced collection and scavenge)
// instead of leaving it to the runtime's slow background scavenger.

// idleTrimPeriod is how often idle connections give their buffers back.
const idleTrimPeriod = time.Second

// Thresholds of "a burst just ended", in bytes allocated per period.
const (
	burstAllocs = 16 << 20
	quietAllocs = 4 << 20
	// keptFree is how much free heap the runtime may keep from the OS
	// in a quiet period before the server hands it back.
	keptFree = 4 << 20
)

// trimIdle runs until the server shuts down.
func (s *Server) trimIdle() {
	defer s.accept.Done()
	t := time.NewTicker(idleTrimPeriod)
	defer t.Stop()
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(sample)
	last := sample[0].Value.Uint64()
	owed := false // a burst happened and its memory is not all returned
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		conns := s.allConnsLocked()
		s.mu.Unlock()
		released := 0
		for _, c := range conns {
			if c.releaseIfIdle() {
				released++
			}
		}
		released += s.blocks.trim()
		metrics.Read(sample)
		now := sample[0].Value.Uint64()
		delta := now - last
		last = now
		switch {
		case delta >= burstAllocs:
			owed = true
		case delta <= quietAllocs && (owed || released > 0 || sample[1].Value.Uint64() >= keptFree):
			debug.FreeOSMemory()
			owed = released > 0
		}
	}
}

// releaseIfIdle drops the outbound bookkeeping of a connection that
// wrote nothing since the last call and has nothing queued, and reports
// whether it held anything.
func (c *client) releaseIfIdle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	held := false
	if c.written == c.trimWritten && c.queuedLocked() == 0 && c.inflight == 0 && !c.holdOut {
		held = c.out != nil || c.outFull != nil || c.taken != nil
		c.dropOutLocked()
		c.taken = nil
	}
	c.trimWritten = c.written
	return held
}
