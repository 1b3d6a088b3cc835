package store

import (
	"context"
	"errors"
	"time"
)

// Store is the storage of one stream: an append-only log of messages
// numbered by a sequence that only grows (unless truncated), with deletes,
// purges and limits. FileStore and MemStore implement it with the same
// observable behaviour (a model test holds them to it).
//
// Concurrency: every method is safe for concurrent use. Writes (Store,
// StoreAt, Remove, Purge, Compact, Truncate, UpdateLimits) are
// serialized; reads may run alongside each other. Callbacks registered
// with OnRemove run serialized with writes (under the writer lock, not the
// state lock): they may call read methods, but not write methods.
//
// Sequences start at 1 (or at the first StoreAt sequence). After a purge
// or compact, numbering continues: first = last+1 when the store is empty.
// Only Truncate moves the last sequence back.
type Store interface {
	// Store appends a message with the next sequence and the clock's
	// current time. hdr and data are copied; the caller may reuse them.
	// Errors: ErrClosed, ErrMsgTooLarge, ErrMaxMsgs / ErrMaxBytes /
	// ErrMaxMsgsPerSubject (only with DiscardNew), ErrInvalidSubject.
	Store(subject string, hdr, data []byte) (seq uint64, ts int64, err error)

	// StoreAt appends with a caller-given sequence and timestamp (unix
	// nanoseconds), for mirrors and sources. seq must be above the last
	// sequence (ErrSequenceMismatch otherwise); the gap counts as deleted
	// sequences below seq that were never stored.
	StoreAt(subject string, hdr, data []byte, seq uint64, ts int64) error

	// Load loads message seq into m (reusing m's buffers) and returns it.
	// Errors: ErrNotFound (below first, or deleted), ErrEOF (above last),
	// ErrCorrupt (checksum failed: never served as good data), ErrClosed.
	Load(seq uint64, m *Msg) (*Msg, error)

	// LoadLast loads the message with the highest sequence whose subject
	// matches filter (wildcards allowed; "" or ">" means any subject).
	// ErrNotFound when none matches.
	LoadLast(filter string, m *Msg) (*Msg, error)

	// LoadNext loads the first message with sequence >= start whose
	// subject matches filter ("" or ">" means any). ErrEOF when none.
	LoadNext(filter string, start uint64, m *Msg) (*Msg, error)

	// Remove deletes one message. It reports false (and no error) when
	// seq is not stored (never was, already deleted, or out of range).
	Remove(seq uint64) (bool, error)

	// Purge deletes messages as p says and returns how many it deleted.
	Purge(p Purge) (uint64, error)

	// Compact deletes every message below seq. If seq is above last+1 the
	// store becomes empty with first = seq and last = seq-1.
	Compact(seq uint64) (uint64, error)

	// Truncate deletes every message above seq and makes seq the last
	// sequence, so that the next Store gets seq+1 and StoreAt accepts
	// seq+1 again: a raft log dropping the uncommitted tail a new leader
	// overwrites. LastTime becomes the time of the newest message still
	// stored (the one at seq, if stored), 0 if none is left. A seq at or
	// above the last sequence changes nothing; one below first-1 empties
	// the store with first = seq+1. It returns how many messages it
	// deleted, each reported to OnRemove. A FileStore returns once the
	// truncation is durable (it fsyncs under every SyncPolicy).
	Truncate(seq uint64) (uint64, error)

	// State returns counts and bounds. Subject counts are filled only when
	// asked for with a filter (SubjectCounts).
	State() State

	// SubjectCounts returns the number of stored messages per subject for
	// the subjects matching filter ("" or ">" means all).
	SubjectCounts(filter string) map[string]uint64

	// OnRemove registers fn to be called with the sequence of every
	// message the store removes by itself (limits, max age) or through
	// Remove/Purge/Compact/Truncate. Replaces any earlier callback; nil
	// clears it.
	OnRemove(fn func(seq uint64))

	// UpdateLimits applies new limits and enforces them at once.
	UpdateLimits(l Limits) error

	// WaitDurable returns once message seq (and every message before it)
	// is durable as the sync policy defines it: for a FileStore, fsynced.
	// Concurrent callers share one fsync (group commit). A MemStore
	// returns at once. ctx bounds the wait.
	WaitDurable(ctx context.Context, seq uint64) error

	// Sync makes everything stored so far durable (FileStore: flush and
	// fsync).
	Sync() error

	// Close flushes and releases the store. Later calls return ErrClosed.
	Close() error

	// Delete closes the store and removes all of its data.
	Delete() error
}

// Msg is one stored message. Load fills a caller-owned Msg and reuses its
// buffer, so a reader that loads in a loop allocates nothing once the
// buffer has grown. Subject, Header and Data alias that buffer: they stay
// valid until m is passed to another Load.
type Msg struct {
	Subject string
	Header  []byte
	Data    []byte
	Seq     uint64
	Time    int64 // unix nanoseconds

	buf []byte
}

// Purge selects messages to delete. The zero value purges everything.
// Sequence and Keep are exclusive; either may be combined with Subject.
type Purge struct {
	// Subject limits the purge to matching subjects (wildcards allowed).
	Subject string
	// Sequence purges messages below this sequence (not including it).
	Sequence uint64
	// Keep keeps the newest Keep messages (of Subject, if given).
	Keep uint64
}

// State is a stream's summary.
type State struct {
	Msgs      uint64
	Bytes     uint64 // sum of MsgSize over stored messages
	FirstSeq  uint64
	FirstTime int64 // unix nanos; 0 when empty
	LastSeq   uint64
	LastTime  int64
	// Deleted is the number of sequences between FirstSeq and LastSeq
	// that hold no message.
	Deleted     uint64
	NumSubjects int
}

// DiscardPolicy says what happens when a limit is reached.
type DiscardPolicy uint8

const (
	// DiscardOld removes the oldest messages to make room (the default).
	DiscardOld DiscardPolicy = iota
	// DiscardNew refuses the new message with ErrMaxMsgs, ErrMaxBytes or
	// ErrMaxMsgsPerSubject.
	DiscardNew
)

// Limits are a stream's retention limits. Zero or negative means no limit.
type Limits struct {
	MaxMsgs           int64
	MaxBytes          int64
	MaxAge            time.Duration // expiry is driven by a timer, not by the next write
	MaxMsgsPerSubject int64         // the subject's oldest makes room, unless DiscardNewPerSubject
	MaxMsgSize        int32         // MsgSize-independent: len(hdr)+len(data)
	Discard           DiscardPolicy
	// DiscardNewPerSubject (with DiscardNew) refuses a message whose
	// subject already holds MaxMsgsPerSubject (ErrMaxMsgsPerSubject).
	// Without it, as officially (and as key-value buckets need), the
	// subject's oldest message makes room even under DiscardNew, and a
	// message that replaces one that way is not refused for MaxMsgs.
	DiscardNewPerSubject bool
}

// MsgSize is the size a message counts for in State.Bytes and MaxBytes,
// the same for every store: subject, header and payload plus 16 bytes for
// sequence and timestamp.
func MsgSize(subject string, hdr, data []byte) uint64 {
	return uint64(len(subject) + len(hdr) + len(data) + 16)
}

// Errors callers test with errors.Is.
var (
	ErrClosed            = errors.New("store: closed")
	ErrNotFound          = errors.New("store: message not found")
	ErrEOF               = errors.New("store: no message at or after sequence")
	ErrMsgTooLarge       = errors.New("store: message too large")
	ErrMaxMsgs           = errors.New("store: maximum messages exceeded")
	ErrMaxBytes          = errors.New("store: maximum bytes exceeded")
	ErrMaxMsgsPerSubject = errors.New("store: maximum messages per subject exceeded")
	ErrSequenceMismatch  = errors.New("store: sequence mismatch")
	ErrInvalidSubject    = errors.New("store: invalid subject")
	ErrCorrupt           = errors.New("store: corrupt data")
	ErrLocked            = errors.New("store: directory locked by another process")
)
