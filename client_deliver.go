package fern

import (
	"math/rand/v2"

	"github.com/fernmq/fern/protocol"
)

// processMsg delivers one published message to every matching
// subscription: all plain subscribers, and one member of each queue group.
// It runs on the publisher's read goroutine and allocates nothing: the
// match result is the client's own, and bytes are appended to each
// receiver's outbound buffer, to be flushed when the read pass ends.
//
// Routes and leafs: a message goes once to every route or leaf with
// matching interest that canForwardTo allows, carrying the names of the
// queue groups whose chosen member is behind it. A message that came from
// a route or a leaf serves only the queue groups it names; one from a
// route reaches local members or members behind our own leafs (one hop).
func (c *client) processMsg(subj, reply []byte, hdrSize int, msg []byte) {
	c.srv.subs.Match(subj, &c.result)
	kind := c.kind()
	fromRemote := kind == kindRoute || kind == kindLeaf
	delivered := false
	// A server with JetStream answers $JS.API itself: those requests never
	// cross a leaf link, either way (as officially, where each side of a
	// leaf link with JetStream is its own domain).
	jsLocal := c.srv.js != nil && isJSAPI(subj)
	// JetStream deliveries are routed by their deliver subject but shown
	// with the stored subject: across routes and leafs that subject rides
	// at the end of the $JS.ACK reply, after '@' (as officially).
	remoteReply := reply
	switch {
	case fromRemote:
		if i := jsAckDeliverIdx(reply); i >= 0 {
			c.wireSubj, reply = reply[i+1:], reply[:i]
			defer func() { c.wireSubj = nil }()
		}
	case c.wireSubj != nil && isJSAck(reply) && jsAckDeliverIdx(reply) < 0:
		c.jsReply = append(append(append(c.jsReply[:0], reply...), '@'), c.wireSubj...)
		remoteReply = c.jsReply
	}
	c.rtargets = c.rtargets[:0]
	for _, sub := range c.result.Plain {
		if sub.handler != nil {
			// In-process subscriptions (JetStream) serve this server's
			// own clients, unless exported: the others are never
			// announced, so what arrives from a route or leaf is not theirs.
			if sub.routesOnly {
				if kind == kindRoute && c.speaksRaft() {
					deliverInternal(sub, c.shownSubject(subj), reply, hdrSize, msg)
					delivered = true
				}
				continue
			}
			if !fromRemote || sub.exported {
				deliverInternal(sub, c.shownSubject(subj), reply, hdrSize, msg)
				delivered = true
			}
			continue
		}
		if dst := sub.client; dst.isRemote() {
			if c.canForwardTo(dst) && !(jsLocal && dst.kind() == kindLeaf) {
				c.addRemoteTarget(dst, "")
			}
			continue
		}
		if c.deliver(sub, subj, reply, hdrSize, msg) {
			delivered = true
		}
	}
	for i := range c.result.Queues {
		q := &c.result.Queues[i]
		if fromRemote && !queueListHas(c.inQueues, q.Name) {
			continue
		}
		if c.deliverQueue(q.Members, subj, reply, hdrSize, msg) {
			delivered = true
			continue
		}
		// No local member: one behind a route or leaf (canForwardTo keeps
		// a routed message to our own leafs).
		if r := c.pickRemoteMember(q.Members); r != nil && !(jsLocal && r.client.kind() == kindLeaf) {
			c.addRemoteTarget(r.client, q.Name)
		}
	}
	for i := range c.rtargets {
		if c.forwardRemote(&c.rtargets[i], subj, remoteReply, hdrSize, msg) {
			delivered = true
		}
	}
	if !delivered && len(reply) > 0 && c.conn.NoResponders {
		c.sendNoResponders(subj, reply)
	}
}

// deliverQueue gives the message to one local member of a queue group,
// starting at a random member and moving on past members that cannot take
// it. Members behind routes are left to the caller.
func (c *client) deliverQueue(members []*subscription, subj, reply []byte, hdrSize int, msg []byte) bool {
	n := len(members)
	if n == 0 {
		return false
	}
	start := rand.IntN(n)
	for i := 0; i < n; i++ {
		m := members[(start+i)%n]
		if m.handler != nil {
			if c.isRemote() && !m.exported {
				continue
			}
			deliverInternal(m, c.shownSubject(subj), reply, hdrSize, msg)
			return true
		}
		if m.client.kind() != kindClient {
			continue
		}
		if c.deliver(m, subj, reply, hdrSize, msg) {
			return true
		}
	}
	return false
}

// deliver appends MSG or HMSG for sub to its client's outbound buffer. It
// reports whether the message was queued.
func (c *client) deliver(sub *subscription, subj, reply []byte, hdrSize int, msg []byte) bool {
	dst := sub.client
	if dst == c && !c.conn.Echo {
		return false
	}
	last := false
	if max := sub.max.Load(); max > 0 {
		n := sub.delivered.Add(1)
		if n > max {
			return false
		}
		last = n == max
	} else {
		sub.delivered.Add(1)
	}

	dst.mu.Lock()
	if dst.closed {
		dst.mu.Unlock()
		return false
	}
	if c.wireSubj != nil {
		// JetStream delivery: routed by the deliver subject, shown with
		// the stored message's subject.
		subj = c.wireSubj
	}
	dst.roomLocked(len(subj) + len(sub.sid) + len(reply) + len(msg) + msgLineSlack)
	if hdrSize > 0 && dst.headers {
		dst.out = protocol.AppendHMsgHeader(dst.out, subj, sub.sid, reply, hdrSize, len(msg))
		dst.out = append(dst.out, msg...)
	} else {
		// A client without headers gets the payload alone.
		dst.out = protocol.AppendMsgHeader(dst.out, subj, sub.sid, reply, len(msg)-hdrSize)
		dst.out = append(dst.out, msg[hdrSize:]...)
	}
	dst.out = append(dst.out, protocol.CRLF...)
	ok := dst.pendingOKLocked()
	dst.mu.Unlock()

	if !ok {
		dst.closeNow(reasonSlowPending)
		return false
	}
	c.flushSet[dst] = struct{}{}
	if last {
		dst.removeSub(sub)
	}
	return true
}

// isJSAPI reports whether subj is in $JS.API.>.
func isJSAPI(subj []byte) bool {
	const p = "$JS.API."
	return len(subj) > len(p) && string(subj[:len(p)]) == p
}

// jsAckPrefix starts JetStream ack reply subjects.
const jsAckPrefix = "$JS.ACK."

func isJSAck(reply []byte) bool {
	return len(reply) > len(jsAckPrefix) && string(reply[:len(jsAckPrefix)]) == jsAckPrefix
}

// jsAckDeliverIdx is the index of the '@' that ends the ack part of an
// encoded "$JS.ACK.<stream>.<consumer>.<n>.<n>.<n>.<ts>.<pending>@<subject>"
// reply, or -1. Names may hold '@', so only one after the eighth dot counts.
func jsAckDeliverIdx(reply []byte) int {
	if !isJSAck(reply) {
		return -1
	}
	dots := 0
	for i, b := range reply {
		switch b {
		case '.':
			dots++
		case '@':
			if dots >= 8 {
				return i
			}
		}
	}
	return -1
}

// shownSubject is the subject a receiver sees: a JetStream delivery's
// stored subject (what a stream sourcing it stores), else subj.
func (c *client) shownSubject(subj []byte) []byte {
	if c.wireSubj != nil {
		return c.wireSubj
	}
	return subj
}

// deliverInternal hands a message to an in-process subscription.
func deliverInternal(sub *subscription, subj, reply []byte, hdrSize int, msg []byte) {
	var hdr []byte
	if hdrSize > 0 {
		hdr = msg[:hdrSize:hdrSize]
	}
	sub.handler(string(subj), string(reply), hdr, msg[hdrSize:])
}

// noRespondersHdr is the status header block of a no-responders reply,
// before the Nats-Subject value.
const noRespondersHdr = "NATS/1.0 503\r\nNats-Subject: "

// sendNoResponders answers a request nobody received, as the official
// server does: a header-only HMSG with status 503 to the publisher's own
// subscription on the reply subject (if it has one).
func (c *client) sendNoResponders(subj, reply []byte) {
	c.srv.subs.Match(reply, &c.result)
	var sub *subscription
	for _, s := range c.result.Plain {
		if s.client == c {
			sub = s
			break
		}
	}
	if sub == nil {
		return
	}
	hdrLen := len(noRespondersHdr) + len(subj) + 4
	c.mu.Lock()
	if !c.closed {
		c.out = protocol.AppendHMsgHeader(c.out, reply, sub.sid, nil, hdrLen, hdrLen)
		c.out = append(c.out, noRespondersHdr...)
		c.out = append(c.out, subj...)
		c.out = append(c.out, "\r\n\r\n\r\n"...)
	}
	c.mu.Unlock()
	c.flushSet[c] = struct{}{}
}
