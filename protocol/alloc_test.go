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
	if f.Op > OpErr { // a route or leaf op
		h.bytes += len(f.Account) + len(f.Origin) + f.Weight
		for q, rest := NextQueue(f.QueueList); q != nil; q, rest = NextQueue(rest) {
			h.bytes += len(q)
		}
	}
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
	{"RS+", routeCfg, AppendRSub(nil, []byte("$G"), []byte("foo.*"), nil, 0)},
	{"RS+ queue", routeCfg, AppendRSub(nil, []byte("$G"), []byte("foo.*"), []byte("q"), 3)},
	{"RS-", routeCfg, AppendRUnsub(nil, []byte("$G"), []byte("foo.*"), []byte("q"))},
	{"RMSG", routeCfg, withPayload(AppendRMsgHeader(nil, []byte("$G"), []byte("foo"), []byte("r"), nil, 64), string(make([]byte, 64)))},
	{"RMSG queues", routeCfg, withPayload(AppendRMsgHeader(nil, []byte("$G"), []byte("foo"), []byte("r"),
		[]byte("q1 q2 q3 q4 q5 q6 q7 q8"), 64), string(make([]byte, 64)))},
	{"route HMSG", routeCfg, withPayload(AppendRHMsgHeader(nil, []byte("$G"), []byte("foo"), nil, []byte("q1"), 12, 13), hdr12+"x")},
	{"route LS+", routeCfg, AppendRLSub(nil, []byte("C2"), []byte("$G"), []byte("foo"), []byte("q"), 3)},
	{"route LMSG", routeCfg, withPayload(AppendRLMsgHeader(nil, []byte("C2"), []byte("$G"), []byte("foo"), nil, []byte("q"), 0, 1), "x")},
	{"pinned RMSG", pinnedCfg, withPayload(AppendRMsgHeader(nil, nil, []byte("foo"), nil, nil, 1), "x")},
	{"LS+", leafCfg, AppendLSub(nil, []byte("foo.*"), []byte("q"), 3)},
	{"LS-", leafCfg, AppendLUnsub(nil, []byte("foo.*"), nil)},
	{"LMSG", leafCfg, withPayload(AppendLMsgHeader(nil, []byte("foo"), []byte("r"), nil, 64), string(make([]byte, 64)))},
	{"LMSG queues", leafCfg, withPayload(AppendLMsgHeader(nil, []byte("foo"), nil, []byte("q1 q2"), 1), "x")},
	{"leaf HMSG", leafCfg, withPayload(AppendLHMsgHeader(nil, []byte("foo"), []byte("r"), nil, 12, 13), hdr12+"x")},
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
	acc, origin, q, queues := []byte("$G"), []byte("C2"), []byte("q"), []byte("q1 q2 q3")
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
		"RSub":       func() { dst = AppendRSub(dst[:0], acc, subj, q, 3) },
		"RUnsub":     func() { dst = AppendRUnsub(dst[:0], acc, subj, q) },
		"RMsgHeader": func() { dst = AppendRMsgHeader(dst[:0], acc, subj, reply, queues, 1048576) },
		"RHMsgHeader": func() {
			dst = AppendRHMsgHeader(dst[:0], acc, subj, reply, queues, 12, 1048576)
		},
		"RLSub":   func() { dst = AppendRLSub(dst[:0], origin, acc, subj, q, 3) },
		"RLUnsub": func() { dst = AppendRLUnsub(dst[:0], origin, acc, subj, q) },
		"RLMsgHeader": func() {
			dst = AppendRLMsgHeader(dst[:0], origin, acc, subj, reply, queues, 0, 1048576)
		},
		"LSub":        func() { dst = AppendLSub(dst[:0], subj, q, 3) },
		"LUnsub":      func() { dst = AppendLUnsub(dst[:0], subj, q) },
		"LMsgHeader":  func() { dst = AppendLMsgHeader(dst[:0], subj, reply, queues, 1048576) },
		"LHMsgHeader": func() { dst = AppendLHMsgHeader(dst[:0], subj, nil, queues, 12, 1048576) },
	}
	for name, enc := range encoders {
		if n := testing.AllocsPerRun(100, enc); n != 0 {
			t.Errorf("Append%s: %v allocs/run, want 0", name, n)
		}
	}
}
