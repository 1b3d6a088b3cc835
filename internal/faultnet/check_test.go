package faultnet

import (
	"fmt"
	"strings"
	"testing"
)

func msgs(ids ...int) []Msg {
	out := make([]Msg, len(ids))
	for i, id := range ids {
		out[i] = Msg{ID: fmt.Sprintf("m%d", id), Seq: uint64(id)}
	}
	return out
}

func TestCheckDetectsEachFault(t *testing.T) {
	acked := msgs(1, 2, 3, 4, 5, 6)
	if r := Check(acked, msgs(1, 2, 3, 4, 5, 6)); !r.OK() || len(r.Unacked) != 0 {
		t.Fatalf("clean: %v", r)
	}
	// An unacknowledged message read back is allowed.
	if r := Check(acked, msgs(1, 2, 3, 4, 5, 6, 7)); !r.OK() || len(r.Unacked) != 1 {
		t.Fatalf("unacked extra: %v", r)
	}
	for _, tc := range []struct {
		name string
		got  []Msg
		want string
	}{
		{"loss", msgs(1, 2, 4, 5, 6), "lost: m3@3"},
		{"duplicate", msgs(1, 2, 3, 3, 4, 5, 6), "duplicated: m3@3(x2)"},
		{"late", msgs(1, 3, 4, 5, 2, 6), "reordered: m2@2(read after m5@5)"},
		{"early", msgs(5, 1, 2, 3, 4, 6), "reordered: m5@5(read before m1@1)"},
		{"swap", msgs(1, 2, 4, 3, 5, 6), "reordered 1"},
	} {
		got := tc.got
		if tc.name == "swap" {
			// Also keep the sequences consistent with the read order, so
			// only the order is wrong.
			got[2].Seq, got[3].Seq = 4, 3
		}
		r := Check(acked, got)
		if r.OK() || !strings.Contains(r.String(), tc.want) {
			t.Errorf("%s: want %q in report:\n%v", tc.name, tc.want, r)
		}
	}
	// A message stored at another sequence than acknowledged.
	got := msgs(1, 2, 3)
	got[2].Seq = 9
	if r := Check(msgs(1, 2, 3), got); r.OK() || len(r.SeqMismatch) != 1 {
		t.Fatalf("seq mismatch: %v", r)
	}
}

func TestCheckManyOutOfOrderIsMinimal(t *testing.T) {
	var acked, got []Msg
	for i := range 1000 {
		acked = append(acked, Msg{ID: fmt.Sprint(i)})
	}
	got = append(got, acked[500:]...)
	got = append(got, acked[:500]...)
	if r := Check(acked, got); len(r.Reordered) != 500 {
		t.Fatalf("a rotated read back: %d reordered, want 500", len(r.Reordered))
	}
}
