package fern

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Memory after a burst. A connection keeps its outbound buffer and a
// spare for reuse while it is busy; one that wrote nothing for a whole
// trim period (idleTrimPeriod) gives both back, so a burst does not pin
// memory in connections that went quiet. When the server allocated a lot
// in one period and almost nothing in the next (a burst just ended), it
// returns the freed memory to the OS at once (a forced collection and
// scavenge) instead of leaving it to the runtime's slow background
// scavenger.

// idleTrimPeriod is how often idle connections give their buffers back.
const idleTrimPeriod = time.Second

// Thresholds of "a burst just ended", in bytes allocated per period.
const (
	burstAllocs = 16 << 20
	quietAllocs = 4 << 20
)

// trimIdle runs until the server shuts down.
func (s *Server) trimIdle() {
	defer s.accept.Done()
	t := time.NewTicker(idleTrimPeriod)
	defer t.Stop()
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	last, prevDelta := sample[0].Value.Uint64(), uint64(0)
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		conns := s.allConnsLocked()
		s.mu.Unlock()
		for _, c := range conns {
			c.releaseIfIdle()
		}
		metrics.Read(sample)
		now := sample[0].Value.Uint64()
		delta := now - last
		if prevDelta >= burstAllocs && delta <= quietAllocs {
			debug.FreeOSMemory()
		}
		last, prevDelta = now, delta
	}
}

// releaseIfIdle drops the outbound buffers of a connection that wrote
// nothing since the last call and has nothing queued.
func (c *client) releaseIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.written == c.trimWritten && len(c.out) == 0 && c.inflight == 0 && !c.holdOut {
		c.out, c.spare = nil, nil
	}
	c.trimWritten = c.written
}
