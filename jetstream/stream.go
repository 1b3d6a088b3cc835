package jetstream

import (
	"context"
	"errors"
	"fmt"

	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fernmq/fern/store"
)

// This file is a stream: its store, its subscriptions (subjects and
// direct get), its lifecycle and what it offers the consumer side. The
// ingest path is in stream_ingest.go, persistence in stream_meta.go.

// Stream is one stream. Its methods are safe for concurrent use.
type Stream struct {
	e       *Engine
	name    string
	created time.Time
	dir     string // "" for memory streams
	st      store.Store
	cfg     atomic.Pointer[StreamConfig]

	mu         sync.Mutex // guards subs, directSubs, mirrorDirectSubs
	subs       []Subscription
	directSubs []Subscription
	// mirrorDirectSubs answer the origin's direct gets (source_direct.go).
	mirrorDirectSubs []Subscription

	onStored atomic.Pointer[func(seq uint64, subject string)]
	// lastDropWarn rate-limits the queue-full warning (unix nanos).
	lastDropWarn atomic.Int64

	in   *msgQueue
	quit chan struct{} // closed to stop the ingest goroutine
	drop atomic.Bool   // stop without storing what is queued (delete)
	done chan struct{} // closed when the ingest goroutine has exited

	ing ingestState // owned by the ingest goroutine

	src atomic.Pointer[sourcing] // the running mirror or sources (source.go)
}

// Name is the stream's name.
func (s *Stream) Name() string { return s.name }

// Config returns the current configuration (do not modify it).
func (s *Stream) Config() *StreamConfig { return s.cfg.Load() }

// Store is the stream's message store. The engine does not register
// store.OnRemove: the consumer side may.
func (s *Stream) Store() store.Store { return s.st }

// Created is when the stream was created.
func (s *Stream) Created() time.Time { return s.created }

// OnStored registers fn to be called for every message stored, after its
// durability point and before its PubAck, in sequence order, on the stream's
// ingest goroutine (fn must not block for long). It replaces any earlier
// callback; nil clears it.
func (s *Stream) OnStored(fn func(seq uint64, subject string)) {
	if fn == nil {
		s.onStored.Store(nil)
		return
	}
	s.onStored.Store(&fn)
}

// openStream opens (or creates) the store of a stream whose config is
// already normalized and checked, and starts its ingest goroutine. It
// does not subscribe (see subscribe).
func (e *Engine) openStream(cfg StreamConfig, created time.Time) (*Stream, error) {
	s := &Stream{
		e:       e,
		name:    cfg.Name,
		created: created,
		in:      newMsgQueue(),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.cfg.Store(&cfg)
	lim := storeLimits(&cfg)
	if cfg.Storage == MemoryStorage {
		ms, err := store.NewMemStore(store.MemConfig{Limits: lim})
		if err != nil {
			return nil, err
		}
		s.st = ms
	} else {
		s.dir = filepath.Join(e.streamsDir(), cfg.Name)
		fc := store.FileConfig{
			Dir:    filepath.Join(s.dir, "msgs"),
			FS:     e.cfg.FS,
			Limits: lim,
			Logger: e.log.With("stream", cfg.Name),
		}
		switch e.cfg.Sync {
		case SyncAlways:
			fc.Sync = store.SyncAlways
		default:
			fc.Sync, fc.SyncInterval = store.SyncInterval, e.cfg.Interval
		}
		if cfg.Compression == S2Compression {
			fc.Compression = store.CompressS2
		}
		if err := mkdirDurable(e.cfg.FS, s.dir); err != nil {
			return nil, err
		}
		fs, err := store.OpenFileStore(fc)
		if err != nil {
			return nil, err
		}
		s.st = fs
	}
	if cfg.FirstSeq > 1 {
		if st := s.st.State(); st.LastSeq == 0 {
			if _, err := s.st.Compact(cfg.FirstSeq); err != nil {
				s.st.Close()
				return nil, err
			}
		}
	}
	s.ing.init(s)
	go s.ingestLoop()
	return s, nil
}

// storeLimits maps a stream config onto the store's limits. Under discard
// new, max_msgs_per_subject still drops the subject's oldest message
// unless discard_new_per_subject, as officially: the store does this
// itself (store.Limits.DiscardNewPerSubject).
func storeLimits(cfg *StreamConfig) store.Limits {
	l := store.Limits{
		MaxMsgs:           cfg.MaxMsgs,
		MaxBytes:          cfg.MaxBytes,
		MaxAge:            cfg.MaxAge,
		MaxMsgsPerSubject: cfg.MaxMsgsPerSubject,
		MaxMsgSize:        cfg.MaxMsgSize,
	}
	if cfg.Discard == DiscardNew {
		l.Discard = store.DiscardNew
		l.DiscardNewPerSubject = cfg.DiscardNewPerSubject
	}
	return l
}

// subscribe takes the stream's subjects (and direct get when allowed).
func (s *Stream) subscribe() error {
	cfg := s.cfg.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, subj := range cfg.Subjects {
		sub, err := s.e.subscribe(subj, "", s.onMsg, true)
		if err != nil {
			s.unsubscribeLocked()
			return fmt.Errorf("jetstream: subscribe %q: %w", subj, err)
		}
		s.subs = append(s.subs, sub)
	}
	return s.setDirectLocked(cfg.AllowDirect)
}

// setDirectLocked adds or removes the direct-get subscriptions (queue
// group "_sys_", as official).
func (s *Stream) setDirectLocked(on bool) error {
	if !on {
		for _, sub := range s.directSubs {
			sub.Unsubscribe()
		}
		s.directSubs = nil
		return nil
	}
	if len(s.directSubs) > 0 {
		return nil
	}
	prefixes := []string{apiPrefix}
	if d := s.e.cfg.Domain; d != "" {
		prefixes = append(prefixes, "$JS."+d+".API.")
	}
	for _, p := range prefixes {
		for _, subj := range []string{p + directPrefix + s.name, p + directPrefix + s.name + ".>"} {
			sub, err := s.e.subscribe(subj, "_sys_", s.onDirect, p != apiPrefix)
			if err != nil {
				return fmt.Errorf("jetstream: subscribe %q: %w", subj, err)
			}
			s.directSubs = append(s.directSubs, sub)
		}
	}
	return nil
}

func (s *Stream) unsubscribeLocked() {
	for _, sub := range s.subs {
		sub.Unsubscribe()
	}
	s.subs = nil
	s.setDirectLocked(false)
}

// The default ingest queue bounds (Config.MaxBufferedMsgs/Size).
const (
	defaultMaxBufferedMsgs = 100_000
	defaultMaxBufferedSize = 128 << 20
)

// onMsg is the Host handler of the stream's subjects.
func (s *Stream) onMsg(subject, reply string, hdr, data []byte) {
	cfg := &s.e.cfg
	if _, full := s.in.pushBounded(copyMsg(subject, reply, hdr, data), cfg.MaxBufferedMsgs, cfg.MaxBufferedSize); full {
		s.tooManyRequests(reply)
	}
}

// tooManyRequests answers a publish the full ingest queue dropped, and
// warns at most once a second.
func (s *Stream) tooManyRequests(reply string) {
	now := time.Now().UnixNano()
	if last := s.lastDropWarn.Load(); now-last >= int64(time.Second) && s.lastDropWarn.CompareAndSwap(last, now) {
		s.e.log.Warn("JetStream stream ingest queue full: dropping messages", "stream", s.name)
	}
	if reply == "" {
		return
	}
	body := s.appendPubAck(nil, &ingestResult{err: apiErr(429, 10167, "too many requests")})
	s.e.respondMu.Lock()
	s.e.respondPub.Publish(reply, "", []byte("NATS/1.0 429 Too Many Requests\r\n\r\n"), body)
	s.e.respondMu.Unlock()
}

// onDirect is the Host handler of the direct-get subjects.
func (s *Stream) onDirect(subject, reply string, hdr, data []byte) {
	if reply == "" {
		return
	}
	s.e.direct.push(copyMsg(subject, reply, hdr, data))
}

// close stops the stream: unsubscribe, stop ingest (storing what is queued
// when keep, dropping it otherwise), close the store.
func (s *Stream) close(keep bool) error {
	s.stopSourcing()
	s.mu.Lock()
	s.unsubscribeLocked()
	s.mu.Unlock()
	s.drop.Store(!keep)
	s.in.close()
	close(s.quit)
	<-s.done
	if err := s.st.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
		return err
	}
	return nil
}

// remove stops the stream and deletes its data.
func (s *Stream) remove() error {
	s.close(false)
	if s.dir == "" {
		return nil
	}
	return removeAllDurable(s.e.cfg.FS, s.dir)
}

// info returns the stream's info; opts may ask for subject counts and
// deleted sequences.
func (s *Stream) info(opts *streamInfoRequest) (*StreamInfo, int) {
	cfg := *s.cfg.Load()
	st := s.st.State()
	state := StreamState{
		Msgs:        st.Msgs,
		Bytes:       st.Bytes,
		FirstSeq:    st.FirstSeq,
		FirstTime:   nanosTime(st.FirstTime),
		LastSeq:     st.LastSeq,
		LastTime:    nanosTime(st.LastTime),
		NumSubjects: st.NumSubjects,
		NumDeleted:  int(st.Deleted),
		Consumers:   s.e.consumerCount(s.name),
	}
	if st.Msgs == 0 {
		state.FirstTime = time.Time{}
	}
	if st.LastSeq == 0 {
		state.FirstSeq = 0 // a stream that never held a message
	}
	total := 0
	if opts != nil && opts.SubjectsFilter != "" {
		state.Subjects, total = pageSubjects(s.st.SubjectCounts(opts.SubjectsFilter), opts.Offset)
	}
	if opts != nil && opts.DeletedDetails {
		state.Deleted = s.deletedSeqs(st)
	}
	mirror, sources := s.sourceInfo(&cfg)
	return &StreamInfo{
		Config:    cfg,
		Created:   s.created.UTC(),
		State:     state,
		Domain:    s.e.cfg.Domain,
		Mirror:    mirror,
		Sources:   sources,
		TimeStamp: time.Now().UTC(),
	}, total
}

// deletedSeqs lists the sequences between first and last that hold no
// message.
func (s *Stream) deletedSeqs(st store.State) []uint64 {
	if st.Deleted == 0 {
		return nil
	}
	out := make([]uint64, 0, min(st.Deleted, 1<<16))
	var m store.Msg
	next := st.FirstSeq
	for next <= st.LastSeq {
		got, err := s.st.LoadNext("", next, &m)
		end := st.LastSeq + 1
		if err == nil {
			end = got.Seq
		}
		for q := next; q < end; q++ {
			out = append(out, q)
		}
		if err != nil {
			break
		}
		next = got.Seq + 1
	}
	return out
}

// waitDurable waits for seq to be durable, bounded so a stuck disk does
// not hang the ingest goroutine forever.
func (s *Stream) waitDurable(seq uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.st.WaitDurable(ctx, seq)
}
