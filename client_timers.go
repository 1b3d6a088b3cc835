package fern

import (
	"time"

	"github.com/fernmq/fern/protocol"
)

// pingTimerFired runs on the ping timer. The first PING after connect is
// always sent (as the official server does, to measure RTT); later ones
// only when the client has been silent for a whole interval. When more
// PINGs are outstanding than ping_max allows, the connection is stale.
func (c *client) pingTimerFired() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	interval := c.opts.PingInterval
	idle := time.Since(time.Unix(0, c.lastIn.Load()))
	first := !c.firstPingSent
	send := first || idle >= interval
	if k := c.kind(); k == kindRoute || k == kindLeaf {
		// Routes and leafs always ping, at least every 30 s (as officially).
		interval = min(interval, routeMaxPingEvery)
		send = true
	}
	if send && c.pingsOut+1 > c.opts.PingMax {
		c.out = protocol.AppendErr(c.out, "Stale Connection")
		c.mu.Unlock()
		c.closeAfterFlush(reasonStale)
		return
	}
	if send {
		c.firstPingSent = true
		c.pingsOut++
		c.out = protocol.AppendPing(c.out)
	}
	c.pingTimer.Reset(interval)
	c.mu.Unlock()
	if send {
		c.signalFlush()
	}
}

// authTimeout closes a client that did not authenticate in time.
func (c *client) authTimeout() {
	c.mu.Lock()
	if c.closed || c.authenticated {
		c.mu.Unlock()
		return
	}
	c.out = protocol.AppendErr(c.out, "Authentication Timeout")
	c.mu.Unlock()
	c.closeAfterFlush(reasonAuthTimeout)
}

// processPong answers a PONG: no PING is outstanding any more.
func (c *client) processPong() {
	c.mu.Lock()
	c.pingsOut = 0
	c.mu.Unlock()
}
