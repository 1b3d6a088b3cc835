package jetstream

import (
	"sync"
	"unsafe"
)

// This file holds the hand-off between a Host handler (running on a
// publisher's goroutine, which must never block) and the engine's own
// goroutines: the handler copies the message into one allocation and
// appends it to a queue; the consumer goroutine takes everything queued
// at once, which is what makes batching (and group commit) natural.

// inMsg is a copied message. subject and reply alias buf.
type inMsg struct {
	subject, reply string
	hdr, data      []byte
	// src is set on what a source run queues on its stream (source.go).
	src *sourcedMsg
	// gen is the source run's subscription generation a delivery came
	// in on (source_run.go); 0 elsewhere.
	gen uint64
}

// copyMsg copies a handler's arguments, which are only valid during the
// call, into one buffer.
func copyMsg(subject, reply string, hdr, data []byte) inMsg {
	n := len(subject) + len(reply) + len(hdr) + len(data)
	buf := make([]byte, 0, n)
	buf = append(buf, subject...)
	buf = append(buf, reply...)
	buf = append(buf, hdr...)
	buf = append(buf, data...)
	m := inMsg{}
	i := 0
	m.subject = bytesToString(buf[i : i+len(subject)])
	i += len(subject)
	m.reply = bytesToString(buf[i : i+len(reply)])
	i += len(reply)
	if hdr != nil {
		m.hdr = buf[i : i+len(hdr) : i+len(hdr)]
	}
	i += len(hdr)
	if len(data) > 0 {
		m.data = buf[i : i+len(data) : i+len(data)]
	}
	return m
}

// bytesToString views b as a string; b must never change afterwards.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// msgQueue is an unbounded multi-producer, single-consumer queue.
type msgQueue struct {
	mu     sync.Mutex
	items  []inMsg
	bytes  int
	closed bool
	// ready has room for one token: a push into an empty queue leaves
	// one, so the consumer wakes at least once per burst.
	ready chan struct{}
}

func newMsgQueue() *msgQueue {
	return &msgQueue{ready: make(chan struct{}, 1)}
}

// push appends m; false once the queue is closed.
func (q *msgQueue) push(m inMsg) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, m)
	q.bytes += len(m.subject) + len(m.reply) + len(m.hdr) + len(m.data)
	first := len(q.items) == 1
	q.mu.Unlock()
	if first {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return true
}

// pushBounded is push for a queue that holds at most maxMsgs messages and
// maxBytes bytes: it reports full (and drops m) when m does not fit.
func (q *msgQueue) pushBounded(m inMsg, maxMsgs, maxBytes int) (ok, full bool) {
	size := len(m.subject) + len(m.reply) + len(m.hdr) + len(m.data)
	q.mu.Lock()
	if len(q.items) >= maxMsgs || (len(q.items) > 0 && q.bytes+size > maxBytes) {
		q.mu.Unlock()
		return false, true
	}
	q.mu.Unlock()
	return q.push(m), false
}

// take moves up to max queued messages into a slice (reusing dst's
// array when it can) and returns it. If messages remain it re-arms ready.
func (q *msgQueue) take(dst []inMsg, max int) []inMsg {
	q.mu.Lock()
	var rest int
	if len(q.items) <= max {
		// Swap arrays: the queue keeps dst's (cleared) for later pushes.
		clear(dst[:cap(dst)])
		dst, q.items = q.items, dst[:0]
		q.bytes = 0
	} else {
		dst = append(dst[:0], q.items[:max]...)
		rest = copy(q.items, q.items[max:])
		clear(q.items[rest:])
		q.items = q.items[:rest]
		for _, m := range dst {
			q.bytes -= len(m.subject) + len(m.reply) + len(m.hdr) + len(m.data)
		}
	}
	q.mu.Unlock()
	if rest > 0 {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return dst
}

// close refuses later pushes; what is queued stays for take.
func (q *msgQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pending reports how many messages and bytes are queued.
func (q *msgQueue) pending() (int, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items), q.bytes
}
