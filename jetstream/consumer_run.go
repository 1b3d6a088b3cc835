package jetstream

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fernmq/fern/store"
)

// This file is a running consumer: its goroutine, what wakes it and what
// it does on each wake. Every consumer has one goroutine that owns its
// delivery state (under consumer.mu so that INFO can read it). Host
// handlers (pull requests, acks, flow-control answers) only copy the
// message onto the consumer's queue; the stream's callbacks only note the
// new last sequence (and removals) under notifyMu; both then wake the
// goroutine. On a wake it applies what came in, expires ack deadlines,
// delivers what it can (consumer_deliver.go) and sleeps until the next
// deadline: an ack wait, a pull request's expiry or heartbeat, a push
// heartbeat, the inactive threshold or a state flush.

// consumer is one consumer of one stream.
type consumer struct {
	m       *consumerManager
	s       *Stream
	st      store.Store
	stream  string
	name    string
	created time.Time
	dir     string // persistence directory, "" when not persisted

	filters atomic.Pointer[[]string]

	in       *msgQueue // pull requests, acks, flow-control answers
	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	why      atomic.Int32 // exit reason, set before quit closes
	subs     []Subscription

	notifyMu     sync.Mutex
	lastNotified uint64   // last stored sequence the consumer may deliver
	counted      uint64   // num_pending already counts matching seqs up to here
	matched      uint64   // matching stores since the last take
	removed      []uint64 // removed sequences since the last take
	removedAll   bool     // too many removals: resynchronize

	mu     sync.Mutex // guards everything below
	cfg    *ConsumerConfig
	state  *consumerState
	pq     *pullQueue // pull consumers
	lps    []uint64   // last_per_subject sequences still to deliver
	limit  uint64     // lastNotified as last taken
	recnt  bool       // num_pending needs a recount
	active time.Time  // last request or delivery (inactive threshold)
	dirty  bool       // state changed since the last flush
	flushT time.Time  // last flush
	push   pushState

	pub   Publisher
	dpub  DeliverPublisher
	msg   store.Msg
	buf   []byte // header scratch
	ack   []byte // ack reply scratch
	ackPx string // "$JS.ACK.<stream>.<consumer>.", built once
	out   []pullReply
	hbs   []string
	acked []uint64
	batch []inMsg

	ackReplies []string // ack replies waiting for the state to be on disk
}

// Exit reasons.
const (
	exitNone int32 = iota
	exitDeleted
	exitShutdown
)

// How often a durable consumer's state is written at most, and how often
// a push consumer without interest looks again.
const (
	consumerFlushEvery   = 100 * time.Millisecond
	consumerInterestPoll = 100 * time.Millisecond
)

// newConsumer builds a consumer around an initialized state; start runs it.
func (m *consumerManager) newConsumer(s *Stream, cfg *ConsumerConfig, state *consumerState, created time.Time) *consumer {
	c := &consumer{
		m:       m,
		s:       s,
		st:      s.Store(),
		stream:  s.Name(),
		name:    cfg.Name,
		created: created,
		in:      newMsgQueue(),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		cfg:     cfg,
		state:   state,
		pub:     m.e.host.NewPublisher(),
	}
	c.dpub, _ = c.pub.(DeliverPublisher)
	c.ackPx = ackReplyPrefix(c.stream, c.name)
	fs := cfg.Filters()
	if len(fs) == 1 && fs[0] == ">" {
		fs = nil
	}
	fs = cloneSlice(fs)
	c.filters.Store(&fs)
	if !cfg.IsPush() {
		c.pq = newPullQueue(pullLimitsOf(cfg))
	}
	c.push.window = m.fcWindow
	c.active = time.Now()
	return c
}

func pullLimitsOf(cfg *ConsumerConfig) pullLimits {
	return pullLimits{MaxWaiting: cfg.MaxWaiting, MaxBatch: cfg.MaxRequestBatch,
		MaxExpires: cfg.MaxRequestExpires, MaxMaxBytes: cfg.MaxRequestMaxBytes}
}

// prime sets the deliverable limit to the stream's last sequence and
// counts num_pending. Call it once the consumer is in its stream's list
// (so no stored message is missed), before start.
func (c *consumer) prime() {
	last := c.st.State().LastSeq
	c.notifyMu.Lock()
	c.lastNotified = max(c.lastNotified, last)
	c.limit = c.lastNotified
	c.notifyMu.Unlock()
	c.recount()
}

// subscribe takes the consumer's subjects: MSG.NEXT (also for push
// consumers, which answer 409), the ack subjects when acks are tracked,
// (not for flow-control acks, which come with the flow-control answers,
// as officially) and the flow-control answers of push consumers.
func (c *consumer) subscribe() error {
	// Only the first (plain API) subject stays this server's; the rest
	// are exported when the engine has a domain.
	subjects := []string{apiPrefix + msgNextPrefix + c.stream + "." + c.name}
	if d := c.m.e.cfg.Domain; d != "" {
		subjects = append(subjects, "$JS."+d+".API."+msgNextPrefix+c.stream+"."+c.name)
	}
	if c.cfg.AckPolicy != AckNone && c.cfg.AckPolicy != AckFlowControl {
		subjects = append(subjects, ackReplyPrefix(c.stream, c.name)+">")
		subjects = append(subjects, ackSubjectPrefix+"*.*."+c.stream+"."+c.name+".>")
	}
	if c.cfg.IsPush() && c.cfg.FlowControl {
		subjects = append(subjects, "$JS.FC."+c.stream+"."+c.name+".*")
	}
	for i, subj := range subjects {
		sub, err := c.m.e.subscribe(subj, "", c.onMsg, i > 0)
		if err != nil {
			c.unsubscribe()
			return err
		}
		c.subs = append(c.subs, sub)
	}
	return nil
}

func (c *consumer) unsubscribe() {
	for _, s := range c.subs {
		s.Unsubscribe()
	}
	c.subs = nil
}

// onMsg is the Host handler of every consumer subscription.
func (c *consumer) onMsg(subject, reply string, hdr, data []byte) {
	c.in.push(copyMsg(subject, reply, hdr, data))
}

// wake makes the goroutine run soon.
func (c *consumer) wake() {
	select {
	case c.in.ready <- struct{}{}:
	default:
	}
}

// notifyStored is called by the stream for every stored message, in
// order.
func (c *consumer) notifyStored(seq uint64, matching bool) {
	c.notifyMu.Lock()
	if seq > c.lastNotified {
		c.lastNotified = seq
	}
	if matching && seq > c.counted {
		c.matched++
	}
	c.notifyMu.Unlock()
	c.wake()
}

// notifyRemoved is called by the store for every removed message.
func (c *consumer) notifyRemoved(seq uint64) {
	c.notifyMu.Lock()
	if len(c.removed) < 4096 {
		c.removed = append(c.removed, seq)
	} else {
		c.removedAll = true
	}
	c.notifyMu.Unlock()
	c.wake()
}

// takeNotes applies the stream's events (c.mu held).
func (c *consumer) takeNotes() {
	c.notifyMu.Lock()
	c.limit = c.lastNotified
	c.state.numPend += c.matched
	c.matched = 0
	removed, all := c.removed, c.removedAll
	c.removed, c.removedAll = nil, false
	c.notifyMu.Unlock()
	for _, seq := range removed {
		c.state.forget(seq)
		if seq >= c.state.next {
			c.recnt = true
		}
		c.dirty = true
	}
	if all {
		if first := c.st.State().FirstSeq; first > 0 {
			c.state.forgetBelow(first)
		}
		c.recnt = true
		c.dirty = true
	}
	if c.recnt {
		c.recount()
	}
}

// recount recomputes num_pending (c.mu held, or before start).
func (c *consumer) recount() {
	c.recnt = false
	c.notifyMu.Lock()
	upTo := c.lastNotified
	c.counted = upTo
	c.matched = 0
	c.notifyMu.Unlock()
	c.limit = max(c.limit, upTo)
	if first := c.st.State().FirstSeq; first > c.state.next {
		c.state.forgetBelow(first)
	}
	c.state.numPend = countMatching(c.st, *c.filters.Load(), c.state.next, upTo)
}

// start runs the consumer's goroutine.
func (c *consumer) start() {
	c.wake()
	go c.run()
}

// stop ends the goroutine for why and waits for it (never call it from
// the consumer's own goroutine).
func (c *consumer) stop(why int32) {
	c.stopOnce.Do(func() {
		c.why.Store(why)
		close(c.quit)
	})
	<-c.done
}

func (c *consumer) run() {
	defer close(c.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-c.quit:
			c.exit(c.why.Load())
			return
		case <-c.in.ready:
		case <-timer.C:
		}
		wake, expired := c.work()
		if expired {
			if c.m.detach(c) {
				c.exit(exitDeleted)
				c.removeFiles()
				c.m.e.log.Debug("JetStream consumer expired", "stream", c.stream, "consumer", c.name)
			} else {
				c.exit(exitDeleted)
			}
			return
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(time.Until(wake), time.Millisecond))
	}
}

// exit is the goroutine's last act.
func (c *consumer) exit(why int32) {
	c.unsubscribe()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch why {
	case exitDeleted:
		if c.pq != nil {
			c.out = c.pq.drain(consumerDeletedStatus(), c.out[:0])
			c.sendStatuses()
		}
	case exitShutdown:
		c.flushLocked(true)
	}
}

// work handles one wake; it returns when to wake next, and true when the
// consumer passed its inactive threshold and must go.
func (c *consumer) work() (time.Time, bool) {
	var removals []uint64
	c.batch = c.in.take(c.batch, 256)
	now := time.Now()
	// One writer wakeup per receiving connection for the whole pass.
	defer holdPublisher(c.pub)()
	c.mu.Lock()
	c.takeNotes()
	for i := range c.batch {
		removals = c.handleInbound(&c.batch[i], now, removals)
	}
	if len(c.ackReplies) > 0 {
		c.sendDurableAckReplies(now)
	}
	clear(c.batch)
	c.batch = c.batch[:0]
	if c.state.expire(now) > 0 {
		c.dirty = true
	}
	removals = c.deliver(now, removals)
	wake, expired := c.housekeep(now)
	c.mu.Unlock()
	if len(removals) > 0 {
		c.retire(removals)
	}
	return wake, expired
}

// handleInbound applies one queued message (c.mu held). It returns the
// stream sequences that acks released (for retention).
func (c *consumer) handleInbound(m *inMsg, now time.Time, released []uint64) []uint64 {
	switch {
	case strings.HasPrefix(m.subject, ackSubjectPrefix):
		return c.handleAck(m, now, released)
	case strings.HasPrefix(m.subject, "$JS.FC."):
		return c.flowControlAnswer(m.subject, m.hdr, now, released)
	default:
		c.handlePull(m.reply, m.data, now)
	}
	return released
}

// handleAck applies an ack body to the delivery its subject names.
func (c *consumer) handleAck(m *inMsg, now time.Time, released []uint64) []uint64 {
	info, ok := parseAckReply(m.subject)
	if !ok {
		return released
	}
	body := parseAckBody(m.data)
	st := c.state
	switch body.Kind {
	case ackAck, ackTerm, ackNext:
		start := len(released)
		released = st.ack(info.StreamSeq, info.ConsumerSeq, now, released)
		if len(released) > start {
			c.dirty = true
		}
	case ackNak:
		if st.nak(info.StreamSeq, info.ConsumerSeq, body.Delay, body.HasDelay, now) {
			c.dirty = true
		}
	case ackProgress:
		if st.progress(info.StreamSeq, now) {
			c.dirty = true
		}
	}
	if ackWantsReply(m.reply, body.Kind, true) {
		c.replyAck(m.reply)
	}
	if body.Kind == ackNext && m.reply != "" {
		c.handlePull(m.reply, body.Next, now)
	}
	return released
}

// handlePull queues a MSG.NEXT request (or answers it at once).
func (c *consumer) handlePull(reply string, body []byte, now time.Time) {
	if reply == "" {
		return
	}
	if c.pq == nil {
		c.sendStatus(reply, pushBasedStatus())
		return
	}
	req, err := parsePullRequest(body)
	if err != nil {
		c.sendStatus(reply, badRequestStatus(err.Error()))
		return
	}
	c.active = now
	if c.pq.len() >= c.pq.lim.MaxWaiting {
		c.out, c.hbs, _ = c.pq.sweep(now, false, nil, c.out[:0], c.hbs[:0])
		c.sendStatuses()
	}
	if st, send := c.pq.add(reply, req, now, c.available()); send {
		c.sendStatus(reply, st)
	}
}

// available is what could be delivered now: undelivered messages and
// queued redeliveries.
func (c *consumer) available() uint64 {
	n := c.numPending()
	if c.state.hasRedeliveries() {
		n += uint64(len(c.state.rdq) - c.state.rdqHead)
	}
	return n
}

// numPending is num_pending: undelivered matching messages, including the
// last-per-subject messages not yet delivered.
func (c *consumer) numPending() uint64 {
	return c.state.numPending() + uint64(len(c.lps))
}

// housekeep runs the timers: pull expiries, no_wait ends and heartbeats,
// push heartbeats, the inactive threshold and state flushes. It returns
// the next wake time.
func (c *consumer) housekeep(now time.Time) (time.Time, bool) {
	wake := now.Add(time.Hour)
	if t, ok := c.state.nextDeadline(); ok {
		wake = earliest(wake, t)
	}
	thr := c.cfg.InactiveThreshold
	if c.pq != nil {
		noMore := c.available() == 0 || (!c.state.canDeliverNew() && !c.state.hasRedeliveries())
		var w time.Time
		c.out, c.hbs, w = c.pq.sweep(now, noMore, c.interest, c.out[:0], c.hbs[:0])
		c.sendStatuses()
		for _, r := range c.hbs {
			c.buf = appendIdleHeartbeat(c.buf[:0], c.state.delivered.Consumer, c.state.delivered.Stream, "")
			c.pub.Publish(r, "", c.buf, nil)
		}
		if !w.IsZero() {
			wake = earliest(wake, w)
		}
		if thr > 0 && c.pq.len() == 0 {
			last := c.active
			if t := c.pq.lastActive(); t.After(last) {
				last = t
			}
			if !now.Before(last.Add(thr)) {
				return wake, true
			}
			wake = earliest(wake, last.Add(thr))
		}
	} else {
		w, expired := c.pushTimers(now, thr)
		if expired {
			return wake, true
		}
		wake = earliest(wake, w)
	}
	if c.dirty && c.dir != "" {
		if now.Sub(c.flushT) >= consumerFlushEvery {
			c.flushLocked(false)
			c.flushT = now
		} else {
			wake = earliest(wake, c.flushT.Add(consumerFlushEvery))
		}
	}
	return wake, false
}

// interest reports whether a reply subject still has a subscriber.
func (c *consumer) interest(subj string) bool { return c.m.e.host.HasInterest(subj) }

func (c *consumer) sendStatus(reply string, st pullStatus) {
	c.buf = st.appendTo(c.buf[:0])
	c.pub.Publish(reply, "", c.buf, nil)
}

// sendStatuses publishes c.out.
func (c *consumer) sendStatuses() {
	for _, r := range c.out {
		c.sendStatus(r.Reply, r.Status)
	}
	clear(c.out)
	c.out = c.out[:0]
}

// retire applies the stream's retention to sequences that left pending
// (c.mu not held): workqueue removes them; interest removes them once no
// other consumer still wants them.
func (c *consumer) retire(seqs []uint64) {
	switch c.s.Config().Retention {
	case WorkQueuePolicy:
		for _, seq := range seqs {
			c.st.Remove(seq)
		}
	case InterestPolicy:
		others := c.m.others(c)
		var m store.Msg
		for _, seq := range seqs {
			got, err := c.st.Load(seq, &m)
			if err != nil {
				continue
			}
			done := true
			for _, o := range others {
				if !o.doneWith(seq, got.Subject) {
					done = false
					break
				}
			}
			if done {
				c.st.Remove(seq)
			}
		}
	}
}

// doneWith reports whether this consumer no longer needs seq: its filter
// does not match, or it was delivered and is no longer pending.
func (c *consumer) doneWith(seq uint64, subj string) bool {
	if !c.matches(subj) {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if seq >= c.state.next || c.state.pending[seq] != nil {
		return false
	}
	for _, q := range c.lps {
		if q == seq {
			return false
		}
	}
	return true
}

// info reports the consumer (any goroutine).
func (c *consumer) info() *ConsumerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.infoLocked()
}

// infoLocked reports the consumer (c.mu held).
func (c *consumer) infoLocked() *ConsumerInfo {
	st := c.state
	dp := st.deliveredPair()
	af := st.ackFloor()
	if st.ackPolicy == AckNone {
		af = dp
	}
	ci := &ConsumerInfo{
		Stream:         c.stream,
		Name:           c.name,
		Created:        c.created.UTC(),
		Config:         c.cfg.Clone(),
		Delivered:      SequenceInfo{Consumer: dp.Consumer, Stream: dp.Stream},
		AckFloor:       SequenceInfo{Consumer: af.Consumer, Stream: af.Stream},
		NumAckPending:  st.numAckPending(),
		NumRedelivered: st.numRedelivered(),
		NumPending:     c.numPending(),
		TimeStamp:      time.Now().UTC(),
	}
	if !st.lastDelivered.IsZero() {
		t := st.lastDelivered.UTC()
		ci.Delivered.Last = &t
	}
	if !st.lastAcked.IsZero() {
		t := st.lastAcked.UTC()
		ci.AckFloor.Last = &t
	}
	if c.pq != nil {
		ci.NumWaiting = c.pq.len()
	} else {
		ci.PushBound = c.m.e.host.HasInterest(c.cfg.DeliverSubject)
	}
	return ci
}
