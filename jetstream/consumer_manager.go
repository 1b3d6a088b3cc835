package jetstream

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/fernmq/fern/subject"
)

// This file is the consumer side's registry: the consumerManager the
// engine attaches with SetConsumers (Start does it when nothing else was
// attached). It keeps the consumers of every stream, hooks each stream's
// OnStored and store OnRemove once, and fans those events out to the
// stream's consumers without blocking (each consumer takes them on its own
// goroutine, consumer_run.go).
//
// Locks, outermost first: consumerManager.mu (registry), consumer.mu
// (delivery state), consumer.notifyMu (event hand-off, a leaf). Nothing
// waits for a consumer goroutine while holding consumerManager.mu.

// consumerManager implements Consumers.
type consumerManager struct {
	e *Engine

	mu      sync.Mutex
	streams map[string]*streamConsumers
	stopped bool

	// fcWindow is the initial flow-control window of push consumers in
	// bytes (tests shrink it).
	fcWindow int
}

// streamConsumers are the consumers of one stream.
type streamConsumers struct {
	s      *Stream
	byName map[string]*consumer // guarded by consumerManager.mu
	// list is a copy-on-write snapshot of byName for the stream's
	// callbacks, which must not take locks that a consumer may hold.
	list atomic.Pointer[[]*consumer]
}

// Flow control window: starts at 2 MiB, doubles per answer up to 32 MiB.
const (
	fcInitialWindow = 2 << 20
	fcMaxWindow     = 32 << 20
)

func newConsumerManager(e *Engine) *consumerManager {
	return &consumerManager{e: e, streams: make(map[string]*streamConsumers), fcWindow: fcInitialWindow}
}

// HandleAPI implements Consumers (consumer_api.go).
func (m *consumerManager) HandleAPI(subject, reply string, hdr, data []byte) {
	m.handleAPI(subject, reply, hdr, data)
}

// Count implements Consumers.
func (m *consumerManager) Count(stream string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if stream != "" {
		if sc := m.streams[stream]; sc != nil {
			return len(sc.byName)
		}
		return 0
	}
	n := 0
	for _, sc := range m.streams {
		n += len(sc.byName)
	}
	return n
}

// Interested implements Consumers: some consumer's filters take subj.
func (m *consumerManager) Interested(stream, subj string) bool {
	m.mu.Lock()
	sc := m.streams[stream]
	m.mu.Unlock()
	if sc == nil {
		return false
	}
	for _, c := range *sc.list.Load() {
		if c.matches(subj) {
			return true
		}
	}
	return false
}

// StreamRemoved implements Consumers: every consumer of the stream stops
// (waiting requests get 409 Consumer Deleted); the stream's directory,
// consumers included, is removed by the engine.
func (m *consumerManager) StreamRemoved(stream string) {
	m.mu.Lock()
	sc := m.streams[stream]
	delete(m.streams, stream)
	m.mu.Unlock()
	if sc == nil {
		return
	}
	sc.s.OnStored(nil)
	sc.s.Store().OnRemove(nil)
	for _, c := range sc.byName {
		c.stop(exitDeleted)
	}
}

// entryLocked returns the consumers of s, creating the entry and hooking
// the stream's callbacks the first time. A stream that was deleted and
// created again gets a fresh entry.
func (m *consumerManager) entryLocked(s *Stream) *streamConsumers {
	if sc := m.streams[s.Name()]; sc != nil && sc.s == s {
		return sc
	}
	sc := &streamConsumers{s: s, byName: make(map[string]*consumer)}
	empty := []*consumer{}
	sc.list.Store(&empty)
	m.streams[s.Name()] = sc
	s.OnStored(sc.onStored)
	s.Store().OnRemove(sc.onRemove)
	return sc
}

// publishLocked refreshes the callbacks' snapshot.
func (sc *streamConsumers) publishLocked() {
	list := make([]*consumer, 0, len(sc.byName))
	for _, c := range sc.byName {
		list = append(list, c)
	}
	sc.list.Store(&list)
}

// onStored runs on the stream's ingest goroutine for every stored message.
func (sc *streamConsumers) onStored(seq uint64, subj string) {
	for _, c := range *sc.list.Load() {
		c.notifyStored(seq, c.matches(subj))
	}
}

// onRemove runs under the store's write lock for every removed message.
func (sc *streamConsumers) onRemove(seq uint64) {
	for _, c := range *sc.list.Load() {
		c.notifyRemoved(seq)
	}
}

// matches reports whether subj passes the consumer's filters.
func (c *consumer) matches(subj string) bool {
	fs := *c.filters.Load()
	if len(fs) == 0 {
		return true
	}
	for _, f := range fs {
		if subject.Matches(subj, f) {
			return true
		}
	}
	return false
}

// lookup returns a consumer, or nil.
func (m *consumerManager) lookup(stream, name string) *consumer {
	m.mu.Lock()
	defer m.mu.Unlock()
	if sc := m.streams[stream]; sc != nil {
		return sc.byName[name]
	}
	return nil
}

// names returns the sorted names of a stream's public consumers (direct
// sourcing consumers are not listed).
func (m *consumerManager) names(stream string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	sc := m.streams[stream]
	if sc == nil {
		return nil
	}
	out := make([]string, 0, len(sc.byName))
	for n, c := range sc.byName {
		if c.public() {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// add registers a started consumer.
func (m *consumerManager) addLocked(sc *streamConsumers, c *consumer) {
	sc.byName[c.name] = c
	sc.publishLocked()
}

// detach removes c from the registry; it reports whether c was there
// (whoever detaches a consumer cleans up after it).
func (m *consumerManager) detach(c *consumer) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	sc := m.streams[c.stream]
	if sc == nil || sc.byName[c.name] != c {
		return false
	}
	delete(sc.byName, c.name)
	sc.publishLocked()
	return true
}

// others returns the other consumers of c's stream.
func (m *consumerManager) others(c *consumer) []*consumer {
	m.mu.Lock()
	defer m.mu.Unlock()
	sc := m.streams[c.stream]
	if sc == nil {
		return nil
	}
	out := make([]*consumer, 0, len(sc.byName))
	for _, o := range sc.byName {
		if o != c {
			out = append(out, o)
		}
	}
	return out
}

// load restores the persisted durable consumers of the given streams
// (the engine's lock is held: nothing here may call back into it).
func (m *consumerManager) load(streams map[string]*Stream) {
	for _, s := range streams {
		for _, p := range readConsumerDirs(s) {
			if err := m.restore(s, p); err != nil {
				m.e.log.Warn("JetStream consumer skipped", "stream", s.Name(), "consumer", p.name, "err", err)
			}
		}
	}
}

// stopAll stops every consumer, persisting durable state (engine Stop).
func (m *consumerManager) stopAll() {
	m.mu.Lock()
	m.stopped = true
	var all []*consumer
	for _, sc := range m.streams {
		for _, c := range sc.byName {
			all = append(all, c)
		}
		sc.s.OnStored(nil)
		sc.s.Store().OnRemove(nil)
	}
	m.streams = make(map[string]*streamConsumers)
	m.mu.Unlock()
	for _, c := range all {
		c.stop(exitShutdown)
	}
}
