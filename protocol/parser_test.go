package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// rec is a Frame copied into comparable values. Queues is QueueList as
// iterated by NextQueue, the names joined with single spaces.
type rec struct {
	Op                         Op
	Subject, Reply, Queue, Sid string
	Max, HeaderSize, Size      int
	Msg, Arg                   string
	Account, Origin            string
	Weight                     int
	QueueList, Queues          string
}

func (r rec) String() string {
	type plain rec // without this String method
	return fmt.Sprintf("%+v", plain(r))
}

func toRec(f *Frame) rec {
	return rec{
		Op: f.Op, Subject: string(f.Subject), Reply: string(f.Reply), Queue: string(f.Queue),
		Sid: string(f.Sid), Max: f.Max, HeaderSize: f.HeaderSize, Size: f.Size,
		Msg: string(f.Msg), Arg: string(f.Arg),
		Account: string(f.Account), Origin: string(f.Origin), Weight: f.Weight,
		QueueList: string(f.QueueList), Queues: joinQueues(f.QueueList),
	}
}

// joinQueues iterates list with NextQueue and joins the names with spaces.
func joinQueues(list []byte) string {
	var sb strings.Builder
	for q, rest := NextQueue(list); q != nil; q, rest = NextQueue(rest) {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.Write(q)
	}
	return sb.String()
}

// recorder records every op; it fails with failErr at op number failAt (1-based).
type recorder struct {
	got     []rec
	failAt  int
	failErr error
}

func (r *recorder) HandleOp(f *Frame) error {
	if len(f.Msg) != f.Size {
		return fmt.Errorf("len(Msg)=%d != Size=%d", len(f.Msg), f.Size)
	}
	if cap(f.Msg) != len(f.Msg) || cap(f.Subject) != len(f.Subject) || cap(f.Sid) != len(f.Sid) ||
		cap(f.Account) != len(f.Account) || cap(f.Origin) != len(f.Origin) ||
		cap(f.QueueList) != len(f.QueueList) || cap(f.Reply) != len(f.Reply) || cap(f.Queue) != len(f.Queue) {
		return errors.New("frame slice capacity extends past its contents")
	}
	r.got = append(r.got, toRec(f))
	if len(r.got) == r.failAt {
		return r.failErr
	}
	return nil
}

// parseChunks feeds chunks to a new parser. Every chunk is copied into a
// scratch buffer that is clobbered after Parse returns, so a parser keeping a
// reference into a caller buffer is caught. It also reports the bytes
// buffered at the end.
func parseChunks(cfg Config, chunks ...[]byte) ([]rec, error, int) {
	p := NewParser(cfg)
	r := &recorder{}
	for _, c := range chunks {
		scratch := append([]byte(nil), c...)
		err := p.Parse(scratch, r)
		for i := range scratch {
			scratch[i] = 0xFF
		}
		if err != nil {
			return r.got, err, p.Buffered()
		}
	}
	return r.got, nil, p.Buffered()
}

// splits returns in split at every offset into two, and byte by byte.
func splits(in []byte) (out [][][]byte) {
	for i := 0; i <= len(in); i++ {
		out = append(out, [][]byte{in[:i], in[i:]})
	}
	var bytewise [][]byte
	for i := range in {
		bytewise = append(bytewise, in[i:i+1])
	}
	return append(out, bytewise)
}

func describe(chunks [][]byte) string {
	if len(chunks) == 2 {
		return fmt.Sprintf("split at %d", len(chunks[0]))
	}
	return fmt.Sprintf("%d chunks", len(chunks))
}

const (
	allOps = ClientOps | ServerOps
	hdr12  = "NATS/1.0\r\n\r\n" // a 12-byte header block
)

var parseCases = []parseCase{
	{"connect", Config{}, "CONNECT {\"verbose\":false}\r\n",
		[]rec{{Op: OpConnect, Arg: `{"verbose":false}`}}},
	{"connect no separator", Config{}, "CONNECT{}\r\n", []rec{{Op: OpConnect, Arg: `{}`}}},
	{"connect empty", Config{}, "CONNECT\r\n", []rec{{Op: OpConnect}}},
	{"info trailing space", Config{Accept: ServerOps}, "INFO {\"a\":1} \r\n",
		[]rec{{Op: OpInfo, Arg: `{"a":1}`}}},
	{"info from client", Config{}, "info\t{}\n", []rec{{Op: OpInfo, Arg: `{}`}}},
	{"pub", Config{}, "PUB foo 5\r\nhello\r\n",
		[]rec{{Op: OpPub, Subject: "foo", Size: 5, Msg: "hello"}}},
	{"pub reply", Config{}, "PUB foo.bar _INBOX.1 5\r\nhello\r\n",
		[]rec{{Op: OpPub, Subject: "foo.bar", Reply: "_INBOX.1", Size: 5, Msg: "hello"}}},
	{"pub empty", Config{}, "PUB foo 0\r\n\r\n", []rec{{Op: OpPub, Subject: "foo"}}},
	{"pub tabs and runs", Config{}, "PUB\tfoo \t bar\t\t5  \r\nhello\r\n",
		[]rec{{Op: OpPub, Subject: "foo", Reply: "bar", Size: 5, Msg: "hello"}}},
	{"pub lower bare newline", Config{}, "pub foo 2\nhi\r\n",
		[]rec{{Op: OpPub, Subject: "foo", Size: 2, Msg: "hi"}}},
	{"pub mixed case", Config{}, "pUb foo 2\r\nhi\r\n",
		[]rec{{Op: OpPub, Subject: "foo", Size: 2, Msg: "hi"}}},
	{"pub payload looks like ops", Config{}, "PUB foo 12\r\nPING\r\nPONG\r\n\r\n",
		[]rec{{Op: OpPub, Subject: "foo", Size: 12, Msg: "PING\r\nPONG\r\n"}}},
	{"pub max 9 digits", Config{MaxPayload: -1}, "PUB foo 000000002\r\nhi\r\n",
		[]rec{{Op: OpPub, Subject: "foo", Size: 2, Msg: "hi"}}},
	{"hpub", Config{}, "HPUB foo 12 14\r\n" + hdr12 + "hi\r\n",
		[]rec{{Op: OpHPub, Subject: "foo", HeaderSize: 12, Size: 14, Msg: hdr12 + "hi"}}},
	{"hpub reply", Config{}, "hpub foo r 12 12\r\n" + hdr12 + "\r\n",
		[]rec{{Op: OpHPub, Subject: "foo", Reply: "r", HeaderSize: 12, Size: 12, Msg: hdr12}}},
	{"hpub zero header", Config{}, "HPUB foo 0 2\r\nhi\r\n",
		[]rec{{Op: OpHPub, Subject: "foo", Size: 2, Msg: "hi"}}},
	{"sub", Config{}, "SUB foo 1\r\n", []rec{{Op: OpSub, Subject: "foo", Sid: "1"}}},
	{"sub queue", Config{}, "sub foo.* workers 22\n",
		[]rec{{Op: OpSub, Subject: "foo.*", Queue: "workers", Sid: "22"}}},
	{"sub tabs", Config{}, "SuB\tfoo.>\t\tq\t1\t\r\n",
		[]rec{{Op: OpSub, Subject: "foo.>", Queue: "q", Sid: "1"}}},
	{"unsub", Config{}, "UNSUB 1\r\n", []rec{{Op: OpUnsub, Sid: "1"}}},
	{"unsub max", Config{}, "unsub 1 10\r\n", []rec{{Op: OpUnsub, Sid: "1", Max: 10}}},
	{"unsub bad max is immediate", Config{}, "UNSUB 1 x\r\nUNSUB 2 1234567890\r\n",
		[]rec{{Op: OpUnsub, Sid: "1"}, {Op: OpUnsub, Sid: "2"}}},
	{"ping pong", Config{}, "PING\r\nPONG\r\nping\npong\n",
		[]rec{{Op: OpPing}, {Op: OpPong}, {Op: OpPing}, {Op: OpPong}}},
	{"ping skips to newline", Config{}, "PINGpong junk\r\nPONG xyz\n",
		[]rec{{Op: OpPing}, {Op: OpPong}}},
	{"ok", Config{Accept: ServerOps}, "+OK\r\n+ok\n", []rec{{Op: OpOK}, {Op: OpOK}}},
	{"err quoted", Config{Accept: ServerOps}, "-ERR 'Unknown Protocol Operation'\r\n",
		[]rec{{Op: OpErr, Arg: "Unknown Protocol Operation"}}},
	{"err unquoted", Config{Accept: ServerOps}, "-err\tStale Connection \r\n",
		[]rec{{Op: OpErr, Arg: "Stale Connection"}}},
	{"err inner quotes", Config{}, "-ERR 'Permissions Violation for Publish to \"a\"'\n",
		[]rec{{Op: OpErr, Arg: `Permissions Violation for Publish to "a"`}}},
	{"msg", Config{Accept: ServerOps}, "MSG foo 1 5\r\nhello\r\n",
		[]rec{{Op: OpMsg, Subject: "foo", Sid: "1", Size: 5, Msg: "hello"}}},
	{"msg reply", Config{Accept: ServerOps}, "msg foo 1 bar 5\nhello\r\n",
		[]rec{{Op: OpMsg, Subject: "foo", Sid: "1", Reply: "bar", Size: 5, Msg: "hello"}}},
	{"hmsg", Config{Accept: ServerOps}, "HMSG foo 1 12 14\r\n" + hdr12 + "hi\r\n",
		[]rec{{Op: OpHMsg, Subject: "foo", Sid: "1", HeaderSize: 12, Size: 14, Msg: hdr12 + "hi"}}},
	{"hmsg reply", Config{Accept: ServerOps}, "HMSG foo 1 r 12 12\r\n" + hdr12 + "\r\n",
		[]rec{{Op: OpHMsg, Subject: "foo", Sid: "1", Reply: "r", HeaderSize: 12, Size: 12, Msg: hdr12}}},
	{"control line at limit", Config{MaxControlLine: 10}, "SUB abcde 1234\r\nSUB abcde 1234\n",
		[]rec{{Op: OpSub, Subject: "abcde", Sid: "1234"}, {Op: OpSub, Subject: "abcde", Sid: "1234"}}},
	{"payload at limit", Config{MaxPayload: 5}, "PUB foo 5\r\nhello\r\nHPUB foo 2 5\r\nhello\r\n",
		[]rec{{Op: OpPub, Subject: "foo", Size: 5, Msg: "hello"},
			{Op: OpHPub, Subject: "foo", HeaderSize: 2, Size: 5, Msg: "hello"}}},
	{"session", Config{},
		"CONNECT {}\r\nPING\r\nSUB foo 1\r\nSUB bar q 2\r\nPUB foo 3\r\nabc\r\nHPUB bar r 12 13\r\n" +
			hdr12 + "x\r\nUNSUB 1 5\r\nPONG\r\nPUB foo 0\r\n\r\n",
		[]rec{
			{Op: OpConnect, Arg: "{}"}, {Op: OpPing},
			{Op: OpSub, Subject: "foo", Sid: "1"}, {Op: OpSub, Subject: "bar", Queue: "q", Sid: "2"},
			{Op: OpPub, Subject: "foo", Size: 3, Msg: "abc"},
			{Op: OpHPub, Subject: "bar", Reply: "r", HeaderSize: 12, Size: 13, Msg: hdr12 + "x"},
			{Op: OpUnsub, Sid: "1", Max: 5}, {Op: OpPong}, {Op: OpPub, Subject: "foo"},
		}},
}

func TestParseOps(t *testing.T) { runParseCases(t, parseCases) }

type parseCase = struct {
	name string
	cfg  Config
	in   string
	want []rec
}

// runParseCases parses each case whole, split at every offset and byte by byte.
func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			feeds := append([][][]byte{{in}}, splits(in)...)
			for _, chunks := range feeds {
				got, err, buffered := parseChunks(tc.cfg, chunks...)
				if err != nil {
					t.Fatalf("%s: unexpected error %v", describe(chunks), err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("%s:\n got %v\nwant %v", describe(chunks), got, tc.want)
				}
				if buffered != 0 {
					t.Fatalf("%s: %d bytes left buffered", describe(chunks), buffered)
				}
			}
		})
	}
}

type errorCase = struct {
	name   string
	cfg    Config
	in     string
	before int   // ops delivered before the error
	want   error // sentinel
}

var errorCases = []errorCase{
	{"unknown first byte", Config{}, "X", 0, ErrUnknownOp},
	{"leading space", Config{}, " PING\r\n", 0, ErrUnknownOp},
	{"empty line", Config{}, "\r\n", 0, ErrUnknownOp},
	{"msg from client", Config{}, "M", 0, ErrUnknownOp},
	{"hmsg from client", Config{}, "HM", 0, ErrUnknownOp},
	{"pub from server", Config{Accept: ServerOps}, "P", 0, nil}, // could still be PING/PONG
	{"pub from server 2", Config{Accept: ServerOps}, "PU", 0, ErrUnknownOp},
	{"connect from server", Config{Accept: ServerOps}, "C", 0, ErrUnknownOp},
	{"route op on client", Config{}, "RS+ foo 1\r\n", 0, ErrUnknownOp},
	{"leaf op on client", Config{}, "LMSG", 0, ErrUnknownOp},
	{"account op on client", Config{}, "A+", 0, ErrUnknownOp},
	{"pub no separator", Config{}, "PUBX", 0, ErrUnknownOp},
	{"pub newline after name", Config{}, "PUB\r\n", 0, ErrUnknownOp},
	{"err no separator", Config{Accept: ServerOps}, "-ERR\r\n", 0, ErrUnknownOp},
	{"misspelled", Config{}, "PINT\r\n", 0, ErrUnknownOp},
	{"second op bad", Config{}, "PING\r\nPOP\r\n", 1, ErrUnknownOp},
	{"payload not followed by CR", Config{}, "PUB foo 5\r\nhelloX", 0, ErrUnknownOp},
	{"payload not followed by LF", Config{}, "PUB foo 5\r\nhello\rX", 0, ErrUnknownOp},
	{"payload followed by bare LF", Config{}, "PUB foo 5\r\nhello\n", 0, ErrUnknownOp},
	{"payload too long", Config{}, "PUB foo 4\r\nhello\r\n", 0, ErrUnknownOp},
	{"pub missing size", Config{}, "PUB foo\r\n", 0, ErrInvalidArgs},
	{"pub only separators", Config{}, "PUB  \r\n", 0, ErrInvalidArgs},
	{"pub too many args", Config{}, "PUB a b c 5\r\n", 0, ErrInvalidArgs},
	{"pub bad size", Config{}, "PUB foo 5x\r\n", 0, ErrInvalidArgs},
	{"pub negative size", Config{}, "PUB foo -1\r\n", 0, ErrInvalidArgs},
	{"pub 10 digit size", Config{MaxPayload: -1}, "PUB foo 1000000000\r\n", 0, ErrInvalidArgs},
	{"pub CR is not a separator", Config{}, "PUB foo 5\r\r\n", 0, ErrInvalidArgs},
	{"hpub header larger than total", Config{}, "HPUB foo 12 11\r\n", 0, ErrInvalidArgs},
	{"hpub bad header size", Config{}, "HPUB foo x 11\r\n", 0, ErrInvalidArgs},
	{"hpub missing sizes", Config{}, "HPUB foo 11\r\n", 0, ErrInvalidArgs},
	{"hpub too many args", Config{}, "HPUB a b 1 2 3\r\n", 0, ErrInvalidArgs},
	{"sub missing sid", Config{}, "SUB foo\r\n", 0, ErrInvalidArgs},
	{"sub too many args", Config{}, "SUB a b c d\r\n", 0, ErrInvalidArgs},
	{"unsub no args", Config{}, "UNSUB \r\n", 0, ErrInvalidArgs},
	{"unsub too many args", Config{}, "UNSUB 1 2 3\r\n", 0, ErrInvalidArgs},
	{"msg missing sid", Config{Accept: ServerOps}, "MSG foo 5\r\n", 0, ErrInvalidArgs},
	{"msg bad size", Config{Accept: ServerOps}, "MSG foo 1 r x\r\n", 0, ErrInvalidArgs},
	{"hmsg header larger than total", Config{Accept: ServerOps}, "HMSG foo 1 3 2\r\n", 0, ErrInvalidArgs},
	{"hmsg too many args", Config{Accept: ServerOps}, "HMSG a 1 r 1 2 3\r\n", 0, ErrInvalidArgs},
	{"max payload default", Config{}, "PUB foo 1048577\r\n", 0, ErrMaxPayload},
	{"max payload custom", Config{MaxPayload: 4}, "PING\r\nPUB foo 5\r\n", 1, ErrMaxPayload},
	{"max payload hpub total", Config{MaxPayload: 4}, "HPUB foo 2 5\r\n", 0, ErrMaxPayload},
	{"max payload msg", Config{Accept: ServerOps, MaxPayload: 4}, "MSG foo 1 5\r\n", 0, ErrMaxPayload},
	{"args checked before payload", Config{MaxPayload: 4}, "HPUB foo 6 5\r\n", 0, ErrInvalidArgs},
	{"control line", Config{MaxControlLine: 10}, "SUB abcde 12345\r\n", 0, ErrMaxControlLine},
	{"control line bare LF", Config{MaxControlLine: 10}, "SUB abcde 12345\n", 0, ErrMaxControlLine},
	{"control line pending", Config{MaxControlLine: 10}, "SUB abcdefghijk", 0, ErrMaxControlLine},
	{"control line ping junk", Config{MaxControlLine: 10}, "PING 0123456789X", 0, ErrMaxControlLine},
	{"control line before args", Config{}, "PUB foo 1" + strings.Repeat(" ", 4096) + "\r\n", 0, ErrMaxControlLine},
	{"control line default pending", Config{}, "CONNECT {" + strings.Repeat("x", 5000), 0, ErrMaxControlLine},
	{"control line checked before args", Config{MaxControlLine: 10}, "PUB a b c d e f\r\n", 0, ErrMaxControlLine},
}

func TestParseErrors(t *testing.T) { runErrorCases(t, errorCases) }

// runErrorCases checks each case's error whole, split at every offset and
// byte by byte.
func runErrorCases(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			feeds := append([][][]byte{{in}}, splits(in)...)
			for _, chunks := range feeds {
				got, err, _ := parseChunks(tc.cfg, chunks...)
				if tc.want == nil {
					if err != nil {
						t.Fatalf("%s: unexpected error %v", describe(chunks), err)
					}
					continue
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("%s: got error %v, want %v", describe(chunks), err, tc.want)
				}
				if len(got) != tc.before {
					t.Fatalf("%s: %d ops before the error, want %d", describe(chunks), len(got), tc.before)
				}
				if !strings.HasPrefix(err.Error(), "protocol: ") {
					t.Fatalf("error %q lacks the package prefix", err)
				}
			}
		})
	}
}

// TestErrorIsEarly checks that violations are reported on the first bytes that
// prove them, without waiting for the end of the line.
func TestErrorIsEarly(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"M", ErrUnknownOp},
		{"PUBX", ErrUnknownOp},
		{"UNSUX", ErrUnknownOp},
		{"PUB foo 5\r\nhelloX", ErrUnknownOp},
		{"PUB foo 2000000\r\n", ErrMaxPayload},
		{"PUB " + strings.Repeat("a", 4097), ErrMaxControlLine},
	} {
		_, err, _ := parseChunks(Config{}, []byte(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestErrText(t *testing.T) {
	for _, tc := range []struct {
		err  error
		text string
		ok   bool
	}{
		{ErrUnknownOp, "Unknown Protocol Operation", true},
		{ErrMaxControlLine, "maximum control line exceeded", true},
		{ErrMaxPayload, "Maximum Payload Violation", true},
		{withDetail(ErrMaxPayload, "x", []byte("PUB")), "Maximum Payload Violation", true},
		{fmt.Errorf("conn: %w", withDetail(ErrUnknownOp, "", nil)), "Unknown Protocol Operation", true},
		{ErrInvalidArgs, "", false},
		{withDetail(ErrInvalidArgs, "x", nil), "", false},
		{errors.New("other"), "", false},
		{nil, "", false},
	} {
		text, ok := ErrText(tc.err)
		if text != tc.text || ok != tc.ok {
			t.Errorf("ErrText(%v) = %q, %v; want %q, %v", tc.err, text, ok, tc.text, tc.ok)
		}
	}
	if got := ErrMaxPayload.Error(); got != "protocol: Maximum Payload Violation" {
		t.Errorf("Error() = %q", got)
	}
}

func TestHandlerErrorStopsAndSticks(t *testing.T) {
	boom := errors.New("boom")
	in := []byte("PING\r\nPUB foo 1\r\nx\r\nPING\r\n")
	for _, chunks := range append([][][]byte{{in}}, splits(in)...) {
		p := NewParser(Config{})
		r := &recorder{failAt: 2, failErr: boom}
		var err error
		for _, c := range chunks {
			if err = p.Parse(c, r); err != nil {
				break
			}
		}
		if err != boom {
			t.Fatalf("%s: got %v, want the handler's error as is", describe(chunks), err)
		}
		if len(r.got) != 2 {
			t.Fatalf("%s: %d ops, want 2", describe(chunks), len(r.got))
		}
		if err := p.Parse([]byte("PING\r\n"), r); err != boom {
			t.Fatalf("after error: got %v, want the same error", err)
		}
		p.Reset()
		r.failAt = 0
		if err := p.Parse([]byte("PING\r\n"), r); err != nil || len(r.got) != 3 || p.Buffered() != 0 {
			t.Fatalf("after Reset: err %v, %d ops", err, len(r.got))
		}
	}
}

// maxSetter lowers the payload limit when it sees CONNECT, as a server does
// once it knows the user's limits.
type maxSetter struct {
	p *Parser
	recorder
}

func (m *maxSetter) HandleOp(f *Frame) error {
	if f.Op == OpConnect {
		m.p.SetMaxPayload(4)
	}
	return m.recorder.HandleOp(f)
}

func TestSetMaxPayloadFromHandler(t *testing.T) {
	in := []byte("PUB a 5\r\nhello\r\nCONNECT {}\r\nPUB a 4\r\nhell\r\nPUB a 5\r\n")
	for _, chunks := range append([][][]byte{{in}}, splits(in)...) {
		p := NewParser(Config{})
		m := &maxSetter{p: p}
		var err error
		for _, c := range chunks {
			if err = p.Parse(c, m); err != nil {
				break
			}
		}
		if !errors.Is(err, ErrMaxPayload) || len(m.got) != 3 {
			t.Fatalf("%s: got %v after %d ops, want ErrMaxPayload after 3", describe(chunks), err, len(m.got))
		}
	}
	p := NewParser(Config{MaxPayload: 4})
	p.SetMaxPayload(0) // back to the default
	if err := p.Parse([]byte("PUB a 5\r\nhello\r\n"), &recorder{}); err != nil {
		t.Fatal(err)
	}
}

func TestUnlimited(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 5<<20) // above preallocMax: the buffer grows
	in := AppendPub(nil, []byte("foo"), nil, big)
	got, err, _ := parseChunks(Config{MaxPayload: -1}, in[:100], in[100:1<<20], in[1<<20:3<<20], in[3<<20:])
	if err != nil || len(got) != 1 || got[0].Msg != string(big) {
		t.Fatalf("unlimited payload: err %v, %d ops", err, len(got))
	}
	p := NewParser(Config{MaxPayload: -1})
	if err := p.Parse([]byte("PUB a 999999999\r\nabc"), &recorder{}); err != nil {
		t.Fatal(err)
	}
	if c := cap(p.pend); c > 1<<10 {
		t.Fatalf("announcing a huge size made the parser reserve %d bytes", c)
	}
	if _, err, _ := parseChunks(Config{}, in); !errors.Is(err, ErrMaxPayload) {
		t.Fatalf("default limit: got %v", err)
	}
	long := append([]byte("SUB "+strings.Repeat("a", 100000)+" 1\r\n"), "PING\r\n"...)
	got, err, _ = parseChunks(Config{MaxControlLine: -1}, long[:50000], long[50000:])
	if err != nil || len(got) != 2 {
		t.Fatalf("unlimited control line: err %v, %d ops", err, len(got))
	}
}

func TestZeroValueParser(t *testing.T) {
	var p Parser
	r := &recorder{}
	if err := p.Parse([]byte("PUB a 1\r\nx\r\n"), r); err != nil || len(r.got) != 1 {
		t.Fatalf("err %v, ops %d", err, len(r.got))
	}
	if err := p.Parse([]byte("MSG a 1 1\r\nx\r\n"), r); !errors.Is(err, ErrUnknownOp) {
		t.Fatalf("zero value must accept ClientOps only; got %v", err)
	}
}

func TestSplitBufferRetention(t *testing.T) {
	p := NewParser(Config{})
	r := &recorder{}
	small := AppendPub(nil, []byte("a"), nil, make([]byte, 100))
	big := AppendPub(nil, []byte("a"), nil, make([]byte, 100000))
	for _, in := range [][]byte{small, big, small} {
		for _, c := range [][]byte{in[:len(in)/2], in[len(in)/2:]} {
			if err := p.Parse(c, r); err != nil {
				t.Fatal(err)
			}
		}
		if p.Buffered() != 0 || cap(p.pend) > retainMax {
			t.Fatalf("after a %d-byte split op: buffered %d, kept cap %d", len(in), p.Buffered(), cap(p.pend))
		}
	}
	if len(r.got) != 3 {
		t.Fatalf("%d ops", len(r.got))
	}
	p.Parse([]byte("PUB a 5\r\nhe"), r)
	p.Reset()
	if p.Buffered() != 0 {
		t.Fatal("Reset kept the partial op")
	}
	if err := p.Parse([]byte("llo\r\n"), r); !errors.Is(err, ErrUnknownOp) {
		t.Fatalf("after Reset the stale payload must not be resumed; got %v", err)
	}
}

func TestFrameAccessors(t *testing.T) {
	var got *Frame
	h := handlerFunc(func(f *Frame) error {
		if f.Op != OpHPub {
			return nil
		}
		if string(f.Header()) != hdr12 || string(f.Payload()) != "hi" {
			return fmt.Errorf("header %q payload %q", f.Header(), f.Payload())
		}
		// Appending to a returned slice must not clobber the buffer.
		_ = append(f.Subject, "XXXX"...)
		_ = append(f.Header(), "YYYY"...)
		got = f.Clone()
		return nil
	})
	in := []byte("HPUB foo r 12 14\r\n" + hdr12 + "hi\r\nPING\r\n")
	orig := append([]byte(nil), in...)
	if err := NewParser(Config{}).Parse(in, h); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in, orig) {
		t.Fatalf("buffer modified: %q", in)
	}
	for i := range in {
		in[i] = 0
	}
	want := rec{Op: OpHPub, Subject: "foo", Reply: "r", HeaderSize: 12, Size: 14, Msg: hdr12 + "hi"}
	if toRec(got) != want || got.Queue != nil || got.Arg != nil {
		t.Fatalf("clone %v", toRec(got))
	}
}

type handlerFunc func(f *Frame) error

func (h handlerFunc) HandleOp(f *Frame) error { return h(f) }

func TestOpTable(t *testing.T) {
	for o := Op(1); o < numOps; o++ {
		name := opTable[o].name
		if name == "" || name != strings.ToUpper(name) || o.String() != name {
			t.Errorf("op %d: bad name %q", o, name)
		}
		if len(name) > maxNameLen {
			t.Errorf("op %s longer than maxNameLen", name)
		}
		if !(ClientOps | ServerOps | RouteOps | LeafOps).Has(o) {
			t.Errorf("op %s in no set", name)
		}
	}
	if numOps > 32 {
		t.Errorf("too many ops for OpSet")
	}
	if Op(0).String() != "Op(0)" || Op(200).String() != "Op(200)" {
		t.Errorf("invalid op names: %s %s", Op(0), Op(200))
	}
	if ClientOps.Has(OpMsg) || ClientOps.Has(OpHMsg) || !ClientOps.Has(OpPub) || ServerOps.Has(OpPub) {
		t.Errorf("bad op sets")
	}
	if OpSet(0xFFFFFFFF).Has(Op(40)) {
		t.Errorf("Has out of range")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{
		"0": 0, "7": 7, "123": 123, "999999999": 999999999, "000000001": 1,
		"": -1, "1000000000": -1, "-1": -1, "+1": -1, "1a": -1, " 1": -1,
	} {
		if got := parseSize([]byte(in)); got != want {
			t.Errorf("parseSize(%q) = %d, want %d", in, got, want)
		}
	}
}
