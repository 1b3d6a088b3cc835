package jetstream

import (
	"fmt"
	"io"
	"log/slog"

	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fernmq/fern/store"
)

// This file is the engine: its configuration, lifecycle (New, Start,
// Stop), the stream registry and the two API worker goroutines. The API
// itself is in api_*.go, streams in stream*.go.

// SyncMode says when a PubAck may be sent.
type SyncMode int

const (
	// SyncGroupCommit (the default) acks a batch of messages once they are
	// fsynced, with one fsync shared by the whole batch.
	SyncGroupCommit SyncMode = iota
	// SyncAlways fsyncs every message (and every removal) before it is
	// acknowledged.
	SyncAlways
	// SyncInterval acks once a message is written; the store fsyncs every
	// Config.Interval in the background (a crash of the machine may lose
	// what was acknowledged in the last interval).
	SyncInterval
)

// String names the mode as the config does.
func (m SyncMode) String() string {
	switch m {
	case SyncGroupCommit:
		return "group commit"
	case SyncAlways:
		return "always"
	case SyncInterval:
		return "interval"
	}
	return "unknown"
}

// Config configures an Engine.
type Config struct {
	// StoreDir holds file streams (StoreDir/streams/<name>/). Required.
	StoreDir string
	// MaxMemory and MaxStore cap what streams may reserve with max_bytes
	// (0: no cap).
	MaxMemory, MaxStore int64
	// Sync is the durability point of a PubAck (default SyncGroupCommit).
	Sync SyncMode
	// Interval is the fsync period under SyncInterval (default 2 min).
	Interval time.Duration
	// MaxBufferedMsgs and MaxBufferedSize bound each stream's ingest queue
	// (default 100,000 messages and 128 MiB, as officially): beyond them a
	// publish is dropped and answered 429 Too Many Requests.
	MaxBufferedMsgs int
	MaxBufferedSize int
	// Domain, when set, is reported in PubAcks and account info, and the
	// API is also served on $JS.<Domain>.API.>.
	Domain string
	// ServerID, ServerName and Version describe the server (for logs).
	ServerID, ServerName, Version string
	// Logger receives the engine's logs (default: discarded).
	Logger *slog.Logger
	// FS is the filesystem of everything under StoreDir: the message
	// stores, stream and consumer metadata (default store.OSFS). Tests
	// pass a store.CrashFS to simulate power losses.
	FS store.FS
}

// Consumers is the consumer side of the engine, attached with
// SetConsumers. The engine calls it from its API goroutine.
type Consumers interface {
	// HandleAPI answers a $JS.API.CONSUMER.* request. subject is the
	// request subject without the domain prefix, e.g.
	// "$JS.API.CONSUMER.CREATE.S.C". reply is never empty. The handler
	// replies with Engine.Respond, from this or any other goroutine.
	HandleAPI(subject, reply string, hdr, data []byte)
	// Count returns how many consumers stream has ("" for all streams).
	Count(stream string) int
	// StreamRemoved tells that a stream was deleted: its consumers go.
	StreamRemoved(stream string)
	// Interested reports whether a consumer of stream would take a
	// message on subject (interest retention stores nothing else).
	Interested(stream, subject string) bool
}

// Engine is a single-server JetStream: streams, their API and their
// ingest. Create with New, then Start; Stop closes everything.
type Engine struct {
	cfg  Config
	host Host
	log  *slog.Logger

	mu      sync.RWMutex
	streams map[string]*Stream
	state   int // engineNew, engineRunning, engineStopped
	subs    []Subscription
	// consumers is read without mu (consumerSide).
	consumers atomic.Pointer[consumerSide]

	api, direct *msgQueue
	// respondMu guards respondPub, used by Respond from any goroutine.
	respondMu  sync.Mutex
	respondPub Publisher

	apiTotal, apiErrors atomic.Uint64
	workers             sync.WaitGroup
}

const (
	engineNew = iota
	engineRunning
	engineStopped
)

// New checks cfg and returns an engine that does nothing until Start.
func New(cfg Config, h Host) (*Engine, error) {
	if cfg.StoreDir == "" {
		return nil, fmt.Errorf("%w: StoreDir is required", ErrConfig)
	}
	if h == nil {
		return nil, fmt.Errorf("%w: nil Host", ErrConfig)
	}
	if cfg.Sync < SyncGroupCommit || cfg.Sync > SyncInterval {
		return nil, fmt.Errorf("%w: unknown sync mode %d", ErrConfig, cfg.Sync)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Minute
	}
	if cfg.MaxBufferedMsgs <= 0 {
		cfg.MaxBufferedMsgs = defaultMaxBufferedMsgs
	}
	if cfg.MaxBufferedSize <= 0 {
		cfg.MaxBufferedSize = defaultMaxBufferedSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.FS == nil {
		cfg.FS = store.OSFS{}
	}
	return &Engine{
		cfg:     cfg,
		host:    h,
		log:     cfg.Logger.With("component", "jetstream"),
		streams: make(map[string]*Stream),
		api:     newMsgQueue(),
		direct:  newMsgQueue(),
	}, nil
}

// Start loads the persisted streams and subscribes to the API and to every
// stream's subjects.
func (e *Engine) Start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch e.state {
	case engineRunning:
		return ErrStarted
	case engineStopped:
		return ErrStopped
	}
	if err := mkdirDurable(e.cfg.FS, e.streamsDir()); err != nil {
		return fmt.Errorf("jetstream: store dir: %w", err)
	}
	if err := e.loadStreamsLocked(); err != nil {
		e.closeStreamsLocked()
		return err
	}
	e.respondPub = e.host.NewPublisher()
	if e.consumers.Load() == nil {
		e.consumers.Store(&consumerSide{newConsumerManager(e)})
	}
	if cm, ok := e.consumerSide().(*consumerManager); ok {
		cm.load(e.streams)
	}
	prefixes := []string{apiPrefix}
	if e.cfg.Domain != "" {
		prefixes = append(prefixes, "$JS."+e.cfg.Domain+".API.")
	}
	for _, p := range prefixes {
		// $JS.API.> stays this server's; $JS.<domain>.API.> is exported.
		sub, err := e.subscribe(p+">", "", e.onAPI, p != apiPrefix)
		if err != nil {
			e.unsubscribeLocked()
			e.closeStreamsLocked()
			return fmt.Errorf("jetstream: subscribe API: %w", err)
		}
		e.subs = append(e.subs, sub)
	}
	e.workers.Add(2)
	go e.apiLoop(e.api, e.handleAPI)
	go e.apiLoop(e.direct, e.handleDirect)
	e.state = engineRunning
	for _, st := range e.streams {
		st.startSourcing() // after the API subscriptions: a source may be local
	}
	e.log.Info("JetStream started", "dir", e.cfg.StoreDir, "streams", len(e.streams), "sync", e.cfg.Sync.String())
	return nil
}

// Stop unsubscribes, finishes the queued work and closes every stream's
// store. Later calls return nil.
func (e *Engine) Stop() error {
	e.mu.Lock()
	if e.state != engineRunning {
		e.state = engineStopped
		e.mu.Unlock()
		return nil
	}
	e.state = engineStopped
	e.unsubscribeLocked()
	e.mu.Unlock()

	e.api.close()
	e.direct.close()
	e.workers.Wait()
	if cm, ok := e.consumerSide().(*consumerManager); ok {
		cm.stopAll()
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closeStreamsLocked()
}

func (e *Engine) unsubscribeLocked() {
	for _, s := range e.subs {
		s.Unsubscribe()
	}
	e.subs = nil
}

func (e *Engine) closeStreamsLocked() error {
	var first error
	for name, s := range e.streams {
		if err := s.close(true); err != nil && first == nil {
			first = err
		}
		delete(e.streams, name)
	}
	return first
}

// subscribe takes an in-process subscription; exported ones (only with a
// Domain, and only when the host can) are visible to other servers.
func (e *Engine) subscribe(subj, queue string, h MsgHandler, exported bool) (Subscription, error) {
	if exported && e.cfg.Domain != "" {
		if x, ok := e.host.(ExportingHost); ok {
			return x.SubscribeExported(subj, queue, h)
		}
	}
	return e.host.Subscribe(subj, queue, h)
}

func (e *Engine) streamsDir() string { return filepath.Join(e.cfg.StoreDir, "streams") }

// SetConsumers attaches the consumer side. Start attaches Fern's own
// (consumer_manager.go) unless another was set before; with none, consumer
// API requests get an error reply saying consumers are not implemented.
func (e *Engine) SetConsumers(c Consumers) {
	e.consumers.Store(&consumerSide{c})
}

// consumerSide holds the Consumers in an atomic pointer: the ingest
// goroutines read it while Stop holds e.mu waiting for them.
type consumerSide struct{ c Consumers }

func (e *Engine) consumerSide() Consumers {
	if p := e.consumers.Load(); p != nil {
		return p.c
	}
	return nil
}

// consumerCount asks the consumer side, 0 without one.
func (e *Engine) consumerCount(stream string) int {
	if c := e.consumerSide(); c != nil {
		return c.Count(stream)
	}
	return 0
}

// Stream returns the stream called name, or nil.
func (e *Engine) Stream(name string) *Stream {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.streams[name]
}

// StreamNames returns the names of all streams, sorted.
func (e *Engine) StreamNames() []string {
	e.mu.RLock()
	names := make([]string, 0, len(e.streams))
	for n := range e.streams {
		names = append(names, n)
	}
	e.mu.RUnlock()
	slices.Sort(names)
	return names
}

// sortedStreams returns every stream, sorted by name.
func (e *Engine) sortedStreams() []*Stream {
	e.mu.RLock()
	list := make([]*Stream, 0, len(e.streams))
	for _, s := range e.streams {
		list = append(list, s)
	}
	e.mu.RUnlock()
	slices.SortFunc(list, func(a, b *Stream) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return list
}

// Respond publishes an API reply: v marshalled as JSON, without headers.
// Safe for concurrent use.
func (e *Engine) Respond(reply string, v any) {
	body, err := marshalReply(v)
	if err != nil {
		e.log.Error("JetStream reply not encodable", "err", err)
		return
	}
	e.respondMu.Lock()
	e.respondPub.Publish(reply, "", nil, body)
	e.respondMu.Unlock()
}

// apiLoop is a worker: it takes queued requests and runs handle on each,
// until the queue is closed and empty.
func (e *Engine) apiLoop(q *msgQueue, handle func(pub Publisher, m inMsg)) {
	defer e.workers.Done()
	pub := e.host.NewPublisher()
	var batch []inMsg
	for range q.ready {
		batch = q.take(batch, 256)
		for _, m := range batch {
			handle(pub, m)
		}
		q.mu.Lock()
		done := q.closed && len(q.items) == 0
		q.mu.Unlock()
		if done {
			return
		}
	}
}
