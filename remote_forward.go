package fern

import (
	"math/rand/v2"

	"github.com/fernmq/fern/protocol"
	"github.com/fernmq/fern/subject"
)

// remoteTarget is one route or leaf a message goes to, with the queue
// groups (space-separated names) whose member behind it was chosen.
type remoteTarget struct {
	conn   *client
	queues []byte
}

// canForwardTo says whether a message that arrived on c may go on to the
// route or leaf dst:
//   - from a client: anywhere;
//   - from a route: only to leafs we are the hub for (one hop in the mesh;
//     every cluster member has its own leaf connections);
//   - from our hub (a leaf connection we dialled): only to our own leafs;
//   - from a leaf of ours: to routes and to other leafs.
//
// Never back where it came from.
func (c *client) canForwardTo(dst *client) bool {
	if dst == c {
		return false
	}
	switch c.kind() {
	case kindRoute:
		return dst.kind() == kindLeaf && !dst.leaf.solicited
	case kindLeaf:
		if c.leaf.solicited {
			return dst.kind() == kindLeaf && !dst.leaf.solicited
		}
	}
	return true
}

// addRemoteTarget records that the message goes to r, serving queue group
// q if q is not empty. Each connection appears once per message.
func (c *client) addRemoteTarget(r *client, q string) {
	var t *remoteTarget
	for i := range c.rtargets {
		if c.rtargets[i].conn == r {
			t = &c.rtargets[i]
			break
		}
	}
	if t == nil {
		if len(c.rtargets) < cap(c.rtargets) {
			c.rtargets = c.rtargets[:len(c.rtargets)+1]
		} else {
			c.rtargets = append(c.rtargets, remoteTarget{})
		}
		t = &c.rtargets[len(c.rtargets)-1]
		t.conn, t.queues = r, t.queues[:0]
	}
	if q != "" {
		if len(t.queues) > 0 {
			t.queues = append(t.queues, ' ')
		}
		t.queues = append(t.queues, q...)
	}
}

// pickRemoteMember chooses one member of a queue group behind a route or
// leaf this message may go to, weighted by the members each reported.
func (c *client) pickRemoteMember(members []*subscription) *subscription {
	var total int64
	for _, m := range members {
		if m.client.isRemote() && c.canForwardTo(m.client) {
			total += int64(max(m.weight.Load(), 1))
		}
	}
	if total == 0 {
		return nil
	}
	n := rand.Int64N(total)
	for _, m := range members {
		if !m.client.isRemote() || !c.canForwardTo(m.client) {
			continue
		}
		n -= int64(max(m.weight.Load(), 1))
		if n < 0 {
			return m
		}
	}
	return nil
}

// forwardRemote appends the message for one route (RMSG, or HMSG with
// the account) or leaf (LMSG, or HMSG without account).
func (c *client) forwardRemote(t *remoteTarget, subj, reply []byte, hdrSize int, msg []byte) bool {
	r := t.conn
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	r.roomLocked(len(globalAccount) + len(subj) + len(reply) + len(t.queues) + len(msg) + msgLineSlack)
	switch {
	case r.kind() == kindRoute && hdrSize > 0:
		r.out = protocol.AppendRHMsgHeader(r.out, []byte(globalAccount), subj, reply, t.queues, hdrSize, len(msg))
	case r.kind() == kindRoute:
		r.out = protocol.AppendRMsgHeader(r.out, []byte(globalAccount), subj, reply, t.queues, len(msg))
	case hdrSize > 0:
		r.out = protocol.AppendLHMsgHeader(r.out, subj, reply, t.queues, hdrSize, len(msg))
	default:
		r.out = protocol.AppendLMsgHeader(r.out, subj, reply, t.queues, len(msg))
	}
	r.out = append(r.out, msg...)
	r.out = append(r.out, protocol.CRLF...)
	r.mu.Unlock()
	// Never closed for pending bytes: its producers wait (client_flow.go).
	r.msgsOut.Add(1)
	c.flushSet[r] = struct{}{}
	return true
}

// queueListHas reports whether the space-separated list names q.
func queueListHas(list []byte, q string) bool {
	for len(list) > 0 {
		var name []byte
		name, list = protocol.NextQueue(list)
		if string(name) == q {
			return true
		}
	}
	return false
}

// subjectResult is the sublist's match result for this server's
// subscriptions.
type subjectResult = subject.Result[*subscription]
