package replica

import (
	"errors"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func TestFrameRoundTrip(t *testing.T) {
	typ, to, from, term := raftpb.MessageType_MsgApp, uint64(7), uint64(9), uint64(3)
	idx := uint64(41)
	m := &raftpb.Message{Type: &typ, To: &to, From: &from, Term: &term,
		Entries: []*raftpb.Entry{{Index: &idx, Data: []byte("hello")}}}
	b, err := AppendFrame(nil, "S-R3-orders", m)
	if err != nil {
		t.Fatal(err)
	}
	group, got, err := DecodeFrame(b)
	if err != nil || group != "S-R3-orders" || !proto.Equal(got, m) {
		t.Fatalf("got %q %v %v", group, got, err)
	}
	if SubjectFor(255) != "$FRG.ff" {
		t.Fatalf("subject %q", SubjectFor(255))
	}
}

func TestFrameErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"zero-length group", []byte{0, 1, 2}},
		{"group longer than the frame", []byte{9, 'a'}},
		{"bad protobuf", append([]byte{1, 'g'}, 0xff, 0xff, 0xff)},
	} {
		if _, _, err := DecodeFrame(tc.b); !errors.Is(err, ErrBadFrame) {
			t.Errorf("%s: %v, want ErrBadFrame", tc.name, err)
		}
	}
	if _, err := AppendFrame(nil, "", &raftpb.Message{}); err == nil {
		t.Error("an empty group name was encoded")
	}
}

// FuzzDecodeFrame: any input decodes or fails cleanly, and what decodes
// encodes back to a frame that decodes to the same message.
func FuzzDecodeFrame(f *testing.F) {
	typ := raftpb.MessageType_MsgHeartbeat
	seed, _ := AppendFrame(nil, "_meta_", &raftpb.Message{Type: &typ})
	f.Add(seed)
	f.Add([]byte{1, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		group, m, err := DecodeFrame(b)
		if err != nil {
			return
		}
		again, err := AppendFrame(nil, group, m)
		if err != nil {
			t.Fatal(err)
		}
		g2, m2, err := DecodeFrame(again)
		if err != nil || g2 != group || !proto.Equal(m, m2) {
			t.Fatalf("round trip changed the frame: %v", err)
		}
	})
}
