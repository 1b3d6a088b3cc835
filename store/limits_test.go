package store_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fernmq/fern/store"
	"github.com/fernmq/fern/store/storetest"
)

// This file tests every limit under both discard policies, UpdateLimits,
// and MaxAge expiry driven by a fake clock, against every implementation.

// limitWrite is one Store call in a limit scenario: subject and payload
// size, and the error expected ("" for none).
type limitWrite struct {
	subj string
	size int
	err  error
}

// recorder collects OnRemove sequences.
type recorder struct{ seqs []uint64 }

func (r *recorder) add(seq uint64) { r.seqs = append(r.seqs, seq) }

// seqsOf lists the stored sequences (via LoadNext).
func seqsOf(t *testing.T, s store.Store) []uint64 {
	t.Helper()
	var out []uint64
	var m store.Msg
	for seq := uint64(0); ; seq = m.Seq + 1 {
		if _, err := s.LoadNext("", seq, &m); err != nil {
			if !errors.Is(err, store.ErrEOF) {
				t.Fatalf("LoadNext: %v", err)
			}
			return out
		}
		out = append(out, m.Seq)
	}
}

func TestLimitsOnStore(t *testing.T) {
	// Each write of size n stores n payload bytes; MsgSize = len(subj)+n+16.
	tests := []struct {
		name    string
		limits  store.Limits
		writes  []limitWrite
		kept    []uint64
		removed []uint64
	}{
		{
			name:    "MaxMsgs DiscardOld drops oldest",
			limits:  store.Limits{MaxMsgs: 2},
			writes:  []limitWrite{{"a", 1, nil}, {"b", 1, nil}, {"a", 1, nil}, {"c", 1, nil}},
			kept:    []uint64{3, 4},
			removed: []uint64{1, 2},
		},
		{
			name:   "MaxMsgs DiscardNew refuses",
			limits: store.Limits{MaxMsgs: 2, Discard: store.DiscardNew},
			writes: []limitWrite{{"a", 1, nil}, {"b", 1, nil}, {"a", 1, store.ErrMaxMsgs}, {"c", 1, store.ErrMaxMsgs}},
			kept:   []uint64{1, 2},
		},
		{
			name: "MaxBytes DiscardOld drops until under",
			// sizes: 1+10+16=27 each; MaxBytes 60 holds two.
			limits:  store.Limits{MaxBytes: 60},
			writes:  []limitWrite{{"a", 10, nil}, {"b", 10, nil}, {"c", 10, nil}},
			kept:    []uint64{2, 3},
			removed: []uint64{1},
		},
		{
			name: "MaxBytes DiscardNew refuses what does not fit",
			// a+b = 54; c with 10 bytes (27) does not fit in 71, with 0 (17) it does.
			limits: store.Limits{MaxBytes: 71, Discard: store.DiscardNew},
			writes: []limitWrite{{"a", 10, nil}, {"b", 10, nil}, {"c", 10, store.ErrMaxBytes}, {"c", 0, nil}},
			kept:   []uint64{1, 2, 3},
		},
		{
			name:   "MaxBytes exactly reached is allowed (DiscardNew)",
			limits: store.Limits{MaxBytes: 54, Discard: store.DiscardNew},
			writes: []limitWrite{{"a", 10, nil}, {"b", 10, nil}},
			kept:   []uint64{1, 2},
		},
		{
			name:   "message larger than MaxBytes refused under DiscardOld",
			limits: store.Limits{MaxBytes: 30},
			writes: []limitWrite{{"a", 5, nil}, {"b", 20, store.ErrMaxBytes}, {"c", 5, nil}},
			kept:   []uint64{2},
			// a(22)+c(22) > 30: a goes.
			removed: []uint64{1},
		},
		{
			name:    "MaxMsgsPerSubject DiscardOld drops the subject's oldest",
			limits:  store.Limits{MaxMsgsPerSubject: 2},
			writes:  []limitWrite{{"a", 1, nil}, {"b", 1, nil}, {"a", 1, nil}, {"a", 1, nil}, {"b", 1, nil}, {"a", 1, nil}},
			kept:    []uint64{2, 4, 5, 6},
			removed: []uint64{1, 3},
		},
		{
			name:   "MaxMsgsPerSubject DiscardNewPerSubject refuses",
			limits: store.Limits{MaxMsgsPerSubject: 1, Discard: store.DiscardNew, DiscardNewPerSubject: true},
			writes: []limitWrite{{"a", 1, nil}, {"a", 1, store.ErrMaxMsgsPerSubject}, {"b", 1, nil}},
			kept:   []uint64{1, 2},
		},
		{
			// The key-value shape: discard new, per-subject history; a new
			// revision replaces the oldest of its key, even at MaxMsgs.
			name:    "MaxMsgsPerSubject DiscardNew replaces the subject's oldest",
			limits:  store.Limits{MaxMsgs: 2, MaxMsgsPerSubject: 1, Discard: store.DiscardNew},
			writes:  []limitWrite{{"a", 1, nil}, {"b", 1, nil}, {"a", 1, nil}, {"c", 1, store.ErrMaxMsgs}},
			kept:    []uint64{2, 3},
			removed: []uint64{1},
		},
		{
			name:   "MaxMsgSize under both policies",
			limits: store.Limits{MaxMsgSize: 4},
			writes: []limitWrite{{"a", 4, nil}, {"a", 5, store.ErrMsgTooLarge}, {"a", 0, nil}},
			kept:   []uint64{1, 2},
		},
		{
			name:   "MaxMsgSize DiscardNew",
			limits: store.Limits{MaxMsgSize: 4, Discard: store.DiscardNew},
			writes: []limitWrite{{"a", 5, store.ErrMsgTooLarge}, {"a", 4, nil}},
			kept:   []uint64{1},
		},
		{
			name: "per-subject before totals: fewest removed",
			// b1 a2 | a3: per-subject drops a2, leaving 2 <= MaxMsgs.
			limits:  store.Limits{MaxMsgs: 2, MaxMsgsPerSubject: 1},
			writes:  []limitWrite{{"b", 1, nil}, {"a", 1, nil}, {"a", 1, nil}},
			kept:    []uint64{1, 3},
			removed: []uint64{2},
		},
		{
			name:   "DiscardNew checks per-subject first",
			limits: store.Limits{MaxMsgs: 1, MaxMsgsPerSubject: 1, Discard: store.DiscardNew, DiscardNewPerSubject: true},
			writes: []limitWrite{{"a", 1, nil}, {"a", 1, store.ErrMaxMsgsPerSubject}, {"b", 1, store.ErrMaxMsgs}},
			kept:   []uint64{1},
		},
		{
			name:   "negative limits mean none",
			limits: store.Limits{MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1, MaxMsgSize: -1, Discard: store.DiscardNew},
			writes: []limitWrite{{"a", 100, nil}, {"a", 100, nil}},
			kept:   []uint64{1, 2},
		},
	}
	for _, impl := range storeImpls() {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				s, _ := impl.open(t, storetest.NewFakeClock(modelStart), tt.limits)
				var rec recorder
				s.OnRemove(rec.add)
				for i, w := range tt.writes {
					_, _, err := s.Store(w.subj, nil, make([]byte, w.size))
					if !errors.Is(err, w.err) || (err == nil) != (w.err == nil) {
						t.Fatalf("write %d (%s, %d bytes): err %v, want %v", i, w.subj, w.size, err, w.err)
					}
				}
				if diff := cmp.Diff(tt.kept, seqsOf(t, s)); diff != "" {
					t.Errorf("kept (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.removed, rec.seqs); diff != "" {
					t.Errorf("removed (-want +got):\n%s", diff)
				}
				st := s.State()
				if st.Msgs != uint64(len(tt.kept)) {
					t.Errorf("State.Msgs = %d, want %d", st.Msgs, len(tt.kept))
				}
			})
		}
	}
}

func TestUpdateLimits(t *testing.T) {
	// Stored before each case: a1 b2 a3 a4 b5 (payload 10 bytes: 27 each).
	subjects := []string{"a", "b", "a", "a", "b"}
	tests := []struct {
		name    string
		limits  store.Limits
		err     error
		kept    []uint64
		removed []uint64
	}{
		{"lower MaxMsgs", store.Limits{MaxMsgs: 2}, nil, []uint64{4, 5}, []uint64{1, 2, 3}},
		{"lower MaxMsgs under DiscardNew trims too", store.Limits{MaxMsgs: 2, Discard: store.DiscardNew}, nil, []uint64{4, 5}, []uint64{1, 2, 3}},
		{"lower MaxBytes", store.Limits{MaxBytes: 81}, nil, []uint64{3, 4, 5}, []uint64{1, 2}},
		{"lower MaxMsgsPerSubject", store.Limits{MaxMsgsPerSubject: 1}, nil, []uint64{4, 5}, []uint64{1, 2, 3}},
		{"per-subject then totals", store.Limits{MaxMsgsPerSubject: 2, MaxMsgs: 3}, nil, []uint64{3, 4, 5}, []uint64{1, 2}},
		{"MaxMsgSize does not touch stored messages", store.Limits{MaxMsgSize: 1}, nil, []uint64{1, 2, 3, 4, 5}, nil},
		{"raise limits", store.Limits{MaxMsgs: 100}, nil, []uint64{1, 2, 3, 4, 5}, nil},
		{"invalid discard policy", store.Limits{MaxMsgs: 1, Discard: 9}, store.ErrInvalidLimits, []uint64{1, 2, 3, 4, 5}, nil},
	}
	for _, impl := range storeImpls() {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				s, _ := impl.open(t, storetest.NewFakeClock(modelStart), store.Limits{})
				for _, subj := range subjects {
					if _, _, err := s.Store(subj, nil, make([]byte, 10)); err != nil {
						t.Fatal(err)
					}
				}
				var rec recorder
				s.OnRemove(rec.add)
				if err := s.UpdateLimits(tt.limits); !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
					t.Fatalf("UpdateLimits: %v, want %v", err, tt.err)
				}
				if diff := cmp.Diff(tt.kept, seqsOf(t, s)); diff != "" {
					t.Errorf("kept (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.removed, rec.seqs); diff != "" {
					t.Errorf("removed (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestMaxAge drives expiry with a fake clock only: nothing is written
// while messages expire.
func TestMaxAge(t *testing.T) {
	for _, impl := range storeImpls() {
		t.Run(impl.name, func(t *testing.T) {
			clock := storetest.NewFakeClock(modelStart)
			s, _ := impl.open(t, clock, store.Limits{MaxAge: 3 * time.Second})
			var rec recorder
			s.OnRemove(rec.add)
			if clock.Pending() != 0 {
				t.Fatalf("empty store armed %d timers", clock.Pending())
			}
			for range 3 { // seqs 1,2,3 at t0, t0+1s, t0+2s
				if _, _, err := s.Store("a", nil, nil); err != nil {
					t.Fatal(err)
				}
				clock.Advance(time.Second)
			}
			// now t0+3s: seq 1 (t0) is exactly MaxAge old, expired by the
			// timer that fired inside the last Advance.
			steps := []struct {
				advance time.Duration
				kept    []uint64
				removed []uint64
			}{
				{0, []uint64{2, 3}, []uint64{1}},
				{999 * time.Millisecond, []uint64{2, 3}, []uint64{1}},
				{time.Millisecond, []uint64{3}, []uint64{1, 2}},
				{10 * time.Second, nil, []uint64{1, 2, 3}},
			}
			for i, st := range steps {
				clock.Advance(st.advance)
				if diff := cmp.Diff(st.kept, seqsOf(t, s)); diff != "" {
					t.Fatalf("step %d: kept (-want +got):\n%s", i, diff)
				}
				if diff := cmp.Diff(st.removed, rec.seqs); diff != "" {
					t.Fatalf("step %d: removed (-want +got):\n%s", i, diff)
				}
			}
			if n := clock.Pending(); n != 0 {
				t.Fatalf("empty store left %d timers armed", n)
			}
			if st := s.State(); st.Msgs != 0 || st.FirstSeq != 4 || st.LastSeq != 3 || st.FirstTime != 0 {
				t.Fatalf("state after expiry: %+v", st)
			}
		})
	}
}

func TestMaxAgeUpdateAndOrder(t *testing.T) {
	sec := int64(time.Second)
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store, clock *storetest.FakeClock)
		kept []uint64
	}{
		{
			name: "adding MaxAge expires old messages at the next tick",
			run: func(t *testing.T, s store.Store, clock *storetest.FakeClock) {
				mustStore(t, s, "a")
				clock.Advance(10 * time.Second)
				mustStore(t, s, "a")
				mustOK(t, s.UpdateLimits(store.Limits{MaxAge: 5 * time.Second}))
				clock.Advance(0)
			},
			kept: []uint64{2},
		},
		{
			name: "removing MaxAge stops the timer",
			run: func(t *testing.T, s store.Store, clock *storetest.FakeClock) {
				mustOK(t, s.UpdateLimits(store.Limits{MaxAge: time.Second}))
				mustStore(t, s, "a")
				mustOK(t, s.UpdateLimits(store.Limits{}))
				clock.Advance(time.Hour)
				if n := clock.Pending(); n != 0 {
					t.Errorf("%d timers pending without MaxAge", n)
				}
			},
			kept: []uint64{1},
		},
		{
			name: "lowering MaxAge re-arms earlier",
			run: func(t *testing.T, s store.Store, clock *storetest.FakeClock) {
				mustOK(t, s.UpdateLimits(store.Limits{MaxAge: time.Hour}))
				mustStore(t, s, "a")
				mustOK(t, s.UpdateLimits(store.Limits{MaxAge: time.Second}))
				clock.Advance(time.Second)
			},
			kept: nil,
		},
		{
			name: "removing the first message re-arms for an older successor",
			run: func(t *testing.T, s store.Store, clock *storetest.FakeClock) {
				mustOK(t, s.UpdateLimits(store.Limits{MaxAge: 10 * time.Second}))
				mustStore(t, s, "a") // seq 1 at t0
				// seq 2 carries an older timestamp (a mirror catching up).
				mustOK(t, s.StoreAt("b", nil, nil, 2, modelStart-8*sec))
				if _, err := s.Remove(1); err != nil {
					t.Fatal(err)
				}
				clock.Advance(2 * time.Second) // seq 2 is 10 s old now
			},
			kept: nil,
		},
		{
			name: "an older timestamp behind a young first waits for it",
			run: func(t *testing.T, s store.Store, clock *storetest.FakeClock) {
				mustOK(t, s.UpdateLimits(store.Limits{MaxAge: 10 * time.Second}))
				mustStore(t, s, "a") // seq 1 at t0
				mustOK(t, s.StoreAt("b", nil, nil, 2, modelStart-20*sec))
				clock.Advance(5 * time.Second)
			},
			kept: []uint64{1, 2},
		},
		{
			name: "Close stops the timer",
			run: func(t *testing.T, s store.Store, clock *storetest.FakeClock) {
				mustOK(t, s.UpdateLimits(store.Limits{MaxAge: time.Second}))
				mustStore(t, s, "a")
				mustOK(t, s.Close())
				if n := clock.Pending(); n != 0 {
					t.Errorf("%d timers pending after Close", n)
				}
				clock.Advance(time.Hour) // must not panic or touch the store
			},
			kept: []uint64{1},
		},
	}
	for _, impl := range storeImpls() {
		for _, tt := range tests {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				clock := storetest.NewFakeClock(modelStart)
				s, _ := impl.open(t, clock, store.Limits{})
				tt.run(t, s, clock)
				if errors.Is(s.Sync(), store.ErrClosed) {
					return
				}
				if diff := cmp.Diff(tt.kept, seqsOf(t, s)); diff != "" {
					t.Errorf("kept (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestMaxAgeSystemClock checks expiry with the real clock: no fake, no
// sleep; the OnRemove callback says when it happened.
func TestMaxAgeSystemClock(t *testing.T) {
	for _, impl := range storeImpls() {
		t.Run(impl.name, func(t *testing.T) {
			s, _ := impl.open(t, store.SystemClock{}, store.Limits{MaxAge: 20 * time.Millisecond})
			gone := make(chan uint64, 10)
			s.OnRemove(func(seq uint64) { gone <- seq })
			for range 3 {
				mustStore(t, s, "a")
			}
			var got []uint64
			timeout := time.After(10 * time.Second)
			for len(got) < 3 {
				select {
				case seq := <-gone:
					got = append(got, seq)
				case <-timeout:
					t.Fatalf("expired only %v after 10s", got)
				}
			}
			slices.Sort(got)
			if diff := cmp.Diff([]uint64{1, 2, 3}, got); diff != "" {
				t.Fatalf("expired (-want +got):\n%s", diff)
			}
			if st := s.State(); st.Msgs != 0 {
				t.Fatalf("state after expiry: %+v", st)
			}
		})
	}
}

func mustStore(t *testing.T, s store.Store, subj string) uint64 {
	t.Helper()
	seq, _, err := s.Store(subj, nil, []byte(fmt.Sprintf("%s-payload", subj)))
	if err != nil {
		t.Fatalf("Store(%q): %v", subj, err)
	}
	return seq
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
