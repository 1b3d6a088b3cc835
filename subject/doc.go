// Package subject validates NATS subjects and queue names and keeps the
// subject-interest tree (Sublist) that routes every published message.
//
// # Subjects and matching
//
// A subject is a sequence of non-empty tokens separated by '.', with no
// whitespace (space, \t, \n, \r, \f). Subjects are case-sensitive. In a
// subscription pattern two tokens are wildcards, but only as whole tokens:
//
//	'*'  matches exactly one token:     "a.*.c" matches "a.b.c", not "a.c" or "a.b.b.c"
//	'>'  matches one or more tokens:    "a.>"   matches "a.b" and "a.b.c", not "a"
//
// '>' must be the last token. "a*" or "*b" are ordinary tokens. A published
// subject is literal (no wildcard tokens). See the protocol fact sheet §1.8.
//
// Validation has two strengths. Valid, ValidLiteral and ValidQueue are the
// pedantic checks (SUB subjects, PUB subjects in pedantic mode, queue names);
// ValidStrict further rejects NUL bytes and malformed UTF-8. The fast path is
// Match itself, which needs no prior validation: a subject with an empty token
// matches nothing, and every other byte is taken literally, so a server that
// does not run in pedantic mode can publish without validating. Match only
// checks for empty tokens when the walk found something, and never on a cache
// hit (only valid subjects and empty results are cached).
// Every validator is generic over string and []byte and allocates nothing.
//
// # Tree shape
//
// A Sublist is a tree of levels, one per token position. A level maps literal
// tokens to nodes and has two separate children for '*' and '>'. A node holds
// the values whose pattern ends there (plain values, and one member set per
// queue group) and, for longer patterns, the next level:
//
//	root ─ "foo" ─┬─ level ─ "bar"  {plain: a}           foo.bar
//	              │        ├─ '*'   {queue "q": b, c}    foo.*  (queue q)
//	              │        └─ '>'   {plain: d}           foo.>
//	              └─ (node "foo" itself holds foo's values)
//
// Matching walks the literal path of the subject's tokens iteratively; at each
// level a '>' child contributes its values at once and a '*' child starts a
// recursive walk of the remaining tokens. Every level is reached by a single
// path, so a match visits each level at most once. Tokens are sliced from the
// subject and looked up with m[string(tok)], which does not allocate. Removing
// the last value of a node prunes it, and every level left empty above it.
// Member sets are slices (what matching copies), with a map index added once
// they grow past a few entries so Insert and Remove stay O(1).
//
// Results go into a caller-owned Result that keeps its capacity across calls;
// queue members from several matching patterns are merged by queue name.
//
// # Match cache
//
// A Sublist made by NewSublist caches the results of recent matches, keyed by
// subject. The cache is a fixed table of slots (a power of two, 1024 by
// default) divided into up to 16 shards, each with its own RWMutex. A subject
// is hashed with hash/maphash, seeded per Sublist; the hash picks the shard and
// a home slot, and the key is looked for in a window of 8 slots from there
// (open addressing without tombstones: a lookup always scans the whole window).
// Each slot owns a key buffer and a Result whose slices are overwritten in
// place when the slot is reused, so storing a miss allocates nothing once the
// slots have grown. Eviction is a CLOCK over the window: a hit marks its slot
// used, and a store takes a free slot, else the first unmarked slot (clearing
// the marks it passes), else the home slot. Results with more than 512 values
// are not cached, which bounds what a slot can hold on to.
//
// Insert and Remove keep the cache exact by invalidation (the simplest choice
// that is always correct): a changed literal pattern can only affect the cached
// subject equal to it, found by hashing; a changed wildcard pattern is tested
// against every cached subject. That scan is cheap because each shard keeps
// the first and last 8 bytes of every key in dense arrays: a key that does not
// start with the pattern's literal prefix (the tokens before its first
// wildcard) or end with its literal suffix (the tokens after its last '*',
// when it has no '>') is skipped with two integer comparisons, and only the
// rest are matched token by token (about 3-4 µs for 1024 slots). Updating cached results in place instead would keep hot entries
// through subscription churn, but must handle values stored under several
// patterns and empty queue groups; invalidation recomputes them on the next
// match instead. Gen exposes a counter bumped by every change, for callers that
// keep caches of their own.
//
// # Concurrency
//
// All methods are safe for concurrent use. The tree is guarded by one
// RWMutex: Insert and Remove hold it for writing, Match and HasInterest for
// reading on a cache miss. A cache hit takes only its shard's read lock, so
// concurrent hits never serialize and concurrent misses serialize only per
// shard while storing. The lock order is Sublist, then shard: a miss is stored
// while the tree read lock is still held, and writers invalidate while holding
// the tree write lock, so a result computed before a change is never stored
// after that change's invalidation. Once Insert or Remove has returned, every
// Match that starts afterwards observes it. All holds the read lock while it
// calls its callback, which therefore must not modify the Sublist.
//
// Nothing in the package is global: each Sublist has its own seed and cache.
package subject
