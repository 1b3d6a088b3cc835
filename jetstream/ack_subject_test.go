package jetstream

import (
	"strings"
	"testing"
	"time"
)

func TestAckReplyEncodeParse(t *testing.T) {
	// The probe's subject: stream S, consumer C, first delivery of seq 2.
	got := string(appendAckReply(nil, ackReplyPrefix("S", "C"), 1, 2, 2, 1795627210097097390, 1))
	if got != "$JS.ACK.S.C.1.2.2.1795627210097097390.1" {
		t.Fatalf("encode: %s", got)
	}
	info, ok := parseAckReply(got)
	want := ackReplyInfo{Stream: "S", Consumer: "C", Delivered: 1, StreamSeq: 2, ConsumerSeq: 2, Timestamp: 1795627210097097390, Pending: 1}
	if !ok || info != want {
		t.Fatalf("parse: %+v %v", info, ok)
	}
	v2 := string(appendAckReply(nil, ackReplyPrefixV2("", "AbCdEfGh", "KV_b", "c1"), 3, 10, 12, 5, 0))
	if v2 != "$JS.ACK._.AbCdEfGh.KV_b.c1.3.10.12.5.0" {
		t.Fatalf("v2 encode: %s", v2)
	}
	info, ok = parseAckReply(v2 + ".extra.tokens")
	want = ackReplyInfo{Domain: "_", AccountHash: "AbCdEfGh", Stream: "KV_b", Consumer: "c1", Delivered: 3, StreamSeq: 10, ConsumerSeq: 12, Timestamp: 5, V2: true}
	if !ok || info != want {
		t.Fatalf("v2 parse: %+v %v", info, ok)
	}
	max := string(appendAckReply(nil, ackReplyPrefix("S", "C"), 1<<64-1, 1<<64-1, 1<<64-1, 1<<63-1, 1<<64-1))
	if info, ok := parseAckReply(max); !ok || info.Pending != 1<<64-1 || info.Timestamp != 1<<63-1 {
		t.Fatalf("max: %+v %v", info, ok)
	}
}

func TestAckReplyParseRejects(t *testing.T) {
	for _, s := range []string{
		"", "$JS.ACK", "$JS.ACK.", "$JS.ACK.S.C.1.2.3.4", "$JS.ACK.S.C.1.2.3.4.5.6", // 8 and 10 tokens
		"$JS.API.S.C.1.2.3.4.5", "$JS.ACKS.C.1.2.3.4.5.6", "$JS.ACK.S.C.1.2.x.4.5", "$JS.ACK.S.C.1.2.-3.4.5",
		"$JS.ACK.S.C.1..3.4.5", "$JS.ACK..C.1.2.3.4.5", "$JS.ACK.S..1.2.3.4.5",
		"$JS.ACK.S.C.18446744073709551616.2.3.4.5", // overflow
		"$JS.ACK.S.C.1.2.3.9223372036854775808.5",  // timestamp overflow
		"$js.ack.S.C.1.2.3.4.5",
	} {
		if info, ok := parseAckReply(s); ok {
			t.Errorf("%q parsed: %+v", s, info)
		}
	}
}

func TestAckReplyAllocs(t *testing.T) {
	prefix := ackReplyPrefix("ORDERS", "worker")
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(200, func() {
		buf = appendAckReply(buf[:0], prefix, 3, 123456, 654321, 1795627210097097390, 42)
	}); n != 0 {
		t.Fatalf("encode allocs %v", n)
	}
	subj := string(buf)
	if n := testing.AllocsPerRun(200, func() {
		if _, ok := parseAckReply(subj); !ok {
			t.Fatal("parse")
		}
	}); n != 0 {
		t.Fatalf("parse allocs %v", n)
	}
	body := []byte("+ACK")
	if n := testing.AllocsPerRun(200, func() { _ = parseAckBody(body) }); n != 0 {
		t.Fatalf("ack body allocs %v", n)
	}
}

func BenchmarkAppendAckReply(b *testing.B) {
	prefix := ackReplyPrefix("ORDERS", "worker")
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = appendAckReply(buf[:0], prefix, 1, uint64(i), uint64(i), 1795627210097097390, 42)
	}
}

func BenchmarkParseAckReply(b *testing.B) {
	subj := "$JS.ACK.ORDERS.worker.1.123456.654321.1795627210097097390.42"
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseAckReply(subj); !ok {
			b.Fatal("parse")
		}
	}
}

func TestParseAckBody(t *testing.T) {
	cases := []struct {
		body string
		want ackBody
	}{
		{"", ackBody{Kind: ackAck}},
		{"+ACK", ackBody{Kind: ackAck}},
		{"+OK", ackBody{Kind: ackAck}},
		{"+ACK ", ackBody{Kind: ackUnknown}},
		{"-NAK", ackBody{Kind: ackNak}},
		{`-NAK {"delay":5000000000}`, ackBody{Kind: ackNak, Delay: 5 * time.Second, HasDelay: true}},
		{"-NAK 250ms", ackBody{Kind: ackNak, Delay: 250 * time.Millisecond, HasDelay: true}},
		{"-NAK soon", ackBody{Kind: ackNak}},
		{`-NAK {"delay":"x"}`, ackBody{Kind: ackNak}},
		{"+WPI", ackBody{Kind: ackProgress}},
		{"+WPI2", ackBody{Kind: ackUnknown}},
		{"+NXT", ackBody{Kind: ackNext, Next: []byte{}}},
		{`+NXT {"batch":5}`, ackBody{Kind: ackNext, Next: []byte(` {"batch":5}`)}},
		{"+TERM", ackBody{Kind: ackTerm}},
		{"+TERM  bad data \r\n", ackBody{Kind: ackTerm, Reason: "bad data"}},
		{"hello", ackBody{Kind: ackUnknown}},
	}
	for _, c := range cases {
		got := parseAckBody([]byte(c.body))
		if got.Kind != c.want.Kind || got.Delay != c.want.Delay || got.HasDelay != c.want.HasDelay ||
			got.Reason != c.want.Reason || string(got.Next) != string(c.want.Next) {
			t.Errorf("%q: %+v want %+v", c.body, got, c.want)
		}
	}
	if !ackWantsReply("r", ackAck, true) || ackWantsReply("r", ackNext, true) || ackWantsReply("", ackAck, true) ||
		ackWantsReply("r", ackTerm, false) || !ackWantsReply("r", ackNak, true) {
		t.Error("ackWantsReply")
	}
}

func FuzzParseAckReply(f *testing.F) {
	for _, s := range []string{
		"$JS.ACK.S.C.1.2.2.1795627210097097390.1",
		"$JS.ACK._.AbCdEfGh.KV_b.c1.3.10.12.5.0",
		"$JS.ACK.D.H.S.C.1.2.3.4.5.x.y",
		"$JS.ACK.S.C.1.2.3.4", "$JS.ACK..", "", "$JS.ACK.S.C.99999999999999999999.1.1.1.1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info, ok := parseAckReply(s)
		if !ok {
			return
		}
		if !strings.HasPrefix(s, ackSubjectPrefix) || info.Stream == "" || info.Consumer == "" {
			t.Fatalf("accepted %q as %+v", s, info)
		}
		// Re-encoding the parsed fields gives a subject that parses the same.
		var prefix string
		if info.V2 {
			prefix = ackReplyPrefixV2(info.Domain, info.AccountHash, info.Stream, info.Consumer)
		} else {
			prefix = ackReplyPrefix(info.Stream, info.Consumer)
		}
		again := string(appendAckReply(nil, prefix, info.Delivered, info.StreamSeq, info.ConsumerSeq, info.Timestamp, info.Pending))
		info2, ok := parseAckReply(again)
		if info.V2 && info.Domain == "" {
			info.Domain = "_"
		}
		if !ok || info2 != info {
			t.Fatalf("%q -> %q: %+v vs %+v", s, again, info2, info)
		}
	})
}

func FuzzParseAckBody(f *testing.F) {
	for _, s := range []string{"", "+ACK", "-NAK", `-NAK {"delay":1}`, "-NAK 1s", "+WPI", "+NXT 5", "+TERM why", "+OK", "junk"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := parseAckBody(b)
		s := string(b)
		switch got.Kind {
		case ackAck:
			if s != "" && s != "+ACK" && s != "+OK" {
				t.Fatalf("%q ack", s)
			}
		case ackNak:
			if !strings.HasPrefix(s, "-NAK") {
				t.Fatalf("%q nak", s)
			}
		case ackNext:
			if !strings.HasPrefix(s, "+NXT") || string(got.Next) != s[4:] {
				t.Fatalf("%q next", s)
			}
		case ackTerm:
			if !strings.HasPrefix(s, "+TERM") || got.Reason != strings.TrimSpace(s[5:]) {
				t.Fatalf("%q term %q", s, got.Reason)
			}
		case ackProgress:
			if s != "+WPI" {
				t.Fatalf("%q wpi", s)
			}
		}
		if got.HasDelay != (got.Kind == ackNak && got.HasDelay) {
			t.Fatalf("%q delay on %v", s, got.Kind)
		}
	})
}
