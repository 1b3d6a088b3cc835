package protocol

import (
	"bytes"
	"testing"
)

// countHandler counts ops and touches every frame field, like a real handler.
type countHandler struct {
	ops   int
	bytes int
}

func (h *countHandler) HandleOp(f *Frame) error {
	h.ops++
	h.bytes += len(f.Subject) + len(f.Reply) + len(f.Queue) + len(f.Sid) + len(f.Msg) + len(f.Arg)
	return nil
}

var allocInputs = []struct {
	name string
	cfg  Config
	in   []byte
}{
	{"PUB", Config{}, AppendPub(nil, []byte("foo.bar"), []byte("_INBOX.abc"), make([]byte, 128))},
	{"HPUB", Config{}, AppendHPub(nil, []byte("foo.bar"), nil, []byte("NATS/1.0\r\nA: B\r\n\r\n"), make([]byte, 128))},
	{"SUB", Config{}, AppendSub(nil, []byte("foo.*"), []byte("q"), []byte("12"))},
	{"UNSUB", Config{}, AppendUnsub(nil, []byte("12"), 10)},
	{"PING", Config{}, []byte(PingLine)},
	{"CONNECT", Config{}, AppendConnect(nil, []byte(`{"verbose":false,"headers":true}`))},
	{"MSG", Config{Accept: ServerOps}, AppendMsg(nil, []byte("foo"), []byte("1"), nil, make([]byte, 64))},
	{"HMSG", Config{Accept: ServerOps}, AppendHMsg(nil, []byte("foo"), []byte("1"), []byte("r"), []byte(hdr12), []byte("x"))},
	{"-ERR", Config{Accept: ServerOps}, AppendErr(nil, "Stale Connection")},
	{"batch", Config{}, bytes.Repeat(AppendPub(nil, []byte("a"), nil, []byte("0123456789")), 50)},
}

func TestParseAllocs(t *testing.T) {
	for _, tc := range allocInputs {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(tc.cfg)
			h := &countHandler{}
			whole := testing.AllocsPerRun(100, func() {
				if err := p.Parse(tc.in, h); err != nil {
					t.Fatal(err)
				}
			})
			if whole != 0 {
				t.Errorf("whole op: %v allocs/run, want 0", whole)
			}
			// Split in the middle: the internal buffer is allocated on the
			// first split and reused afterwards (amortized zero).
			mid := len(tc.in) / 2
			split := testing.AllocsPerRun(100, func() {
				if err := p.Parse(tc.in[:mid], h); err != nil {
					t.Fatal(err)
				}
				if err := p.Parse(tc.in[mid:], h); err != nil {
					t.Fatal(err)
				}
			})
			if split != 0 {
				t.Errorf("split op: %v allocs/run, want 0", split)
			}
			if h.ops == 0 || p.Buffered() != 0 {
				t.Fatalf("ops %d, buffered %d", h.ops, p.Buffered())
			}
		})
	}
}

func TestEncodeAllocs(t *testing.T) {
	dst := make([]byte, 0, 4096)
	subj, sid, reply := []byte("foo.bar"), []byte("12"), []byte("_INBOX.x")
	payload, hdr := make([]byte, 256), []byte(hdr12)
	encoders := map[string]func(){
		"Info":       func() { dst = AppendInfo(dst[:0], payload) },
		"MsgHeader":  func() { dst = AppendMsgHeader(dst[:0], subj, sid, reply, 1048576) },
		"HMsgHeader": func() { dst = AppendHMsgHeader(dst[:0], subj, sid, reply, 12, 1048576) },
		"Msg":        func() { dst = AppendMsg(dst[:0], subj, sid, reply, payload) },
		"HMsg":       func() { dst = AppendHMsg(dst[:0], subj, sid, reply, hdr, payload) },
		"Ping":       func() { dst = AppendPing(dst[:0]) },
		"Pong":       func() { dst = AppendPong(dst[:0]) },
		"OK":         func() { dst = AppendOK(dst[:0]) },
		"Err":        func() { dst = AppendErr(dst[:0], "Maximum Payload Violation") },
		"Connect":    func() { dst = AppendConnect(dst[:0], payload) },
		"Pub":        func() { dst = AppendPub(dst[:0], subj, reply, payload) },
		"HPub":       func() { dst = AppendHPub(dst[:0], subj, reply, hdr, payload) },
		"Sub":        func() { dst = AppendSub(dst[:0], subj, []byte("q"), sid) },
		"Unsub":      func() { dst = AppendUnsub(dst[:0], sid, 100) },
	}
	for name, enc := range encoders {
		if n := testing.AllocsPerRun(100, enc); n != 0 {
			t.Errorf("Append%s: %v allocs/run, want 0", name, n)
		}
	}
}
