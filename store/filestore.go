package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// This file is the FileStore's configuration, its state, Open/Close/Delete
// and the small read-only methods. The rest lives in filestore_*.go:
// record framing (record), blocks and record reads (block), loads (load),
// the write path (write), group commit (sync), deletes and limits
// (remove), truncating the tail (truncate), block compaction (compact),
// the index file (index) and crash recovery (recover). The on-disk format
// is in the package documentation.

// SyncPolicy says when a FileStore fsyncs on its own.
type SyncPolicy uint8

const (
	// SyncInterval fsyncs in the background every FileConfig.SyncInterval
	// (default 2 minutes, as the official server). The default.
	SyncInterval SyncPolicy = iota
	// SyncAlways fsyncs before every write (Store, StoreAt, Remove, Purge,
	// Compact) returns. Concurrent writers share fsyncs.
	SyncAlways
	// SyncNone fsyncs only on Sync, WaitDurable, Close and Truncate (which
	// is durable when it returns under every policy).
	SyncNone
)

// Compression selects how a FileStore compresses message bodies.
type Compression uint8

const (
	// CompressNone stores bodies as they are (the default).
	CompressNone Compression = iota
	// CompressS2 compresses each message body (header and payload) of 64
	// bytes or more with s2, when that makes it smaller.
	CompressS2
)

// FileConfig configures a FileStore. The zero value of every field but
// Dir is usable.
type FileConfig struct {
	// Dir is the store's directory; all of its files live there. It is
	// created if missing. Required.
	Dir string
	// FS is the filesystem (default OSFS). Tests pass a CrashFS.
	FS FS
	// Clock gives message timestamps and drives max-age expiry (default
	// SystemClock).
	Clock Clock
	// BlockSize is the size at which a new block file is started
	// (default 8 MiB; at least 4 KiB, at most 1 GiB). A message larger
	// than a block gets a block of its own.
	BlockSize int64
	// Sync is the fsync policy (default SyncInterval).
	Sync SyncPolicy
	// SyncInterval is the background fsync period under SyncInterval
	// (default 2 minutes).
	SyncInterval time.Duration
	// Compression of message bodies (default none). Records written
	// under different settings can be read back under any setting.
	Compression Compression
	// Limits are the retention limits, enforced at open and on every
	// write (see UpdateLimits).
	Limits Limits
	// Logger receives warnings about corruption, torn writes and I/O
	// errors (default: discard).
	Logger *slog.Logger
}

const (
	defaultBlockSize    = 8 << 20
	minBlockSize        = 4 << 10
	maxBlockSize        = 1 << 30
	defaultSyncInterval = 2 * time.Minute
	flushSize           = 64 << 10           // the write buffer is handed to the OS at this size
	flushDelay          = time.Millisecond   // and at the latest this long after it became non-empty
	maxSlotGap          = 1 << 16            // a StoreAt gap wider than this starts a new block
	lockName            = "LOCK"             // the lock file
	indexName           = "index.db"         // the index written on clean close
	blockExt            = ".blk"             // block files: %010d.blk
	tmpExt              = ".tmp"             // files being rewritten
	badExt              = ".bad"             // block files whose header is unreadable, moved aside
	slotDeleted         = uint32(1) << 31    // offs[i] flag: the record is deleted
	slotOff             = slotDeleted - 1    // offs[i] mask: the record's offset (0: none on disk)
	nanosUnset          = int64(-1 << 63)    // no age deadline armed
	blockDeadThreshold  = 2                  // compact when dead bytes * this >= record bytes
	indexMagic          = "FRNI"             // index file magic
	indexVersion        = uint32(2)          // index file version (2: truncate counts)
	syncFilesInitialCap = 4                  // scratch for a sync round
	readWindowMin       = 1 << 10            // first reader window
	readWindow          = 64 << 10           // reader window for scans
	loadGuessMin        = 256                // first read size of a Load
	loadGuessMax        = 64 << 10           // largest first read of a Load
	corruptLogLimit     = 64                 // corruption warnings logged per store
	blkNameFmt          = "%010d" + blockExt // block file names
	recoveryBufInitial  = 1 << 20            // initial buffer for scanning blocks
	defaultFlushReqCap  = 1                  // kick channels are 1-buffered
	maxIndexSubjectLen  = 1<<16 - 1          // subject length is a u16 in records and the index
	indexSubjFirstStale = 1                  // index subject flags
	indexSubjLastStale  = 2
)

// FileStore is a Store kept in block files in a directory. See the
// package documentation for the on-disk format, durability, and
// recovery.
type FileStore struct {
	cfg   FileConfig
	fs    FS
	clock Clock
	log   *slog.Logger
	lock  io.Closer

	// wmu serializes writers, including their OnRemove callbacks and
	// block maintenance. Lock order: wmu, syncMu, mu, dmu, cmu.
	wmu sync.Mutex
	// mu guards the state below: exclusive for changes, shared for reads.
	mu sync.RWMutex
	// ra serves sequential loads from one large read (own lock).
	ra readAhead

	closed   bool
	werr     error // sticky write error: the store refuses writes after it
	limits   Limits
	blocks   []*msgBlock // by id, ascending; the last one is active
	active   *msgBlock
	nextID   uint32
	msgs     uint64
	bytes    uint64
	firstSeq uint64
	firstTs  int64
	lastSeq  uint64
	lastTs   int64
	floor    uint64 // every sequence below is deleted, durably once synced
	subjects subjectIndex

	wbuf       []byte // the active block's bytes not yet handed to the OS
	cbuf       []byte // compression scratch
	flushArmed bool
	dirDirty   bool // a block file was created or removed since the last dir sync

	wr       recReader   // the writers' reader (wmu and mu held)
	removed  []uint64    // sequences removed by the current write (wmu)
	touched  []*msgBlock // blocks that lost messages in the current write (wmu)
	onRemove func(seq uint64)
	firstFn  subjectScan

	ageTimer    Timer
	ageDeadline int64
	ageGen      uint64 // identifies the armed timer; a stale one does nothing

	// Group commit (filestore_sync.go).
	syncMu    sync.Mutex // one sync round at a time
	syncFiles []File     // scratch of a round (syncMu)
	dmu       sync.Mutex
	durable   uint64        // every message up to here is fsynced (dmu)
	reqGen    uint64        // Sync requests (dmu)
	doneGen   uint64        // the last round covered requests up to here (dmu)
	roundDone chan struct{} // closed when the current round ends (dmu)
	serr      error         // sticky sync error (dmu)
	stopped   bool          // Close finished its final round (dmu)
	truncGen  uint64        // bumped by every Truncate below the last sequence (written under mu and dmu)
	truncTo   uint64        // the sequence of the latest one (written under mu and dmu)
	syncReq   chan struct{}
	flushReq  chan struct{}
	quit      chan struct{}
	loopDone  chan struct{}

	// Corruption report (filestore_recover.go).
	cmu     sync.Mutex
	corrupt map[uint64]struct{}
	lost    int // corrupt regions whose sequence could not be told
	logged  int
}

var _ Store = (*FileStore)(nil)

// errStoreDir marks configuration errors.
var errStoreDir = errors.New("store: invalid file store config")

// withDefaults returns cfg with defaults filled in, or an error.
func (cfg FileConfig) withDefaults() (FileConfig, error) {
	if cfg.Dir == "" {
		return cfg, fmt.Errorf("%w: Dir is empty", errStoreDir)
	}
	if cfg.FS == nil {
		cfg.FS = OSFS{}
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	switch {
	case cfg.BlockSize == 0:
		cfg.BlockSize = defaultBlockSize
	case cfg.BlockSize < minBlockSize || cfg.BlockSize > maxBlockSize:
		return cfg, fmt.Errorf("%w: BlockSize %d outside [%d, %d]", errStoreDir, cfg.BlockSize, minBlockSize, maxBlockSize)
	}
	if cfg.Sync > SyncNone {
		return cfg, fmt.Errorf("%w: unknown SyncPolicy %d", errStoreDir, cfg.Sync)
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = defaultSyncInterval
	}
	if cfg.Compression > CompressS2 {
		return cfg, fmt.Errorf("%w: unknown Compression %d", errStoreDir, cfg.Compression)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, cfg.Limits.validate()
}

// OpenFileStore opens (or creates) the store in cfg.Dir. It takes the
// directory's lock (ErrLocked if another FileStore, in this process or
// another, has it open), recovers the state from the index file when it
// is intact or else from the blocks, applies cfg.Limits and arms the
// max-age timer.
func OpenFileStore(cfg FileConfig) (*FileStore, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := cfg.FS.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", cfg.Dir, err)
	}
	if err := cfg.FS.SyncDir(filepath.Dir(filepath.Clean(cfg.Dir))); err != nil {
		return nil, fmt.Errorf("store: sync parent of %s: %w", cfg.Dir, err)
	}
	lock, err := cfg.FS.Lock(filepath.Join(cfg.Dir, lockName))
	if err != nil {
		return nil, err
	}
	s := &FileStore{
		cfg:         cfg,
		fs:          cfg.FS,
		clock:       cfg.Clock,
		log:         cfg.Logger.With("store", cfg.Dir),
		lock:        lock,
		limits:      cfg.Limits,
		wbuf:        make([]byte, 0, flushSize+flushSize/4),
		roundDone:   make(chan struct{}),
		syncReq:     make(chan struct{}, defaultFlushReqCap),
		flushReq:    make(chan struct{}, defaultFlushReqCap),
		quit:        make(chan struct{}),
		loopDone:    make(chan struct{}),
		corrupt:     map[uint64]struct{}{},
		ageDeadline: nanosUnset,
		syncFiles:   make([]File, 0, syncFilesInitialCap),
	}
	s.firstFn = s.scanSubjectFirst
	if err := s.open(); err != nil {
		s.closeFiles()
		lock.Close()
		return nil, err
	}
	go s.syncLoop()
	return s, nil
}

// open recovers the state and prepares the active block.
func (s *FileStore) open() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	if err := s.recoverLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	s.durable = s.lastSeq
	s.removed = s.removed[:0]
	s.enforceLimitsLocked()
	s.logRemovalsLocked(false)
	s.armAgeLocked()
	err := s.werr
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.maintain()
	// Recovery may have truncated, rewritten or created files: make that,
	// and the index file's removal, durable before taking writes.
	if err := s.syncRound(); err != nil {
		return err
	}
	s.removed = s.removed[:0]
	clear(s.touched)
	s.touched = s.touched[:0]
	return nil
}

// Close implements Store: it flushes and fsyncs everything, writes the
// index file that makes the next open fast, and releases the lock.
func (s *FileStore) Close() error { return s.close(false) }

// Delete implements Store: it closes the store and removes its directory.
func (s *FileStore) Delete() error { return s.close(true) }

func (s *FileStore) close(remove bool) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	if s.ageTimer != nil {
		s.ageTimer.Stop()
		s.ageTimer = nil
	}
	s.mu.Unlock()
	close(s.quit)
	<-s.loopDone
	err := s.syncRound()
	if err == nil && !remove {
		err = s.writeIndex()
	}
	s.dmu.Lock()
	s.stopped = true
	close(s.roundDone)
	s.roundDone = make(chan struct{})
	s.dmu.Unlock()
	s.closeFiles()
	if remove {
		if rerr := s.fs.RemoveAll(s.cfg.Dir); rerr != nil && err == nil {
			err = rerr
		}
	}
	if lerr := s.lock.Close(); lerr != nil && err == nil {
		err = lerr
	}
	return err
}

// closeFiles closes every block file.
func (s *FileStore) closeFiles() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.blocks {
		if b.f != nil {
			b.f.Close()
			b.f = nil
		}
	}
}

// State implements Store.
func (s *FileStore) State() State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := State{
		Msgs:        s.msgs,
		Bytes:       s.bytes,
		FirstSeq:    s.firstSeq,
		LastSeq:     s.lastSeq,
		LastTime:    s.lastTs,
		NumSubjects: s.subjects.len(),
	}
	if s.msgs > 0 {
		st.FirstTime = s.firstTs
		st.Deleted = (s.lastSeq - s.firstSeq + 1) - s.msgs
	}
	return st
}

// SubjectCounts implements Store.
func (s *FileStore) SubjectCounts(filter string) map[string]uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed || !validFilter(filter) {
		return map[string]uint64{}
	}
	return s.subjects.counts(filter)
}

// OnRemove implements Store.
func (s *FileStore) OnRemove(fn func(seq uint64)) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.onRemove = fn
}

// Corrupt returns, sorted, the sequences whose records failed their
// checksum since the store was opened (at recovery or on a later read).
// Such a message is never served: Load returns ErrCorrupt for it. Damaged
// regions whose sequence could not be read are counted by CorruptRegions.
func (s *FileStore) Corrupt() []uint64 {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	out := make([]uint64, 0, len(s.corrupt))
	for seq := range s.corrupt {
		out = append(out, seq)
	}
	slices.Sort(out)
	return out
}

// CorruptRegions is the number of damaged regions found whose sequence
// could not be told (for example a block whose header was unreadable, or
// a record whose header itself was damaged).
func (s *FileStore) CorruptRegions() int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.lost
}

// reportCorrupt records a damaged record (seq 0: unknown sequence) and
// logs it (up to corruptLogLimit times).
func (s *FileStore) reportCorrupt(seq uint64, blk uint32, off int64, why string) {
	s.cmu.Lock()
	if seq == 0 {
		s.lost++
	} else {
		s.corrupt[seq] = struct{}{}
	}
	logIt := s.logged < corruptLogLimit
	s.logged++
	s.cmu.Unlock()
	if logIt {
		s.log.Warn("store: corrupt record", "seq", seq, "block", blk, "offset", off, "reason", why)
	}
}

// isCorrupt reports whether seq was found corrupt.
func (s *FileStore) isCorrupt(seq uint64) bool {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	_, ok := s.corrupt[seq]
	return ok
}
