package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fernmq/fern/store"
)

// This file tests recovery on the crash-simulating filesystem: power
// losses at random points of a random workload (with and without partial
// writeback), torn writes at every byte of the last record, bit flips in
// records, and a missing, damaged or stale index file.

// snapshot is everything observable about a store's contents.
type snapshot struct {
	State store.State
	Msgs  []msgView
}

func snap(t testing.TB, s store.Store) snapshot {
	t.Helper()
	st := s.State()
	out := snapshot{State: st}
	var m store.Msg
	for seq := st.FirstSeq; seq <= st.LastSeq && st.Msgs > 0; seq++ {
		if _, err := s.Load(seq, &m); err == nil {
			v := viewOf(&m)
			v.Subject = strings.Clone(v.Subject) // m's buffer is reused
			out.Msgs = append(out.Msgs, *v)
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Load(%d): %v", seq, err)
		}
	}
	return out
}

// crashSeeds are the seeds of the random crash tests: 1..12, or
// 1..FERN_STORE_CRASH_SEEDS.
func crashSeeds() []int64 {
	n, err := strconv.Atoi(os.Getenv("FERN_STORE_CRASH_SEEDS"))
	if err != nil || n <= 0 {
		n = 12
	}
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = int64(i + 1)
	}
	return seeds
}

// crashOp applies one random operation. It reports whether the operation
// made everything durable (Truncate does, as a Sync).
func crashOp(t testing.TB, r *rand.Rand, s store.Store) (synced bool) {
	st := s.State()
	switch n := r.Intn(100); {
	case n < 60:
		subj := modelPick(r, modelSubjects)
		data := modelBytes(r)
		if r.Intn(3) == 0 { // compressible
			data = bytes.Repeat(data, 20)
		}
		if _, _, err := s.Store(subj, modelBytes(r), data); err != nil && !errors.Is(err, store.ErrMsgTooLarge) {
			t.Fatalf("Store: %v", err)
		}
	case n < 65:
		if err := s.StoreAt("a", nil, []byte("at"), st.LastSeq+1+uint64(r.Intn(3)), 1); err != nil {
			t.Fatalf("StoreAt: %v", err)
		}
	case n < 80:
		if _, err := s.Remove(st.FirstSeq + uint64(r.Intn(int(st.LastSeq-st.FirstSeq+2)))); err != nil {
			t.Fatalf("Remove: %v", err)
		}
	case n < 84:
		if _, err := s.Purge(store.Purge{Subject: modelPick(r, modelFilters[:10]), Keep: uint64(r.Intn(3))}); err != nil {
			t.Fatalf("Purge: %v", err)
		}
	case n < 87:
		if _, err := s.Compact(st.FirstSeq + uint64(r.Intn(5))); err != nil {
			t.Fatalf("Compact: %v", err)
		}
	case n < 88:
		if _, err := s.Purge(store.Purge{}); err != nil {
			t.Fatalf("Purge all: %v", err)
		}
	case n < 91:
		if _, err := s.Truncate(st.LastSeq - min(st.LastSeq, uint64(1+r.Intn(8)))); err != nil {
			t.Fatalf("Truncate: %v", err)
		}
		return true
	}
	return false
}

// TestRecoveryPowerLoss runs a random workload and, at random points,
// simulates a power loss that keeps only fsynced data. The store that
// comes back must be exactly the store as it was after some operation
// at or after the last explicit Sync or Truncate (maintenance may sync
// later states too, never half an operation).
func TestRecoveryPowerLoss(t *testing.T) {
	for _, seed := range crashSeeds() {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewSource(seed))
			fsys := store.NewCrashFS()
			cfg := fileCfg(fsys, "/s")
			cfg.Limits = store.Limits{MaxMsgs: int64(50 + r.Intn(200)), MaxMsgsPerSubject: int64(r.Intn(40))}
			cfg.Compression = store.Compression(seed % 2)
			s := mustOpen(t, cfg)
			since := []snapshot{snap(t, s)} // states since the last Sync
			for cycle := range 25 {
				for range 5 + r.Intn(60) {
					synced := crashOp(t, r, s)
					since = append(since, snap(t, s))
					if synced {
						since = since[len(since)-1:]
					}
					if r.Intn(15) == 0 {
						if err := s.Sync(); err != nil {
							t.Fatal(err)
						}
						since = since[len(since)-1:]
					}
				}
				crashed := fsys.CrashClone(store.CrashOptions{})
				s.Close()
				fsys = crashed
				cfg.FS = fsys
				s = mustOpen(t, cfg)
				got := snap(t, s)
				i := slices.IndexFunc(since, func(x snapshot) bool { return cmp.Equal(x, got) })
				if i < 0 {
					t.Fatalf("cycle %d: recovered a state that never was:\n%s", cycle, cmp.Diff(since[0], got))
				}
				since = []snapshot{got}
			}
			s.Close()
		})
	}
}

// TestRecoveryPartialWriteback lets a power loss keep a random prefix of
// the unsynced writes, and tear the next one: every message that was
// synced (and not removed since) must come back, whole, under its
// sequence, and nothing that was never stored may appear.
func TestRecoveryPartialWriteback(t *testing.T) {
	for _, seed := range crashSeeds() {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewSource(seed))
			fsys := store.NewCrashFS()
			cfg := fileCfg(fsys, "/s")
			cfg.Compression = store.Compression(seed % 2)
			s := mustOpen(t, cfg)
			ever := map[uint64]msgView{}
			var synced snapshot
			for cycle := range 20 {
				for range 5 + r.Intn(80) {
					truncated := crashOp(t, r, s)
					for _, m := range snap(t, s).Msgs {
						ever[m.Seq] = m
					}
					if truncated {
						// Durable: nothing above it comes back, and a message
						// stored again at a truncated sequence is a new one.
						synced = snap(t, s)
						for seq := range ever {
							if seq > synced.State.LastSeq {
								delete(ever, seq)
							}
						}
					}
					if r.Intn(10) == 0 {
						if err := s.Sync(); err != nil {
							t.Fatal(err)
						}
						synced = snap(t, s)
					}
				}
				now := snap(t, s)
				ops := fsys.UnsyncedOps()
				opts := store.CrashOptions{KeepOps: r.Intn(ops + 1), Tear: r.Intn(200)}
				crashed := fsys.CrashClone(opts)
				s.Close()
				fsys = crashed
				cfg.FS = fsys
				s = mustOpen(t, cfg)
				got := snap(t, s)
				if got.State.LastSeq < synced.State.LastSeq {
					t.Fatalf("cycle %d (%+v of %d): last sequence went back from %d to %d", cycle, opts, ops, synced.State.LastSeq, got.State.LastSeq)
				}
				have := map[uint64]msgView{}
				for _, m := range got.Msgs {
					if want, ok := ever[m.Seq]; !ok || !cmp.Equal(want, m) {
						t.Fatalf("cycle %d: recovered %+v, stored %+v (ok %v)", cycle, m, want, ok)
					}
					have[m.Seq] = m
				}
				alive := map[uint64]bool{}
				for _, m := range now.Msgs {
					alive[m.Seq] = true
				}
				for _, m := range synced.Msgs {
					if _, ok := have[m.Seq]; !ok && alive[m.Seq] {
						t.Fatalf("cycle %d (%+v of %d): synced message %d lost", cycle, opts, ops, m.Seq)
					}
				}
				if corrupt := s.Corrupt(); len(corrupt) > 0 {
					t.Fatalf("cycle %d: a crash is not corruption, got %v", cycle, corrupt)
				}
				synced = got
				if err := s.Sync(); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
		})
	}
}

// blockFiles lists the block file names of dir, sorted.
func blockFiles(t testing.TB, fsys store.FS, dir string) []string {
	t.Helper()
	names, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, ".blk") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}

func fileSize(t testing.TB, fsys store.FS, name string) int64 {
	t.Helper()
	fi, err := fsys.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func truncateFile(t testing.TB, fsys store.FS, name string, size int64) {
	t.Helper()
	f, err := fsys.OpenAppend(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestRecoveryTornLastRecord cuts the last block inside its last record
// at every byte: each reopen must give back every earlier message and not
// the torn one, and the store must go on from there.
func TestRecoveryTornLastRecord(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	cfg.BlockSize = 1 << 20
	s := mustOpen(t, cfg)
	storeN(t, s, 1, 40)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	blk := blockFiles(t, fsys, "/s")[0]
	before := fileSize(t, fsys, blk)
	storeN(t, s, 41, 41)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	after := fileSize(t, fsys, blk)
	s.Close()
	if after-before < 40 {
		t.Fatalf("last record is %d bytes", after-before)
	}
	for cut := before; cut < after; cut++ {
		c := fsys.CrashClone(store.CrashOptions{})
		c.Remove("/s/index.db")
		truncateFile(t, c, blk, cut)
		s := mustOpen(t, fileCfgOn(c, cfg))
		if st := s.State(); st.LastSeq != 40 || st.Msgs != 40 {
			t.Fatalf("cut at %d of [%d, %d): State = %+v", cut, before, after, st)
		}
		checkRange(t, s, 1, 40)
		if got := fileSize(t, c, blk); got != before {
			t.Fatalf("cut at %d: block is %d bytes after recovery, want the torn tail cut to %d", cut, got, before)
		}
		storeN(t, s, 41, 42)
		mustClose(t, s)
		s = mustOpen(t, fileCfgOn(c, cfg))
		checkRange(t, s, 1, 42)
		if len(s.Corrupt()) != 0 {
			t.Fatalf("cut at %d: torn write reported as corruption %v", cut, s.Corrupt())
		}
		mustClose(t, s)
	}
}

// TestRecoveryTornWrite tears the last unsynced write at every byte with
// CrashOptions.Tear: everything synced comes back.
func TestRecoveryTornWrite(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	s := mustOpen(t, cfg)
	storeN(t, s, 1, 30)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	storeN(t, s, 31, 35)
	// A store larger than the write buffer hands it to the OS (unsynced).
	if _, _, err := s.Store("big", nil, make([]byte, 70<<10)); err != nil {
		t.Fatal(err)
	}
	ops := fsys.UnsyncedOps()
	if ops == 0 {
		t.Fatal("no unsynced writes to tear")
	}
	for tear := 1; tear < 300; tear += 7 {
		c := fsys.CrashClone(store.CrashOptions{KeepOps: ops - 1, Tear: tear})
		s2 := mustOpen(t, fileCfgOn(c, cfg))
		checkRange(t, s2, 1, 30)
		if len(s2.Corrupt()) != 0 {
			t.Fatalf("tear %d: reported corruption %v", tear, s2.Corrupt())
		}
		mustClose(t, s2)
	}
	s.Close()
}

// TestRecoveryBitFlips flips bits inside a record in the middle of a
// block. The damaged message is never served; every other one is; the
// damage is reported.
func TestRecoveryBitFlips(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	cfg.BlockSize = 1 << 20
	s := mustOpen(t, cfg)
	storeN(t, s, 1, 20)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	blk := blockFiles(t, fsys, "/s")[0]
	before := fileSize(t, fsys, blk)
	storeN(t, s, 21, 21)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	after := fileSize(t, fsys, blk)
	storeN(t, s, 22, 30)
	mustClose(t, s)
	for _, index := range []bool{false, true} {
		for off := before; off < after; off++ {
			c := fsys.CrashClone(store.CrashOptions{Flip: &store.BitFlip{Name: blk, Offset: off, Bit: uint8(off % 8)}})
			if !index {
				c.Remove("/s/index.db")
			}
			s := mustOpen(t, fileCfgOn(c, cfg))
			var m store.Msg
			_, err := s.Load(21, &m)
			if !errors.Is(err, store.ErrCorrupt) && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("flip at %d (index %v): Load(21) = %v, %+v", off, index, err, m)
			}
			checkRange(t, s, 1, 20)
			checkRange(t, s, 22, 30)
			if len(s.Corrupt()) == 0 && s.CorruptRegions() == 0 {
				t.Fatalf("flip at %d (index %v): not reported", off, index)
			}
			// LoadNext walks past it.
			if _, err := s.LoadNext("", 21, &m); err != nil || m.Seq != 22 {
				t.Fatalf("flip at %d: LoadNext(21) = %d, %v", off, m.Seq, err)
			}
			mustClose(t, s)
		}
	}
}

// TestRecoveryIndex checks that a missing, damaged or stale index file is
// detected and the state rebuilt from the blocks.
func TestRecoveryIndex(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	s := mustOpen(t, cfg)
	storeN(t, s, 1, 100)
	for seq := uint64(10); seq < 100; seq += 9 {
		s.Remove(seq)
	}
	mustClose(t, s)
	stale := fsys.CrashClone(store.CrashOptions{}) // index of 100 messages
	s = mustOpen(t, cfg)
	storeN(t, s, 101, 130)
	s.Remove(120)
	want := snap(t, s)
	mustClose(t, s)
	idx := fileSize(t, fsys, "/s/index.db")

	cases := map[string]func(c *store.CrashFS){
		"intact":  func(c *store.CrashFS) {},
		"missing": func(c *store.CrashFS) { c.Remove("/s/index.db") },
		"flipped": func(c *store.CrashFS) {
			if err := c.FlipBit("/s/index.db", idx/2, 3); err != nil {
				t.Fatal(err)
			}
		},
		"truncated": func(c *store.CrashFS) { truncateFile(t, c, "/s/index.db", idx-5) },
		"stale": func(c *store.CrashFS) {
			// The index of an earlier close, next to newer blocks.
			f, _ := stale.Open("/s/index.db")
			old := make([]byte, fileSize(t, stale, "/s/index.db"))
			f.ReadAt(old, 0)
			f.Close()
			w, _ := c.Create("/s/index.db")
			w.Write(old)
			w.Sync()
			w.Close()
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			c := fsys.CrashClone(store.CrashOptions{})
			damage(c)
			s := mustOpen(t, fileCfgOn(c, cfg))
			defer mustClose(t, s)
			if got := snap(t, s); !cmp.Equal(want, got) {
				t.Fatalf("state differs:\n%s", cmp.Diff(want, got))
			}
			if len(s.Corrupt()) != 0 {
				t.Fatalf("index damage reported as message corruption: %v", s.Corrupt())
			}
		})
	}
}

// TestRecoveryBadBlockHeader sets a block with an unreadable header aside
// and serves the rest.
func TestRecoveryBadBlockHeader(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	s := mustOpen(t, cfg)
	storeN(t, s, 1, 200)
	mustClose(t, s)
	blocks := blockFiles(t, fsys, "/s")
	if len(blocks) < 3 {
		t.Fatalf("%d blocks", len(blocks))
	}
	c := fsys.CrashClone(store.CrashOptions{Flip: &store.BitFlip{Name: blocks[1], Offset: 1}})
	c.Remove("/s/index.db")
	var logs bytes.Buffer
	cfg = fileCfgOn(c, cfg)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s = mustOpen(t, cfg)
	defer mustClose(t, s)
	if s.CorruptRegions() != 1 || !strings.Contains(logs.String(), "level=WARN msg=\"store: corrupt record\"") {
		t.Fatalf("CorruptRegions = %d, log:\n%s", s.CorruptRegions(), logs.String())
	}
	if _, err := c.Stat(blocks[1] + ".bad"); err != nil {
		t.Fatalf("damaged block not set aside: %v", err)
	}
	st := s.State()
	if st.LastSeq != 200 || st.Msgs >= 200 || st.Msgs < 100 {
		t.Fatalf("State = %+v", st)
	}
	checkMsg(t, s, 1)
	checkMsg(t, s, 200)
}

// TestRecoveryLastBlockSetAside damages the header of the last block: the
// store goes on in a new block after the earlier ones.
func TestRecoveryLastBlockSetAside(t *testing.T) {
	fsys := store.NewCrashFS()
	cfg := fileCfg(fsys, "/s")
	s := mustOpen(t, cfg)
	storeN(t, s, 1, 100)
	mustClose(t, s)
	blocks := blockFiles(t, fsys, "/s")
	c := fsys.CrashClone(store.CrashOptions{Flip: &store.BitFlip{Name: blocks[len(blocks)-1], Offset: 2}})
	c.Remove("/s/index.db")
	cfg.FS = c
	s = mustOpen(t, cfg)
	st := s.State()
	if st.LastSeq == 0 || st.LastSeq >= 100 {
		t.Fatalf("State = %+v", st)
	}
	storeN(t, s, st.LastSeq+1, st.LastSeq+10)
	mustClose(t, s)
	s = mustOpen(t, cfg)
	checkRange(t, s, 1, st.LastSeq)
	checkRange(t, s, st.LastSeq+1, st.LastSeq+10)
	mustClose(t, s)
}
