package fern

import (
	"github.com/fernmq/fern/protocol"
	"github.com/fernmq/fern/route"
)

// addSub puts sub into the interest table and, for a client's
// subscription, counts it as local interest and tells the routes when that
// changes what they must know. A concurrent removeSub (the connection
// closing) is resolved by sub.state: whichever of the two comes second
// undoes or skips, so the table and the counts never leak.
func (s *Server) addSub(sub *subscription) error {
	if err := s.subs.Insert(sub.subject, sub.queue, sub); err != nil {
		return err
	}
	if sub.client.kind == kindClient {
		s.localInterest(sub, true)
	}
	if !sub.state.CompareAndSwap(subNew, subActive) {
		// Removed while being added: undo.
		_ = s.subs.Remove(sub.subject, sub.queue, sub)
		if sub.client.kind == kindClient {
			s.localInterest(sub, false)
		}
	}
	return nil
}

// removeSub takes sub out of the interest table; only the first call for
// a subscription has an effect.
func (s *Server) removeSub(sub *subscription) {
	if sub.state.Swap(subRemoved) != subActive {
		return // never added, being added (addSub undoes), or gone
	}
	_ = s.subs.Remove(sub.subject, sub.queue, sub)
	if sub.client.kind == kindClient {
		s.localInterest(sub, false)
	}
}

// localInterest updates the local-interest counts and announces a change
// to every route (RS+ on the first plain subscriber or any queue weight
// change, RS- on the last).
func (s *Server) localInterest(sub *subscription, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ch route.Change
	if add {
		ch = s.interest.Add(sub.subject, sub.queue)
	} else {
		ch = s.interest.Remove(sub.subject, sub.queue)
	}
	if !ch.Announce {
		return
	}
	for _, r := range s.routes {
		r.sendInterestLocked(sub.subject, sub.queue, ch.Sub, ch.Weight)
	}
}

// globalAccount is the account name in route protocols: Fern has one.
const globalAccount = "$G"

// sendInterestLocked queues RS+ or RS- on a route and wakes its writer.
// s.mu is held (it orders announcements against the snapshot a new route
// is sent).
func (r *client) sendInterestLocked(subj, queue string, sub bool, weight int32) {
	r.mu.Lock()
	if !r.closed {
		if sub {
			r.out = protocol.AppendRSub(r.out, []byte(globalAccount), []byte(subj), []byte(queue), int(weight))
		} else {
			r.out = protocol.AppendRUnsub(r.out, []byte(globalAccount), []byte(subj), []byte(queue))
		}
	}
	r.mu.Unlock()
	r.signalFlush()
}
