package fern

import (
	"github.com/fernmq/fern/protocol"
	"github.com/fernmq/fern/route"
)

// Interest bookkeeping. Every subscription (a client's SUB, a route's RS+,
// a leaf's LS+) lives in one sublist. What a peer must hear about is
// counted separately per audience:
//
//   - routes hear about local interest: clients, and leafs this server is
//     the hub for (s.interest, one counter shared by all routes);
//   - each leaf connection hears about what it may want (leafState.interest):
//     as hub we tell a leaf everything except its own subscriptions; as a
//     leaf we tell our hub only local interest (clients and our own leafs),
//     never what we learned from routes or from that hub.
//
// Insertion into the sublist and the counters happen together under s.mu,
// so a snapshot sent to a new route or leaf (also under s.mu) is never
// overtaken by, or duplicated with, a delta.

// addSub puts sub into the interest table and announces what changes. A
// concurrent removeSub (the connection closing) is resolved by sub.state:
// whichever comes second undoes or skips, so nothing leaks.
func (s *Server) addSub(sub *subscription) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.subs.Insert(sub.subject, sub.queue, sub); err != nil {
		return err
	}
	s.announceLocked(sub, true)
	if !sub.state.CompareAndSwap(subNew, subActive) {
		// Removed while being added: undo.
		_ = s.subs.Remove(sub.subject, sub.queue, sub)
		s.announceLocked(sub, false)
	}
	return nil
}

// removeSub takes sub out of the interest table; only the first call for
// a subscription has an effect.
func (s *Server) removeSub(sub *subscription) {
	if sub.state.Swap(subRemoved) != subActive {
		return // never added, being added (addSub undoes), or gone
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.subs.Remove(sub.subject, sub.queue, sub)
	s.announceLocked(sub, false)
}

// announceLocked updates the counters for one subscription added or
// removed and queues RS+/RS- and LS+/LS- where a count crossed a boundary
// (or a queue weight changed). s.mu is held.
func (s *Server) announceLocked(sub *subscription, add bool) {
	if sub.announced() {
		ch := countInterest(s.interest, sub, add)
		if ch.Announce {
			raft := sub.routesOnly
			for _, r := range s.routes {
				if raft && !r.speaksRaft() {
					continue
				}
				r.sendInterest(sub.subject, sub.queue, ch.Sub, ch.Weight)
			}
		}
	}
	for _, l := range s.leafs {
		if !l.leafWants(sub) {
			continue
		}
		if ch := countInterest(l.leaf.interest, sub, add); ch.Announce {
			l.sendInterest(sub.subject, sub.queue, ch.Sub, ch.Weight)
		}
	}
}

func countInterest(in *route.Interest, sub *subscription, add bool) route.Change {
	if add {
		return in.Add(sub.subject, sub.queue)
	}
	return in.Remove(sub.subject, sub.queue)
}

// localInterest reports whether this connection's subscriptions count as
// this server's own interest: clients, and leafs we are the hub for.
func (c *client) localInterest() bool {
	switch c.kind() {
	case kindClient:
		return true
	case kindLeaf:
		return !c.leaf.solicited
	}
	return false
}

// leafWants reports whether leaf connection l must be told about sub.
func (l *client) leafWants(sub *subscription) bool {
	if sub.client == l || sub.routesOnly || (sub.client.kind() == kindInternal && !sub.exported) {
		return false
	}
	if sub.client.kind() == kindRoute && isRaftSubject([]byte(sub.subject)) {
		// Another server's raft subscription: for routes only.
		return false
	}
	if l.leaf.solicited {
		// We are the leaf: our hub hears only our own interest.
		return sub.announced()
	}
	return true
}

// globalAccount is the account name in route protocols: Fern has one.
const globalAccount = "$G"

// sendInterest queues RS+/RS- (route) or LS+/LS- (leaf) and wakes the
// writer.
func (r *client) sendInterest(subj, queue string, sub bool, weight int32) {
	r.mu.Lock()
	if !r.closed {
		r.out = appendInterest(r.out, r.kind(), subj, queue, sub, weight)
	}
	r.mu.Unlock()
	r.signalFlush()
}

// appendInterest encodes one interest line for a route or a leaf.
func appendInterest(dst []byte, kind connKind, subj, queue string, sub bool, weight int32) []byte {
	s, q := []byte(subj), []byte(queue)
	switch {
	case kind == kindRoute && sub:
		return protocol.AppendRSub(dst, []byte(globalAccount), s, q, int(weight))
	case kind == kindRoute:
		return protocol.AppendRUnsub(dst, []byte(globalAccount), s, q)
	case sub:
		return protocol.AppendLSub(dst, s, q, int(weight))
	default:
		return protocol.AppendLUnsub(dst, s, q)
	}
}
