package subject

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
)

// Errors returned by Sublist. They are wrapped with the offending input; test
// with errors.Is.
var (
	ErrInvalidSubject = errors.New("subject: invalid subject")
	ErrInvalidQueue   = errors.New("subject: invalid queue name")
	ErrNotFound       = errors.New("subject: not found")
)

// Sublist maps subscription patterns, each with an optional queue group, to
// values of type T, and finds every value whose pattern matches a literal
// subject. It is safe for concurrent use. The zero value is an empty Sublist
// without a match cache; NewSublist makes one with a cache.
type Sublist[T comparable] struct {
	mu    sync.RWMutex
	root  *level[T] // nil until the first Insert on a zero Sublist
	cache *matchCache[T]
	seed  maphash.Seed
	count atomic.Int64  // stored (subject, queue, value) entries
	gen   atomic.Uint64 // bumped by every change
}

// NewSublist returns an empty Sublist. cacheSize is the number of match results
// kept in the match cache, rounded up to a power of two: 0 selects
// DefaultCacheSize and a negative size disables the cache.
func NewSublist[T comparable](cacheSize int) *Sublist[T] {
	s := &Sublist[T]{root: &level[T]{}}
	if cacheSize == 0 {
		cacheSize = DefaultCacheSize
	}
	if cacheSize > 0 {
		s.seed = maphash.MakeSeed()
		s.cache = newMatchCache[T](cacheSize)
	}
	return s
}

// Insert stores v under the pattern subject and the queue group queue ("" for
// none). Storing the same (subject, queue, v) again changes nothing. It returns
// an error wrapping ErrInvalidSubject if subject is not Valid, or
// ErrInvalidQueue if queue is neither empty nor ValidQueue. The Sublist keeps
// its own copies of subject and queue.
func (s *Sublist[T]) Insert(subject, queue string, v T) error {
	if !Valid(subject) {
		return fmt.Errorf("%w: %q", ErrInvalidSubject, subject)
	}
	if queue != "" && !ValidQueue(queue) {
		return fmt.Errorf("%w: %q", ErrInvalidQueue, queue)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root == nil {
		s.root = &level[T]{}
	}
	n := s.root.insertPath(subject)
	if n.subject == "" {
		n.subject = strings.Clone(subject)
	}
	if queue != "" && n.findQueue(queue) < 0 {
		queue = strings.Clone(queue)
	}
	if !n.add(queue, v) {
		return nil
	}
	s.changedLocked(subject, 1)
	return nil
}

// insertPath returns the node for the valid pattern subject below l, creating
// missing levels and nodes. New map keys are substrings of one private copy
// of subject, made only if a node is created.
func (l *level[T]) insertPath(subject string) *node[T] {
	var owned string
	for start := 0; ; {
		end := tokenEnd(subject, start)
		n := l.child(subject[start:end])
		if n == nil {
			if owned == "" {
				owned = strings.Clone(subject)
			}
			n = l.addChild(owned[start:end])
		}
		if end == len(subject) {
			return n
		}
		if n.next == nil {
			n.next = &level[T]{}
		}
		l, start = n.next, end+1
	}
}

// Remove deletes v stored under subject and queue. It returns an error wrapping
// ErrNotFound if there is no such entry (or ErrInvalidSubject if subject is
// not Valid, in which case there cannot be one). Nodes and levels left empty
// are pruned.
func (s *Sublist[T]) Remove(subject, queue string, v T) error {
	if !Valid(subject) {
		return fmt.Errorf("%w: %q", ErrInvalidSubject, subject)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root == nil || !s.root.removePath(subject, 0, queue, v) {
		return fmt.Errorf("%w: %q queue %q", ErrNotFound, subject, queue)
	}
	s.changedLocked(subject, -1)
	return nil
}

// removePath removes v from the node for subject[start:] below l and prunes
// the nodes and levels that are left empty on the way back up.
func (l *level[T]) removePath(subject string, start int, queue string, v T) bool {
	end := tokenEnd(subject, start)
	tok := subject[start:end]
	n := l.child(tok)
	if n == nil {
		return false
	}
	if end == len(subject) {
		if !n.remove(queue, v) {
			return false
		}
	} else {
		if n.next == nil || !n.next.removePath(subject, end+1, queue, v) {
			return false
		}
		if n.next.isEmpty() {
			n.next = nil
		}
	}
	if n.isEmpty() {
		l.removeChild(tok)
	}
	return true
}

// changedLocked records a change to pattern: it updates the counters and drops
// every cached result the change may affect. s.mu is held for writing.
func (s *Sublist[T]) changedLocked(pattern string, delta int64) {
	s.count.Add(delta)
	s.gen.Add(1)
	if s.cache != nil {
		s.cache.invalidate(s.seed, pattern)
	}
}

// Match resets r and fills it with every value whose pattern matches the
// literal subject: values without a queue group go to r.Plain, the others are
// grouped by queue name in r.Queues. A subject that is empty or has an empty
// token matches nothing; other bytes, including wildcard characters, are not
// checked (a '*' or '>' token in subject is matched only by wildcards).
//
// Match allocates nothing once r's slices have grown large enough, on a cache
// hit and on a miss alike. subject is not retained.
func (s *Sublist[T]) Match(subject []byte, r *Result[T]) {
	c := s.cache
	var h uint64
	if c != nil {
		// Only valid subjects and empty results are ever cached, so a hit
		// needs no validation.
		h = maphash.Bytes(s.seed, subject)
		if c.get(h, subject, r) {
			return
		}
	}
	r.Reset()
	s.mu.RLock()
	if s.root != nil {
		s.root.match(subject, 0, r)
		// The walk treats an empty token as a token; only a subject with
		// results needs the check that it has none.
		if !r.Empty() && !tokensNonEmptyBytes(subject) {
			r.Reset()
		}
	}
	if c != nil {
		// Stored under the read lock, so no writer can invalidate in between.
		c.put(h, subject, r)
	}
	s.mu.RUnlock()
}

// match adds to r the values of every node below l whose pattern matches
// subject[start:]. Literal tokens are followed iteratively; each '*' child
// starts a recursive descent, each '>' child matches the rest at once.
func (l *level[T]) match(subject []byte, start int, r *Result[T]) {
	for {
		end := tokenEnd(subject, start)
		last := end == len(subject)
		if l.fwc != nil {
			l.fwc.appendTo(r)
		}
		if p := l.pwc; p != nil {
			if last {
				p.appendTo(r)
			} else if p.next != nil {
				p.next.match(subject, end+1, r)
			}
		}
		if len(l.nodes) == 0 {
			return
		}
		n := l.nodes[string(subject[start:end])]
		switch {
		case n == nil:
			return
		case last:
			n.appendTo(r)
			return
		case n.next == nil:
			return
		}
		l, start = n.next, end+1
	}
}

// HasInterest reports whether any pattern matches the literal subject. It
// consults the match cache but does not fill it, and allocates nothing.
func (s *Sublist[T]) HasInterest(subject []byte) bool {
	if c := s.cache; c != nil {
		if found, interest := c.has(maphash.Bytes(s.seed, subject), subject); found {
			return interest
		}
	}
	s.mu.RLock()
	interest := s.root != nil && s.root.hasInterest(subject, 0)
	s.mu.RUnlock()
	return interest && tokensNonEmptyBytes(subject)
}

// hasInterest is match that stops at the first node with values.
func (l *level[T]) hasInterest(subject []byte, start int) bool {
	for {
		end := tokenEnd(subject, start)
		last := end == len(subject)
		if l.fwc != nil && l.fwc.hasValues() {
			return true
		}
		if p := l.pwc; p != nil {
			if last && p.hasValues() {
				return true
			}
			if !last && p.next != nil && p.next.hasInterest(subject, end+1) {
				return true
			}
		}
		if len(l.nodes) == 0 {
			return false
		}
		n := l.nodes[string(subject[start:end])]
		switch {
		case n == nil:
			return false
		case last:
			return n.hasValues()
		case n.next == nil:
			return false
		}
		l, start = n.next, end+1
	}
}

// Count returns the number of stored (subject, queue, value) entries.
func (s *Sublist[T]) Count() int {
	return int(s.count.Load())
}

// Gen returns a counter that every successful Insert or Remove increases. A
// caller keeping its own cache of match results (a per-connection cache, say)
// can compare generations to know that its results may be stale.
func (s *Sublist[T]) Gen() uint64 {
	return s.gen.Load()
}

// CacheLen returns the number of results currently in the match cache (0 when
// the cache is disabled).
func (s *Sublist[T]) CacheLen() int {
	if s.cache == nil {
		return 0
	}
	return s.cache.count()
}

// All calls fn for every stored entry, in no particular order, until fn
// returns false. It holds the read lock throughout, so it sees a consistent
// snapshot, and fn must not call Insert or Remove on s (that would deadlock).
func (s *Sublist[T]) All(fn func(subject, queue string, v T) bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.root != nil {
		s.root.walk(fn)
	}
}

// walk calls fn for every entry below l; it returns false once fn has.
func (l *level[T]) walk(fn func(subject, queue string, v T) bool) bool {
	for _, n := range l.nodes {
		if !n.walk(fn) {
			return false
		}
	}
	for _, n := range [2]*node[T]{l.pwc, l.fwc} {
		if n != nil && !n.walk(fn) {
			return false
		}
	}
	return true
}

// walk calls fn for the entries at n and below it.
func (n *node[T]) walk(fn func(subject, queue string, v T) bool) bool {
	for _, v := range n.plain.items {
		if !fn(n.subject, "", v) {
			return false
		}
	}
	for i := range n.queues {
		q := &n.queues[i]
		for _, v := range q.members.items {
			if !fn(n.subject, q.name, v) {
				return false
			}
		}
	}
	return n.next == nil || n.next.walk(fn)
}

// tokenEnd returns the index of the '.' ending the token that starts at
// start, or len(s) for the last token.
func tokenEnd[S Bytes](s S, start int) int {
	for i := start; i < len(s); i++ {
		if s[i] == sep {
			return i
		}
	}
	return len(s)
}
