package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fernmq/fern/store"
	"github.com/fernmq/fern/store/storetest"
)

// This file has table tests for every Store method and error. The
// contract tests run against every implementation in storeImpls; the
// MemStore-specific ones (constructor, allocations, tombstone compaction)
// come last.

// openFilled opens a store (no limits) holding one message per subject in
// order: seq i+1 has subject subjects[i] and payload "<subject>-<seq>".
func openFilled(t *testing.T, impl storeImpl, subjects ...string) (store.Store, *storetest.FakeClock) {
	t.Helper()
	clock := storetest.NewFakeClock(modelStart)
	s, _ := impl.open(t, clock, store.Limits{})
	for i, subj := range subjects {
		if _, _, err := s.Store(subj, nil, []byte(fmt.Sprintf("%s-%d", subj, i+1))); err != nil {
			t.Fatalf("Store(%q): %v", subj, err)
		}
	}
	return s, clock
}

// wantErr fails unless err wraps want (or both are nil).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if (err == nil) != (want == nil) || !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func TestStore(t *testing.T) {
	tests := []struct {
		name    string
		subj    string
		hdr     []byte
		data    []byte
		wantSeq uint64
		err     error
	}{
		{"next sequence", "orders.new", nil, []byte("x"), 3, nil},
		{"header and payload", "orders.new", []byte("NATS/1.0\r\n\r\n"), []byte("x"), 3, nil},
		{"empty message", "a", nil, nil, 3, nil},
		{"empty subject", "", nil, nil, 0, store.ErrInvalidSubject},
		{"wildcard *", "orders.*", nil, nil, 0, store.ErrInvalidSubject},
		{"wildcard >", "orders.>", nil, nil, 0, store.ErrInvalidSubject},
		{"empty token", "orders..new", nil, nil, 0, store.ErrInvalidSubject},
		{"leading dot", ".orders", nil, nil, 0, store.ErrInvalidSubject},
		{"space", "orders new", nil, nil, 0, store.ErrInvalidSubject},
	}
	for _, impl := range storeImpls() {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				s, clock := openFilled(t, impl, "a", "b")
				clock.Advance(time.Second)
				seq, ts, err := s.Store(tt.subj, tt.hdr, tt.data)
				wantErr(t, "Store", err, tt.err)
				if seq != tt.wantSeq {
					t.Fatalf("seq %d, want %d", seq, tt.wantSeq)
				}
				if err != nil {
					if st := s.State(); st.LastSeq != 2 || st.Msgs != 2 {
						t.Fatalf("refused message changed the state: %+v", st)
					}
					return
				}
				if ts != clock.Now() {
					t.Fatalf("ts %d, want clock time %d", ts, clock.Now())
				}
				// The store copied hdr and data: scribbling on them is harmless.
				want := &msgView{Subject: tt.subj, Header: modelClone(tt.hdr), Data: modelClone(tt.data), Seq: seq, Time: ts}
				for i := range tt.data {
					tt.data[i] = '!'
				}
				m, err := s.Load(seq, new(store.Msg))
				wantErr(t, "Load", err, nil)
				if diff := cmp.Diff(want, viewOf(m)); diff != "" {
					t.Fatalf("loaded (-want +got):\n%s", diff)
				}
				st := s.State()
				if st.LastSeq != seq || st.LastTime != ts || st.Msgs != 3 || st.Bytes != 2*(1+3+16)+store.MsgSize(tt.subj, tt.hdr, tt.data) {
					t.Fatalf("state %+v", st)
				}
			})
		}
	}
}

func TestStoreAt(t *testing.T) {
	sec := int64(time.Second)
	tests := []struct {
		name  string
		pre   []string // stored first with Store
		seq   uint64
		ts    int64
		err   error
		state store.State
	}{
		{"into empty store", nil, 10, 5 * sec, nil,
			store.State{Msgs: 1, Bytes: 17 + 1, FirstSeq: 10, FirstTime: 5 * sec, LastSeq: 10, LastTime: 5 * sec, NumSubjects: 1}},
		{"gap counts as deleted", []string{"a"}, 5, 7 * sec, nil,
			store.State{Msgs: 2, Bytes: 2*17 + 3 + 1, FirstSeq: 1, FirstTime: modelStart, LastSeq: 5, LastTime: 7 * sec, Deleted: 3, NumSubjects: 2}},
		{"next sequence", []string{"a"}, 2, 7 * sec, nil,
			store.State{Msgs: 2, Bytes: 2*17 + 3 + 1, FirstSeq: 1, FirstTime: modelStart, LastSeq: 2, LastTime: 7 * sec, NumSubjects: 2}},
		{"equal to last", []string{"a", "a"}, 2, 0, store.ErrSequenceMismatch,
			store.State{Msgs: 2, Bytes: 2 * (17 + 3), FirstSeq: 1, FirstTime: modelStart, LastSeq: 2, LastTime: modelStart, NumSubjects: 1}},
		{"below last", []string{"a", "a"}, 1, 0, store.ErrSequenceMismatch,
			store.State{Msgs: 2, Bytes: 2 * (17 + 3), FirstSeq: 1, FirstTime: modelStart, LastSeq: 2, LastTime: modelStart, NumSubjects: 1}},
		{"zero", nil, 0, 0, store.ErrSequenceMismatch, store.State{FirstSeq: 1}},
	}
	for _, impl := range storeImpls() {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				s, _ := openFilled(t, impl, tt.pre...)
				err := s.StoreAt("z", nil, []byte("z"), tt.seq, tt.ts)
				wantErr(t, "StoreAt", err, tt.err)
				if diff := cmp.Diff(tt.state, s.State()); diff != "" {
					t.Fatalf("state (-want +got):\n%s", diff)
				}
				if err == nil {
					if _, _, err := s.Store("z", nil, nil); err != nil {
						t.Fatal(err)
					}
					if st := s.State(); st.LastSeq != tt.seq+1 {
						t.Fatalf("Store after StoreAt got seq %d, want %d", st.LastSeq, tt.seq+1)
					}
				}
			})
		}
	}
}

func TestLoad(t *testing.T) {
	// seqs 1..5: a b c a b; 2 and 5 removed; first = 1, last = 5.
	tests := []struct {
		seq  uint64
		want string // payload, or "" for an error
		err  error
	}{
		{0, "", store.ErrNotFound},
		{1, "a-1", nil},
		{2, "", store.ErrNotFound},
		{4, "a-4", nil},
		{5, "", store.ErrNotFound},
		{6, "", store.ErrEOF},
		{1 << 40, "", store.ErrEOF},
	}
	for _, impl := range storeImpls() {
		s, _ := openFilled(t, impl, "a", "b", "c", "a", "b")
		for _, seq := range []uint64{2, 5} {
			if ok, err := s.Remove(seq); !ok || err != nil {
				t.Fatalf("Remove(%d) = %v, %v", seq, ok, err)
			}
		}
		var m store.Msg
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%d", impl.name, tt.seq), func(t *testing.T) {
				got, err := s.Load(tt.seq, &m)
				wantErr(t, "Load", err, tt.err)
				if err == nil && (got != &m || string(got.Data) != tt.want || got.Seq != tt.seq || got.Header != nil) {
					t.Fatalf("Load(%d) = %+v, want payload %q in the caller's Msg", tt.seq, got, tt.want)
				}
			})
		}
	}
}

// TestLoadBuffers checks the Msg buffer contract: header and payload do
// not overlap (appending to Header cannot clobber Data), empty parts load
// as nil, and the loaded bytes are a copy.
func TestLoadBuffers(t *testing.T) {
	for _, impl := range storeImpls() {
		t.Run(impl.name, func(t *testing.T) {
			s, _ := impl.open(t, storetest.NewFakeClock(modelStart), store.Limits{})
			mustOK(t, s.StoreAt("h", []byte("HDR"), []byte("DATA"), 1, 1))
			mustOK(t, s.StoreAt("e", []byte{}, []byte{}, 2, 1))
			var m store.Msg
			if _, err := s.Load(1, &m); err != nil {
				t.Fatal(err)
			}
			_ = append(m.Header, "XXXX"...)
			m.Data[0] = '!'
			if string(m.Header) != "HDR" || string(m.Data) != "!ATA" {
				t.Fatalf("header %q data %q", m.Header, m.Data)
			}
			if _, err := s.Load(1, &m); err != nil || string(m.Data) != "DATA" {
				t.Fatalf("reload: %q, %v (the store handed out its own bytes)", m.Data, err)
			}
			if _, err := s.Load(2, &m); err != nil || m.Header != nil || m.Data != nil || m.Subject != "e" {
				t.Fatalf("empty message loads as %+v, %v; want nil header and data", m, err)
			}
		})
	}
}

func TestLoadNextAndLast(t *testing.T) {
	// seqs: 1 a, 2 c.d, 3 b, 4 c.e, 5 a, 6 c.d; 5 removed.
	tests := []struct {
		filter  string
		start   uint64
		next    uint64 // 0: ErrEOF
		last    uint64 // 0: ErrNotFound
		invalid bool
	}{
		{"", 0, 1, 6, false},
		{">", 2, 2, 6, false},
		{"a", 0, 1, 1, false},
		{"a", 2, 0, 1, false},
		{"c.d", 3, 6, 6, false},
		{"c.*", 3, 4, 6, false},
		{"c.>", 5, 6, 6, false},
		{"*", 2, 3, 3, false},
		{"x", 0, 0, 0, false},
		{"", 7, 0, 6, false},
		{"c..d", 0, 0, 0, true},
		{"a.>.b", 0, 0, 0, true},
	}
	for _, impl := range storeImpls() {
		s, _ := openFilled(t, impl, "a", "c.d", "b", "c.e", "a", "c.d")
		if _, err := s.Remove(5); err != nil {
			t.Fatal(err)
		}
		var m store.Msg
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%q@%d", impl.name, tt.filter, tt.start), func(t *testing.T) {
				_, err := s.LoadNext(tt.filter, tt.start, &m)
				switch {
				case tt.invalid:
					wantErr(t, "LoadNext", err, store.ErrInvalidSubject)
				case tt.next == 0:
					wantErr(t, "LoadNext", err, store.ErrEOF)
				default:
					wantErr(t, "LoadNext", err, nil)
					if m.Seq != tt.next {
						t.Fatalf("LoadNext = %d, want %d", m.Seq, tt.next)
					}
				}
				_, err = s.LoadLast(tt.filter, &m)
				switch {
				case tt.invalid:
					wantErr(t, "LoadLast", err, store.ErrInvalidSubject)
				case tt.last == 0:
					wantErr(t, "LoadLast", err, store.ErrNotFound)
				default:
					wantErr(t, "LoadLast", err, nil)
					if m.Seq != tt.last {
						t.Fatalf("LoadLast = %d, want %d", m.Seq, tt.last)
					}
				}
			})
		}
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name  string
		seqs  []uint64 // removed in order
		oks   []bool
		state store.State
	}{
		{"middle", []uint64{2}, []bool{true},
			store.State{Msgs: 2, FirstSeq: 1, LastSeq: 3, Deleted: 1, NumSubjects: 1}},
		{"first moves first", []uint64{1}, []bool{true},
			store.State{Msgs: 2, FirstSeq: 2, LastSeq: 3, NumSubjects: 2}},
		{"last keeps last", []uint64{3}, []bool{true},
			store.State{Msgs: 2, FirstSeq: 1, LastSeq: 3, Deleted: 1, NumSubjects: 2}},
		{"twice", []uint64{2, 2}, []bool{true, false},
			store.State{Msgs: 2, FirstSeq: 1, LastSeq: 3, Deleted: 1, NumSubjects: 1}},
		{"out of range", []uint64{0, 4, 1 << 50}, []bool{false, false, false},
			store.State{Msgs: 3, FirstSeq: 1, LastSeq: 3, NumSubjects: 2}},
		{"all", []uint64{3, 1, 2}, []bool{true, true, true},
			store.State{FirstSeq: 4, LastSeq: 3}},
	}
	for _, impl := range storeImpls() {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				s, _ := openFilled(t, impl, "a", "b", "a")
				var rec recorder
				s.OnRemove(rec.add)
				var want []uint64
				for i, seq := range tt.seqs {
					ok, err := s.Remove(seq)
					wantErr(t, "Remove", err, nil)
					if ok != tt.oks[i] {
						t.Fatalf("Remove(%d) = %v, want %v", seq, ok, tt.oks[i])
					}
					if ok {
						want = append(want, seq)
					}
				}
				if diff := cmp.Diff(want, rec.seqs); diff != "" {
					t.Fatalf("OnRemove (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.state, s.State(), ignoreTimesAndBytes); diff != "" {
					t.Fatalf("state (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// ignoreTimesAndBytes compares States on counts and sequences only.
var ignoreTimesAndBytes = cmp.Transformer("counts", func(s store.State) store.State {
	s.FirstTime, s.LastTime, s.Bytes = 0, 0, 0
	return s
})

func TestPurge(t *testing.T) {
	// seqs: 1 a, 2 b, 3 c.d, 4 a, 5 c.e, 6 a, 7 b
	subjects := []string{"a", "b", "c.d", "a", "c.e", "a", "b"}
	tests := []struct {
		name  string
		p     store.Purge
		n     uint64
		err   error
		kept  []uint64
		first uint64
	}{
		{"all", store.Purge{}, 7, nil, nil, 8},
		{"all with >", store.Purge{Subject: ">"}, 7, nil, nil, 8},
		{"subject", store.Purge{Subject: "a"}, 3, nil, []uint64{2, 3, 5, 7}, 2},
		{"wildcard", store.Purge{Subject: "c.*"}, 2, nil, []uint64{1, 2, 4, 6, 7}, 1},
		{"no match", store.Purge{Subject: "zz"}, 0, nil, []uint64{1, 2, 3, 4, 5, 6, 7}, 1},
		{"subject below sequence", store.Purge{Subject: "a", Sequence: 6}, 2, nil, []uint64{2, 3, 5, 6, 7}, 2},
		{"subject keep", store.Purge{Subject: "a", Keep: 1}, 2, nil, []uint64{2, 3, 5, 6, 7}, 2},
		{"wildcard keep counts subjects together", store.Purge{Subject: ">", Keep: 2}, 5, nil, []uint64{6, 7}, 6},
		{"filter keep across subjects", store.Purge{Subject: "*", Keep: 2}, 3, nil, []uint64{3, 5, 6, 7}, 3},
		{"keep more than stored", store.Purge{Subject: "a", Keep: 10}, 0, nil, []uint64{1, 2, 3, 4, 5, 6, 7}, 1},
		{"sequence without subject is compact", store.Purge{Sequence: 4}, 3, nil, []uint64{4, 5, 6, 7}, 4},
		{"sequence beyond last compacts past the end", store.Purge{Sequence: 20}, 7, nil, nil, 20},
		{"keep without subject", store.Purge{Keep: 3}, 4, nil, []uint64{5, 6, 7}, 5},
		{"sequence and keep", store.Purge{Sequence: 3, Keep: 1}, 0, store.ErrInvalidPurge, []uint64{1, 2, 3, 4, 5, 6, 7}, 1},
		{"invalid filter", store.Purge{Subject: "a..b"}, 0, store.ErrInvalidSubject, []uint64{1, 2, 3, 4, 5, 6, 7}, 1},
	}
	for _, impl := range storeImpls() {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				s, _ := openFilled(t, impl, subjects...)
				var rec recorder
				s.OnRemove(rec.add)
				n, err := s.Purge(tt.p)
				wantErr(t, "Purge", err, tt.err)
				if n != tt.n {
					t.Fatalf("purged %d, want %d", n, tt.n)
				}
				kept := seqsOf(t, s)
				if diff := cmp.Diff(tt.kept, kept); diff != "" {
					t.Fatalf("kept (-want +got):\n%s", diff)
				}
				if uint64(len(rec.seqs)) != n {
					t.Fatalf("OnRemove saw %v for %d purged", rec.seqs, n)
				}
				if st := s.State(); st.FirstSeq != tt.first || st.Msgs != uint64(len(kept)) {
					t.Fatalf("state %+v, want first %d", st, tt.first)
				}
				// Numbering continues.
				if seq := mustStore(t, s, "a"); seq != max(8, tt.first) {
					t.Fatalf("next seq %d", seq)
				}
			})
		}
	}
}

func TestCompact(t *testing.T) {
	tests := []struct {
		name        string
		seq         uint64
		n           uint64
		first, last uint64
		msgs        uint64
	}{
		{"zero", 0, 0, 1, 5, 4},
		{"at first", 1, 0, 1, 5, 4},
		{"middle (skips removed 3)", 4, 2, 4, 5, 2},
		{"to last", 5, 3, 5, 5, 1},
		{"last+1 empties", 6, 4, 6, 5, 0},
		{"beyond last", 100, 4, 100, 99, 0},
	}
	for _, impl := range storeImpls() {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				s, _ := openFilled(t, impl, "a", "b", "a", "b", "a")
				if _, err := s.Remove(3); err != nil {
					t.Fatal(err)
				}
				var rec recorder
				s.OnRemove(rec.add)
				n, err := s.Compact(tt.seq)
				wantErr(t, "Compact", err, nil)
				st := s.State()
				if n != tt.n || st.FirstSeq != tt.first || st.LastSeq != tt.last || st.Msgs != tt.msgs {
					t.Fatalf("Compact(%d) = %d, state %+v; want %d, first %d last %d msgs %d", tt.seq, n, st, tt.n, tt.first, tt.last, tt.msgs)
				}
				if uint64(len(rec.seqs)) != n {
					t.Fatalf("OnRemove saw %v", rec.seqs)
				}
				if st.Msgs == 0 && (st.FirstTime != 0 || st.Deleted != 0 || st.NumSubjects != 0) {
					t.Fatalf("empty state %+v", st)
				}
				if seq := mustStore(t, s, "a"); seq != st.LastSeq+1 {
					t.Fatalf("next seq %d, want %d", seq, st.LastSeq+1)
				}
			})
		}
	}
}

// TestTruncate: the tail above seq goes (reported to OnRemove in order),
// LastSeq becomes seq with the time of the newest message kept, and the
// next Store gets seq+1. Store i (1..6) has subject subjects[i-1] and time
// modelStart+i seconds; 3 is removed first.
func TestTruncate(t *testing.T) {
	subjects := []string{"a", "b", "a", "b", "a", "c"}
	ts := func(seq uint64) int64 { return modelStart + int64(seq)*int64(time.Second) }
	tests := []struct {
		name    string
		pre     func(t *testing.T, s store.Store)
		seq     uint64
		removed []uint64
		first   uint64
		last    uint64
		lastTs  int64 // 0: none kept
	}{
		{"at last changes nothing", nil, 6, nil, 1, 6, ts(6)},
		{"above last changes nothing", nil, 100, nil, 1, 6, ts(6)},
		{"one back", nil, 5, []uint64{6}, 1, 5, ts(5)},
		{"to a removed sequence takes the newest kept time", nil, 3, []uint64{4, 5, 6}, 1, 3, ts(2)},
		{"to first", nil, 1, []uint64{2, 4, 5, 6}, 1, 1, ts(1)},
		{"to zero restarts numbering", nil, 0, []uint64{1, 2, 4, 5, 6}, 1, 0, 0},
		{"into a gap", func(t *testing.T, s store.Store) {
			mustOK(t, s.StoreAt("d", nil, []byte("d-10"), 10, ts(10)))
		}, 8, []uint64{10}, 1, 8, ts(6)},
		{"first-1 after compact empties", func(t *testing.T, s store.Store) {
			mustCompact(t, s, 4)
		}, 3, []uint64{4, 5, 6}, 4, 3, 0},
		{"below first-1 empties with first = seq+1", func(t *testing.T, s store.Store) {
			mustCompact(t, s, 4)
		}, 1, []uint64{4, 5, 6}, 2, 1, 0},
		{"empty store moves back", func(t *testing.T, s store.Store) {
			if _, err := s.Purge(store.Purge{}); err != nil {
				t.Fatal(err)
			}
		}, 2, nil, 3, 2, 0},
		{"empty store at last changes nothing", func(t *testing.T, s store.Store) {
			if _, err := s.Purge(store.Purge{}); err != nil {
				t.Fatal(err)
			}
		}, 6, nil, 7, 6, ts(6)},
	}
	for _, impl := range storeImpls() {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				clock := storetest.NewFakeClock(modelStart)
				s, _ := impl.open(t, clock, store.Limits{})
				payload := map[uint64]string{}
				subj := map[uint64]string{}
				for i, sj := range subjects {
					clock.Advance(time.Second)
					seq := uint64(i + 1)
					subj[seq], payload[seq] = sj, fmt.Sprintf("%s-%d", sj, seq)
					if _, _, err := s.Store(sj, nil, []byte(payload[seq])); err != nil {
						t.Fatal(err)
					}
				}
				subj[10], payload[10] = "d", "d-10"
				if _, err := s.Remove(3); err != nil {
					t.Fatal(err)
				}
				if tt.pre != nil {
					tt.pre(t, s)
				}
				kept := seqsOf(t, s)
				var rec recorder
				s.OnRemove(rec.add)
				n, err := s.Truncate(tt.seq)
				wantErr(t, "Truncate", err, nil)
				if n != uint64(len(tt.removed)) || !cmp.Equal(tt.removed, rec.seqs) {
					t.Fatalf("Truncate(%d) = %d, OnRemove %v; want %v", tt.seq, n, rec.seqs, tt.removed)
				}
				kept = slices.DeleteFunc(kept, func(q uint64) bool { return q > tt.seq })
				want := store.State{FirstSeq: tt.first, LastSeq: tt.last, LastTime: tt.lastTs, Msgs: uint64(len(kept))}
				counts := map[string]uint64{}
				for _, q := range kept {
					want.Bytes += store.MsgSize(subj[q], nil, []byte(payload[q]))
					counts[subj[q]]++
				}
				want.NumSubjects = len(counts)
				if len(kept) > 0 {
					want.FirstTime = ts(kept[0])
					want.Deleted = want.LastSeq - want.FirstSeq + 1 - want.Msgs
				}
				if diff := cmp.Diff(want, s.State()); diff != "" {
					t.Fatalf("state (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(counts, s.SubjectCounts("")); diff != "" {
					t.Fatalf("SubjectCounts (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(kept, seqsOf(t, s), cmpEmpty); diff != "" {
					t.Fatalf("kept (-want +got):\n%s", diff)
				}
				for _, q := range tt.removed {
					if _, err := s.Load(q, new(store.Msg)); !errors.Is(err, store.ErrEOF) {
						t.Fatalf("Load(%d) of a truncated message: %v, want ErrEOF", q, err)
					}
				}
				if tt.last > 0 {
					wantErr(t, "StoreAt(last)", s.StoreAt("z", nil, nil, tt.last, 1), store.ErrSequenceMismatch)
				}
				// The sequences above are free again, for new content.
				seq, _, err := s.Store("z", nil, []byte("new"))
				if err != nil || seq != tt.last+1 {
					t.Fatalf("Store after Truncate = %d, %v; want %d", seq, err, tt.last+1)
				}
				mustOK(t, s.StoreAt("z", nil, []byte("newer"), seq+1, 1))
				var m store.Msg
				if _, err := s.Load(seq, &m); err != nil || string(m.Data) != "new" || m.Subject != "z" {
					t.Fatalf("Load(%d) after Truncate = %q %q, %v", seq, m.Subject, m.Data, err)
				}
				// The subject index forgot the truncated messages too.
				var lastA uint64
				for _, q := range kept {
					if subj[q] == "a" {
						lastA = q
					}
				}
				if _, err := s.LoadLast("a", &m); (lastA == 0) != errors.Is(err, store.ErrNotFound) || (lastA != 0 && m.Seq != lastA) {
					t.Fatalf("LoadLast(a) = %d, %v; want %d", m.Seq, err, lastA)
				}
			})
		}
	}
}

func mustCompact(t *testing.T, s store.Store, seq uint64) {
	t.Helper()
	if _, err := s.Compact(seq); err != nil {
		t.Fatal(err)
	}
}

func TestSubjectCounts(t *testing.T) {
	tests := []struct {
		filter string
		want   map[string]uint64
	}{
		{"", map[string]uint64{"a": 2, "b.x": 1, "b.y": 1}},
		{">", map[string]uint64{"a": 2, "b.x": 1, "b.y": 1}},
		{"a", map[string]uint64{"a": 2}},
		{"b.*", map[string]uint64{"b.x": 1, "b.y": 1}},
		{"zz", map[string]uint64{}},
		{"b..x", map[string]uint64{}},
	}
	for _, impl := range storeImpls() {
		s, _ := openFilled(t, impl, "a", "b.x", "a", "b.y", "b.y")
		if _, err := s.Remove(5); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			got := s.SubjectCounts(tt.filter)
			if got == nil {
				t.Errorf("%s: SubjectCounts(%q) is nil", impl.name, tt.filter)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s: SubjectCounts(%q) (-want +got):\n%s", impl.name, tt.filter, diff)
			}
		}
		if st := s.State(); st.NumSubjects != 3 {
			t.Errorf("%s: NumSubjects %d, want 3", impl.name, st.NumSubjects)
		}
	}
}

// TestOnRemove: callbacks run in ascending order, without the state lock
// (they may read the store), and can be replaced or cleared.
func TestOnRemove(t *testing.T) {
	for _, impl := range storeImpls() {
		t.Run(impl.name, func(t *testing.T) {
			s, _ := openFilled(t, impl, "a", "b", "a", "b", "a", "b")
			var seen []uint64
			s.OnRemove(func(seq uint64) {
				if _, err := s.Load(seq, new(store.Msg)); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("callback for %d: Load = %v, want ErrNotFound (already removed)", seq, err)
				}
				_ = s.State()
				seen = append(seen, seq)
			})
			// Per-subject trimming removes a's 1 and 3 and b's 2 and 4: the
			// callback still sees them in order.
			mustOK(t, s.UpdateLimits(store.Limits{MaxMsgsPerSubject: 1}))
			if diff := cmp.Diff([]uint64{1, 2, 3, 4}, seen); diff != "" {
				t.Fatalf("seen (-want +got):\n%s", diff)
			}
			var second []uint64
			s.OnRemove(func(seq uint64) { second = append(second, seq) })
			if _, err := s.Remove(5); err != nil {
				t.Fatal(err)
			}
			s.OnRemove(nil)
			if _, err := s.Remove(6); err != nil {
				t.Fatal(err)
			}
			if len(seen) != 4 || !cmp.Equal([]uint64{5}, second) {
				t.Fatalf("after replacing: first %v, second %v", seen, second)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	for _, impl := range storeImpls() {
		t.Run(impl.name, func(t *testing.T) {
			s, _ := openFilled(t, impl, "a", "b")
			ctx := context.Background()
			wantErr(t, "WaitDurable", s.WaitDurable(ctx, 2), nil)
			wantErr(t, "Sync", s.Sync(), nil)
			before := s.State()
			wantErr(t, "Close", s.Close(), nil)
			calls := []struct {
				name string
				err  error
			}{
				{"Close", s.Close()},
				{"Store", func() error { _, _, err := s.Store("a", nil, nil); return err }()},
				{"StoreAt", s.StoreAt("a", nil, nil, 10, 1)},
				{"Load", func() error { _, err := s.Load(1, new(store.Msg)); return err }()},
				{"LoadNext", func() error { _, err := s.LoadNext("", 0, new(store.Msg)); return err }()},
				{"LoadLast", func() error { _, err := s.LoadLast("", new(store.Msg)); return err }()},
				{"Remove", func() error { _, err := s.Remove(1); return err }()},
				{"Purge", func() error { _, err := s.Purge(store.Purge{}); return err }()},
				{"Compact", func() error { _, err := s.Compact(2); return err }()},
				{"Truncate", func() error { _, err := s.Truncate(1); return err }()},
				{"UpdateLimits", s.UpdateLimits(store.Limits{})},
				{"WaitDurable", s.WaitDurable(ctx, 1)},
				{"Sync", s.Sync()},
			}
			for _, c := range calls {
				wantErr(t, c.name+" after Close", c.err, store.ErrClosed)
			}
			if diff := cmp.Diff(before, s.State()); diff != "" {
				t.Errorf("State after Close (-before +after):\n%s", diff)
			}
			if got := s.SubjectCounts(""); got == nil || len(got) != 0 {
				t.Errorf("SubjectCounts after Close = %v, want empty", got)
			}
		})
	}
}

func TestMemStoreNew(t *testing.T) {
	if _, err := store.NewMemStore(store.MemConfig{Limits: store.Limits{Discard: 3}}); !errors.Is(err, store.ErrInvalidLimits) {
		t.Fatalf("invalid discard policy: %v", err)
	}
	s, err := store.NewMemStore(store.MemConfig{})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UnixNano()
	_, ts, err := s.Store("a", nil, nil)
	if err != nil || ts < before || ts > time.Now().UnixNano() {
		t.Fatalf("zero config: ts %d (now %d), %v; want the system clock", ts, before, err)
	}
	if st := s.State(); st.FirstSeq != 1 || st.LastSeq != 1 {
		t.Fatalf("state %+v", st)
	}
	wantErr(t, "Delete", s.Delete(), nil)
	wantErr(t, "Delete twice", s.Delete(), store.ErrClosed)
	wantErr(t, "WaitDurable after Delete", s.WaitDurable(context.Background(), 1), store.ErrClosed)
}

// TestMemStoreTombstones removes most messages from the middle so that
// the slice compacts and lookups fall back to binary search, then checks
// every load against the expected set.
func TestMemStoreTombstones(t *testing.T) {
	s, err := store.NewMemStore(store.MemConfig{Clock: storetest.NewFakeClock(modelStart)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	subjects := []string{"t.a", "t.b", "t.c"}
	for i := range n {
		if _, _, err := s.Store(subjects[i%3], nil, []byte(fmt.Sprint(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewSource(1))
	live := map[uint64]bool{}
	for seq := uint64(1); seq <= n; seq++ {
		live[seq] = true
	}
	for _, seq := range r.Perm(n - 2)[:1500] { // never the ends
		if ok, _ := s.Remove(uint64(seq + 2)); !ok {
			t.Fatalf("Remove(%d) failed", seq+2)
		}
		delete(live, uint64(seq+2))
	}
	var m store.Msg
	for seq := uint64(0); seq <= n+1; seq++ {
		_, err := s.Load(seq, &m)
		if live[seq] != (err == nil) || (err == nil && string(m.Data) != fmt.Sprint(seq)) {
			t.Fatalf("Load(%d) = %q, %v; live %v", seq, m.Data, err, live[seq])
		}
	}
	next := uint64(0)
	for _, subj := range subjects {
		count := 0
		for seq := uint64(0); ; seq = m.Seq + 1 {
			if _, err := s.LoadNext(subj, seq, &m); err != nil {
				break
			}
			if !live[m.Seq] || m.Subject != subj {
				t.Fatalf("LoadNext(%q) gave %d %q", subj, m.Seq, m.Subject)
			}
			count++
		}
		next += uint64(count)
	}
	if st := s.State(); next != st.Msgs || st.Msgs != uint64(len(live)) || st.Deleted != 1500 {
		t.Fatalf("LoadNext saw %d, state %+v, live %d", next, st, len(live))
	}
}

// TestMemStoreAllocs: loads into a grown Msg and lookups by literal
// subject allocate nothing; a Store of a known subject allocates only its
// copy of the payload.
func TestMemStoreAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("alloc counts")
	}
	s, err := store.NewMemStore(store.MemConfig{Clock: storetest.NewFakeClock(modelStart), Limits: store.Limits{MaxMsgs: 1000, MaxMsgsPerSubject: 100}})
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 64)
	for i := range 2000 {
		if _, _, err := s.Store(fmt.Sprintf("orders.%d", i%10), nil, payload); err != nil {
			t.Fatal(err)
		}
	}
	var m store.Msg
	first := s.State().FirstSeq
	cases := []struct {
		name string
		max  float64
		fn   func()
	}{
		{"Load", 0, func() { _, _ = s.Load(first+5, &m) }},
		{"LoadNext literal", 0, func() { _, _ = s.LoadNext("orders.3", first, &m) }},
		{"LoadNext wildcard", 0, func() { _, _ = s.LoadNext("orders.*", first, &m) }},
		{"LoadLast literal", 0, func() { _, _ = s.LoadLast("orders.7", &m) }},
		{"State", 0, func() { _ = s.State() }},
		{"Store known subject, limits trimming", 1, func() { _, _, _ = s.Store("orders.4", nil, payload) }},
	}
	for _, c := range cases {
		if got := testing.AllocsPerRun(200, c.fn); got > c.max {
			t.Errorf("%s: %v allocs, want <= %v", c.name, got, c.max)
		}
	}
}
