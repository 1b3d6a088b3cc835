package fern

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/fernmq/fern/jetstream"
	"github.com/fernmq/fern/subject"
)

// jsHost gives the JetStream engine its view of the server (package
// jetstream declares the interface): in-process subscriptions whose
// handlers run on the publishing connection's goroutine, and publishers
// that deliver like a local client. Subscriptions are local to this
// server (never announced to routes or leafs, and deaf to what arrives
// from them: JetStream serves this server's own clients), except the
// exported ones of a JetStream with a domain, which other servers reach
// under $JS.<domain>.API.
type jsHost struct {
	s *Server
	// sys owns the in-process subscriptions.
	sys *client

	mu   sync.Mutex
	next uint64 // sid counter
}

var (
	_ jetstream.Host          = (*jsHost)(nil)
	_ jetstream.ExportingHost = (*jsHost)(nil)
)

func newJSHost(s *Server) *jsHost {
	return &jsHost{s: s, sys: s.newInternalClient()}
}

// newInternalClient builds a client without a socket, for in-process
// subscriptions and publishers.
func (s *Server) newInternalClient() *client {
	c := &client{
		srv:      s,
		cid:      s.nextCID.Add(1),
		opts:     &s.opts,
		flushSet: make(map[*client]struct{}),
		subs:     make(map[string]*subscription),
		flushCh:  make(chan struct{}, 1),
		closeCh:  make(chan struct{}),
		log:      s.log,
	}
	c.kindv.Store(uint32(kindInternal))
	c.conn = connectInfo{Echo: true, Headers: true}
	c.headers, c.connected, c.authenticated = true, true, true
	return c
}

type jsSubscription struct {
	h   *jsHost
	sub *subscription
}

// Subscribe registers an in-process subscription, local to this server.
func (h *jsHost) Subscribe(subj, queue string, fn jetstream.MsgHandler) (jetstream.Subscription, error) {
	return h.subscribe(subj, queue, fn, false)
}

// SubscribeExported registers an in-process subscription that routes and
// leafs hear of and that takes their messages (a JetStream domain).
func (h *jsHost) SubscribeExported(subj, queue string, fn jetstream.MsgHandler) (jetstream.Subscription, error) {
	return h.subscribe(subj, queue, fn, true)
}

func (h *jsHost) subscribe(subj, queue string, fn jetstream.MsgHandler, exported bool) (jetstream.Subscription, error) {
	if !subject.Valid(subj) {
		return nil, fmt.Errorf("fern: invalid subject %q", subj)
	}
	h.mu.Lock()
	h.next++
	sid := strconv.FormatUint(h.next, 10)
	h.mu.Unlock()
	sub := &subscription{client: h.sys, subject: subj, queue: queue, sid: []byte(sid), handler: fn, exported: exported}
	if err := h.s.addSub(sub); err != nil {
		return nil, err
	}
	return &jsSubscription{h: h, sub: sub}, nil
}

// Unsubscribe removes the subscription.
func (js *jsSubscription) Unsubscribe() { js.h.s.removeSub(js.sub) }

// NewPublisher returns a publisher for one goroutine.
func (h *jsHost) NewPublisher() jetstream.Publisher {
	return &jsPublisher{c: h.s.newInternalClient()}
}

// HasInterest reports whether anything would receive a message on subj.
func (h *jsHost) HasInterest(subj string) bool { return h.s.HasInterest(subj) }

// jsPublisher publishes through the normal delivery path. Its buffers are
// reused, so publishing allocates nothing once they have grown.
type jsPublisher struct {
	c                      *client
	subj, wire, reply, msg []byte
	held                   bool // between Hold and Flush: wake writers at Flush
}

var _ jetstream.BatchPublisher = (*jsPublisher)(nil)

// Hold defers waking the receivers' writers until Flush.
func (p *jsPublisher) Hold() { p.held = true }

// Flush wakes the writers of every connection reached since Hold.
func (p *jsPublisher) Flush() {
	p.held = false
	p.c.flushQueued()
}

// PublishTo delivers a message routed by deliverSubject (a pull request's
// inbox, a push consumer's deliver subject) that local clients see with
// msgSubject, the stored message's subject, on the MSG line.
func (p *jsPublisher) PublishTo(deliverSubject, msgSubject, reply string, hdr, data []byte) {
	p.wire = append(p.wire[:0], msgSubject...)
	p.c.wireSubj = p.wire
	p.Publish(deliverSubject, reply, hdr, data)
	p.c.wireSubj = nil
}

// Publish delivers a message as a local client would, then wakes the
// writers of the connections it reached.
func (p *jsPublisher) Publish(subj, reply string, hdr, data []byte) {
	p.subj = append(p.subj[:0], subj...)
	p.reply = append(p.reply[:0], reply...)
	p.msg = append(append(p.msg[:0], hdr...), data...)
	p.c.processMsg(p.subj, p.reply, len(hdr), p.msg)
	if !p.held {
		p.c.flushQueued()
	}
}
