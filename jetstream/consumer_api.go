package jetstream

import (
	"crypto/rand"
	"strings"
	"time"
)

// This file answers the consumer API ($JS.API.CONSUMER.*), on the
// engine's API goroutine: create (three subject forms, with action),
// info, delete, names and list. Replies use the stream side's error type
// (APIError); the consumer checks' own errors are converted.

// consumerReply is the envelope of every consumer API reply: type, an
// optional error, and the operation's fields.
type consumerReply struct {
	Type  string    `json:"type"`
	Error *APIError `json:"error,omitempty"`
	*ConsumerInfo
}

type consumerDeleteReply struct {
	Type    string    `json:"type"`
	Error   *APIError `json:"error,omitempty"`
	Success bool      `json:"success,omitempty"`
}

type consumerNamesReply struct {
	Type  string    `json:"type"`
	Error *APIError `json:"error,omitempty"`
	apiPaged
	Consumers []string `json:"consumers"`
}

type consumerListReply struct {
	Type  string    `json:"type"`
	Error *APIError `json:"error,omitempty"`
	apiPaged
	Consumers []*ConsumerInfo `json:"consumers"`
	Missing   []string        `json:"missing,omitempty"`
}

func errMaxConsumers() *APIError { return apiErr(400, 10026, "maximum consumers limit reached") }

// handleAPI routes one request; subject starts with "$JS.API.CONSUMER.".
func (m *consumerManager) handleAPI(subject, reply string, hdr, data []byte) {
	op := strings.TrimPrefix(subject, apiPrefix+consumerPrefix)
	toks := strings.Split(op, ".")
	var resp any
	switch {
	case !apiLevelOK(hdr):
		if t := consumerReplyType(consumerPrefix + op); t != "" && len(toks) >= 2 {
			resp = errorReply(t, errRequiredAPILevel())
		}
	case toks[0] == "CREATE" && len(toks) >= 2, toks[0] == "DURABLE" && len(toks) >= 3 && toks[1] == "CREATE":
		resp = m.apiCreate(subject, hdr, data)
	case toks[0] == "RESET" && len(toks) == 3:
		resp = m.apiReset(toks[1], toks[2], hdr, data)
	case toks[0] == "INFO" && len(toks) == 3:
		resp = m.apiInfo(toks[1], toks[2], data)
	case toks[0] == "DELETE" && len(toks) == 3:
		resp = m.apiDelete(toks[1], toks[2], data)
	case toks[0] == "NAMES" && len(toks) == 2:
		resp = m.apiNames(toks[1], data)
	case toks[0] == "LIST" && len(toks) == 2:
		resp = m.apiList(toks[1], data)
	default:
		if r := consumerFallback(consumerPrefix + op); r != nil && len(toks) >= 2 {
			resp = r
		}
	}
	if resp == nil {
		return
	}
	if h, ok := resp.(*headerReply); ok {
		m.e.RespondHeader(reply, h.hdr, h.v)
		return
	}
	if r, ok := resp.(interface{ apiError() *APIError }); ok && r.apiError() != nil {
		m.e.apiErrors.Add(1)
	}
	m.e.Respond(reply, resp)
}

func (r *consumerReply) apiError() *APIError       { return r.Error }
func (r *consumerDeleteReply) apiError() *APIError { return r.Error }
func (r *consumerNamesReply) apiError() *APIError  { return r.Error }
func (r *consumerListReply) apiError() *APIError   { return r.Error }

func createError(err *APIError) *consumerReply {
	return &consumerReply{Type: consumerCreateResponseType, Error: err}
}

// apiCreate creates or updates a consumer.
func (m *consumerManager) apiCreate(subject string, hdr, data []byte) any {
	req, cerr := decodeCreateConsumerRequest(data, true)
	if cerr != nil {
		return createError(cerr)
	}
	target, ok, cerr := checkConsumerCreateSubject(subject, req)
	if !ok {
		return nil
	}
	if cerr != nil {
		return createError(cerr)
	}
	s := m.e.Stream(target.Stream)
	if s == nil {
		return createError(errStreamNotFound())
	}
	scfg := s.Config()
	upgradeSourcing(&req.Config, scfg.Retention)
	ident, cerr := checkStreamIdentity(&req.Config, s, hdr)
	if cerr != nil {
		return createError(cerr)
	}
	lim := consumerStreamLimits{
		Subjects:          scfg.Subjects,
		Replicas:          scfg.Replicas,
		WorkQueue:         scfg.Retention == WorkQueuePolicy,
		Interest:          scfg.Retention == InterestPolicy,
		MaxAckPending:     scfg.ConsumerLimits.MaxAckPending,
		InactiveThreshold: scfg.ConsumerLimits.InactiveThreshold,
	}
	cfg := req.Config.Clone()
	if cerr := cfg.SetDefaults(&lim, req.Pedantic); cerr != nil {
		return createError(cerr)
	}
	if cerr := cfg.Validate(&lim); cerr != nil {
		return createError(cerr)
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return createError(errConsumerGone())
	}
	sc := m.entryLocked(s)
	if cfg.Name == "" {
		for cfg.Name == "" || sc.byName[cfg.Name] != nil {
			var b [8]byte
			rand.Read(b[:])
			cfg.Name = generatedConsumerName(b)
		}
	}
	existing := sc.byName[cfg.Name]
	var existingCfg *ConsumerConfig
	if existing != nil {
		existing.mu.Lock()
		existingCfg = existing.cfg.Clone()
		existing.mu.Unlock()
		keepSourcingStart(cfg, existingCfg)
	}
	sourcing := cfg.Direct || cfg.Sourcing
	if lim.WorkQueue && !sourcing {
		var others [][]string
		for n, o := range sc.byName {
			if n != cfg.Name && o.limitable() {
				others = append(others, *o.filters.Load())
			}
		}
		if cerr := checkWorkQueuePartition(cfg.Filters(), others); cerr != nil {
			return createError(cerr)
		}
	}
	plan, cerr := resolveConsumerAction(req.Action, existingCfg, cfg, m.e.host.HasInterest)
	if cerr != nil {
		return createError(cerr)
	}
	if plan == planUpdate {
		existing.update(cfg)
		if cfg.Sourcing && cfg.Durable != "" {
			// A downstream re-attaching: what it had not stored when it went
			// away is still pending here, and flow-control acks have no ack
			// wait to redeliver it, so start again after the ack floor
			// (officially too); the downstream skips what it already has.
			_, info, aerr := existing.reset(0, time.Now())
			if aerr != nil {
				return createError(aerr)
			}
			return withIdentity(&consumerReply{Type: consumerCreateResponseType, ConsumerInfo: info}, ident)
		}
		return withIdentity(&consumerReply{Type: consumerCreateResponseType, ConsumerInfo: existing.info()}, ident)
	}
	if scfg.MaxConsumers > 0 && !sourcing && sc.limitableLocked() >= scfg.MaxConsumers {
		return createError(errMaxConsumers())
	}
	c, err := m.createLocked(sc, cfg, time.Now())
	if err != nil {
		return createError(consumerErrf(errCodeConsumerCreate, "%v", err))
	}
	return withIdentity(&consumerReply{Type: consumerCreateResponseType, ConsumerInfo: c.info()}, ident)
}

// limitableLocked counts the consumers that max_consumers limits (m.mu
// held).
func (sc *streamConsumers) limitableLocked() int {
	n := 0
	for _, c := range sc.byName {
		if c.limitable() {
			n++
		}
	}
	return n
}

func errConsumerGone() *APIError { return apiErr(503, 10039, "JetStream not enabled") }

// createLocked makes, registers and starts a new consumer (m.mu held).
func (m *consumerManager) createLocked(sc *streamConsumers, cfg *ConsumerConfig, created time.Time) (*consumer, error) {
	fs := cfg.Filters()
	if len(fs) == 1 && fs[0] == ">" {
		fs = nil
	}
	start, lps := startPosition(sc.s.Store(), cfg, fs)
	state := newConsumerState(cfg, start)
	c := m.newConsumer(sc.s, cfg, state, created)
	c.lps = lps
	c.dir = consumerDir(sc.s, cfg)
	if err := c.subscribe(); err != nil {
		return nil, err
	}
	err := c.writeConfig()
	if err == nil {
		err = c.persistNew()
	}
	if err != nil {
		c.unsubscribe()
		return nil, err
	}
	m.addLocked(sc, c)
	c.prime()
	c.start()
	return c, nil
}

// update applies a new config to a running consumer (validated by
// resolveConsumerAction).
func (c *consumer) update(cfg *ConsumerConfig) {
	c.mu.Lock()
	old := c.cfg
	c.cfg = cfg
	c.state.applyConfig(cfg)
	if c.pq != nil {
		c.pq.lim = pullLimitsOf(cfg)
		if c.pq.lim.MaxWaiting <= 0 {
			c.pq.lim.MaxWaiting = consumerDefaultMaxWaiting
		}
	}
	if !stringsEqual(old.Filters(), cfg.Filters()) {
		fs := cloneSlice(cfg.Filters())
		if len(fs) == 1 && fs[0] == ">" {
			fs = nil
		}
		c.filters.Store(&fs)
		c.recnt = true
	}
	c.mu.Unlock()
	if err := c.writeConfig(); err != nil {
		c.m.e.log.Warn("JetStream consumer config not saved", "stream", c.stream, "consumer", c.name, "err", err)
	}
	c.wake()
}

func stringsEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// apiInfo reports one consumer.
func (m *consumerManager) apiInfo(stream, name string, data []byte) any {
	if !isEmptyRequest(data) {
		return &consumerReply{Type: consumerInfoResponseType, Error: errNotEmptyRequest()}
	}
	if m.e.Stream(stream) == nil {
		return &consumerReply{Type: consumerInfoResponseType, Error: errStreamNotFound()}
	}
	c := m.lookup(stream, name)
	if c == nil {
		return &consumerReply{Type: consumerInfoResponseType, Error: consumerErr(errCodeConsumerNotFound)}
	}
	return &consumerReply{Type: consumerInfoResponseType, ConsumerInfo: c.info()}
}

// apiDelete removes a consumer; its waiting requests get 409.
func (m *consumerManager) apiDelete(stream, name string, data []byte) any {
	if !isEmptyRequest(data) {
		return &consumerDeleteReply{Type: consumerDeleteResponseType, Error: errNotEmptyRequest()}
	}
	if m.e.Stream(stream) == nil {
		return &consumerDeleteReply{Type: consumerDeleteResponseType, Error: errStreamNotFound()}
	}
	c := m.lookup(stream, name)
	if c == nil || !m.detach(c) {
		return &consumerDeleteReply{Type: consumerDeleteResponseType, Error: consumerErr(errCodeConsumerNotFound)}
	}
	c.stop(exitDeleted)
	c.removeFiles()
	return &consumerDeleteReply{Type: consumerDeleteResponseType, Success: true}
}

// pagedOffset decodes the optional {"offset":n} body.
func pagedOffset(data []byte) (int, *APIError) {
	var req consumerPagedRequest
	if err := decodeStrict(data, &req); err != nil {
		return 0, err
	}
	return max(req.Offset, 0), nil
}

// apiNames lists consumer names, sorted, paged by 1024.
func (m *consumerManager) apiNames(stream string, data []byte) any {
	off, err := pagedOffset(data)
	if err == nil && m.e.Stream(stream) == nil {
		err = errStreamNotFound()
	}
	if err != nil {
		return &consumerNamesReply{Type: consumerNamesResponseType, Error: err, Consumers: []string{}}
	}
	names := m.names(stream)
	page := []string{}
	if off < len(names) {
		page = names[off:min(len(names), off+consumerNamesLimit)]
	}
	return &consumerNamesReply{Type: consumerNamesResponseType,
		apiPaged: apiPaged{Total: len(names), Offset: off, Limit: consumerNamesLimit}, Consumers: page}
}

// apiList lists consumer infos, sorted by name, paged by 256.
func (m *consumerManager) apiList(stream string, data []byte) any {
	off, err := pagedOffset(data)
	if err == nil && m.e.Stream(stream) == nil {
		err = errStreamNotFound()
	}
	if err != nil {
		return &consumerListReply{Type: consumerListResponseType, Error: err, Consumers: []*ConsumerInfo{}}
	}
	names := m.names(stream)
	list := []*ConsumerInfo{}
	var missing []string
	if off < len(names) {
		for _, n := range names[off:min(len(names), off+consumerListLimit)] {
			if c := m.lookup(stream, n); c != nil {
				list = append(list, c.info())
			} else {
				missing = append(missing, n)
			}
		}
	}
	return &consumerListReply{Type: consumerListResponseType,
		apiPaged:  apiPaged{Total: len(names), Offset: off, Limit: consumerListLimit},
		Consumers: list, Missing: missing}
}
