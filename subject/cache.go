package subject

import (
	"bytes"
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"
)

// This file is the match cache. See the package documentation for the design;
// in short: a fixed number of slots split into shards, each shard an
// open-addressing table probed over a short window, each slot owning a reusable
// key buffer and a reusable Result, so that neither a hit nor a miss allocates
// once the slots' buffers have grown.

const (
	// DefaultCacheSize is the number of cached match results when NewSublist
	// is given 0.
	DefaultCacheSize = 1024

	// maxCachedLen is the largest result (in values) that is cached. Bigger
	// results are recomputed on every match: the copy dominates their cost
	// anyway, and skipping them bounds the memory a slot can hold on to.
	maxCachedLen = 512

	probeWindow = 8  // slots examined for one key
	maxShards   = 16 // shards, so that readers of different subjects rarely meet
)

// matchCache maps literal subjects to match results.
//
// Lock order: Sublist.mu before cacheShard.mu. Readers take a shard's read
// lock for a hit; a miss is stored while the Sublist read lock is held, and
// writers invalidate while holding the Sublist write lock, so a result computed
// before a change can never be stored after the change invalidated the cache.
type matchCache[T comparable] struct {
	shards    []cacheShard[T]
	shardMask uint64 // len(shards)-1
	slotMask  uint64 // slots per shard - 1
	window    int    // min(probeWindow, slots per shard)
}

// cacheShard is one independently locked part of the table. A slot is free
// when its tag is 0; otherwise the tag is the key's hash with the low bit set.
//
// heads and tails hold the first and last 8 bytes of each key, so that
// invalidation can reject most keys without touching the slots.
type cacheShard[T comparable] struct {
	mu    sync.RWMutex
	tags  []uint64
	heads []uint64
	tails []uint64
	slots []cacheSlot[T]
	_     [64]byte // keep the next shard's lock off this cache line
}

// cacheSlot is one cached result. key and res keep their capacity when the
// slot is evicted or invalidated, and are overwritten in place.
type cacheSlot[T comparable] struct {
	used atomic.Bool // set by a hit; the eviction clock spares used slots once
	key  []byte
	res  Result[T]
}

// newMatchCache returns a cache of at least size slots (rounded up to a power
// of two).
func newMatchCache[T comparable](size int) *matchCache[T] {
	slots := 1 << bits.Len(uint(max(size, 1)-1))
	nshards := min(maxShards, max(1, slots/(4*probeWindow)))
	per := slots / nshards
	c := &matchCache[T]{
		shards:    make([]cacheShard[T], nshards),
		shardMask: uint64(nshards - 1),
		slotMask:  uint64(per - 1),
		window:    min(probeWindow, per),
	}
	for i := range c.shards {
		c.shards[i].tags = make([]uint64, per)
		c.shards[i].heads = make([]uint64, per)
		c.shards[i].tails = make([]uint64, per)
		c.shards[i].slots = make([]cacheSlot[T], per)
	}
	return c
}

// capacity returns the number of slots.
func (c *matchCache[T]) capacity() int {
	return len(c.shards) * int(c.slotMask+1)
}

// locate returns the shard, the home slot and the tag for hash h.
func (c *matchCache[T]) locate(h uint64) (*cacheShard[T], uint64, uint64) {
	return &c.shards[h&c.shardMask], (h >> 32) & c.slotMask, h | 1
}

// find returns the slot holding key in sh, or -1. sh.mu must be held.
func (c *matchCache[T]) find(sh *cacheShard[T], home, tag uint64, key []byte) int {
	for k := range c.window {
		i := (home + uint64(k)) & c.slotMask
		if sh.tags[i] == tag && bytes.Equal(sh.slots[i].key, key) {
			return int(i)
		}
	}
	return -1
}

// get copies the cached result for subj into r and reports whether there was one.
func (c *matchCache[T]) get(h uint64, subj []byte, r *Result[T]) bool {
	sh, home, tag := c.locate(h)
	sh.mu.RLock()
	i := c.find(sh, home, tag, subj)
	if i >= 0 {
		e := &sh.slots[i]
		if !e.used.Load() {
			e.used.Store(true)
		}
		r.CopyFrom(&e.res)
	}
	sh.mu.RUnlock()
	return i >= 0
}

// has reports whether subj is cached and, if so, whether its result is non-empty.
func (c *matchCache[T]) has(h uint64, subj []byte) (found, interest bool) {
	sh, home, tag := c.locate(h)
	sh.mu.RLock()
	if i := c.find(sh, home, tag, subj); i >= 0 {
		found, interest = true, !sh.slots[i].res.Empty()
	}
	sh.mu.RUnlock()
	return found, interest
}

// put caches r as the result for subj. The caller holds the Sublist read lock.
func (c *matchCache[T]) put(h uint64, subj []byte, r *Result[T]) {
	if r.Len() > maxCachedLen {
		return
	}
	sh, home, tag := c.locate(h)
	sh.mu.Lock()
	i := c.find(sh, home, tag, subj)
	if i < 0 {
		i = c.victim(sh, home)
	}
	e := &sh.slots[i]
	sh.tags[i] = tag
	sh.heads[i], sh.tails[i] = head8(subj), tail8(subj)
	e.key = append(e.key[:0], subj...)
	e.res.CopyFrom(r)
	e.used.Store(false)
	sh.mu.Unlock()
}

// victim picks the slot to overwrite in the window starting at home: a free
// slot if there is one, else the first slot not used since the clock last
// passed it (clearing the used marks it passes), else home. sh.mu is held.
func (c *matchCache[T]) victim(sh *cacheShard[T], home uint64) int {
	for k := range c.window {
		i := (home + uint64(k)) & c.slotMask
		if sh.tags[i] == 0 {
			return int(i)
		}
	}
	for k := range c.window {
		i := (home + uint64(k)) & c.slotMask
		if !sh.slots[i].used.Load() {
			return int(i)
		}
		sh.slots[i].used.Store(false)
	}
	return int(home)
}

// invalidate drops every cached result whose subject pattern matches, so that
// the next match recomputes it. The caller holds the Sublist write lock.
//
// A literal pattern can only match the subject equal to it, which is found by
// hashing. A wildcard pattern is tested against every cached subject, first
// with a prefix/suffix filter and then token by token; with the default 1024
// slots this costs a few microseconds per wildcard Insert/Remove.
func (c *matchCache[T]) invalidate(seed maphash.Seed, pattern string) {
	if IsLiteral(pattern) {
		h := maphash.String(seed, pattern)
		sh, home, tag := c.locate(h)
		sh.mu.Lock()
		for k := range c.window {
			i := (home + uint64(k)) & c.slotMask
			if sh.tags[i] == tag && string(sh.slots[i].key) == pattern {
				sh.free(int(i))
			}
		}
		sh.mu.Unlock()
		return
	}
	f := newPatternFilter(pattern)
	for s := range c.shards {
		sh := &c.shards[s]
		sh.mu.Lock()
		for i, tag := range sh.tags {
			// Cached keys have no empty token (or an empty result, which
			// stays right whatever changes), so matchTokens suffices.
			if tag != 0 && f.mayMatchEnds(sh.heads[i], sh.tails[i]) &&
				f.mayMatch(sh.slots[i].key) && matchTokens(sh.slots[i].key, pattern) {
				sh.free(i)
			}
		}
		sh.mu.Unlock()
	}
}

// free marks slot i empty, keeping its buffers. sh.mu is held.
func (sh *cacheShard[T]) free(i int) {
	sh.tags[i] = 0
	sh.slots[i].res.Reset()
	sh.slots[i].used.Store(false)
}

// count returns the number of cached results.
func (c *matchCache[T]) count() int {
	n := 0
	for s := range c.shards {
		sh := &c.shards[s]
		sh.mu.RLock()
		for _, tag := range sh.tags {
			if tag != 0 {
				n++
			}
		}
		sh.mu.RUnlock()
	}
	return n
}
