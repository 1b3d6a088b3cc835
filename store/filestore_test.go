package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fernmq/fern/store"
	"github.com/fernmq/fern/store/storetest"
)

// This file tests the FileStore on its own: round trips through close and
// reopen (with and without the index file), the lock, sequences kept by
// an empty store, deletes that survive a rebuild, space reclaimed by
// compaction, max age after reopen, group commit, sticky I/O errors, and
// concurrent use. Crash recovery is in recovery_test.go and crash_test.go.

const testStart = int64(1_700_000_000_000_000_000)

// fileCfg is a small-block config on fsys (a fresh CrashFS if nil).
func fileCfg(fsys store.FS, dir string) store.FileConfig {
	if fsys == nil {
		fsys = store.NewCrashFS()
	}
	return store.FileConfig{Dir: dir, FS: fsys, BlockSize: 4096, Sync: store.SyncNone,
		Clock: storetest.NewFakeClock(testStart)}
}

func mustOpen(t testing.TB, cfg store.FileConfig) *store.FileStore {
	t.Helper()
	s, err := store.OpenFileStore(cfg)
	if err != nil {
		t.Fatalf("OpenFileStore(%s): %v", cfg.Dir, err)
	}
	return s
}

func mustClose(t testing.TB, s *store.FileStore) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// testMsg is the message a test stores under sequence seq.
func testMsg(seq uint64) (subj string, hdr, data []byte) {
	subj = fmt.Sprintf("s.%d", seq%7)
	if seq%3 == 0 {
		hdr = []byte(fmt.Sprintf("NATS/1.0\r\nK: %d\r\n\r\n", seq))
	}
	if seq%11 != 0 {
		data = bytes.Repeat([]byte(fmt.Sprintf("<%d>", seq)), int(seq%23)+1)
	}
	return subj, hdr, data
}

func storeN(t testing.TB, s store.Store, from, to uint64) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		subj, hdr, data := testMsg(seq)
		got, _, err := s.Store(subj, hdr, data)
		if err != nil || got != seq {
			t.Fatalf("Store #%d = %d, %v", seq, got, err)
		}
	}
}

// checkMsg loads seq and compares it with testMsg(seq).
func checkMsg(t testing.TB, s store.Store, seq uint64) {
	t.Helper()
	var m store.Msg
	if _, err := s.Load(seq, &m); err != nil {
		t.Fatalf("Load(%d): %v", seq, err)
	}
	subj, hdr, data := testMsg(seq)
	if m.Seq != seq || m.Subject != subj || !bytes.Equal(m.Header, hdr) || !bytes.Equal(m.Data, data) ||
		(len(hdr) == 0) != (m.Header == nil) || (len(data) == 0) != (m.Data == nil) {
		t.Fatalf("Load(%d) = seq %d %q %q %q, want %q %q %q", seq, m.Seq, m.Subject, m.Header, m.Data, subj, hdr, data)
	}
}

func checkRange(t testing.TB, s store.Store, from, to uint64) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		checkMsg(t, s, seq)
	}
}

func TestFileStoreRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name        string
		compression store.Compression
		dropIndex   bool
	}{
		{"plain/index", store.CompressNone, false},
		{"plain/rebuild", store.CompressNone, true},
		{"s2/index", store.CompressS2, false},
		{"s2/rebuild", store.CompressS2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := fileCfg(store.OSFS{}, dir)
			cfg.Compression = tc.compression
			s := mustOpen(t, cfg)
			storeN(t, s, 1, 300) // many 4 KiB blocks
			big := bytes.Repeat([]byte("0123456789abcdef"), 1024)
			if seq, _, err := s.Store("big", nil, big); err != nil || seq != 301 {
				t.Fatalf("Store big = %d, %v", seq, err)
			}
			want := s.State()
			mustClose(t, s)
			blocks, _ := filepath.Glob(filepath.Join(dir, "*.blk"))
			if len(blocks) < 5 {
				t.Fatalf("%d block files, want several", len(blocks))
			}
			if tc.dropIndex {
				if err := os.Remove(filepath.Join(dir, "index.db")); err != nil {
					t.Fatal(err)
				}
			}
			s = mustOpen(t, cfg)
			defer mustClose(t, s)
			if got := s.State(); got != want {
				t.Fatalf("State after reopen = %+v, want %+v", got, want)
			}
			if _, err := os.Stat(filepath.Join(dir, "index.db")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("index.db still present after open: %v", err)
			}
			checkRange(t, s, 1, 300)
			var m store.Msg
			if _, err := s.Load(301, &m); err != nil || !bytes.Equal(m.Data, big) {
				t.Fatalf("Load(301) = %d bytes, %v", len(m.Data), err)
			}
			if _, err := s.LoadLast("s.3", &m); err != nil || m.Seq != 297 {
				t.Fatalf("LoadLast(s.3) = %d, %v", m.Seq, err)
			}
			if _, err := s.LoadNext("s.*", 298, &m); err != nil || m.Seq != 298 {
				t.Fatalf("LoadNext(s.*, 298) = %d, %v", m.Seq, err)
			}
			storeN(t, s, 302, 310)
			checkRange(t, s, 295, 300)
		})
	}
}

func TestFileStoreLock(t *testing.T) {
	dir := t.TempDir()
	cfg := fileCfg(store.OSFS{}, dir)
	s := mustOpen(t, cfg)
	_, err := store.OpenFileStore(cfg)
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second open = %v, want ErrLocked naming %s", err, dir)
	}
	out, err := lockChild(t, dir)
	if err != nil || !strings.Contains(out, "locked") {
		t.Fatalf("child open while held: %q, %v", out, err)
	}
	mustClose(t, s)
	out, err = lockChild(t, dir)
	if err != nil || !strings.Contains(out, "opened") {
		t.Fatalf("child open after close: %q, %v", out, err)
	}
	s = mustOpen(t, cfg)
	mustClose(t, s)

	// The CrashFS lock behaves the same within its filesystem.
	mem := fileCfg(nil, "/a")
	s = mustOpen(t, mem)
	if _, err := store.OpenFileStore(mem); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second CrashFS open = %v, want ErrLocked", err)
	}
	mustClose(t, s)
}

// lockChild runs this test binary as a child that tries to open dir.
func lockChild(t *testing.T, dir string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileStoreLockChild$")
	cmd.Env = append(os.Environ(), "FERN_STORE_LOCK_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestFileStoreLockChild is the child half of TestFileStoreLock.
func TestFileStoreLockChild(t *testing.T) {
	dir := os.Getenv("FERN_STORE_LOCK_CHILD")
	if dir == "" {
		t.Skip("child process helper")
	}
	s, err := store.OpenFileStore(store.FileConfig{Dir: dir})
	switch {
	case errors.Is(err, store.ErrLocked):
		fmt.Println("locked")
	case err != nil:
		t.Fatalf("open: %v", err)
	default:
		fmt.Println("opened")
		s.Close()
	}
}

func TestFileStoreEmptyKeepsLastSequence(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	s := mustOpen(t, cfg)
	storeN(t, s, 1, 100)
	if n, err := s.Purge(store.Purge{}); err != nil || n != 100 {
		t.Fatalf("Purge = %d, %v", n, err)
	}
	check := func(first, last uint64) {
		t.Helper()
		st := s.State()
		if st.Msgs != 0 || st.FirstSeq != first || st.LastSeq != last {
			t.Fatalf("State = %+v, want empty %d..%d", st, first, last)
		}
	}
	check(101, 100)
	for _, crash := range []bool{false, true} {
		if crash {
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
			cfg = fileCfgOn(fsys.CrashClone(store.CrashOptions{}), cfg)
			s.Close()
			s = mustOpen(t, cfg)
		} else {
			mustClose(t, s)
			s = mustOpen(t, cfg)
		}
		check(101, 100)
	}
	if n, err := s.Compact(1000); err != nil || n != 0 {
		t.Fatalf("Compact(1000) = %d, %v", n, err)
	}
	check(1000, 999)
	mustClose(t, s)
	s = mustOpen(t, cfg)
	check(1000, 999)
	if seq, _, err := s.Store("x", nil, []byte("y")); err != nil || seq != 1000 {
		t.Fatalf("Store after compact = %d, %v", seq, err)
	}
	mustClose(t, s)
}

// fileCfgOn is cfg on another filesystem (a crash clone).
func fileCfgOn(fsys store.FS, cfg store.FileConfig) store.FileConfig {
	cfg.FS = fsys
	return cfg
}

func TestFileStoreDeletesSurviveRebuild(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	s := mustOpen(t, cfg)
	storeN(t, s, 1, 200)
	removed := map[uint64]bool{}
	for seq := uint64(3); seq <= 200; seq += 7 {
		if ok, err := s.Remove(seq); !ok || err != nil {
			t.Fatalf("Remove(%d) = %v, %v", seq, ok, err)
		}
		removed[seq] = true
	}
	if n, err := s.Compact(20); err != nil || n != 16 {
		t.Fatalf("Compact(20) = %d, %v", n, err)
	}
	if n, err := s.Purge(store.Purge{Subject: "s.2", Sequence: 100}); err != nil || n == 0 {
		t.Fatalf("Purge(s.2 < 100) = %d, %v", n, err)
	}
	want := s.State()
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	// A crash (no clean close, so no index) forces a rebuild.
	s2 := mustOpen(t, fileCfgOn(fsys.CrashClone(store.CrashOptions{}), cfg))
	defer mustClose(t, s2)
	if got := s2.State(); got != want {
		t.Fatalf("State after rebuild = %+v, want %+v", got, want)
	}
	var m store.Msg
	for seq := uint64(1); seq <= 200; seq++ {
		_, err := s2.Load(seq, &m)
		gone := seq < 20 || removed[seq] || (seq < 100 && seq%7 == 2)
		if gone != errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Load(%d) = %v (deleted: %v)", seq, err, gone)
		}
	}
	mustClose(t, s)
}

// dirBytes sums the sizes of the block files.
func dirBytes(t testing.TB, fsys store.FS, dir string) (total int64, blocks int) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasSuffix(n, ".blk") {
			fi, err := fsys.Stat(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			total += fi.Size()
			blocks++
		}
	}
	return total, blocks
}

func TestFileStoreReclaimsSpace(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	s := mustOpen(t, cfg)
	storeN(t, s, 1, 1000)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	full, nblocks := dirBytes(t, fsys, "/s")
	// Interior deletes: every sealed block ends up mostly dead and is
	// rewritten.
	for seq := uint64(1); seq <= 1000; seq++ {
		if seq%10 != 0 {
			if _, err := s.Remove(seq); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	after, _ := dirBytes(t, fsys, "/s")
	if after > full/2 {
		t.Fatalf("after deleting 90%%: %d bytes on disk, had %d", after, full)
	}
	// Front deletes: whole blocks go.
	if _, err := s.Compact(900); err != nil {
		t.Fatal(err)
	}
	small, blocks := dirBytes(t, fsys, "/s")
	if blocks > 3 || small >= after {
		t.Fatalf("after Compact(900): %d blocks, %d bytes (had %d blocks)", blocks, small, nblocks)
	}
	for seq := uint64(900); seq <= 1000; seq += 10 {
		checkMsg(t, s, seq)
	}
	want := s.State()
	mustClose(t, s)
	s = mustOpen(t, cfg)
	defer mustClose(t, s)
	if got := s.State(); got != want {
		t.Fatalf("State after reopen = %+v, want %+v", got, want)
	}
	for seq := uint64(900); seq <= 1000; seq += 10 {
		checkMsg(t, s, seq)
	}
}

func TestFileStoreRingBuffer(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	cfg.Limits = store.Limits{MaxMsgs: 100}
	s := mustOpen(t, cfg)
	storeN(t, s, 1, 5000)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if size, blocks := dirBytes(t, fsys, "/s"); blocks > 8 {
		t.Fatalf("ring of 100 messages uses %d blocks (%d bytes)", blocks, size)
	}
	st := s.State()
	if st.Msgs != 100 || st.FirstSeq != 4901 || st.LastSeq != 5000 {
		t.Fatalf("State = %+v", st)
	}
	s2 := mustOpen(t, fileCfgOn(fsys.CrashClone(store.CrashOptions{}), cfg))
	if got := s2.State(); got != st {
		t.Fatalf("State after crash = %+v, want %+v", got, st)
	}
	checkRange(t, s2, 4901, 5000)
	mustClose(t, s2)
	mustClose(t, s)
}

func TestFileStoreMaxAgeAfterReopen(t *testing.T) {
	clock := storetest.NewFakeClock(testStart)
	cfg := fileCfg(nil, "/s")
	cfg.Clock = clock
	s := mustOpen(t, cfg)
	storeN(t, s, 1, 10)
	clock.Advance(time.Second)
	storeN(t, s, 11, 20)
	mustClose(t, s)

	cfg.Limits.MaxAge = 1500 * time.Millisecond
	s = mustOpen(t, cfg)
	defer mustClose(t, s)
	var removed []uint64
	s.OnRemove(func(seq uint64) { removed = append(removed, seq) })
	if st := s.State(); st.Msgs != 20 {
		t.Fatalf("expired at open, before the timer: %+v", st)
	}
	clock.Advance(499 * time.Millisecond)
	if len(removed) != 0 {
		t.Fatalf("removed %v before expiry", removed)
	}
	clock.Advance(time.Millisecond)
	if st := s.State(); st.Msgs != 10 || st.FirstSeq != 11 || len(removed) != 10 {
		t.Fatalf("after 1.5s: %+v, removed %v", st, removed)
	}
	clock.Advance(time.Second)
	if st := s.State(); st.Msgs != 0 || st.FirstSeq != 21 {
		t.Fatalf("after 2.5s: %+v", st)
	}
}

// hookFS wraps an FS so tests can count and hold fsyncs and fail writes.
type hookFS struct {
	store.FS
	syncs     atomic.Int64
	gate      chan struct{} // if not nil, the first file Sync waits for it to close
	gateOnce  sync.Once
	entered   chan struct{} // closed when the first Sync is waiting on gate
	failSync  atomic.Bool
	failWrite atomic.Bool
}

type hookFile struct {
	store.File
	fs *hookFS
}

func (h *hookFS) wrap(f store.File, err error) (store.File, error) {
	if err != nil {
		return nil, err
	}
	return hookFile{f, h}, nil
}

func (h *hookFS) Create(name string) (store.File, error)     { return h.wrap(h.FS.Create(name)) }
func (h *hookFS) OpenAppend(name string) (store.File, error) { return h.wrap(h.FS.OpenAppend(name)) }
func (h *hookFS) Open(name string) (store.File, error)       { return h.wrap(h.FS.Open(name)) }

var errInjected = errors.New("injected I/O error")

func (f hookFile) Sync() error {
	if f.fs.failSync.Load() {
		return errInjected
	}
	if f.fs.gate != nil {
		f.fs.gateOnce.Do(func() {
			close(f.fs.entered)
			<-f.fs.gate
		})
	}
	f.fs.syncs.Add(1)
	return f.File.Sync()
}

func (f hookFile) Write(p []byte) (int, error) {
	if f.fs.failWrite.Load() {
		return 0, errInjected
	}
	return f.File.Write(p)
}

// TestFileStoreGroupCommit holds the first fsync while many writers store
// and wait: they must all be served by one more fsync.
func TestFileStoreGroupCommit(t *testing.T) {
	h := &hookFS{FS: store.NewCrashFS()}
	cfg := fileCfg(h, "/s")
	s := mustOpen(t, cfg)
	defer mustClose(t, s)
	h.gate, h.entered = make(chan struct{}), make(chan struct{})
	h.syncs.Store(0)

	first, _, err := s.Store("a", nil, []byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	firstDone := make(chan error)
	go func() { firstDone <- s.WaitDurable(context.Background(), first) }()
	<-h.entered // round 1 is inside its fsync

	const writers = 32
	var stored, waited sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		stored.Add(1)
		waited.Add(1)
		go func() {
			defer waited.Done()
			seq, _, err := s.Store("w", nil, []byte(fmt.Sprint(i)))
			stored.Done()
			if err == nil {
				err = s.WaitDurable(context.Background(), seq)
			}
			errs <- err
		}()
	}
	stored.Wait()
	close(h.gate)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	waited.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := h.syncs.Load(); n != 2 {
		t.Fatalf("%d fsyncs for 1+%d waiters, want 2 (one round each)", n, writers)
	}
	// Everything acknowledged survives a power loss.
	s2 := mustOpen(t, fileCfgOn(h.FS.(*store.CrashFS).CrashClone(store.CrashOptions{}), cfg))
	if st := s2.State(); st.Msgs != writers+1 {
		t.Fatalf("after crash: %+v", st)
	}
	mustClose(t, s2)
}

func TestFileStoreWaitDurableContext(t *testing.T) {
	h := &hookFS{FS: store.NewCrashFS()}
	s := mustOpen(t, fileCfg(h, "/s"))
	defer mustClose(t, s)
	h.gate, h.entered = make(chan struct{}), make(chan struct{})
	seq, _, err := s.Store("a", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.WaitDurable(ctx, seq) }()
	<-h.entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitDurable with canceled ctx = %v", err)
	}
	close(h.gate)
	if err := s.WaitDurable(context.Background(), seq); err != nil {
		t.Fatal(err)
	}
}

func TestFileStoreSyncAlways(t *testing.T) {
	h := &hookFS{FS: store.NewCrashFS()}
	cfg := fileCfg(h, "/s")
	cfg.Sync = store.SyncAlways
	s := mustOpen(t, cfg)
	defer mustClose(t, s)
	for i := uint64(1); i <= 20; i++ {
		storeN(t, s, i, i)
		// Every acknowledged write survives a power loss right after it.
		c := mustOpen(t, fileCfgOn(h.FS.(*store.CrashFS).CrashClone(store.CrashOptions{}), cfg))
		if st := c.State(); st.LastSeq != i || st.Msgs != i {
			t.Fatalf("after Store #%d and a crash: %+v", i, st)
		}
		mustClose(t, c)
	}
	if _, err := s.Remove(5); err != nil {
		t.Fatal(err)
	}
	c := mustOpen(t, fileCfgOn(h.FS.(*store.CrashFS).CrashClone(store.CrashOptions{}), cfg))
	var m store.Msg
	if _, err := c.Load(5, &m); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Load(5) after Remove and a crash = %v", err)
	}
	mustClose(t, c)
}

func TestFileStoreSyncInterval(t *testing.T) {
	h := &hookFS{FS: store.NewCrashFS()}
	cfg := fileCfg(h, "/s")
	cfg.Sync, cfg.SyncInterval = store.SyncInterval, time.Millisecond
	s := mustOpen(t, cfg)
	defer mustClose(t, s)
	base := h.syncs.Load()
	storeN(t, s, 1, 10)
	// The background ticker fsyncs on its own; wait for it (bounded).
	deadline := time.Now().Add(5 * time.Second)
	for h.syncs.Load() == base {
		if time.Now().After(deadline) {
			t.Fatal("no background fsync within 5s at a 1ms interval")
		}
		runtime.Gosched()
	}
}

func TestFileStoreStickyErrors(t *testing.T) {
	h := &hookFS{FS: store.NewCrashFS()}
	s := mustOpen(t, fileCfg(h, "/s"))
	storeN(t, s, 1, 5)
	h.failSync.Store(true)
	if err := s.Sync(); !errors.Is(err, errInjected) {
		t.Fatalf("Sync with failing fsync = %v", err)
	}
	h.failSync.Store(false)
	if err := s.WaitDurable(context.Background(), 5); !errors.Is(err, errInjected) {
		t.Fatalf("WaitDurable after a failed fsync = %v, want the sticky error", err)
	}
	s.Close()

	h = &hookFS{FS: store.NewCrashFS()}
	s = mustOpen(t, fileCfg(h, "/s"))
	h.failWrite.Store(true)
	storeN(t, s, 1, 1) // buffered: no write yet
	if err := s.Sync(); !errors.Is(err, errInjected) {
		t.Fatalf("Sync with failing write = %v", err)
	}
	if _, _, err := s.Store("a", nil, nil); !errors.Is(err, errInjected) {
		t.Fatalf("Store after a failed write = %v, want the sticky error", err)
	}
	s.Close()
}

func TestFileStoreClosed(t *testing.T) {
	s := mustOpen(t, fileCfg(nil, "/s"))
	storeN(t, s, 1, 3)
	mustClose(t, s)
	var m store.Msg
	checks := map[string]error{
		"Close":       s.Close(),
		"Delete":      s.Delete(),
		"Sync":        s.Sync(),
		"WaitDurable": s.WaitDurable(context.Background(), 1),
	}
	_, _, checks["Store"] = s.Store("a", nil, nil)
	_, checks["Load"] = s.Load(1, &m)
	_, checks["Remove"] = s.Remove(1)
	_, checks["Purge"] = s.Purge(store.Purge{})
	for name, err := range checks {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	if st := s.State(); st.Msgs != 3 {
		t.Errorf("State after Close = %+v", st)
	}
}

func TestFileStoreDelete(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stream")
	s := mustOpen(t, fileCfg(store.OSFS{}, dir))
	storeN(t, s, 1, 10)
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dir after Delete: %v", err)
	}
}

func TestFileStoreConfig(t *testing.T) {
	for _, cfg := range []store.FileConfig{
		{},
		{Dir: "/x", FS: store.NewCrashFS(), BlockSize: 100},
		{Dir: "/x", FS: store.NewCrashFS(), Sync: 9},
		{Dir: "/x", FS: store.NewCrashFS(), Compression: 9},
		{Dir: "/x", FS: store.NewCrashFS(), Limits: store.Limits{Discard: 9}},
	} {
		if s, err := store.OpenFileStore(cfg); err == nil {
			s.Close()
			t.Errorf("OpenFileStore(%+v) succeeded", cfg)
		}
	}
}

// TestFileStoreConcurrent runs writers that wait for durability, readers,
// a remover and syncs at once, on small blocks so that rotation and
// compaction happen under load (meant for -race).
func TestFileStoreConcurrent(t *testing.T) {
	cfg := fileCfg(store.OSFS{}, t.TempDir())
	cfg.Compression = store.CompressS2
	s := mustOpen(t, cfg)
	const writers, per = 4, 250
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				payload := bytes.Repeat([]byte{byte('a' + w)}, 40+i%100)
				seq, _, err := s.Store(fmt.Sprintf("w.%d", w), nil, payload)
				if err == nil && i%25 == 0 {
					err = s.WaitDurable(context.Background(), seq)
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	var aux sync.WaitGroup
	for range 2 {
		aux.Add(1)
		go func() {
			defer aux.Done()
			var m store.Msg
			for {
				select {
				case <-done:
					return
				default:
				}
				last := s.State().LastSeq
				for seq := uint64(1); seq <= last; seq += 13 {
					if _, err := s.Load(seq, &m); err == nil {
						if len(m.Data) == 0 || m.Subject != fmt.Sprintf("w.%d", m.Data[0]-'a') {
							errc <- fmt.Errorf("seq %d: %q %q", seq, m.Subject, m.Data)
						}
					} else if !errors.Is(err, store.ErrNotFound) {
						errc <- err
					}
				}
				s.LoadLast("w.1", &m)
				s.LoadNext("w.2", last/2, &m)
			}
		}()
	}
	aux.Add(1)
	go func() {
		defer aux.Done()
		for seq := uint64(1); ; seq += 3 {
			select {
			case <-done:
				return
			default:
			}
			if seq > s.State().LastSeq {
				seq = 1
				s.Sync()
			}
			if _, err := s.Remove(seq); err != nil {
				errc <- err
			}
		}
	}()
	wg.Wait()
	close(done)
	aux.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	want := s.State()
	if want.LastSeq != writers*per {
		t.Fatalf("State = %+v", want)
	}
	mustClose(t, s)
	s = mustOpen(t, cfg)
	defer mustClose(t, s)
	if got := s.State(); got != want {
		t.Fatalf("State after reopen = %+v, want %+v", got, want)
	}
}
