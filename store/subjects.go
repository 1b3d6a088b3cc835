package store

import (
	"iter"
	"strings"

	"github.com/fernmq/fern/subject"
)

// This file is the per-subject index both stores keep: for every subject
// with stored messages, how many there are and where they lie in the
// sequence space. See the package documentation ("Per-subject index").

// subjectState is one subject's entry in a subjectIndex.
//
// first and last bound the subject's stored sequences: first is at most
// the lowest stored sequence of the subject and last at least the highest.
// They are exact unless firstStale / lastStale is set; they go stale when
// the message at the bound is removed, since only the store can say where
// the subject's next message lies. A stale bound is still a valid bound, so
// readers can always start a scan there (LoadNext from first, LoadLast
// back from last) without fixing it; a writer that needs the exact first
// sequence (per-subject limits) calls subjectIndex.first, which rescans.
type subjectState struct {
	subj       string // the index's own copy of the subject
	msgs       uint64
	first      uint64
	last       uint64
	firstStale bool
	lastStale  bool
}

// subjectIndex maps subject -> subjectState.
//
// Concurrency: none of its own. Mutating methods (add, remove, first with
// a stale bound, reset) need the store's exclusive lock; get, matching,
// len and counts may run under a shared (read) lock.
//
// Allocation: get, add of a known subject, and remove allocate nothing.
// add of a new subject allocates its entry and a copy of the subject
// (the caller's string may alias a reused buffer).
type subjectIndex struct {
	m map[string]*subjectState
}

// subjectScan finds the lowest stored sequence in [lo, hi] whose message
// has subject subj. The store supplies it to subjectIndex.first; the index
// guarantees that such a message exists (it holds subj's count and bounds).
type subjectScan func(subj string, lo, hi uint64) uint64

// add records a message of subj at seq, which must be above every sequence
// stored so far for subj (stores only append). It returns the index's own
// copy of subj, which the store may keep in place of the caller's string
// so that every message of a subject shares one string.
func (x *subjectIndex) add(subj string, seq uint64) string {
	if x.m == nil {
		x.m = make(map[string]*subjectState)
	}
	if ss, ok := x.m[subj]; ok {
		ss.msgs++
		ss.last, ss.lastStale = seq, false
		ss.normalize()
		return ss.subj
	}
	key := strings.Clone(subj)
	x.m[key] = &subjectState{subj: key, msgs: 1, first: seq, last: seq}
	return key
}

// remove records that the message of subj at seq is gone. It reports
// whether subj has no messages left (its entry is then deleted). Removing
// a subject that is not present is a no-op. When seq was at a bound the
// bound moves past it and goes stale (see subjectState).
func (x *subjectIndex) remove(subj string, seq uint64) (gone bool) {
	ss, ok := x.m[subj]
	if !ok {
		return false
	}
	if ss.msgs <= 1 {
		delete(x.m, subj)
		return true
	}
	ss.msgs--
	if seq <= ss.first {
		ss.first, ss.firstStale = seq+1, true
	}
	if seq >= ss.last {
		ss.last, ss.lastStale = seq-1, true
	}
	ss.normalize()
	return false
}

// normalize makes bounds exact where the count allows it: a subject with
// one message, one exact bound, or bounds that meet, has both exact.
func (ss *subjectState) normalize() {
	switch {
	case ss.first == ss.last:
		ss.firstStale, ss.lastStale = false, false
	case ss.msgs == 1 && !ss.firstStale:
		ss.last, ss.lastStale = ss.first, false
	case ss.msgs == 1 && !ss.lastStale:
		ss.first, ss.firstStale = ss.last, false
	}
}

// get returns subj's entry, or nil. It allocates nothing. The caller must
// treat the entry as read-only.
func (x *subjectIndex) get(subj string) *subjectState {
	return x.m[subj]
}

// first returns the exact lowest stored sequence of the subject whose
// entry is ss, rescanning with scan when the bound is stale (and caching
// the result, so it needs the exclusive lock).
func (x *subjectIndex) first(subj string, ss *subjectState, scan subjectScan) uint64 {
	if ss.firstStale {
		ss.first, ss.firstStale = scan(subj, ss.first, ss.last), false
		ss.normalize()
	}
	return ss.first
}

// len is the number of subjects with stored messages.
func (x *subjectIndex) len() int { return len(x.m) }

// reset forgets every subject.
func (x *subjectIndex) reset() { clear(x.m) }

// matching yields the entries whose subject matches filter ("" or ">" is
// every subject). A literal filter is one map lookup; a wildcard filter
// visits every subject (in map order). The index must not be modified
// during the iteration.
func (x *subjectIndex) matching(filter string) iter.Seq2[string, *subjectState] {
	return func(yield func(string, *subjectState) bool) {
		switch {
		case matchesAll(filter):
			for subj, ss := range x.m {
				if !yield(subj, ss) {
					return
				}
			}
		case subject.IsLiteral(filter):
			if ss, ok := x.m[filter]; ok {
				yield(filter, ss)
			}
		default:
			for subj, ss := range x.m {
				if subject.Matches(subj, filter) && !yield(subj, ss) {
					return
				}
			}
		}
	}
}

// counts returns the message count of every subject matching filter, as
// Store.SubjectCounts reports it (never nil).
func (x *subjectIndex) counts(filter string) map[string]uint64 {
	out := make(map[string]uint64)
	for subj, ss := range x.matching(filter) {
		out[subj] = ss.msgs
	}
	return out
}

// matchesAll reports whether filter selects every subject.
func matchesAll(filter string) bool { return filter == "" || filter == ">" }

// validFilter reports whether filter is usable as a subject filter: empty
// (all) or a valid subject, wildcards allowed.
func validFilter(filter string) bool { return filter == "" || subject.Valid(filter) }

// filterMatch reports whether subj matches filter ("" or ">" match all).
func filterMatch(subj, filter string) bool {
	if matchesAll(filter) {
		return true
	}
	if subject.IsLiteral(filter) {
		return subj == filter
	}
	return subject.Matches(subj, filter)
}
