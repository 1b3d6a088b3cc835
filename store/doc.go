// Package store keeps the messages of one stream: an append-only log
// numbered by a sequence that only grows (unless truncated), with deletes,
// purges, retention limits and age expiry. JetStream streams, a leaf
// node's buffer while cut off from its hub, and raft logs (which need
// Truncate) rest on it. The goals, in order: never lose an acknowledged
// message, never serve a corrupt one, and be fast enough that the disk,
// not this code, is the limit.
//
// Store (store.go) is the contract. Two implementations share it exactly:
// MemStore (memstore.go) keeps everything in memory; FileStore
// (filestore*.go) keeps it on disk through a small filesystem interface
// (fs.go) that tests replace with a crash-simulating one. A model test
// (model_test.go) runs one random sequence of operations against both and
// against a naive reference, comparing them with go-cmp after every step;
// the rules below are what it checks.
//
// # Sequences and state
//
// The first message gets sequence 1, or the sequence of the first StoreAt.
// Store assigns LastSeq+1; StoreAt takes any sequence above LastSeq
// (ErrSequenceMismatch otherwise, including 0), and the sequences it skips
// are deleted ones that were never stored. FirstSeq is the lowest stored
// sequence; when the store is empty FirstSeq = LastSeq+1 and FirstTime = 0.
// LastSeq and LastTime are those of the last message ever stored: removing
// it, purging or compacting changes neither, except that Compact(seq) with
// seq > LastSeq+1 sets LastSeq = seq-1 (and FirstSeq = seq). Numbering
// never restarts, except through Truncate (see Removal), the only call
// that lowers LastSeq. Deleted = (LastSeq-FirstSeq+1) - Msgs while
// Msgs > 0, else 0: gaps below the first stored message are not counted.
// Bytes sums MsgSize over stored messages; NumSubjects counts subjects with
// at least one stored message.
//
// # Loads
//
// Load(seq): below FirstSeq or deleted -> ErrNotFound; above LastSeq ->
// ErrEOF. LoadNext(filter, start): the first match with sequence >= start
// (start 0 means from the first), ErrEOF when none. LoadLast(filter):
// ErrNotFound when none. A filter is "" or ">" for every subject, or a
// valid subject with wildcards '*' and '>' as in NATS; an invalid filter is
// ErrInvalidSubject (wrapped) for every method that returns an error, and
// selects nothing in SubjectCounts, which never returns nil.
//
// Loads fill a caller-owned Msg and reuse its buffer (Msg.buf): header and
// payload are copied into it and Header and Data slice it; a zero-length
// header or payload loads as nil. Subject may alias the buffer too
// (FileStore) or a string the store keeps (MemStore); either way it is
// valid until m is passed to another Load. Once the buffer has grown, a
// Load allocates nothing.
//
// # Removal
//
// Remove(seq) reports false, without an error, when seq holds no message.
// Purge{} removes everything. Purge{Subject} removes the matching
// messages; with Sequence, only those below Sequence; with Keep, all but
// the newest Keep matching messages (counted across every matching
// subject together). Sequence and Keep together are ErrInvalidPurge. With
// no Subject (or ">"), Purge{Sequence: n} is Compact(n). Compact(seq)
// removes every message below seq; Compact(0) and a seq at or below
// FirstSeq remove nothing; a seq above LastSeq+1 empties the store with
// FirstSeq = seq and LastSeq = seq-1. Each returns how many messages it
// removed.
//
// Truncate(seq) is for raft logs, whose uncommitted tail a new leader
// overwrites: with seq >= LastSeq it removes nothing and changes nothing
// (it returns 0); otherwise it removes every message above seq and sets
// LastSeq = seq and LastTime = the timestamp of the newest message still
// stored, which is the message at seq when that is stored, or 0 when no
// message at or below seq is left (the store cannot always know the time
// of a message removed earlier, so it does not pretend to). FirstSeq and
// FirstTime are untouched unless the store is left empty, in which case
// FirstSeq = seq+1 and FirstTime = 0; so seq below FirstSeq-1 empties the
// store with FirstSeq = seq+1, and Truncate(0) starts numbering again at
// 1. Then Store gets seq+1 and StoreAt accepts any sequence above seq.
// Limits are not applied (removing cannot break one). It returns how many
// messages it removed; the sequences between seq and the old LastSeq that
// held no message are simply forgotten.
//
// # Limits
//
// Limits (zero or negative: none) are enforced on every write, by the pure
// rules in limits.go that both stores call, in this order:
//
//  1. Before storing: len(hdr)+len(data) > MaxMsgSize -> ErrMsgTooLarge. A
//     message whose MsgSize alone is above MaxBytes -> ErrMaxBytes under
//     either policy (it could never be kept; under DiscardOld storing it
//     would only empty the store).
//  2. Before storing, with DiscardNew only: the subject already holds
//     MaxMsgsPerSubject -> ErrMaxMsgsPerSubject (as the official server's
//     discard_new_per_subject; we do not offer the "replace the subject's
//     oldest" variant under DiscardNew); Msgs >= MaxMsgs -> ErrMaxMsgs;
//     Bytes+MsgSize > MaxBytes -> ErrMaxBytes. Nothing is stored.
//  3. After storing: while the subject holds more than MaxMsgsPerSubject,
//     its oldest message is removed; then, while Msgs > MaxMsgs or
//     Bytes > MaxBytes, the oldest message is removed. (Per-subject first:
//     it removes fewer messages.)
//
// UpdateLimits validates (ErrInvalidLimits for an unknown policy), then
// applies step 3 to every subject and to the totals at once, under either
// policy: the policy says what happens to a new message, while lowered
// limits apply to the messages already stored.
//
// MaxAge is enforced by a timer on the store's Clock, never by the next
// write: it is armed for the expiry of the first (lowest-sequence) message
// when one exists and re-armed after every expiry pass, and after
// UpdateLimits, Close/reopen and recovery. A pass removes messages from the
// front, in sequence order, while ts+MaxAge <= now, and stops at the first
// message that has not expired: timestamps are expected to grow with the
// sequence; a StoreAt with an older timestamp than its predecessors is
// kept until the messages before it expire. Open, recovery and
// UpdateLimits only arm the timer (for a deadline already past, it fires
// at once on a real clock, at the next Advance on a fake one): no call
// expires messages itself, so tests see expiry exactly when time moves.
//
// # OnRemove
//
// The OnRemove callback receives the sequence of every message removed by
// any means (Remove, Purge, Compact, Truncate, limits, age), in ascending
// order per operation, after the operation has taken effect (for a
// FileStore's Truncate, after it is durable) and without the lock that
// guards the store's state, so it may call read methods. Writers are
// serialized by a separate mutex that is held while callbacks run: a
// callback must not call a write method (Store, StoreAt, Remove, Purge,
// Compact, Truncate, UpdateLimits, Close, Delete), which would deadlock.
//
// # Concurrency
//
// All methods are safe for concurrent use. Each store has a writer mutex
// (serializes Store, StoreAt, Remove, Purge, Compact, Truncate,
// UpdateLimits, the age timer, Close and Delete, including their OnRemove
// callbacks) and a RWMutex over its state (held for writing only while
// state changes, for reading by Load, LoadNext, LoadLast, State and
// SubjectCounts). Lock
// order: writer mutex, then state lock. After Close every method returns
// ErrClosed (State returns the state at close; SubjectCounts an empty map;
// a second Close or Delete is ErrClosed).
//
// # Durability
//
// A write returns once the message is in the store's memory. A FileStore
// hands it to the OS within about 1 ms (a flush timer) or when its 64 KiB
// write buffer fills, so a killed process can lose the last millisecond of
// writes nobody waited for. A message is durable (survives a crash of the
// machine) once WaitDurable(seq) has returned, which for a FileStore means
// fsynced, with concurrent waiters sharing one fsync (group commit). Sync
// makes everything durable. A MemStore is never durable: WaitDurable and
// Sync return at once (ErrClosed after Close).
//
// Truncate is the exception: a FileStore's Truncate returns only once the
// truncation (and everything stored before it) is fsynced, under every
// SyncPolicy, so that no crash after it returns can bring a truncated
// message back. Messages stored after it are durable like any write:
// after WaitDurable or Sync (or at once under SyncAlways). A WaitDurable
// for a sequence that a Truncate removes while it waits returns once the
// truncation is durable; the message it waited for is gone.
//
// # Per-subject index
//
// subjects.go holds subjectIndex, used by both stores: subject -> {count,
// first, last}. Lookups of a literal subject are one map access with no
// allocation; matching(filter) iterates the subjects a filter selects; add
// interns the subject so every message of a subject can share one string.
// Removing a subject's first (or last) message cannot know the subject's
// next one, so that bound goes stale: it stays a valid bound (readers start
// their scans there) and a writer that needs the exact first sequence
// (per-subject limits) calls subjectIndex.first with a scan function that
// only the store can provide, which fixes it lazily.
//
// # On-disk format (FileStore)
//
// A FileStore owns one directory (FileConfig.Dir):
//
//	LOCK             flock(2)-ed while open: a second opener gets ErrLocked
//	0000000001.blk   block files, numbered from 1; only the last is written
//	0000000002.blk
//	index.db         written on clean Close, removed again by open
//	*.tmp            a rewrite in progress (removed by open)
//	*.blk.bad        a block whose header was unreadable, set aside
//
// A block is a 16-byte header followed by records, appended in order. A new
// block is started when the next record would take the active block past
// BlockSize (a larger record gets a block of its own) or when a StoreAt
// leaves a gap of more than 65536 sequences. Integers are little-endian.
//
//	block header (16 bytes)
//	+--------+---------+----------+----------+--------------------+
//	| "FRNB" | version | reserved | block id | CRC-32C of bytes   |
//	| 4      | u16 = 1 | u16 = 0  | u32      | 0..12, u32         |
//	+--------+---------+----------+----------+--------------------+
//
//	record (32-byte header, then subject and body)
//	 0        4        8      9       10        12        16        24        32
//	+--------+--------+------+-------+---------+---------+---------+---------+---------+------+
//	| crc    | length | kind | flags | subject | header  | seq     | ts      | subject | body |
//	| u32    | u32    | u8   | u8    | len u16 | len u32 | u64     | i64     |         |      |
//	+--------+--------+------+-------+---------+---------+---------+---------+---------+------+
//
// crc is CRC-32C (Castagnoli) over every byte of the record after it,
// length included; length is the whole record's. A record is trusted
// only if its checksum holds; a length below 32, above 1 GiB or past the
// end of the file, an unknown kind or flag, or inconsistent sizes make it
// damaged without computing anything more.
//
// Kinds:
//
//	1 message    body = header bytes then payload bytes; header len gives
//	             the split. flags bit 0: the body is one s2 block (of
//	             header+payload; header len is then the uncompressed one).
//	2 tombstone  message seq was deleted (ts: when). No subject, no body.
//	3 mark       the stream's last sequence and time were at least seq, ts.
//	             Every new block starts with one, so dropping older blocks
//	             never lowers the last sequence.
//	4 floor      every sequence below seq is deleted; the last sequence is
//	             at least seq-1 (ts: the last time). Written when the
//	             first sequence moves (limits, age, Compact, Purge, removal
//	             of the first message) and after the mark in a new block.
//	5 truncate   Truncate(seq): every message record before this one (in
//	             log order: block id, then offset) with a sequence above
//	             seq is deleted, the tombstones before it aimed above seq
//	             are void, the floor is at most seq+1, and the last
//	             sequence and time are exactly seq and ts. Records after
//	             it, which may reuse those sequences, count as usual.
//
// Compression (FileConfig.Compression) is per record: bodies of 64 bytes
// or more are s2-compressed when that makes them smaller, and the flag
// says so, so a store can switch settings between opens. Per-record rather
// than per-block compression keeps every record readable with one read at
// a known offset and the active block appendable.
//
// In memory each block has an offset table indexed by seq - first (with a
// deleted bit), so Load is one lookup and one pread (or a copy from the
// write buffer; a reader walking forward is served from one 64 KiB
// read-ahead window, filestore_readahead.go); the shared subject index (subjects.go) gives last-by-
// subject without scanning. Removals update the table at once and are
// logged as floor or tombstone records at the end of the operation. Space
// is reclaimed by dropping blocks that fall wholly below the first
// sequence and by rewriting a sealed block whose deleted records are half
// of it (kept: live messages, tombstones whose target record is still on
// disk, truncate records in place, the highest floor before each of them
// and at the end): to a .tmp file, fsync, rename, directory sync. Both
// first make everything written so far durable, so the records that
// justify dropping bytes are on disk before the bytes go. Truncate leaves
// the truncated records in the files as dead bytes; a block holding a
// truncate record is dropped only from the front, since the record still
// governs every older record on disk (filestore_truncate.go).
//
// index.db, written on clean Close, holds the whole in-memory index:
//
//	"FRNI" | version u32 | last seq, last ts, first seq, first ts, msgs,
//	bytes, floor (u64 each) | block count u32 | per block: id u32, first u64,
//	size u64, msgs u64, bytes u64, dead u64, tombstone-dead u64, tombstone
//	count u32 and targets (u64 each), truncate count u32, last record
//	offset u32, last record crc u32, slot count u32, slots (u32 each:
//	offset, bit 31 = deleted, 0 = no record) | subject count u32 | per
//	subject: len u16, subject, msgs u64, first u64, last u64, stale flags
//	u8 | corrupt count u32, seqs (u64 each) | unknown-sequence corrupt
//	regions u32 | CRC-32C of all the preceding bytes, u32
//
// The version is 2 (1 had no truncate counts); an index of another
// version is ignored and the state rebuilt from the blocks.
//
// Open trusts it only if the checksum holds and it matches the directory:
// the same block files, each of the recorded size and ending with the
// recorded record (offset and checksum). Then it removes it (so a crash
// after new writes cannot find a stale index) and serves from it.
// Otherwise it rebuilds from the blocks: every record's checksum is
// checked; a damaged record followed by good ones is reported
// (FileStore.Corrupt, a slog warning) and skipped, and its sequence, when
// its header is readable, loads as ErrCorrupt; a damaged tail — a torn
// write — is cut off (the block is truncated); a tail that is one whole
// record with a bad checksum is reported, not cut. The last sequence is
// the highest of message records, marks and floors; the highest floor and
// the tombstones are then applied, so a rebuild never brings back a
// deleted message. A truncate record is applied where it is met, cutting
// back what was read before it (see its kind above). A record that fails
// its checksum on a later read is reported the same way: Load returns
// ErrCorrupt, LoadNext skips it.
//
// Durability: a write lands in the active block's write buffer (no system
// call); the buffer is written to the OS when it reaches 64 KiB, when a
// sync round runs, and at most 1 ms after it became non-empty, so a
// process crash loses at most that last millisecond of unsynced writes; a
// power loss loses what was not fsynced. SyncPolicy says when the store
// fsyncs by itself (SyncAlways: before every write returns; SyncInterval:
// every SyncInterval, default 2 min; SyncNone: never); WaitDurable, Sync,
// Close and Truncate always do. Group commit: one goroutine per store runs
// sync rounds; a round flushes the buffer, notes the last sequence and
// fsyncs the dirty blocks (and the directory, after a block was created or
// removed) without holding the state lock, and serves every waiter that
// arrived before it started; waiters that arrive meanwhile share the next
// round. Truncate lowers the durable sequence to its own and excludes
// rounds while it does (it takes the rounds' mutex), so that a round that
// noted the old last sequence cannot count the new messages at the reused
// sequences as durable. After a failed write or fsync the store refuses
// further writes and durability waits return the error.
package store
