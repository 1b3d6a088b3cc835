package store

import (
	"context"
	"fmt"
	"time"
)

// This file is the FileStore's durability: one background goroutine (the
// sync loop) runs the flush timer, the SyncInterval ticker and sync rounds
// on request. Group commit is the single-syncer design: a waiter
// (WaitDurable, Sync, a SyncAlways write) registers and kicks the loop;
// a round flushes the write buffer, notes the last sequence, releases the
// state lock and fsyncs every dirty block (and the directory when a block
// was created or removed). Writers keep appending meanwhile; everyone who
// arrived before the round started is served by it, everyone who arrived
// during it by the next one. So N concurrent waiters cost about two fsyncs,
// not N. Rounds are serialized by syncMu; writers that need durability
// before dropping bytes (filestore_compact.go) run a round themselves.

// syncLoop is the background goroutine.
func (s *FileStore) syncLoop() {
	defer close(s.loopDone)
	var tick <-chan time.Time
	if s.cfg.Sync == SyncInterval {
		t := time.NewTicker(s.cfg.SyncInterval)
		defer t.Stop()
		tick = t.C
	}
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	defer flush.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-s.syncReq:
			s.syncRound()
		case <-tick:
			s.syncRound()
		case <-s.flushReq:
			flush.Reset(flushDelay)
		case <-flush.C:
			s.mu.Lock()
			s.flushArmed = false
			if !s.closed {
				s.flushLocked()
			}
			s.mu.Unlock()
		}
	}
}

// syncRound makes everything written before it started durable. It must
// not be called with mu held.
func (s *FileStore) syncRound() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.dmu.Lock()
	gen := s.reqGen
	s.dmu.Unlock()

	s.mu.Lock()
	err := s.flushLocked()
	target := s.lastSeq
	files := s.syncFiles[:0]
	for _, b := range s.blocks {
		if b.dirty && b.f != nil {
			files = append(files, b.f)
			b.dirty = false
		}
	}
	dir := s.dirDirty
	s.dirDirty = false
	s.mu.Unlock()

	for _, f := range files {
		if e := f.Sync(); e != nil && err == nil {
			err = fmt.Errorf("store: fsync: %w", e)
		}
	}
	clear(files)
	s.syncFiles = files[:0]
	if dir && err == nil {
		if e := s.fs.SyncDir(s.cfg.Dir); e != nil {
			err = fmt.Errorf("store: fsync dir: %w", e)
		}
	}

	s.dmu.Lock()
	defer s.dmu.Unlock()
	if err != nil && s.serr == nil {
		s.serr = err
		s.log.Error("store: sync failed; durability can no longer be promised", "err", err)
	}
	if s.serr == nil {
		s.durable = max(s.durable, target)
		s.doneGen = gen
	}
	close(s.roundDone)
	s.roundDone = make(chan struct{})
	return s.serr
}

// kick asks the sync loop for a round.
func (s *FileStore) kick() {
	select {
	case s.syncReq <- struct{}{}:
	default:
	}
}

// WaitDurable implements Store: it returns once every message up to seq
// (clamped to the last sequence) is fsynced, sharing fsyncs with
// concurrent callers. After a failed fsync it returns that error for good.
// A wait for a sequence that a Truncate removes meanwhile ends once the
// truncation is durable: the message waited for is gone, and one stored
// at the same sequence later needs a wait of its own.
func (s *FileStore) WaitDurable(ctx context.Context, seq uint64) error {
	s.mu.RLock()
	closed, last, gen := s.closed, s.lastSeq, s.truncGen
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	return s.waitDurable(ctx, min(seq, last), gen)
}

// waitDurable waits for seq; gen is truncGen as of when seq was known to
// be stored (read under mu), so that a Truncate after that is noticed.
func (s *FileStore) waitDurable(ctx context.Context, seq, gen uint64) error {
	for {
		s.dmu.Lock()
		if s.truncGen != gen {
			// Truncate lowered durable to truncTo and makes it durable
			// again before it returns.
			gen, seq = s.truncGen, min(seq, s.truncTo)
		}
		err, done, stopped, ch := s.serr, seq <= s.durable, s.stopped, s.roundDone
		s.dmu.Unlock()
		switch {
		case err != nil:
			return err
		case done:
			return nil
		case stopped:
			return ErrClosed
		}
		s.kick()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Sync implements Store: everything written so far (messages and
// removals) is durable when it returns.
func (s *FileStore) Sync() error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	s.dmu.Lock()
	s.reqGen++
	want := s.reqGen
	s.dmu.Unlock()
	for {
		s.dmu.Lock()
		err, done, stopped, ch := s.serr, s.doneGen >= want, s.stopped, s.roundDone
		s.dmu.Unlock()
		switch {
		case err != nil:
			return err
		case done:
			return nil
		case stopped:
			return ErrClosed
		}
		s.kick()
		<-ch
	}
}
