package fern

import (
	"math/rand/v2"

	"github.com/fernmq/fern/protocol"
	"github.com/fernmq/fern/subject"
)

// routeTarget is one route a message goes to, with the queue groups
// (space-separated names) whose member behind it was chosen.
type routeTarget struct {
	conn   *client
	queues []byte
}

// addRouteTarget records that the message goes to route r, serving queue
// group q if q is not empty. Each route appears once per message.
func (c *client) addRouteTarget(r *client, q string) {
	var t *routeTarget
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
			c.rtargets = append(c.rtargets, routeTarget{})
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

// pickRouteMember chooses one route member of a queue group, weighted by
// the number of members each route reported (RS+ weight).
func pickRouteMember(members []*subscription) *subscription {
	var total int64
	for _, m := range members {
		if m.client.kind == kindRoute {
			total += int64(max(m.weight.Load(), 1))
		}
	}
	if total == 0 {
		return nil
	}
	n := rand.Int64N(total)
	for _, m := range members {
		if m.client.kind != kindRoute {
			continue
		}
		n -= int64(max(m.weight.Load(), 1))
		if n < 0 {
			return m
		}
	}
	return nil
}

// forwardToRoute appends RMSG (or HMSG with headers) for one route.
func (c *client) forwardToRoute(t *routeTarget, subj, reply []byte, hdrSize int, msg []byte) bool {
	r := t.conn
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	if hdrSize > 0 {
		r.out = protocol.AppendRHMsgHeader(r.out, []byte(globalAccount), subj, reply, t.queues, hdrSize, len(msg))
	} else {
		r.out = protocol.AppendRMsgHeader(r.out, []byte(globalAccount), subj, reply, t.queues, len(msg))
	}
	r.out = append(r.out, msg...)
	r.out = append(r.out, protocol.CRLF...)
	ok := r.pendingOKLocked()
	r.mu.Unlock()
	if !ok {
		r.closeNow(reasonSlowPending)
		return false
	}
	r.route.msgsOut.Add(1)
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
