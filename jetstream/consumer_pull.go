package jetstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// pullRequest is a parsed CONSUMER.MSG.NEXT body.
type pullRequest struct {
	Batch     int           `json:"batch,omitempty"`
	Expires   time.Duration `json:"expires,omitempty"`
	MaxBytes  int           `json:"max_bytes,omitempty"`
	NoWait    bool          `json:"no_wait,omitempty"`
	Heartbeat time.Duration `json:"idle_heartbeat,omitempty"`

	// Priority group fields (accepted; Fern does not serve priority groups).
	Group         string `json:"group,omitempty"`
	MinPending    int64  `json:"min_pending,omitempty"`
	MinAckPending int64  `json:"min_ack_pending,omitempty"`
	ID            string `json:"id,omitempty"`
	Priority      int    `json:"priority,omitempty"`
}

// errPullHeartbeat is the reason of "400 Bad Request - heartbeat value too large".
var errPullHeartbeat = errors.New("heartbeat value too large")

// parsePullRequest reads a MSG.NEXT body leniently, as the reference
// server does: empty means batch 1; a JSON object is a request (unknown
// fields are ignored); a bare integer is a batch size; anything else is
// batch 1. A JSON syntax error, or an idle_heartbeat more than half of
// expires (including any heartbeat without expires), is an error whose
// text goes into "400 Bad Request - <text>". A batch below 1 counts as 1
// (the reference server delivers one message to such a request).
func parsePullRequest(body []byte) (pullRequest, error) {
	b := bytes.TrimSpace(body)
	req := pullRequest{Batch: 1}
	switch {
	case len(b) == 0:
		return req, nil
	case b[0] == '{':
		req.Batch = 0
		if err := json.Unmarshal(b, &req); err != nil {
			return pullRequest{}, err
		}
		if req.Heartbeat > 0 && req.Heartbeat*2 > req.Expires {
			return pullRequest{}, errPullHeartbeat
		}
		if req.Heartbeat < 0 {
			req.Heartbeat = 0
		}
		if req.Expires < 0 {
			req.Expires = 0
		}
		if req.MaxBytes < 0 {
			req.MaxBytes = 0
		}
	default:
		if n, err := strconv.Atoi(string(b)); err == nil {
			req.Batch = n
		}
	}
	if req.Batch < 1 {
		req.Batch = 1
	}
	return req, nil
}

// pullLimits are the consumer settings a pull request is checked against.
type pullLimits struct {
	MaxWaiting  int           // queue size (max_waiting)
	MaxBatch    int           // max_batch, 0 none
	MaxExpires  time.Duration // max_expires, 0 none
	MaxMaxBytes int           // max_bytes, 0 none
}

// waitingPull is one queued pull request.
type waitingPull struct {
	reply     string
	n         int // batch left
	b         int // bytes left; 0 when the request has no max_bytes
	delivered int
	noWait    bool
	expires   time.Time // zero: none
	hb        time.Duration
	nextHB    time.Time // zero: no heartbeat
	received  time.Time
}

// pullQueue is the FIFO of a pull consumer's waiting requests. Messages
// are dealt round-robin: each goes to the head request, which moves to
// the tail while it wants more. It is a plain data structure; statuses to
// send come back as pullReply values the caller publishes.
type pullQueue struct {
	lim  pullLimits
	reqs []*waitingPull // FIFO, head at reqs[0]
	last time.Time      // last activity (inactive threshold)
}

// pullReply is a status message for a request's reply subject.
type pullReply struct {
	Reply  string
	Status pullStatus
}

func newPullQueue(lim pullLimits) *pullQueue {
	if lim.MaxWaiting <= 0 {
		lim.MaxWaiting = consumerDefaultMaxWaiting
	}
	return &pullQueue{lim: lim}
}

// len is num_waiting.
func (q *pullQueue) len() int { return len(q.reqs) }

// lastActive is when the queue last saw a request, expiry or delivery.
func (q *pullQueue) lastActive() time.Time { return q.last }

// batchPending is the sum of what the waiting requests still want.
func (q *pullQueue) batchPending() int {
	n := 0
	for _, r := range q.reqs {
		n += r.n
	}
	return n
}

// add queues a request from reply. msgsAvailable is what the consumer
// could deliver right now (num_pending plus the redelivery queue), used
// for no_wait. The result is the status to answer with at once, if any
// (ok false means none: the request waits or was dropped silently). The
// caller should sweep expired requests before adding to a full queue.
func (q *pullQueue) add(reply string, req pullRequest, now time.Time, msgsAvailable uint64) (st pullStatus, send bool) {
	if q.lim.MaxBatch > 0 && req.Batch > q.lim.MaxBatch {
		return exceededBatchStatus(q.lim.MaxBatch), true
	}
	if req.Expires > 0 && q.lim.MaxExpires > 0 && req.Expires > q.lim.MaxExpires {
		return exceededExpiresStatus(q.lim.MaxExpires), true
	}
	if req.MaxBytes > 0 && q.lim.MaxMaxBytes > 0 && req.MaxBytes > q.lim.MaxMaxBytes {
		return exceededMaxBytesStatus(q.lim.MaxMaxBytes), true
	}
	if req.NoWait {
		if msgsAvailable == 0 && req.Expires == 0 {
			q.last = now
			return noMessagesStatus(), true
		}
		if msgsAvailable > 0 && msgsAvailable < uint64(q.batchPending()) {
			q.last = now
			return requestsPendingStatus(), true
		}
	}
	if len(q.reqs) >= q.lim.MaxWaiting {
		// With a heartbeat the client notices by itself; a 409 would make
		// it re-request in a hot loop.
		if req.Heartbeat > 0 {
			return pullStatus{}, false
		}
		return maxWaitingStatus(), true
	}
	w := &waitingPull{reply: reply, n: req.Batch, b: req.MaxBytes, noWait: req.NoWait, hb: req.Heartbeat, received: now}
	if req.Expires > 0 {
		w.expires = now.Add(req.Expires)
	}
	if req.Heartbeat > 0 {
		w.nextHB = now.Add(req.Heartbeat)
	}
	q.reqs = append(q.reqs, w)
	q.last = now
	return pullStatus{}, false
}

// pullPick is the request chosen for one message.
type pullPick struct {
	Reply string
	// Done is true when the request is finished by this message.
	Done bool
	// After, when Send, is a status to publish to Reply right after the
	// message: "409 Batch Completed" when the batch is used up but bytes
	// remain.
	After     pullStatus
	SendAfter bool
}

// next picks the request that gets a message of size bytes (subject,
// reply, header and payload lengths summed, as the reference server
// counts). Expired requests met on the way get 408, requests the message
// is too big for get 409, and requests whose reply has no interest
// (interest may be nil) are dropped silently; those replies are appended
// to out. ok is false when no request can take the message.
func (q *pullQueue) next(size int, now time.Time, interest func(string) bool, out []pullReply) (pick pullPick, ok bool, _ []pullReply) {
	for len(q.reqs) > 0 {
		w := q.reqs[0]
		if !w.expires.IsZero() && !now.Before(w.expires) {
			out = append(out, pullReply{w.reply, requestTimeoutStatus(w.n, w.b)})
			q.noteExpiry(w.expires)
			q.popHead()
			continue
		}
		if w.b > 0 {
			if size > w.b {
				out = append(out, pullReply{w.reply, maxBytesStatus(w.n, w.b)})
				q.popHead()
				continue
			}
			w.b -= size
			if w.b == 0 {
				w.n = 1 // deliver this one, then stop
			}
		}
		if interest != nil && !interest(w.reply) {
			q.popHead()
			continue
		}
		w.n--
		w.delivered++
		q.last = now
		pick.Reply = w.reply
		if w.n <= 0 {
			pick.Done = true
			q.popHead()
			if w.b > 0 {
				pick.After, pick.SendAfter = batchCompletedStatus(w.n, w.b), true
			}
			return pick, true, out
		}
		if w.hb > 0 {
			w.nextHB = now.Add(w.hb)
		}
		if len(q.reqs) > 1 {
			q.popHead()
			q.reqs = append(q.reqs, w)
		}
		return pick, true, out
	}
	return pick, false, out
}

// credit gives back a message that was picked for reply but could not be
// delivered.
func (q *pullQueue) credit(reply string) {
	for _, w := range q.reqs {
		if w.reply == reply {
			w.n++
			w.delivered--
			return
		}
	}
}

func (q *pullQueue) popHead() {
	q.reqs[0] = nil
	q.reqs = q.reqs[1:]
	if len(q.reqs) == 0 {
		q.reqs = nil
	}
}

func (q *pullQueue) noteExpiry(t time.Time) {
	if t.After(q.last) {
		q.last = t
	}
}

// sweep walks the queue: expired requests get 408 (with what was left),
// no_wait requests get 404 when noMore (nothing left to deliver) and they
// have no expiry or already got something, requests without interest
// (interest may be nil) are dropped, and requests whose heartbeat is due
// get "100 Idle Heartbeat" with last (the consumer's last delivered pair).
// Heartbeat status blocks need the sequences, so they are appended to
// hbs as reply subjects; the caller encodes them with appendIdleHeartbeat.
// wake is the earliest expiry or heartbeat left (zero when none).
func (q *pullQueue) sweep(now time.Time, noMore bool, interest func(string) bool,
	out []pullReply, hbs []string) (_ []pullReply, _ []string, wake time.Time) {
	kept := q.reqs[:0]
	for _, w := range q.reqs {
		expired := !w.expires.IsZero() && !now.Before(w.expires)
		switch {
		case expired:
			out = append(out, pullReply{w.reply, requestTimeoutStatus(w.n, w.b)})
			q.noteExpiry(w.expires)
			continue
		case noMore && w.noWait && (w.expires.IsZero() || w.delivered > 0):
			out = append(out, pullReply{w.reply, noMessagesStatus()})
			if now.After(q.last) {
				q.last = now
			}
			continue
		case interest != nil && !interest(w.reply):
			continue
		}
		if !w.nextHB.IsZero() {
			if !now.Before(w.nextHB) {
				hbs = append(hbs, w.reply)
				w.nextHB = now.Add(w.hb)
			}
			wake = earliest(wake, w.nextHB)
		}
		if !w.expires.IsZero() {
			wake = earliest(wake, w.expires)
		}
		kept = append(kept, w)
	}
	for i := len(kept); i < len(q.reqs); i++ {
		q.reqs[i] = nil
	}
	q.reqs = kept
	if len(q.reqs) == 0 {
		q.reqs = nil
	}
	return out, hbs, wake
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// drain empties the queue, answering every request with reason (409
// Consumer Deleted when the consumer goes away).
func (q *pullQueue) drain(reason pullStatus, out []pullReply) []pullReply {
	for _, w := range q.reqs {
		out = append(out, pullReply{w.reply, reason})
	}
	q.reqs = nil
	return out
}
