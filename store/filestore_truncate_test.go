package store_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fernmq/fern/store"
	"github.com/fernmq/fern/store/storetest"
)

// This file tests the FileStore's Truncate on disk: every way of reopening
// (index file, rebuild from the blocks, power loss), durability when it
// returns, WaitDurable after it, compaction and space reclaiming of blocks
// that hold truncate records, concurrent use, and crashes at random points
// around truncations that reuse sequences with new content
// (TestTruncateCrash). The contract itself is tested for every store in
// memstore_test.go (TestTruncate) and model_test.go.

// genMsg is the message of sequence seq written in generation gen: every
// truncation starts a new generation, so content that comes back from a
// truncated tail is told apart from what replaced it.
func genMsg(seq uint64, gen int) (string, []byte) {
	subj := fmt.Sprintf("g.%d", seq%5)
	pad := strings.Repeat("x", int(seq*7+uint64(gen)*13)%90)
	return subj, []byte(fmt.Sprintf("%d/%d|%s", seq, gen, pad))
}

func storeGen(t testing.TB, s store.Store, from, to uint64, gen int) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		subj, data := genMsg(seq, gen)
		got, _, err := s.Store(subj, nil, data)
		if err != nil || got != seq {
			t.Fatalf("Store #%d (gen %d) = %d, %v", seq, gen, got, err)
		}
	}
}

// checkGens loads every sequence in [1, last] and compares it with want:
// the generation each sequence holds, absent ones must be ErrNotFound.
func checkGens(t testing.TB, s store.Store, last uint64, want map[uint64]int) {
	t.Helper()
	if st := s.State(); st.LastSeq != last || st.Msgs != uint64(len(want)) {
		t.Fatalf("State = %+v, want last %d and %d messages", st, last, len(want))
	}
	var m store.Msg
	for seq := uint64(1); seq <= last; seq++ {
		_, err := s.Load(seq, &m)
		gen, ok := want[seq]
		if !ok {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Load(%d) = %q, %v; want ErrNotFound", seq, m.Data, err)
			}
			continue
		}
		subj, data := genMsg(seq, gen)
		if err != nil || m.Subject != subj || string(m.Data) != string(data) {
			t.Fatalf("Load(%d) = %q %q, %v; want generation %d", seq, m.Subject, m.Data, err, gen)
		}
	}
	if _, err := s.Load(last+1, &m); !errors.Is(err, store.ErrEOF) {
		t.Fatalf("Load(%d) past the last: %v", last+1, err)
	}
}

func setGens(want map[uint64]int, from, to uint64, gen int) {
	for seq := from; seq <= to; seq++ {
		want[seq] = gen
	}
}

func dropGensAbove(want map[uint64]int, seq uint64) {
	for q := range want {
		if q > seq {
			delete(want, q)
		}
	}
}

// reopenFile closes s and opens its directory again: "index" after a
// clean close, "rebuild" without the index file, "power-loss" from what
// a crash right after a Sync leaves. It returns the new store and its FS.
func reopenFile(t *testing.T, s *store.FileStore, cfg store.FileConfig, mode string) (*store.FileStore, store.FileConfig) {
	t.Helper()
	fsys := cfg.FS.(*store.CrashFS)
	switch mode {
	case "index":
		mustClose(t, s)
	case "rebuild":
		mustClose(t, s)
		if err := fsys.Remove(cfg.Dir + "/index.db"); err != nil {
			t.Fatal(err)
		}
	case "power-loss":
		mustOK(t, s.Sync())
		cfg.FS = fsys.CrashClone(store.CrashOptions{})
		s.Close()
	}
	return mustOpen(t, cfg), cfg
}

// TestFileStoreTruncateReopen truncates into an early block of a store
// spanning many, with tombstones on both sides of the truncation (one
// aimed at a truncated message whose sequence is then stored again),
// stores new content at the same sequences, and reopens every way.
func TestFileStoreTruncateReopen(t *testing.T) {
	for _, mode := range []string{"index", "rebuild", "power-loss"} {
		for _, comp := range []store.Compression{store.CompressNone, store.CompressS2} {
			t.Run(fmt.Sprintf("%s/compression=%d", mode, comp), func(t *testing.T) {
				cfg := fileCfg(nil, "/s")
				cfg.Compression = comp
				s := mustOpen(t, cfg)
				want := map[uint64]int{}
				storeGen(t, s, 1, 300, 0)
				setGens(want, 1, 300, 0)
				for _, seq := range []uint64{50, 150} {
					if ok, err := s.Remove(seq); !ok || err != nil {
						t.Fatalf("Remove(%d) = %v, %v", seq, ok, err)
					}
					delete(want, seq)
				}
				if n, err := s.Truncate(120); err != nil || n != 179 {
					t.Fatalf("Truncate(120) = %d, %v; want 179", n, err)
				}
				dropGensAbove(want, 120)
				storeGen(t, s, 121, 200, 1)
				setGens(want, 121, 200, 1)
				if ok, _ := s.Remove(130); !ok {
					t.Fatal("Remove(130) after the truncation found nothing")
				}
				delete(want, 130)
				checkGens(t, s, 200, want)

				s, cfg = reopenFile(t, s, cfg, mode)
				checkGens(t, s, 200, want)
				if c := s.Corrupt(); len(c) != 0 {
					t.Fatalf("truncated records reported as corruption: %v", c)
				}

				// Again, below everything the first truncation kept, on the
				// reopened store; then once more through a rebuild.
				if n, err := s.Truncate(10); err != nil || n != 188 {
					t.Fatalf("Truncate(10) = %d, %v; want 188", n, err)
				}
				dropGensAbove(want, 10)
				storeGen(t, s, 11, 40, 2)
				setGens(want, 11, 40, 2)
				s, _ = reopenFile(t, s, cfg, "rebuild")
				checkGens(t, s, 40, want)
				mustClose(t, s)
			})
		}
	}
}

// TestFileStoreTruncateDurable: a truncation is durable when Truncate
// returns, under SyncNone too, and so is everything stored before it; the
// last time is the kept message's.
func TestFileStoreTruncateDurable(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	clock := cfg.Clock.(*storetest.FakeClock)
	s := mustOpen(t, cfg)
	storeGen(t, s, 1, 50, 0)
	mustOK(t, s.Sync())
	clock.Advance(time.Second)
	storeGen(t, s, 51, 60, 0) // not synced
	if n, err := s.Truncate(55); err != nil || n != 5 {
		t.Fatalf("Truncate(55) = %d, %v", n, err)
	}
	want := s.State()
	if want.LastSeq != 55 || want.LastTime != testStart+int64(time.Second) {
		t.Fatalf("State after Truncate = %+v", want)
	}
	// A power loss now keeps nothing unsynced.
	c := fsys.CrashClone(store.CrashOptions{})
	s.Close()
	s = mustOpen(t, fileCfgOn(c, cfg))
	defer mustClose(t, s)
	if got := s.State(); got != want {
		t.Fatalf("State after power loss = %+v, want %+v", got, want)
	}
	gens := map[uint64]int{}
	setGens(gens, 1, 55, 0)
	checkGens(t, s, 55, gens)
}

// TestFileStoreTruncateWaitDurable: after a truncation, WaitDurable for a
// reused sequence really waits for the new message's fsync.
func TestFileStoreTruncateWaitDurable(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	s := mustOpen(t, cfg)
	storeGen(t, s, 1, 100, 0)
	mustOK(t, s.WaitDurable(context.Background(), 100))
	if _, err := s.Truncate(50); err != nil {
		t.Fatal(err)
	}
	storeGen(t, s, 51, 60, 1)
	mustOK(t, s.WaitDurable(context.Background(), 60))
	c := fsys.CrashClone(store.CrashOptions{})
	s.Close()
	s = mustOpen(t, fileCfgOn(c, cfg))
	defer mustClose(t, s)
	want := map[uint64]int{}
	setGens(want, 1, 50, 0)
	setGens(want, 51, 60, 1)
	checkGens(t, s, 60, want)
}

// TestFileStoreTruncateRewrite makes a block that holds a truncate record
// (and a floor before it) mostly dead, so that compaction rewrites it,
// while blocks before it still hold truncated records: the rewritten
// block must keep the record, and keep it before the new messages.
func TestFileStoreTruncateRewrite(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	s := mustOpen(t, cfg)
	want := map[uint64]int{}
	storeGen(t, s, 1, 100, 0)
	setGens(want, 1, 100, 0)
	mustCompact(t, s, 5) // a floor record in the active block
	dropGensBelow(want, 5)
	blocks := blockFiles(t, fsys, "/s")
	active := blocks[len(blocks)-1]
	if _, err := s.Truncate(30); err != nil { // into the first block
		t.Fatal(err)
	}
	dropGensAbove(want, 30)
	// Fill the block holding the truncate record and go on in the next.
	seq := uint64(31)
	for ; lastBlock(t, fsys) == active; seq++ {
		storeGen(t, s, seq, seq, 1)
		want[seq] = 1
	}
	storeGen(t, s, seq, seq+5, 1)
	setGens(want, seq, seq+5, 1)
	last := seq + 5
	mustOK(t, s.Sync())
	before := fileSize(t, fsys, active)
	// Remove most new messages of that block, keeping its first few: the
	// first block still holds the truncated records of those sequences,
	// and no tombstone covers them.
	for q := uint64(35); q < seq; q++ {
		if ok, _ := s.Remove(q); !ok {
			t.Fatalf("Remove(%d)", q)
		}
		delete(want, q)
	}
	mustOK(t, s.Sync())
	if after := fileSize(t, fsys, active); after >= before {
		t.Fatalf("block %s not rewritten: %d bytes, was %d", active, after, before)
	}
	checkGens(t, s, last, want)
	for _, mode := range []string{"rebuild", "power-loss", "index"} {
		s, cfg = reopenFile(t, s, cfg, mode)
		checkGens(t, s, last, want)
	}
	mustClose(t, s)
}

// TestFileStoreTruncateRecordKept empties the block holding a truncate
// record (its new messages removed) while an older block still holds
// truncated records of sequences stored again later: that block must not
// be dropped, or a rebuild would bring the old records back.
func TestFileStoreTruncateRecordKept(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	s := mustOpen(t, cfg)
	first := lastBlock(t, fsys)
	seq := uint64(1)
	for ; lastBlock(t, fsys) == first; seq++ {
		storeGen(t, s, seq, seq, 0)
	}
	second := seq - 1 // the first sequence of the second block
	storeGen(t, s, seq, second+20, 0)
	// Fill the active block almost to the end, so that the new messages
	// after the truncation soon go to the next one.
	mustOK(t, s.Sync())
	active := lastBlock(t, fsys)
	if room := int(cfg.BlockSize-fileSize(t, fsys, active)) - 300; room > 100 {
		if _, _, err := s.Store("big", nil, make([]byte, room)); err != nil {
			t.Fatal(err)
		}
	}
	// The last 7 records of the first block stay on disk, truncated (too
	// few for a rewrite).
	trunc := second - 8
	want := map[uint64]int{}
	setGens(want, 1, trunc, 0)
	if _, err := s.Truncate(trunc); err != nil {
		t.Fatal(err)
	}
	// New messages until one goes to a new block: the ones before it
	// share the block with the truncate record.
	seq = trunc
	for lastBlock(t, fsys) == active {
		seq++
		storeGen(t, s, seq, seq, 1)
	}
	if seq == trunc+1 || seq >= second {
		t.Fatalf("the block after the truncation took %d messages; the test needs 1 to 6", seq-trunc-1)
	}
	storeGen(t, s, seq+1, second+30, 1)
	setGens(want, seq, second+30, 1)
	for q := trunc + 1; q < seq; q++ { // empties the block with the record
		if ok, _ := s.Remove(q); !ok {
			t.Fatalf("Remove(%d)", q)
		}
	}
	checkGens(t, s, second+30, want)
	for _, mode := range []string{"rebuild", "power-loss"} {
		s, cfg = reopenFile(t, s, cfg, mode)
		checkGens(t, s, second+30, want)
		if c := s.Corrupt(); len(c) != 0 {
			t.Fatalf("%s: corrupt %v", mode, c)
		}
	}
	mustClose(t, s)
}

func lastBlock(t *testing.T, fsys store.FS) string {
	blocks := blockFiles(t, fsys, "/s")
	return blocks[len(blocks)-1]
}

func dropGensBelow(want map[uint64]int, seq uint64) {
	for q := range want {
		if q < seq {
			delete(want, q)
		}
	}
}

// TestFileStoreTruncateReclaims: truncating everything leaves one block,
// and numbering starts again at 1 after Truncate(0), across a reopen.
func TestFileStoreTruncateReclaims(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	s := mustOpen(t, cfg)
	storeGen(t, s, 1, 300, 0)
	if n := len(blockFiles(t, fsys, "/s")); n < 5 {
		t.Fatalf("%d blocks", n)
	}
	if n, err := s.Truncate(0); err != nil || n != 300 {
		t.Fatalf("Truncate(0) = %d, %v", n, err)
	}
	if n := len(blockFiles(t, fsys, "/s")); n != 1 {
		t.Fatalf("%d blocks after truncating everything, want 1", n)
	}
	for _, mode := range []string{"rebuild", "index"} {
		s, cfg = reopenFile(t, s, cfg, mode)
		if st := s.State(); st != (store.State{FirstSeq: 1}) {
			t.Fatalf("%s: State = %+v", mode, st)
		}
	}
	storeGen(t, s, 1, 3, 1)
	s, _ = reopenFile(t, s, cfg, "rebuild")
	want := map[uint64]int{1: 1, 2: 1, 3: 1}
	checkGens(t, s, 3, want)
	mustClose(t, s)
}

// TestTruncateConcurrent runs writers (each waiting for durability), a
// truncater and readers at once, for -race: every call returns (a wait
// for a truncated sequence must not hang), and every message read is one
// that was stored under its subject.
func TestTruncateConcurrent(t *testing.T) {
	impls := append(storeImpls(), storeImpl{name: "file-syncalways", open: func(t testing.TB, clock store.Clock, l store.Limits) (store.Store, reopenFunc) {
		cfg := fileCfg(nil, "/s")
		cfg.Sync, cfg.Clock, cfg.Limits = store.SyncAlways, clock, l
		s := mustOpen(t, cfg)
		t.Cleanup(func() { _ = s.Close() })
		return s, nil
	}})
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s, _ := impl.open(t, storetest.NewFakeClock(modelStart), store.Limits{})
			errc := make(chan error, 8)
			report := func(err error) {
				select {
				case errc <- err:
				default:
				}
			}
			var writers, others sync.WaitGroup
			done := make(chan struct{})
			for w := range 3 {
				writers.Go(func() {
					for i := range 150 {
						subj := fmt.Sprintf("w.%d", w)
						seq, _, err := s.Store(subj, nil, []byte(fmt.Sprintf("%s|%d", subj, i)))
						if err != nil {
							report(fmt.Errorf("Store: %v", err))
							return
						}
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						err = s.WaitDurable(ctx, seq)
						cancel()
						if err != nil {
							report(fmt.Errorf("WaitDurable(%d): %v", seq, err))
							return
						}
					}
				})
			}
			others.Go(func() {
				r := rand.New(rand.NewSource(1))
				for {
					select {
					case <-done:
						return
					default:
					}
					last := s.State().LastSeq
					if _, err := s.Truncate(last - min(last, uint64(r.Intn(4)))); err != nil {
						report(fmt.Errorf("Truncate: %v", err))
						return
					}
					time.Sleep(200 * time.Microsecond)
				}
			})
			others.Go(func() {
				var m store.Msg
				for {
					select {
					case <-done:
						return
					default:
					}
					for seq := uint64(0); ; seq = m.Seq + 1 {
						if _, err := s.LoadNext("w.*", seq, &m); err != nil {
							if !errors.Is(err, store.ErrEOF) {
								report(fmt.Errorf("LoadNext: %v", err))
							}
							break
						}
						if !strings.HasPrefix(string(m.Data), m.Subject+"|") {
							report(fmt.Errorf("seq %d: subject %q, payload %q", m.Seq, m.Subject, m.Data))
						}
					}
				}
			})
			finished := make(chan struct{})
			go func() { writers.Wait(); close(finished) }()
			select {
			case <-finished:
			case <-time.After(20 * time.Second):
				// A SyncAlways Store waits without a deadline.
				t.Fatal("writers stuck: a wait for a truncated sequence does not end")
			}
			close(done)
			others.Wait()
			select {
			case err := <-errc:
				t.Fatal(err)
			default:
			}
			st := s.State()
			if got := uint64(len(seqsOf(t, s))); got != st.Msgs {
				t.Fatalf("%d messages load, State says %+v", got, st)
			}
		})
	}
}

// crashPointFS is a CrashFS that calls onSync before every file fsync and
// directory sync: a test takes its crash images there, at each point
// where the store waits for the disk, in the middle of an operation.
type crashPointFS struct {
	*store.CrashFS
	mu     sync.Mutex // serializes onSync (rounds also run in the sync loop)
	onSync func(c *store.CrashFS)
}

type crashPointFile struct {
	store.File
	h *crashPointFS
}

func (h *crashPointFS) fire() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.onSync != nil {
		h.onSync(h.CrashFS)
	}
}

func (h *crashPointFS) wrap(f store.File, err error) (store.File, error) {
	if err != nil {
		return nil, err
	}
	return crashPointFile{f, h}, nil
}

func (h *crashPointFS) Create(name string) (store.File, error) { return h.wrap(h.CrashFS.Create(name)) }
func (h *crashPointFS) OpenAppend(name string) (store.File, error) {
	return h.wrap(h.CrashFS.OpenAppend(name))
}
func (h *crashPointFS) Open(name string) (store.File, error) { return h.wrap(h.CrashFS.Open(name)) }
func (h *crashPointFS) SyncDir(dir string) error             { h.fire(); return h.CrashFS.SyncDir(dir) }
func (f crashPointFile) Sync() error                         { f.h.fire(); return f.File.Sync() }

// crashImage is what a power loss now would leave, keeping a random
// prefix of the unsynced writes and sometimes tearing the next one.
func crashImage(r *rand.Rand, c *store.CrashFS) *store.CrashFS {
	opts := store.CrashOptions{KeepOps: r.Intn(c.UnsyncedOps() + 1)}
	if r.Intn(3) == 0 {
		opts.Tear = 1 + r.Intn(120)
	}
	return c.CrashClone(opts)
}

// during runs op and returns crash images taken at some of the fsyncs it
// waits for (at most 3).
func (h *crashPointFS) during(r *rand.Rand, op func()) []*store.CrashFS {
	var images []*store.CrashFS
	h.mu.Lock()
	h.onSync = func(c *store.CrashFS) {
		if len(images) < 3 && r.Intn(2) == 0 {
			images = append(images, crashImage(r, c))
		}
	}
	h.mu.Unlock()
	op()
	h.mu.Lock()
	h.onSync = nil
	h.mu.Unlock()
	return images
}

// truncWorld is what TestTruncateCrash knows about its store.
type truncWorld struct {
	// content holds, per sequence, the message a recovery may bring back:
	// the latest one stored there, live or removed, unless a truncation
	// or a Sync made its removal durable since.
	content map[uint64]string
	live    map[uint64]bool
	synced  uint64 // every message up to here is durable
	first   uint64
	last    uint64
	gen     int
}

// crashExpect is what a recovery from one crash image must satisfy:
// every message is the one content allows, every required message is
// there, and the last sequence is within [minLast, maxLast].
type crashExpect struct {
	content          map[uint64]string
	required         []uint64
	minLast, maxLast uint64
}

func (w *truncWorld) expect(upTo uint64) crashExpect {
	e := crashExpect{content: maps.Clone(w.content), minLast: min(upTo, w.synced), maxLast: w.last}
	for seq := range w.live {
		if seq <= e.minLast {
			e.required = append(e.required, seq)
		}
	}
	return e
}

func (w *truncWorld) store(t *testing.T, s store.Store) {
	seq := w.last + 1
	subj, data := genMsg(seq, w.gen)
	if got, _, err := s.Store(subj, nil, data); err != nil || got != seq {
		t.Fatalf("Store = %d, %v; want %d", got, err, seq)
	}
	w.content[seq], w.live[seq], w.last = subj+" "+string(data), true, seq
	if w.first == 0 {
		w.first = seq
	}
}

// durable forgets the removed messages: a Sync or Truncate made their
// removal durable.
func (w *truncWorld) durable() {
	for seq := range w.content {
		if !w.live[seq] {
			delete(w.content, seq)
		}
	}
	w.synced = w.last
}

func (w *truncWorld) reset(got snapshot) {
	w.content, w.live = map[uint64]string{}, map[uint64]bool{}
	for _, m := range got.Msgs {
		w.content[m.Seq], w.live[m.Seq] = m.Subject+" "+string(m.Data), true
	}
	w.first, w.last, w.synced = got.State.FirstSeq, got.State.LastSeq, got.State.LastSeq
}

// checkCrash recovers a crash image and checks it against e.
func checkCrash(t *testing.T, what string, c *store.CrashFS, cfg store.FileConfig, e crashExpect) snapshot {
	t.Helper()
	s := mustOpen(t, fileCfgOn(c, cfg))
	defer s.Close()
	got := snap(t, s)
	have := map[uint64]bool{}
	for _, m := range got.Msgs {
		if want, ok := e.content[m.Seq]; !ok || want != m.Subject+" "+string(m.Data) {
			t.Fatalf("%s: recovered %d = %q %q, which was truncated or removed (allowed: %q)", what, m.Seq, m.Subject, m.Data, want)
		}
		have[m.Seq] = true
	}
	for _, seq := range e.required {
		if !have[seq] {
			t.Fatalf("%s: durable message %d lost (state %+v)", what, seq, got.State)
		}
	}
	if last := got.State.LastSeq; last < e.minLast || last > e.maxLast {
		t.Fatalf("%s: last sequence %d outside [%d, %d]", what, last, e.minLast, e.maxLast)
	}
	if corrupt := s.Corrupt(); len(corrupt) > 0 {
		t.Fatalf("%s: a crash is not corruption, got %v", what, corrupt)
	}
	return got
}

// TestTruncateCrash runs a random workload with truncations on a CrashFS
// and crashes it: during a Truncate (at its fsyncs), right after it
// returns, during the WaitDurable of messages stored afterwards at the
// truncated sequences with new content, and at random points with part
// of the unsynced writes kept and the next torn. No recovery may bring
// back truncated content (or a message whose removal a Truncate or Sync
// made durable), durable messages must survive, and a Truncate that
// returned must hold. Each cycle goes on from the last crash image.
func TestTruncateCrash(t *testing.T) {
	for _, seed := range crashSeeds() {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewSource(seed))
			cr := rand.New(rand.NewSource(-seed)) // crash images, apart from the workload
			h := &crashPointFS{CrashFS: store.NewCrashFS()}
			cfg := fileCfg(h, "/s")
			cfg.Compression = store.Compression(seed % 2)
			s := mustOpen(t, cfg)
			w := &truncWorld{content: map[uint64]string{}, live: map[uint64]bool{}, first: 1}
			for cycle := range 8 {
				where := func(what string) string { return fmt.Sprintf("cycle %d: %s", cycle, what) }
				truncCrashWrites(t, r, cr, h, cfg, s, w, where, 10+r.Intn(60))
				if w.last > 0 {
					seq := truncPoint(r, w)
					e := w.expect(seq) // during: before or after, never in between
					var n uint64
					var err error
					images := h.during(cr, func() { n, err = s.Truncate(seq) })
					if err != nil {
						t.Fatalf("Truncate(%d): %v", seq, err)
					}
					for q := range w.live {
						if q > seq {
							delete(w.live, q)
							n--
						}
					}
					if n != 0 {
						t.Fatalf("Truncate(%d) miscounted by %d", seq, n)
					}
					for q := range w.content {
						if q > seq {
							delete(w.content, q)
						}
					}
					w.last, w.gen = seq, w.gen+1
					w.first = max(w.first, 1)
					for i, c := range images {
						checkCrash(t, where(fmt.Sprintf("during Truncate(%d) #%d", seq, i)), c, cfg, e)
					}
					w.durable()
					checkCrash(t, where(fmt.Sprintf("after Truncate(%d)", seq)), crashImage(cr, h.CrashFS), cfg, w.expect(w.last))
				}
				truncCrashWrites(t, r, cr, h, cfg, s, w, where, 5+r.Intn(40))
				c := crashImage(cr, h.CrashFS)
				e := w.expect(w.last)
				s.Close()
				h = &crashPointFS{CrashFS: c}
				cfg.FS = h
				got := checkCrash(t, where("end of cycle"), c, cfg, e)
				s = mustOpen(t, cfg)
				w.reset(got)
			}
			s.Close()
		})
	}
}

// truncPoint picks a sequence below the last to truncate to: just below
// it, anywhere, or at or below the first.
func truncPoint(r *rand.Rand, w *truncWorld) uint64 {
	switch r.Intn(4) {
	case 0:
		return w.last - min(w.last, uint64(1+r.Intn(3)))
	case 1:
		return uint64(r.Intn(int(min(w.first, w.last)) + 1))
	}
	return uint64(r.Int63n(int64(w.last)))
}

// truncCrashWrites applies n random writes: stores (in the current
// generation), removals, compactions, Syncs and WaitDurables, checking
// crash images taken during the waits.
func truncCrashWrites(t *testing.T, r, cr *rand.Rand, h *crashPointFS, cfg store.FileConfig, s *store.FileStore, w *truncWorld, where func(string) string, n int) {
	t.Helper()
	for range n {
		switch op := r.Intn(100); {
		case op < 70:
			w.store(t, s)
		case op < 82 && w.last > 0:
			seq := w.last - min(w.last-1, uint64(r.Intn(30)))
			ok, err := s.Remove(seq)
			if err != nil || ok != w.live[seq] {
				t.Fatalf("Remove(%d) = %v, %v; live %v", seq, ok, err, w.live[seq])
			}
			delete(w.live, seq)
		case op < 85:
			st := s.State()
			to := st.FirstSeq + uint64(r.Intn(4))
			if to > st.LastSeq+1 {
				continue // not past the end: that moves the last sequence too
			}
			if _, err := s.Compact(to); err != nil {
				t.Fatal(err)
			}
			for q := range w.live {
				if q < to {
					delete(w.live, q)
				}
			}
		case op < 90:
			mustOK(t, s.Sync())
			w.durable()
		default:
			e := w.expect(w.last)
			images := h.during(cr, func() { mustOK(t, s.WaitDurable(context.Background(), w.last)) })
			for i, c := range images {
				checkCrash(t, where(fmt.Sprintf("during WaitDurable(%d) #%d", w.last, i)), c, cfg, e)
			}
			w.synced = w.last
		}
		w.first = s.State().FirstSeq
	}
}
