package jetstream

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the downstream side of stream sourcing: a stream's mirror,
// or its sources, each fetched by one goroutine (a sourceRun) through a
// consumer on the upstream stream, local or behind a leaf link
// (external.api). What an official upstream expects is in
// ../shared/reference/jetstream-cluster-sources.md part A.
//
// The path of one sourced message:
//
//  1. The run's Host handler on its deliver subject ($JS.S.<rand>, or
//     $JS.M.<rand> for a mirror) copies the delivery onto the run's queue.
//  2. The run goroutine (source_run.go) reads sseq, dseq, pending and the
//     timestamp from the $JS.ACK reply, drops what another consumer or an
//     earlier delivery sent, recreates the consumer on a dseq gap, skips
//     sseq it already took, and hands the message to the stream's ingest
//     queue with a sourcedMsg: for a source with a Nats-Stream-Source
//     header added (source_headers.go), for a mirror with the upstream
//     sequence and timestamp.
//  3. The ingest goroutine (stream_ingest.go) stores it in order with the
//     stream's own publishes (a mirror with StoreAt), records the run's
//     position, and, after the batch's durability point, runs the
//     barriers queued behind it: a flow-control answer is such a barrier,
//     so the upstream hears "stored up to sseq" only once that is durable.
//     A WorkQueue or Interest upstream removes messages on that answer.
//
// Positions survive a crash because they live in the stored messages
// themselves (the Nats-Stream-Source header, written in the same record;
// a mirror's sequence is the upstream's): on open, recoverSources reads
// sources.json (a snapshot of durable positions, written at most every
// second) and then every message stored after the snapshot's stream
// sequence.
//
// A run retries quickly: it sends a create only when the upstream's API
// has interest (so a request is never sent into a link that is down and
// waited for, the official 30 s stall), a create waits at most
// sourceCreateWait (long enough for a loaded upstream: each timed-out
// create leaves an ephemeral consumer behind, and short waits feed that
// load), failures back off from 250 ms to sourceRetryMax, and
// Engine.RetrySources (the host calls it when a route or leaf connection
// registers) retries every run that is not receiving at once, also one
// waiting for a reply. A run that
// hears nothing for sourceStaleAfter (three missed heartbeats) recreates
// its consumer.

// Timers of a sourceRun.
const (
	sourceHeartbeat   = time.Second
	sourceStaleAfter  = 3 * time.Second
	sourceCreateWait  = 10 * time.Second
	sourceResetWait   = 5 * time.Second
	sourceRetryMin    = 250 * time.Millisecond
	sourceRetryMax    = 5 * time.Second
	sourceSnapEvery   = time.Second
	sourceAckWaitNone = 22 * time.Hour
	// sourceInactive is the upstream consumer's inactive_threshold.
	sourceInactive = 10 * time.Second
)

// sourcing is a stream's running mirror or sources.
type sourcing struct {
	s      *Stream
	runs   []*sourceRun
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// snap is the last durable snapshot of positions, published by the
	// ingest goroutine; the snapshot goroutine writes it to sources.json.
	snap    atomic.Pointer[sourceSnapshot]
	written *sourceSnapshot // the last snapshot written (snapshot goroutine)
}

// sourceSnapshot is the durable position of every source at a stream
// sequence.
type sourceSnapshot struct {
	StreamSeq uint64                    `json:"stream_seq"`
	Sources   map[string]sourcePosition `json:"sources"`
}

// sourcePosition is where one source stands: the last upstream sequence
// taken and the upstream stream's identity.
type sourcePosition struct {
	Seq      uint64 `json:"seq"`
	Identity string `json:"identity,omitempty"`
}

// sourcedMsg is what a queued message carries when a source run queued
// it: either a message (seq > 0) or a barrier.
type sourcedMsg struct {
	run   *sourceRun
	epoch uint64
	sseq  uint64
	ts    int64 // mirrors: the upstream store time
	// barrier, when set, is not a message: the ingest goroutine calls it
	// once everything queued before it is stored and durable.
	barrier func(pub Publisher)
}

// startSourcing starts the stream's mirror or sources (if any), from the
// positions recovered from its store.
func (s *Stream) startSourcing() {
	cfg := s.cfg.Load()
	if cfg.Mirror == nil && len(cfg.Sources) == 0 {
		return
	}
	pos := s.recoverSources(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	sg := &sourcing{s: s, cancel: cancel}
	if cfg.Mirror != nil {
		sg.runs = append(sg.runs, newSourceRun(s, cfg.Mirror, true, pos))
	}
	for _, src := range cfg.Sources {
		if src != nil {
			sg.runs = append(sg.runs, newSourceRun(s, src, false, pos))
		}
	}
	s.src.Store(sg)
	for _, r := range sg.runs {
		sg.wg.Add(1)
		go func() {
			defer sg.wg.Done()
			r.loop(ctx)
		}()
	}
	if s.dir != "" {
		sg.wg.Add(1)
		go func() {
			defer sg.wg.Done()
			sg.snapshotLoop(ctx)
		}()
	}
}

// stopSourcing stops the runs and waits for them; their upstream
// consumers expire by their inactive threshold (or stay, when durable).
func (s *Stream) stopSourcing() {
	sg := s.src.Swap(nil)
	if sg == nil {
		return
	}
	sg.cancel()
	sg.wg.Wait()
	for _, r := range sg.runs {
		r.unsubscribe()
	}
	s.unsubscribeMirrorDirect()
}

// restartSourcing applies a config whose mirror or sources changed.
func (s *Stream) restartSourcing() {
	s.stopSourcing()
	s.flushIngest()
	s.startSourcing()
}

// flushIngest waits until everything queued so far has been stored (or
// the stream stopped).
func (s *Stream) flushIngest() {
	done := make(chan struct{})
	s.in.push(inMsg{src: &sourcedMsg{barrier: func(Publisher) { close(done) }}})
	select {
	case <-done:
	case <-s.done:
	}
}

// RetrySources makes every source and mirror that is not receiving try
// again now, instead of at its next backoff: the host calls it when a
// route or leaf connection registers, since an upstream may be behind it.
func (e *Engine) RetrySources() {
	for _, s := range e.sortedStreams() {
		if sg := s.src.Load(); sg != nil {
			for _, r := range sg.runs {
				r.kick()
			}
		}
	}
}

// ingestSourced stores (or skips) one message a run queued, on the ingest
// goroutine. It reports the result to record for the batch (stored false
// when skipped).
func (s *Stream) ingestSourced(cfg *StreamConfig, m *inMsg) ingestResult {
	sm := m.src
	r := sm.run
	res := ingestResult{subject: m.subject}
	if sm.epoch != r.epoch.Load() || sm.sseq <= r.stored.Load() {
		return res // queued before a store failure, or already taken
	}
	if r.mirror {
		if last := s.st.State().LastSeq; sm.sseq <= last {
			r.stored.Store(sm.sseq)
			return res
		}
		if err := s.st.StoreAt(m.subject, m.hdr, m.data, sm.sseq, sm.ts); err != nil {
			r.storeFailed(sm.sseq, err)
			res.err = storeError(err)
			return res
		}
		r.stored.Store(sm.sseq)
		res.seq, res.stored = sm.sseq, true
		return res
	}
	res = s.process(cfg, m)
	if res.err != nil {
		r.storeFailed(sm.sseq, res.err)
		return res
	}
	r.stored.Store(sm.sseq)
	return res
}

// publishSnapshot records, after a batch's durability point, where every
// run stands (only when the batch held sourced messages).
func (s *Stream) publishSnapshot(streamSeq uint64) {
	sg := s.src.Load()
	if sg == nil {
		return
	}
	snap := &sourceSnapshot{StreamSeq: streamSeq, Sources: make(map[string]sourcePosition, len(sg.runs))}
	for _, r := range sg.runs {
		snap.Sources[r.iname] = sourcePosition{Seq: r.stored.Load(), Identity: r.identity()}
	}
	sg.snap.Store(snap)
}

// snapshotLoop writes the latest durable snapshot to sources.json at most
// every sourceSnapEvery, and once more when stopped.
func (sg *sourcing) snapshotLoop(ctx context.Context) {
	t := time.NewTicker(sourceSnapEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			sg.writeSnapshot()
			return
		case <-t.C:
			sg.writeSnapshot()
		}
	}
}
