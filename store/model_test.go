package store_test

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fernmq/fern/store"
	"github.com/fernmq/fern/store/storetest"
	"github.com/fernmq/fern/subject"
)

// This file is the model-based test: one random sequence of operations is
// applied to every Store implementation and to a naive reference model (a
// slice of messages), and after every step their states, contents,
// subject counts, load results and removal callbacks must be equal.
//
// Reproduce a failure with FERN_STORE_SEED=<seed printed in the log>
// (FERN_STORE_OPS sets the number of operations per seed).

// storeImpl is one Store implementation under test. Adding an
// implementation to every test in this file is adding an entry to
// storeImpls.
type storeImpl struct {
	name string
	// open creates an empty store that takes time from clock and starts
	// with limits l. reopen, if not nil, closes the store it returned
	// (the last one reopen returned, after the first call) and opens it
	// again on the same data with limits l; nil means the implementation
	// cannot be reopened and the model test skips that operation. With
	// rebuild, the reopen must not use what a clean close saves (the
	// FileStore's index file), so that the state is rebuilt from the data.
	open func(t testing.TB, clock store.Clock, l store.Limits) (s store.Store, reopen reopenFunc)
}

// reopenFunc reopens a store; see storeImpl.
type reopenFunc func(l store.Limits, rebuild bool) store.Store

func storeImpls() []storeImpl {
	return []storeImpl{
		{name: "mem", open: openMem},
		fileImpl("file", false, store.CompressNone),
		fileImpl("file-os-s2", true, store.CompressS2),
	}
}

func openMem(t testing.TB, clock store.Clock, l store.Limits) (store.Store, reopenFunc) {
	s, err := store.NewMemStore(store.MemConfig{Clock: clock, Limits: l})
	if err != nil {
		t.Fatalf("NewMemStore: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, nil
}

// fileImpl is a FileStore with small blocks (so that stores span several
// blocks and compaction runs), on a CrashFS or, with onDisk, in a
// temporary directory of the real filesystem. A rebuilding reopen is, on
// the CrashFS, a power loss right after a Sync (so nothing may be lost),
// and on disk a clean close whose index file is then removed.
func fileImpl(name string, onDisk bool, comp store.Compression) storeImpl {
	return storeImpl{name: name, open: func(t testing.TB, clock store.Clock, l store.Limits) (store.Store, reopenFunc) {
		cfg := store.FileConfig{Dir: "/stream", FS: store.NewCrashFS(), Clock: clock, BlockSize: 4 << 10, Compression: comp}
		if onDisk {
			cfg.Dir, cfg.FS = t.TempDir(), nil
		}
		open := func(l store.Limits) *store.FileStore {
			cfg.Limits = l
			s, err := store.OpenFileStore(cfg)
			if err != nil {
				t.Fatalf("OpenFileStore: %v", err)
			}
			return s
		}
		cur := open(l)
		t.Cleanup(func() { _ = cur.Close() })
		return cur, func(l store.Limits, rebuild bool) store.Store {
			var crashed *store.CrashFS
			if rebuild && !onDisk {
				if err := cur.Sync(); err != nil {
					t.Fatalf("Sync before power loss: %v", err)
				}
				crashed = cfg.FS.(*store.CrashFS).CrashClone(store.CrashOptions{})
			}
			if err := cur.Close(); err != nil {
				t.Fatalf("Close before reopen: %v", err)
			}
			switch {
			case crashed != nil:
				cfg.FS = crashed
			case rebuild:
				if err := os.Remove(filepath.Join(cfg.Dir, "index.db")); err != nil {
					t.Fatalf("remove index: %v", err)
				}
			}
			cur = open(l)
			return cur
		}
	}}
}

// msgView is the comparable part of a store.Msg (which has an unexported
// buffer go-cmp cannot look into).
type msgView struct {
	Subject      string
	Header, Data []byte
	Seq          uint64
	Time         int64
}

func viewOf(m *store.Msg) *msgView {
	if m == nil {
		return nil
	}
	return &msgView{Subject: m.Subject, Header: slices.Clone(m.Header), Data: slices.Clone(m.Data), Seq: m.Seq, Time: m.Time}
}

// errName names the sentinel err wraps ("" for nil), so errors compare by
// kind rather than by message.
func errName(err error) string {
	if err == nil {
		return ""
	}
	for _, s := range []struct {
		name string
		err  error
	}{
		{"ErrClosed", store.ErrClosed}, {"ErrNotFound", store.ErrNotFound}, {"ErrEOF", store.ErrEOF},
		{"ErrMsgTooLarge", store.ErrMsgTooLarge}, {"ErrMaxMsgs", store.ErrMaxMsgs}, {"ErrMaxBytes", store.ErrMaxBytes},
		{"ErrMaxMsgsPerSubject", store.ErrMaxMsgsPerSubject}, {"ErrSequenceMismatch", store.ErrSequenceMismatch},
		{"ErrInvalidSubject", store.ErrInvalidSubject}, {"ErrCorrupt", store.ErrCorrupt},
		{"ErrInvalidPurge", store.ErrInvalidPurge}, {"ErrInvalidLimits", store.ErrInvalidLimits},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "unexpected: " + err.Error()
}

// model is the naive reference: the live messages in sequence order.
type model struct {
	msgs     []msgView
	last     uint64
	lastTime int64
	limits   store.Limits
	now      int64
	removed  []uint64 // removed by the current operation
}

func (m *model) state() store.State {
	st := store.State{FirstSeq: m.last + 1, LastSeq: m.last, LastTime: m.lastTime, Msgs: uint64(len(m.msgs))}
	subjects := map[string]bool{}
	for _, x := range m.msgs {
		st.Bytes += store.MsgSize(x.Subject, x.Header, x.Data)
		subjects[x.Subject] = true
	}
	st.NumSubjects = len(subjects)
	if len(m.msgs) > 0 {
		st.FirstSeq, st.FirstTime = m.msgs[0].Seq, m.msgs[0].Time
		st.Deleted = st.LastSeq - st.FirstSeq + 1 - st.Msgs
	}
	return st
}

func modelMatchAll(filter string) bool { return filter == "" || filter == ">" }

func modelMatch(subj, filter string) bool {
	return modelMatchAll(filter) || subject.Matches(subj, filter)
}

func modelValidFilter(filter string) bool { return filter == "" || subject.Valid(filter) }

func (m *model) count(subj string) int {
	n := 0
	for _, x := range m.msgs {
		if x.Subject == subj {
			n++
		}
	}
	return n
}

// removeAt removes m.msgs[i], recording its sequence.
func (m *model) removeAt(i int) {
	m.removed = append(m.removed, m.msgs[i].Seq)
	m.msgs = slices.Delete(m.msgs, i, i+1)
}

// removeIf removes, in sequence order, the messages drop selects and
// returns how many.
func (m *model) removeIf(drop func(x msgView) bool) uint64 {
	var n uint64
	for i := 0; i < len(m.msgs); {
		if drop(m.msgs[i]) {
			m.removeAt(i)
			n++
			continue
		}
		i++
	}
	return n
}

func (m *model) store(subj string, hdr, data []byte, seq uint64, ts int64) error {
	if !subject.ValidLiteral(subj) {
		return store.ErrInvalidSubject
	}
	if seq <= m.last {
		return store.ErrSequenceMismatch
	}
	l := m.limits
	size := store.MsgSize(subj, hdr, data)
	if l.MaxMsgSize > 0 && len(hdr)+len(data) > int(l.MaxMsgSize) {
		return store.ErrMsgTooLarge
	}
	if l.MaxBytes > 0 && size > uint64(l.MaxBytes) {
		return store.ErrMaxBytes
	}
	if l.Discard == store.DiscardNew {
		st := m.state()
		replaces := l.MaxMsgsPerSubject > 0 && m.count(subj) >= int(l.MaxMsgsPerSubject)
		switch {
		case replaces && l.DiscardNewPerSubject:
			return store.ErrMaxMsgsPerSubject
		case l.MaxMsgs > 0 && st.Msgs >= uint64(l.MaxMsgs) && !replaces:
			return store.ErrMaxMsgs
		case l.MaxBytes > 0 && st.Bytes+size > uint64(l.MaxBytes):
			return store.ErrMaxBytes
		}
	}
	m.msgs = append(m.msgs, msgView{Subject: subj, Header: modelClone(hdr), Data: modelClone(data), Seq: seq, Time: ts})
	m.last, m.lastTime = seq, ts
	m.enforce(subj)
	return nil
}

func modelClone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return slices.Clone(b)
}

// enforce applies the per-subject limit to subj ("" = every subject) and
// then MaxMsgs / MaxBytes, dropping the oldest.
func (m *model) enforce(subj string) {
	l := m.limits
	if l.MaxMsgsPerSubject > 0 {
		counts := map[string]int{}
		for _, x := range m.msgs {
			counts[x.Subject]++
		}
		m.removeIf(func(x msgView) bool {
			if (subj == "" || x.Subject == subj) && counts[x.Subject] > int(l.MaxMsgsPerSubject) {
				counts[x.Subject]--
				return true
			}
			return false
		})
	}
	for len(m.msgs) > 0 {
		st := m.state()
		if !(l.MaxMsgs > 0 && st.Msgs > uint64(l.MaxMsgs)) && !(l.MaxBytes > 0 && st.Bytes > uint64(l.MaxBytes)) {
			break
		}
		m.removeAt(0)
	}
}

func (m *model) remove(seq uint64) bool {
	return m.removeIf(func(x msgView) bool { return x.Seq == seq }) == 1
}

func (m *model) compact(seq uint64) uint64 {
	if seq == 0 {
		return 0
	}
	n := m.removeIf(func(x msgView) bool { return x.Seq < seq })
	if seq > m.last+1 {
		m.last = seq - 1
	}
	return n
}

// truncate drops the messages above seq and makes seq the last sequence,
// with the time of the newest message kept (0 if none).
func (m *model) truncate(seq uint64) uint64 {
	if seq >= m.last {
		return 0
	}
	n := m.removeIf(func(x msgView) bool { return x.Seq > seq })
	m.last, m.lastTime = seq, 0
	if len(m.msgs) > 0 {
		m.lastTime = m.msgs[len(m.msgs)-1].Time
	}
	return n
}

func (m *model) purge(p store.Purge) (uint64, error) {
	if p.Sequence > 0 && p.Keep > 0 {
		return 0, store.ErrInvalidPurge
	}
	if !modelValidFilter(p.Subject) {
		return 0, store.ErrInvalidSubject
	}
	if modelMatchAll(p.Subject) {
		switch {
		case p.Sequence > 0:
			return m.compact(p.Sequence), nil
		case p.Keep > 0:
			drop := len(m.msgs) - min(len(m.msgs), int(p.Keep))
			return m.removeIf(func(msgView) bool { drop--; return drop >= 0 }), nil
		}
		return m.removeIf(func(msgView) bool { return true }), nil
	}
	matching := 0
	for _, x := range m.msgs {
		if modelMatch(x.Subject, p.Subject) {
			matching++
		}
	}
	budget := matching
	if p.Keep > 0 {
		budget = matching - min(matching, int(p.Keep))
	}
	return m.removeIf(func(x msgView) bool {
		if budget > 0 && modelMatch(x.Subject, p.Subject) && (p.Sequence == 0 || x.Seq < p.Sequence) {
			budget--
			return true
		}
		return false
	}), nil
}

func (m *model) updateLimits(l store.Limits) error {
	if l.Discard != store.DiscardOld && l.Discard != store.DiscardNew {
		return store.ErrInvalidLimits
	}
	m.limits = l
	m.enforce("")
	return nil
}

// advance moves time and expires from the front, as the age timer does.
func (m *model) advance(d time.Duration) {
	m.now += int64(d)
	for len(m.msgs) > 0 && m.limits.MaxAge > 0 && m.msgs[0].Time <= m.now-int64(m.limits.MaxAge) {
		m.removeAt(0)
	}
}

func (m *model) load(seq uint64) (*msgView, error) {
	if seq > m.last {
		return nil, store.ErrEOF
	}
	i, ok := slices.BinarySearchFunc(m.msgs, seq, func(x msgView, seq uint64) int {
		switch {
		case x.Seq < seq:
			return -1
		case x.Seq > seq:
			return 1
		}
		return 0
	})
	if !ok {
		return nil, store.ErrNotFound
	}
	return &m.msgs[i], nil
}

func (m *model) loadNext(filter string, start uint64) (*msgView, error) {
	if !modelValidFilter(filter) {
		return nil, store.ErrInvalidSubject
	}
	for i := range m.msgs {
		if m.msgs[i].Seq >= start && modelMatch(m.msgs[i].Subject, filter) {
			return &m.msgs[i], nil
		}
	}
	return nil, store.ErrEOF
}

func (m *model) loadLast(filter string) (*msgView, error) {
	if !modelValidFilter(filter) {
		return nil, store.ErrInvalidSubject
	}
	for i := len(m.msgs) - 1; i >= 0; i-- {
		if modelMatch(m.msgs[i].Subject, filter) {
			return &m.msgs[i], nil
		}
	}
	return nil, store.ErrNotFound
}

func (m *model) subjectCounts(filter string) map[string]uint64 {
	out := map[string]uint64{}
	if !modelValidFilter(filter) {
		return out
	}
	for _, x := range m.msgs {
		if modelMatch(x.Subject, filter) {
			out[x.Subject]++
		}
	}
	return out
}

// Random inputs: a few subjects (and some invalid ones), filters that hit
// literals, wildcards, nothing and invalid patterns.
var (
	modelSubjects = []string{"a", "b", "c.d", "c.e", "f.g.h", "f.x.h"}
	modelBad      = []string{"", "a.*", "c.>", "a..b", ".a"}
	modelFilters  = []string{"", ">", "a", "b", "c.d", "c.*", "c.>", "*.g.h", "f.*.h", "f.>", "zz", "c..d", "a.>.b"}
)

func modelPick[T any](r *rand.Rand, xs []T) T { return xs[r.Intn(len(xs))] }

func modelBytes(r *rand.Rand) []byte {
	n := r.Intn(12)
	if n == 0 && r.Intn(2) == 0 {
		return nil
	}
	b := make([]byte, n)
	r.Read(b)
	return b
}

func modelLimits(r *rand.Rand) store.Limits {
	var l store.Limits
	if r.Intn(3) == 0 {
		l.MaxMsgs = int64(1 + r.Intn(20))
	}
	if r.Intn(4) == 0 {
		l.MaxBytes = int64(30 + r.Intn(400))
	}
	if r.Intn(3) == 0 {
		l.MaxAge = time.Duration(1+r.Intn(5)) * time.Second
	}
	if r.Intn(3) == 0 {
		l.MaxMsgsPerSubject = int64(1 + r.Intn(4))
	}
	if r.Intn(5) == 0 {
		l.MaxMsgSize = int32(4 + r.Intn(20))
	}
	if r.Intn(4) == 0 {
		l.Discard = store.DiscardNew
		l.DiscardNewPerSubject = r.Intn(2) == 0
	}
	if r.Intn(25) == 0 {
		l.Discard = 7 // invalid
	}
	return l
}

// modelSeeds returns the seeds to run: FERN_STORE_SEED alone if set, else
// a fixed set plus one fresh seed (logged, so a failure can be replayed).
func modelSeeds(t *testing.T) []int64 {
	if s := os.Getenv("FERN_STORE_SEED"); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("FERN_STORE_SEED: %v", err)
		}
		return []int64{seed}
	}
	return []int64{1, 2, 3, 4, 5, 6, time.Now().UnixNano()}
}

func modelOps() int {
	if n, err := strconv.Atoi(os.Getenv("FERN_STORE_OPS")); err == nil && n > 0 {
		return n
	}
	if testing.Short() {
		return 200
	}
	return 500
}

// subjectUnderTest is one implementation during a model run.
type subjectUnderTest struct {
	impl    storeImpl
	s       store.Store
	reopen  reopenFunc
	clock   *storetest.FakeClock
	removed *[]uint64
	msg     store.Msg // reused across loads, as callers do
}

func (u *subjectUnderTest) watch() {
	u.s.OnRemove(func(seq uint64) { *u.removed = append(*u.removed, seq) })
}

func TestModel(t *testing.T) {
	for _, impl := range storeImpls() {
		t.Run(impl.name, func(t *testing.T) {
			for _, seed := range modelSeeds(t) {
				t.Run(strconv.FormatInt(seed, 10), func(t *testing.T) {
					t.Logf("seed %d (replay: FERN_STORE_SEED=%d go test -run 'TestModel/%s' ./store)", seed, seed, impl.name)
					runModel(t, impl, seed, modelOps())
				})
			}
		})
	}
}

const modelStart = int64(1_700_000_000_000_000_000)

func runModel(t *testing.T, impl storeImpl, seed int64, ops int) {
	r := rand.New(rand.NewSource(seed))
	limits := modelLimits(r)
	if limits.Discard > store.DiscardNew {
		limits.Discard = store.DiscardOld
	}
	m := &model{limits: limits, now: modelStart}
	u := &subjectUnderTest{impl: impl, clock: storetest.NewFakeClock(modelStart), removed: new([]uint64)}
	u.s, u.reopen = impl.open(t, u.clock, limits)
	u.watch()

	tally := map[string]int{} // outcome counts, logged to show what the run exercised
	defer func() { t.Logf("outcomes: %v", tally) }()
	for i := 0; i < ops; i++ {
		m.removed = m.removed[:0]
		*u.removed = (*u.removed)[:0]
		desc, outcome := step(t, r, m, u)
		tally[outcome]++
		if len(m.removed) > 0 {
			tally["removals"] += len(m.removed)
		}
		where := fmt.Sprintf("seed %d op %d: %s", seed, i, desc)
		if t.Failed() {
			t.Fatalf("%s: failed", where)
		}
		slices.Sort(m.removed)
		if diff := cmp.Diff(m.removed, *u.removed, cmpEmpty); diff != "" {
			t.Fatalf("%s: OnRemove sequences (-model +store):\n%s", where, diff)
		}
		checkSame(t, where, r, m, u)
	}
}

// cmpEmpty treats nil and empty slices of removed sequences alike (the
// scratch slices are reset between operations).
var cmpEmpty = cmp.Comparer(func(a, b []uint64) bool { return slices.Equal(a, b) })

// step applies one random operation to the model and the store, compares
// their direct results, and describes the operation and its outcome (the
// operation's name and the error the model expected).
func step(t *testing.T, r *rand.Rand, m *model, u *subjectUnderTest) (desc, outcome string) {
	t.Helper()
	same := func(d string, want, got any) (string, string) {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-model +store):\n%s", d, diff)
		}
		name, _, _ := strings.Cut(d, "(")
		w := fmt.Sprint(want)
		if e, ok := want.(string); ok {
			w = e
		} else if l, ok := want.([]any); ok {
			w = fmt.Sprint(l[len(l)-1])
		}
		if w == "" {
			w = "ok"
		}
		return d, name + ":" + w
	}
	switch op := r.Intn(100); {
	case op < 35:
		subj := modelPick(r, modelSubjects)
		if r.Intn(30) == 0 {
			subj = modelPick(r, modelBad)
		}
		hdr, data := modelBytes(r), modelBytes(r)
		want := m.store(subj, hdr, data, m.last+1, m.now)
		seq, ts, err := u.s.Store(subj, hdr, data)
		desc := fmt.Sprintf("Store(%q, %d+%d bytes)", subj, len(hdr), len(data))
		if want != nil {
			return same(desc, errName(want), errName(err))
		}
		return same(desc, []any{m.last, m.now, ""}, []any{seq, ts, errName(err)})
	case op < 43:
		subj := modelPick(r, modelSubjects)
		seq := m.last + uint64(r.Intn(4))
		if r.Intn(10) == 0 {
			seq = uint64(r.Intn(int(m.last + 1)))
		}
		ts := m.now - int64(r.Intn(3))*int64(time.Second)
		hdr, data := modelBytes(r), modelBytes(r)
		want := m.store(subj, hdr, data, seq, ts)
		err := u.s.StoreAt(subj, hdr, data, seq, ts)
		return same(fmt.Sprintf("StoreAt(%q, seq %d, ts %d)", subj, seq, ts-m.now), errName(want), errName(err))
	case op < 52:
		seq := modelSeq(r, m)
		want := m.remove(seq)
		got, err := u.s.Remove(seq)
		return same(fmt.Sprintf("Remove(%d)", seq), []any{want, ""}, []any{got, errName(err)})
	case op < 58:
		p := store.Purge{}
		if r.Intn(3) > 0 {
			p.Subject = modelPick(r, modelFilters)
		}
		switch r.Intn(4) {
		case 0:
			p.Sequence = modelSeq(r, m)
		case 1:
			p.Keep = uint64(r.Intn(6))
		case 2:
			if r.Intn(5) == 0 {
				p.Sequence, p.Keep = 1+modelSeq(r, m), 1
			}
		}
		want, werr := m.purge(p)
		got, err := u.s.Purge(p)
		return same(fmt.Sprintf("Purge(%+v)", p), []any{want, errName(werr)}, []any{got, errName(err)})
	case op < 61:
		seq := modelSeq(r, m)
		if r.Intn(4) == 0 {
			seq = m.last + 1 + uint64(r.Intn(5))
		}
		want := m.compact(seq)
		got, err := u.s.Compact(seq)
		return same(fmt.Sprintf("Compact(%d)", seq), []any{want, ""}, []any{got, errName(err)})
	case op < 65:
		l := modelLimits(r)
		want := m.updateLimits(l)
		err := u.s.UpdateLimits(l)
		return same(fmt.Sprintf("UpdateLimits(%+v)", l), errName(want), errName(err))
	case op < 78:
		d := modelPick(r, []time.Duration{0, time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second})
		m.advance(d)
		u.clock.Advance(d)
		return fmt.Sprintf("Advance(%v)", d), "Advance"
	case op < 82:
		rebuild := op >= 80
		name := map[bool]string{false: "reopen", true: "reopen-rebuild"}[rebuild]
		if u.reopen == nil {
			return name + " (skipped)", name + ":skipped"
		}
		u.s = u.reopen(m.limits, rebuild)
		u.watch()
		return name, name
	case op < 87:
		seq := modelSeq(r, m)
		switch r.Intn(5) {
		case 0: // anywhere, often below the first sequence
			seq = uint64(r.Intn(int(m.last + 1)))
		case 1: // the last few, as a raft follower usually does
			seq = m.last - min(m.last, uint64(1+r.Intn(3)))
		}
		want := m.truncate(seq)
		got, err := u.s.Truncate(seq)
		return same(fmt.Sprintf("Truncate(%d)", seq), []any{want, ""}, []any{got, errName(err)})
	default:
		// Loads are compared in checkSame after every step.
		return "check", "check"
	}
}

// randSeq picks a sequence around the store's range.
func modelSeq(r *rand.Rand, m *model) uint64 {
	lo := m.state().FirstSeq
	if lo > 2 {
		lo -= 2
	}
	return lo + uint64(r.Intn(int(m.last-lo+4)))
}

// loadResult is the outcome of a load, compared field by field (go-cmp
// only explains a difference: it is too slow to run on every load).
type loadResult struct {
	Msg *msgView
	Err string
}

func (a loadResult) equal(b loadResult) bool {
	if a.Err != b.Err || (a.Msg == nil) != (b.Msg == nil) {
		return false
	}
	return a.Msg == nil || (a.Msg.Subject == b.Msg.Subject && a.Msg.Seq == b.Msg.Seq && a.Msg.Time == b.Msg.Time &&
		slices.Equal(a.Msg.Header, b.Msg.Header) && slices.Equal(a.Msg.Data, b.Msg.Data) &&
		(a.Msg.Header == nil) == (b.Msg.Header == nil) && (a.Msg.Data == nil) == (b.Msg.Data == nil))
}

// checkSame compares everything observable.
func checkSame(t *testing.T, where string, r *rand.Rand, m *model, u *subjectUnderTest) {
	t.Helper()
	st := m.state()
	if diff := cmp.Diff(st, u.s.State()); diff != "" {
		t.Fatalf("%s: State (-model +store):\n%s", where, diff)
	}
	for _, f := range []string{"", modelPick(r, modelFilters)} {
		if diff := cmp.Diff(m.subjectCounts(f), u.s.SubjectCounts(f)); diff != "" {
			t.Fatalf("%s: SubjectCounts(%q) (-model +store):\n%s", where, f, diff)
		}
	}
	get := func(m *store.Msg, err error) loadResult {
		if err != nil {
			return loadResult{nil, errName(err)}
		}
		return loadResult{viewOf(m), ""}
	}
	lo := st.FirstSeq
	if lo > 0 {
		lo--
	}
	for seq := lo; seq <= st.LastSeq+1; seq++ {
		wm, werr := m.load(seq)
		want, got := loadResult{wm, errName(werr)}, get(u.s.Load(seq, &u.msg))
		if !want.equal(got) {
			t.Fatalf("%s: Load(%d) (-model +store):\n%s", where, seq, cmp.Diff(want, got))
		}
	}
	for range 3 {
		f, start := modelPick(r, modelFilters), modelSeq(r, m)
		if r.Intn(5) == 0 {
			start = 0
		}
		wm, werr := m.loadNext(f, start)
		if diff := cmp.Diff(loadResult{wm, errName(werr)}, get(u.s.LoadNext(f, start, &u.msg))); diff != "" {
			t.Fatalf("%s: LoadNext(%q, %d) (-model +store):\n%s", where, f, start, diff)
		}
		wm, werr = m.loadLast(f)
		if diff := cmp.Diff(loadResult{wm, errName(werr)}, get(u.s.LoadLast(f, &u.msg))); diff != "" {
			t.Fatalf("%s: LoadLast(%q) (-model +store):\n%s", where, f, diff)
		}
	}
}

// TestConcurrentReadWrite runs writers, readers and a remover at once
// (meant for -race): every message read must be exactly what was stored
// under its sequence, LoadNext must move forward, and at the end every
// acknowledged sequence loads its message (or was removed).
func TestConcurrentReadWrite(t *testing.T) {
	for _, impl := range storeImpls() {
		for _, l := range []store.Limits{{}, {MaxMsgs: 50}} {
			t.Run(fmt.Sprintf("%s/maxmsgs=%d", impl.name, l.MaxMsgs), func(t *testing.T) {
				runConcurrent(t, impl, l)
			})
		}
	}
}

func runConcurrent(t *testing.T, impl storeImpl, l store.Limits) {
	s, _ := impl.open(t, storetest.NewFakeClock(modelStart), l)
	c := &concurrent{s: s, acked: map[uint64]string{}, removed: map[uint64]bool{}, errc: make(chan error, 16)}
	const writers, perWriter = 4, 300
	var wg, readers sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() { c.write(w, perWriter) })
	}
	for _, read := range []func(*store.Msg){c.loadSome, c.scanForward, c.removeLast} {
		readers.Go(func() {
			var m store.Msg
			for {
				select {
				case <-done:
					return
				default:
					read(&m)
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	select {
	case err := <-c.errc:
		t.Fatal(err)
	default:
	}
	c.verify(t, writers*perWriter, l)
}

// concurrent is the shared state of one TestConcurrentReadWrite run. Every
// payload is "<subject>|<writer>|<n>", so any loaded message can be
// checked on its own, and against acked once its Store has returned.
type concurrent struct {
	s       store.Store
	mu      sync.Mutex
	acked   map[uint64]string // seq -> payload, once Store returned
	removed map[uint64]bool   // removed by removeLast
	errc    chan error
}

func (c *concurrent) report(err error) {
	select {
	case c.errc <- err:
	default:
	}
}

// check validates a loaded message against its payload and what was acked.
func (c *concurrent) check(m *store.Msg) {
	want := m.Subject + "|"
	if len(m.Data) < len(want) || string(m.Data[:len(want)]) != want {
		c.report(fmt.Errorf("seq %d: subject %q with payload %q", m.Seq, m.Subject, m.Data))
	}
	c.mu.Lock()
	p, ok := c.acked[m.Seq]
	c.mu.Unlock()
	if ok && p != string(m.Data) {
		c.report(fmt.Errorf("seq %d: loaded %q, stored %q", m.Seq, m.Data, p))
	}
}

// write stores n messages; each writer's sequences must grow.
func (c *concurrent) write(w, n int) {
	subjects := []string{"w.a", "w.b", "w.c"}
	var last uint64
	for i := range n {
		subj := subjects[(w+i)%len(subjects)]
		payload := fmt.Sprintf("%s|%d|%d", subj, w, i)
		seq, _, err := c.s.Store(subj, nil, []byte(payload))
		if err != nil || seq <= last {
			c.report(fmt.Errorf("writer %d: Store = %d, %v (after %d)", w, seq, err, last))
			return
		}
		last = seq
		c.mu.Lock()
		c.acked[seq] = payload
		c.mu.Unlock()
	}
}

// loadSome loads every 7th sequence of the current range.
func (c *concurrent) loadSome(m *store.Msg) {
	st := c.s.State()
	for seq := st.FirstSeq; seq <= st.LastSeq; seq += 7 {
		if _, err := c.s.Load(seq, m); err == nil {
			c.check(m)
		} else if !errors.Is(err, store.ErrNotFound) {
			c.report(fmt.Errorf("Load(%d): %v", seq, err))
		}
	}
}

// scanForward walks one subject with LoadNext: sequences must grow.
func (c *concurrent) scanForward(m *store.Msg) {
	prev := uint64(0)
	for seq := uint64(0); ; seq = m.Seq + 1 {
		if _, err := c.s.LoadNext("w.b", seq, m); err != nil {
			if !errors.Is(err, store.ErrEOF) {
				c.report(fmt.Errorf("LoadNext: %v", err))
			}
			return
		}
		if (prev != 0 && m.Seq <= prev) || m.Subject != "w.b" {
			c.report(fmt.Errorf("LoadNext went from %d to %d (%q)", prev, m.Seq, m.Subject))
		}
		prev = m.Seq
		c.check(m)
	}
}

// removeLast loads the newest message and removes it when its sequence is
// a multiple of 5.
func (c *concurrent) removeLast(m *store.Msg) {
	if _, err := c.s.LoadLast("w.*", m); err != nil {
		return
	}
	c.check(m)
	if m.Seq%5 != 0 {
		return
	}
	ok, err := c.s.Remove(m.Seq)
	if err != nil {
		c.report(err)
	}
	if ok {
		c.mu.Lock()
		c.removed[m.Seq] = true
		c.mu.Unlock()
	}
}

// verify checks, after the run, that every acknowledged message loads
// intact unless it was removed (by removeLast or by the limits).
func (c *concurrent) verify(t *testing.T, want int, l store.Limits) {
	if len(c.acked) != want {
		t.Fatalf("%d acknowledged, want %d", len(c.acked), want)
	}
	st := c.s.State()
	var m store.Msg
	kept := uint64(0)
	for seq, p := range c.acked {
		_, err := c.s.Load(seq, &m)
		switch {
		case err == nil && string(m.Data) == p:
			kept++
		case errors.Is(err, store.ErrNotFound) && (c.removed[seq] || l.MaxMsgs > 0):
		default:
			t.Fatalf("Load(%d) = %q, %v; stored %q (removed %v)", seq, m.Data, err, p, c.removed[seq])
		}
	}
	if kept != st.Msgs {
		t.Fatalf("%d acknowledged messages load, State says %d", kept, st.Msgs)
	}
	if l.MaxMsgs > 0 && st.Msgs > uint64(l.MaxMsgs) {
		t.Fatalf("State.Msgs %d above MaxMsgs %d", st.Msgs, l.MaxMsgs)
	}
}
