package protocol

import (
	"math"
	"reflect"
	"strconv"
	"testing"
)

func b(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

var encodeCases = []struct {
	name string
	wire string
	enc  func(dst []byte) []byte
	want rec // what parsing wire yields (with Config{Accept: allOps})
}{
	{"info", "INFO {\"a\":1} \r\n",
		func(d []byte) []byte { return AppendInfo(d, b(`{"a":1}`)) },
		rec{Op: OpInfo, Arg: `{"a":1}`}},
	{"connect", "CONNECT {\"verbose\":false}\r\n",
		func(d []byte) []byte { return AppendConnect(d, b(`{"verbose":false}`)) },
		rec{Op: OpConnect, Arg: `{"verbose":false}`}},
	{"msg header", "MSG foo.bar 7 11\r\n",
		func(d []byte) []byte { return AppendMsgHeader(d, b("foo.bar"), b("7"), nil, 11) },
		rec{}},
	{"msg", "MSG foo 1 5\r\nhello\r\n",
		func(d []byte) []byte { return AppendMsg(d, b("foo"), b("1"), nil, b("hello")) },
		rec{Op: OpMsg, Subject: "foo", Sid: "1", Size: 5, Msg: "hello"}},
	{"msg reply", "MSG foo 1 _INBOX.x 0\r\n\r\n",
		func(d []byte) []byte { return AppendMsg(d, b("foo"), b("1"), b("_INBOX.x"), nil) },
		rec{Op: OpMsg, Subject: "foo", Sid: "1", Reply: "_INBOX.x"}},
	{"msg header reply", "MSG foo 1 r 1234567\r\n",
		func(d []byte) []byte { return AppendMsgHeader(d, b("foo"), b("1"), b("r"), 1234567) },
		rec{}},
	{"hmsg header", "HMSG foo 22 r 12 14\r\n",
		func(d []byte) []byte { return AppendHMsgHeader(d, b("foo"), b("22"), b("r"), 12, 14) },
		rec{}},
	{"hmsg", "HMSG foo 2 12 14\r\n" + hdr12 + "hi\r\n",
		func(d []byte) []byte { return AppendHMsg(d, b("foo"), b("2"), nil, b(hdr12), b("hi")) },
		rec{Op: OpHMsg, Subject: "foo", Sid: "2", HeaderSize: 12, Size: 14, Msg: hdr12 + "hi"}},
	{"ping", "PING\r\n", AppendPing, rec{Op: OpPing}},
	{"pong", "PONG\r\n", AppendPong, rec{Op: OpPong}},
	{"ok", "+OK\r\n", AppendOK, rec{Op: OpOK}},
	{"err", "-ERR 'Maximum Payload Violation'\r\n",
		func(d []byte) []byte { return AppendErr(d, ErrMaxPayload.Text) },
		rec{Op: OpErr, Arg: "Maximum Payload Violation"}},
	{"pub", "PUB foo 5\r\nhello\r\n",
		func(d []byte) []byte { return AppendPub(d, b("foo"), nil, b("hello")) },
		rec{Op: OpPub, Subject: "foo", Size: 5, Msg: "hello"}},
	{"pub reply", "PUB foo r 0\r\n\r\n",
		func(d []byte) []byte { return AppendPub(d, b("foo"), b("r"), nil) },
		rec{Op: OpPub, Subject: "foo", Reply: "r"}},
	{"hpub", "HPUB foo 12 14\r\n" + hdr12 + "hi\r\n",
		func(d []byte) []byte { return AppendHPub(d, b("foo"), nil, b(hdr12), b("hi")) },
		rec{Op: OpHPub, Subject: "foo", HeaderSize: 12, Size: 14, Msg: hdr12 + "hi"}},
	{"hpub reply", "HPUB foo r 12 12\r\n" + hdr12 + "\r\n",
		func(d []byte) []byte { return AppendHPub(d, b("foo"), b("r"), b(hdr12), nil) },
		rec{Op: OpHPub, Subject: "foo", Reply: "r", HeaderSize: 12, Size: 12, Msg: hdr12}},
	{"sub", "SUB foo 1\r\n",
		func(d []byte) []byte { return AppendSub(d, b("foo"), nil, b("1")) },
		rec{Op: OpSub, Subject: "foo", Sid: "1"}},
	{"sub queue", "SUB foo q 1\r\n",
		func(d []byte) []byte { return AppendSub(d, b("foo"), b("q"), b("1")) },
		rec{Op: OpSub, Subject: "foo", Queue: "q", Sid: "1"}},
	{"unsub", "UNSUB 1\r\n",
		func(d []byte) []byte { return AppendUnsub(d, b("1"), 0) },
		rec{Op: OpUnsub, Sid: "1"}},
	{"unsub negative max", "UNSUB 1\r\n",
		func(d []byte) []byte { return AppendUnsub(d, b("1"), -3) },
		rec{Op: OpUnsub, Sid: "1"}},
	{"unsub max", "UNSUB 1 100\r\n",
		func(d []byte) []byte { return AppendUnsub(d, b("1"), 100) },
		rec{Op: OpUnsub, Sid: "1", Max: 100}},
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, tc := range encodeCases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("keep")
			got := tc.enc(append([]byte(nil), prefix...))
			if string(got) != "keep"+tc.wire {
				t.Fatalf("encoded %q, want %q", got, tc.wire)
			}
			if tc.want.Op == 0 {
				return // a header line only
			}
			recs, err, buffered := parseChunks(Config{Accept: allOps}, got[len(prefix):])
			if err != nil || buffered != 0 {
				t.Fatalf("parse: %v (buffered %d)", err, buffered)
			}
			if !reflect.DeepEqual(recs, []rec{tc.want}) {
				t.Fatalf("parsed %v, want %v", recs, tc.want)
			}
		})
	}
	if PingLine != "PING\r\n" || PongLine != "PONG\r\n" || OKLine != "+OK\r\n" || CRLF != "\r\n" {
		t.Fatal("fixed lines changed")
	}
}

// TestEncodeHeaderThenPayload checks that a server writing a MSG header line
// and then the publisher's payload produces what the publisher sent.
func TestEncodeHeaderThenPayload(t *testing.T) {
	var out []byte
	h := handlerFunc(func(f *Frame) error {
		if f.HeaderSize > 0 {
			out = AppendHMsgHeader(out, f.Subject, []byte("9"), f.Reply, f.HeaderSize, f.Size)
		} else {
			out = AppendMsgHeader(out, f.Subject, []byte("9"), f.Reply, f.Size)
		}
		out = append(out, f.Msg...)
		out = append(out, CRLF...)
		return nil
	})
	in := AppendPub(nil, []byte("a.b"), []byte("r"), []byte("payload"))
	in = AppendHPub(in, []byte("c"), nil, []byte(hdr12), []byte("x"))
	if err := NewParser(Config{}).Parse(in, h); err != nil {
		t.Fatal(err)
	}
	want := "MSG a.b 9 r 7\r\npayload\r\nHMSG c 9 12 13\r\n" + hdr12 + "x\r\n"
	if string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func TestAppendInt(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 99, 100, 1048576, 999999999, math.MaxInt, -1, -42, math.MinInt} {
		if got, want := string(appendInt([]byte("x"), n)), "x"+strconv.Itoa(n); got != want {
			t.Errorf("appendInt(%d) = %q, want %q", n, got, want)
		}
	}
}
