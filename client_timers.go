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
	held := false
	if k := c.kind(); k == kindRoute || k == kindLeaf {
		// Routes and leafs always ping, at least every 30 s (as officially),
		// but not before their handshake is done: a PING in the clear
		// would break a switch to TLS or S2. Until then the timer only
		// counts, so a peer that never finishes still goes stale.
		interval = min(interval, routeMaxPingEvery)
		send = true
		held = !c.handshakeDone()
	}
	if send && c.pingsOut+1 > c.opts.PingMax {
		c.out = protocol.AppendErr(c.out, "Stale Connection")
		c.mu.Unlock()
		c.closeAfterFlush(reasonStale)
		return
	}
	if send {
		c.pingsOut++
		if held {
			send = false
		} else {
			c.firstPingSent = true
			c.out = protocol.AppendPing(c.out)
			if c.pingSent.IsZero() {
				c.pingSent = time.Now()
			}
		}
	}
	c.pingTimer.Reset(interval)
	c.mu.Unlock()
	if send {
		c.signalFlush()
	}
}

// handshakeDone reports whether a route or leaf connection is registered
// (its handshake, including any TLS or S2 switch, is over).
func (c *client) handshakeDone() bool {
	switch {
	case c.route != nil:
		return c.route.registered.Load()
	case c.leaf != nil:
		return c.leaf.registered.Load()
	}
	return true
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
	if !c.pingSent.IsZero() {
		c.retuneS2Locked(time.Since(c.pingSent))
		c.pingSent = time.Time{}
	}
	c.mu.Unlock()
}
