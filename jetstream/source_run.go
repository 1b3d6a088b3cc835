package jetstream

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file is one source's (or the mirror's) goroutine: it creates the
// upstream consumer, receives its deliveries, heartbeats and flow-control
// requests, and recreates the consumer whenever continuity is lost.
//
// The deliver subject and the create request's reply inbox feed one
// queue, so the goroutine sees them in the order the upstream sent them.
// Each attempt subscribes a fresh deliver subject under a new generation:
// what an earlier attempt's subscriptions still push is dropped, and a
// delivery that arrives before the create reply (the upstream may start
// delivering before it answers) is kept and handled after it. Its
// consumer sequence, not the reply's delivered count (which may already
// include it), sets where continuity starts.

// sourceRun fetches one upstream stream into a local stream.
type sourceRun struct {
	s      *Stream
	src    StreamSource
	mirror bool
	iname  string
	api    string // "$JS.API" or external.api
	name   string // stable consumer name: JS_SRC_<hash> or JS_MIRROR_<hash>

	// epoch changes when queued messages must no longer be stored: the
	// ingest goroutine bumps it when storing one fails, the run when it
	// resets its position. stored is the last upstream sequence stored
	// or skipped as already held; only the ingest goroutine writes it.
	epoch  atomic.Uint64
	stored atomic.Uint64

	// Counts of what the upstream sent (tests, and a reader of logs).
	flowRequests, heartbeats atomic.Uint64

	in    *msgQueue     // deliveries, status messages and API replies
	kickc chan struct{} // RetrySources
	failc chan struct{} // a store failure (failSeq) to restart at

	mu         sync.Mutex // guards the fields below it
	ident      string     // upstream stream identity
	lastActive time.Time
	lag        uint64
	err        *APIError
	failSeq    uint64
	subs       []Subscription

	// The goroutine's own state.
	pub      Publisher
	myEpoch  uint64
	consumer string // the upstream consumer's name, from the create reply
	reply    string // the create request's inbox
	gen      uint64 // the attempt's subscription generation
	directOn bool   // the mirror answers its origin's direct gets
	dseq     uint64 // last consumer sequence received
	sseq     uint64 // last upstream sequence handed to ingest
	lastReq  time.Time
}

func newSourceRun(s *Stream, src *StreamSource, mirror bool, pos map[string]sourcePosition) *sourceRun {
	r := &sourceRun{
		s:      s,
		src:    *src,
		mirror: mirror,
		iname:  sourceIName(src),
		api:    "$JS.API",
		in:     newMsgQueue(),
		kickc:  make(chan struct{}, 1),
		failc:  make(chan struct{}, 1),
	}
	if x := src.External; x != nil && x.APIPrefix != "" {
		r.api = strings.TrimSuffix(x.APIPrefix, ".")
	}
	p := pos[r.iname]
	r.stored.Store(p.Seq)
	r.sseq, r.ident = p.Seq, p.Identity
	hashIn := src.Name + " " + globalAccount
	if d := s.e.cfg.Domain; d != "" {
		hashIn += " " + d
	}
	if mirror {
		r.name = "JS_MIRROR_" + shortHash(hashIn)
	} else {
		n := 0
		for _, o := range s.cfg.Load().Sources {
			if o != nil && o.Name == src.Name {
				n++
			}
		}
		if n > 1 {
			hashIn += " " + r.iname
		}
		r.name = "JS_SRC_" + shortHash(hashIn)
	}
	return r
}

// allQueued takes everything from a msgQueue.
const allQueued = 1 << 30

// globalAccount is the account every stream of this engine belongs to.
const globalAccount = "$G"

// kick asks the run to retry now.
func (r *sourceRun) kick() {
	select {
	case r.kickc <- struct{}{}:
	default:
	}
}

// storeFailed is called by the ingest goroutine when storing sseq failed:
// what is queued after it is dropped and the run restarts at sseq.
func (r *sourceRun) storeFailed(sseq uint64, err error) {
	r.epoch.Add(1)
	r.mu.Lock()
	r.failSeq = sseq
	r.err = errSourceStore(r.mirror, err)
	r.mu.Unlock()
	select {
	case r.failc <- struct{}{}:
	default:
	}
	r.s.e.log.Warn("JetStream source: storing failed, restarting at that message", "stream", r.s.name, "source", r.src.Name, "seq", sseq, "err", err)
}

func (r *sourceRun) identity() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ident
}

func (r *sourceRun) setErr(e *APIError) {
	r.mu.Lock()
	r.err = e
	r.mu.Unlock()
}

func (r *sourceRun) touch() {
	r.mu.Lock()
	r.lastActive = time.Now()
	r.mu.Unlock()
}

// loop runs until ctx ends: attempt, and after a failed attempt wait for
// the backoff or a kick.
func (r *sourceRun) loop(ctx context.Context) {
	r.pub = r.s.e.host.NewPublisher()
	r.myEpoch = r.epoch.Load()
	failures := 0
	var kicked time.Time
	for ctx.Err() == nil {
		if r.attempt(ctx) {
			failures = 0
		} else {
			failures++
		}
		wait := time.Duration(0)
		if failures > 0 {
			wait = min(sourceRetryMin<<min(failures-1, 5), sourceRetryMax)
		}
		if failures > 0 && time.Since(kicked) < 2*time.Second {
			// A link just came up: the upstream's interest and its
			// consumer API follow within moments.
			wait = 100 * time.Millisecond
		}
		// Never ask more than ten times a second.
		if gap := 100*time.Millisecond - time.Since(r.lastReq); gap > wait {
			wait = gap
		}
		if wait <= 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-r.kickc:
			kicked, failures = time.Now(), 0
		}
		t.Stop()
	}
}

// unsubscribe drops the run's deliver and reply subscriptions.
func (r *sourceRun) unsubscribe() {
	r.mu.Lock()
	subs := r.subs
	r.subs = nil
	r.mu.Unlock()
	for _, sub := range subs {
		sub.Unsubscribe()
	}
}

// subscribeQueue subscribes subj, visible beyond this server when the
// host can, feeding the run's queue.
func (r *sourceRun) subscribeQueue(subj string) error {
	gen := r.gen
	h := func(subject, reply string, hdr, data []byte) {
		m := copyMsg(subject, reply, hdr, data)
		m.gen = gen
		r.in.push(m)
	}
	var sub Subscription
	var err error
	if x, ok := r.s.e.host.(ExportingHost); ok {
		sub, err = x.SubscribeExported(subj, "", h)
	} else {
		sub, err = r.s.e.host.Subscribe(subj, "", h)
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.subs = append(r.subs, sub)
	r.mu.Unlock()
	return nil
}

// attempt sets up a consumer and receives from it. It reports whether
// the upstream answered with a consumer (or with an identity mismatch,
// retried at once).
func (r *sourceRun) attempt(ctx context.Context) bool {
	r.unsubscribe()
	r.gen++
	r.in.take(nil, allQueued) // what an earlier consumer sent
	subj, body, deliver := r.request()
	if !r.s.e.host.HasInterest(subj) {
		r.setErr(errSourceNoUpstream(r.mirror, r.api))
		return false
	}
	r.reply = "$JSC.R." + randToken(8)
	if err := r.subscribeQueue(r.reply); err != nil {
		r.setErr(errStreamGeneral(err))
		return false
	}
	if err := r.subscribeQueue(deliver); err != nil {
		r.setErr(errStreamGeneral(err))
		return false
	}
	hdr := []byte(hdrLine + crlf)
	level := "5"
	if r.mirror && r.src.Consumer == nil {
		level = "4"
	}
	hdr = appendHeader(hdr, hdrRequiredAPILevel, level)
	if !r.mirror || r.src.Consumer != nil {
		hdr = appendHeader(hdr, hdrStreamIdentity, r.identity())
	}
	hdr = append(hdr, crlf...)
	r.lastReq = time.Now()
	r.pub.Publish(subj, r.reply, hdr, body)

	wait := sourceCreateWait
	if r.src.Consumer != nil {
		wait = sourceResetWait
	}
	resp, rhdr, pending, ok := r.awaitReply(ctx, wait)
	if !ok {
		if ctx.Err() == nil {
			r.setErr(errSourceTimeout(r.mirror, r.src.Name))
		}
		return false
	}
	if resp.Error != nil {
		if resp.Error.ErrCode == 10225 {
			r.s.e.log.Warn("JetStream source: upstream stream was recreated, sourcing it again from its start", "stream", r.s.name, "source", r.src.Name)
			r.resetPosition()
			return true
		}
		r.setErr(errSourceConsumer(r.mirror, resp.Error))
		return false
	}
	if r.src.Consumer != nil && (resp.Config == nil || resp.Config.AckPolicy != "flow_control") {
		if r.mirror {
			r.setErr(apiErr(400, 10214, "stream mirror consumer requires flow control ack policy"))
		} else {
			r.setErr(apiErr(400, 10217, "stream source consumer requires flow control ack policy"))
		}
		return false
	}
	if id := headerString(rhdr, hdrStreamIdentity); id != "" {
		r.mu.Lock()
		changed := r.ident != "" && r.ident != id
		r.ident = id
		r.mu.Unlock()
		if changed && r.sseq > 0 {
			r.s.e.log.Warn("JetStream source: upstream stream identity changed, sourcing it again from its start", "stream", r.s.name, "source", r.src.Name)
			r.resetPosition()
			return true
		}
	}
	r.consumer = resp.Name
	r.dseq = resp.Delivered.Consumer
	for _, m := range pending {
		if info, ok := parseAckReply(m.reply); ok && info.Consumer == r.consumer {
			// The first delivery we hold: the count in the reply may
			// already include it and those after it.
			r.dseq = min(r.dseq, info.ConsumerSeq-1)
			break
		}
	}
	r.mu.Lock()
	r.err = nil
	r.lag = resp.NumPending
	r.lastActive = time.Now()
	r.mu.Unlock()
	if resp.NumPending == 0 {
		r.mirrorCaughtUp(0) // nothing to fetch: already caught up
	}
	r.s.e.log.Debug("JetStream source consumer created", "stream", r.s.name, "source", r.src.Name, "consumer", r.consumer, "from", r.sseq+1)
	r.receive(ctx, pending)
	return true
}

// resetPosition starts the source again from nothing (the upstream was
// recreated): queued messages are dropped and the stored position is 0.
func (r *sourceRun) resetPosition() {
	r.myEpoch = r.epoch.Add(1)
	done := make(chan struct{})
	r.s.in.push(inMsg{src: &sourcedMsg{barrier: func(Publisher) {
		r.stored.Store(0)
		close(done)
	}}})
	select {
	case <-done:
	case <-r.s.done:
	}
	r.sseq = 0
	r.mu.Lock()
	r.ident = ""
	r.mu.Unlock()
}

// consumerReplyMsg is the part of a consumer create or reset reply the
// run reads.
type consumerReplyMsg struct {
	Error     *APIError `json:"error"`
	Name      string    `json:"name"`
	Delivered struct {
		Consumer uint64 `json:"consumer_seq"`
		Stream   uint64 `json:"stream_seq"`
	} `json:"delivered"`
	NumPending uint64 `json:"num_pending"`
	Config     *struct {
		AckPolicy string `json:"ack_policy"`
	} `json:"config"`
}

// awaitReply reads the run's queue until the create reply arrives. What
// this attempt's deliver subscription received before it, and what
// follows it in the same batch, is returned for receive; a RESET's fixed
// deliver subject may still carry deliveries from before the reset, so
// for it only what follows the reply is kept.
func (r *sourceRun) awaitReply(ctx context.Context, wait time.Duration) (consumerReplyMsg, []byte, []inMsg, bool) {
	var resp consumerReplyMsg
	t := time.NewTimer(wait)
	defer t.Stop()
	var batch, early []inMsg
	kicked := false
	keepEarly := r.src.Consumer == nil
	for {
		select {
		case <-ctx.Done():
			return resp, nil, nil, false
		case <-t.C:
			return resp, nil, nil, false
		case <-r.kickc:
			// A link came up: the request may have gone out before it,
			// unless its reply is already here.
			kicked = true
		case <-r.in.ready:
		}
		batch = r.in.take(batch[:0], allQueued)
		for i, m := range batch {
			if m.gen != r.gen {
				continue
			}
			if m.subject != r.reply {
				if keepEarly {
					early = append(early, m)
				}
				continue
			}
			if err := json.Unmarshal(m.data, &resp); err != nil {
				resp.Error = errInvalidJSON(err)
			}
			return resp, m.hdr, append(early, batch[i+1:]...), true
		}
		if kicked {
			return resp, nil, nil, false
		}
	}
}

// receive handles deliveries until continuity is lost, the upstream goes
// quiet, a store fails or ctx ends.
func (r *sourceRun) receive(ctx context.Context, first []inMsg) {
	for _, m := range first {
		if !r.handle(m) {
			return
		}
	}
	stale := time.NewTicker(sourceHeartbeat)
	defer stale.Stop()
	var batch []inMsg
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.failc:
			r.mu.Lock()
			r.sseq = r.failSeq - 1
			r.mu.Unlock()
			r.myEpoch = r.epoch.Load()
			return
		case <-r.kickc:
			// A link came up: if nothing arrived lately, the consumer we
			// had is likely gone with the old link.
			if r.quietFor() > sourceHeartbeat+sourceHeartbeat/2 {
				return
			}
		case <-stale.C:
			if r.quietFor() > sourceStaleAfter {
				r.s.e.log.Debug("JetStream source: upstream quiet, recreating its consumer", "stream", r.s.name, "source", r.src.Name)
				return
			}
		case <-r.in.ready:
			batch = r.in.take(batch[:0], allQueued)
			for _, m := range batch {
				if !r.handle(m) {
					return
				}
			}
		}
	}
}

func (r *sourceRun) quietFor() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Since(r.lastActive)
}

// handle takes one message from the queue. It reports false when the
// consumer must be recreated.
func (r *sourceRun) handle(m inMsg) bool {
	if m.gen != r.gen || m.subject == r.reply {
		return true // an earlier attempt's, or a late or repeated reply
	}
	r.touch()
	info, ok := parseAckReply(m.reply)
	if !ok {
		return r.handleStatus(m)
	}
	if info.Consumer != r.consumer || info.Delivered > 1 {
		return true
	}
	if info.ConsumerSeq != r.dseq+1 {
		r.s.e.log.Debug("JetStream source: delivery gap, recreating its consumer", "stream", r.s.name, "source", r.src.Name, "want", r.dseq+1, "got", info.ConsumerSeq)
		return false
	}
	r.dseq = info.ConsumerSeq
	r.mu.Lock()
	r.lag = info.Pending
	r.mu.Unlock()
	r.mirrorCaughtUp(info.Pending)
	if info.StreamSeq <= r.sseq {
		return true
	}
	r.push(m, info.StreamSeq, info.Timestamp)
	r.sseq = info.StreamSeq
	return true
}

// push hands one delivery to the stream's ingest queue.
func (r *sourceRun) push(m inMsg, sseq uint64, ts int64) {
	subj := m.subject
	var hdr []byte
	if r.mirror {
		hdr = sourcedHeader(m.hdr, "")
	} else {
		hdr = sourcedHeader(m.hdr, streamSourceValue(r.iname, sseq, subj, r.identity()))
	}
	subj = r.transform(subj)
	out := inMsg{subject: subj, hdr: hdr, data: m.data}
	out.src = &sourcedMsg{run: r, epoch: r.myEpoch, sseq: sseq, ts: ts}
	r.s.in.push(out)
}

// handleStatus handles heartbeats and flow-control requests.
func (r *sourceRun) handleStatus(m inMsg) bool {
	if len(m.data) > 0 || !strings.HasPrefix(string(m.hdr), hdrLine+" 100") {
		return true
	}
	if strings.HasPrefix(m.reply, "$JS.FC.") {
		r.flowRequests.Add(1)
		r.answerFlowControl(m.reply)
		return true
	}
	r.heartbeats.Add(1)
	if lc, present, ok := headerUint(m.hdr, hdrLastConsumer); present && ok && lc != r.dseq {
		r.s.e.log.Debug("JetStream source: heartbeat shows missed deliveries, recreating its consumer", "stream", r.s.name, "source", r.src.Name, "have", r.dseq, "upstream", lc)
		return false
	}
	if fc := headerString(m.hdr, hdrConsumerStalled); fc != "" {
		r.answerFlowControl(fc)
	}
	return true
}

// answerFlowControl answers a flow-control request once everything
// received before it is durably stored: the answer acknowledges it.
func (r *sourceRun) answerFlowControl(reply string) {
	dseq, sseq, epoch := r.dseq, r.sseq, r.myEpoch
	hdr := []byte(hdrLine + crlf)
	hdr = appendHeader(hdr, hdrLastConsumer, strconv.FormatUint(dseq, 10))
	hdr = appendHeader(hdr, hdrLastStream, strconv.FormatUint(sseq, 10))
	hdr = append(hdr, crlf...)
	r.s.in.push(inMsg{src: &sourcedMsg{barrier: func(pub Publisher) {
		if r.epoch.Load() != epoch {
			return // something before it failed to store
		}
		pub.Publish(reply, "", hdr, nil)
	}}})
}

// request returns the create (or reset) request's subject and body, and
// the deliver subject.
func (r *sourceRun) request() (subj string, body []byte, deliver string) {
	if c := r.src.Consumer; c != nil {
		return r.api + ".CONSUMER.RESET." + r.src.Name + "." + c.Name, nil, c.DeliverSubject
	}
	kind, prefix := "S", "$JS"
	if r.mirror {
		kind = "M"
	}
	if x := r.src.External; x != nil && x.DeliverPrefix != "" {
		prefix = x.DeliverPrefix
	}
	deliver = prefix + "." + kind + "." + randToken(8)
	cfg := ConsumerConfig{
		Name:              r.name,
		DeliverSubject:    deliver,
		AckPolicy:         AckNone,
		AckWait:           sourceAckWaitNone,
		MaxDeliver:        1,
		FlowControl:       true,
		Heartbeat:         sourceHeartbeat,
		InactiveThreshold: sourceInactive,
		Direct:            true,
		Sourcing:          true,
		Metadata:          map[string]string{},
	}
	metaKey := "_nats.src."
	if r.mirror {
		metaKey = "_nats.mirror."
	}
	cfg.Metadata[metaKey+"stream"] = r.s.name
	cfg.Metadata[metaKey+"acc"] = globalAccount
	if d := r.s.e.cfg.Domain; d != "" {
		cfg.Metadata[metaKey+"domain"] = d
	}
	filters := r.filters()
	switch len(filters) {
	case 0:
	case 1:
		cfg.FilterSubject = filters[0]
	default:
		cfg.FilterSubjects = filters
	}
	r.startAt(&cfg)
	body, _ = json.Marshal(&CreateConsumerRequest{Stream: r.src.Name, Config: cfg})
	subj = r.api + ".CONSUMER.CREATE." + r.src.Name
	if len(filters) == 1 {
		subj += "." + r.name + "." + filters[0]
	}
	return subj, body, deliver
}

// filters are the upstream subjects the consumer takes ("" for all).
func (r *sourceRun) filters() []string {
	if r.src.FilterSubject != "" {
		return []string{r.src.FilterSubject}
	}
	var out []string
	for _, t := range r.src.SubjectTransforms {
		if t.Source != "" && t.Source != ">" {
			out = append(out, t.Source)
		} else if t.Source == ">" {
			return nil
		}
	}
	return out
}

// startAt sets the consumer's start: after what was taken, else the
// configured start, else everything (a source into a stream that already
// holds messages starts at the stream's last time, as officially).
func (r *sourceRun) startAt(cfg *ConsumerConfig) {
	if r.sseq > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = DeliverByStartSequence, r.sseq+1
		return
	}
	switch {
	case r.src.OptStartSeq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = DeliverByStartSequence, r.src.OptStartSeq
	case r.src.OptStartTime != nil:
		t := *r.src.OptStartTime
		cfg.DeliverPolicy, cfg.OptStartTime = DeliverByStartTime, &t
	default:
		cfg.DeliverPolicy = DeliverAll
	}
}

// transform maps a sourced subject through the first matching transform.
func (r *sourceRun) transform(subj string) string {
	for _, t := range r.src.SubjectTransforms {
		if t.Destination == "" {
			continue
		}
		if out, ok := applyTransform(t.Source, t.Destination, subj); ok {
			return out
		}
	}
	return subj
}

// randToken is n random characters of [0-9A-Za-z].
func randToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = shortHashDigits[int(b[i])%len(shortHashDigits)]
	}
	return string(b)
}
