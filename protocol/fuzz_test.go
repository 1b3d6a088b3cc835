package protocol

import (
	"errors"
	"reflect"
	"testing"
)

// fuzzConfigs are chosen by the fuzzer; small limits make the limit paths
// reachable from short inputs.
var fuzzConfigs = []Config{
	{},
	{Accept: ServerOps},
	{Accept: allOps},
	{Accept: allOps, MaxControlLine: 12, MaxPayload: 8},
	{Accept: allOps, MaxControlLine: -1, MaxPayload: -1},
	{Accept: allOps, MaxControlLine: 1},
	routeCfg,
	pinnedCfg,
	leafCfg,
	{Accept: RouteOps, MaxControlLine: 16, MaxPayload: 8},
	{Accept: LeafOps, NoAccount: true, MaxControlLine: 12, MaxPayload: 8},
}

// fuzzMode returns the fuzzConfigs index of the config that best matches c:
// the same one, or else one accepting the same ops with the same NoAccount.
func fuzzMode(c Config) uint8 {
	best := 0
	for i, fc := range fuzzConfigs {
		if fc == c {
			return uint8(i)
		}
		if fc.Accept == c.Accept && fc.NoAccount == c.NoAccount && best == 0 {
			best = i
		}
	}
	return uint8(best)
}

// errClass maps an error to the sentinel it wraps ("" for nil).
func errClass(err error) string {
	for _, s := range []error{ErrUnknownOp, ErrMaxControlLine, ErrMaxPayload, ErrInvalidArgs} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	if err != nil {
		return "unexpected: " + err.Error()
	}
	return ""
}

func FuzzParser(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in), uint16(len(tc.in)/2), uint8(2))
	}
	for _, tc := range errorCases {
		f.Add([]byte(tc.in), uint16(len(tc.in)/3), uint8(3))
	}
	for _, tc := range encodeCases {
		f.Add([]byte(tc.wire), uint16(1), uint8(0))
	}
	for _, tc := range remoteParseCases {
		f.Add([]byte(tc.in), uint16(len(tc.in)/2), fuzzMode(tc.cfg))
	}
	for _, tc := range remoteErrorCases {
		f.Add([]byte(tc.in), uint16(len(tc.in)/3), fuzzMode(tc.cfg))
	}
	for _, tc := range remoteEncodeCases {
		f.Add([]byte(tc.wire), uint16(3), fuzzMode(tc.cfg))
	}
	f.Add([]byte("PUB a 9\r\n123456789\r\nSUB a 1\r\n"), uint16(12), uint8(3))
	f.Add([]byte("SUB abcdefghijkl 1\r\n"), uint16(5), uint8(3))

	f.Fuzz(func(t *testing.T, in []byte, at uint16, mode uint8) {
		cfg := fuzzConfigs[int(mode)%len(fuzzConfigs)]
		whole, errW, bufW := parseChunks(cfg, in)
		cut := 0
		if len(in) > 0 {
			cut = int(at) % (len(in) + 1)
		}
		split, errS, bufS := parseChunks(cfg, in[:cut], in[cut:])
		check := func(how string, got []rec, err error, buffered int) {
			t.Helper()
			if c := errClass(err); c != errClass(errW) || c != "" && c[0] == 'u' {
				t.Fatalf("%s: error %v, whole input: %v", how, err, errW)
			}
			if !reflect.DeepEqual(got, whole) {
				t.Fatalf("%s: ops differ\n got %v\nwhole %v", how, got, whole)
			}
			if err == nil && buffered != bufW {
				t.Fatalf("%s: %d bytes buffered, whole input: %d", how, buffered, bufW)
			}
		}
		check("whole", whole, errW, bufW)
		check("split", split, errS, bufS)
		if len(in) <= 256 {
			var bytewise [][]byte
			for i := range in {
				bytewise = append(bytewise, in[i:i+1])
			}
			got, err, buffered := parseChunks(cfg, bytewise...)
			check("bytewise", got, err, buffered)
		}
		// Whatever was accepted must re-encode to an equivalent op.
		for _, r := range whole {
			reencodeCheck(t, cfg, r)
		}
	})
}

// reencodeCheck encodes r canonically and checks that it parses back to r.
func reencodeCheck(t *testing.T, cfg Config, r rec) {
	t.Helper()
	var wire []byte
	sub, rep, q, sid := b(r.Subject), b(r.Reply), b(r.Queue), b(r.Sid)
	acc, origin, ql := b(r.Account), b(r.Origin), b(r.QueueList)
	msg := []byte(r.Msg)
	switch r.Op {
	case OpRSub:
		wire = AppendRSub(nil, acc, sub, q, r.Weight)
	case OpRUnsub:
		wire = AppendRUnsub(nil, acc, sub, q)
	case OpRMsg:
		wire = withPayload(AppendRMsgHeader(nil, acc, sub, rep, ql, r.Size), r.Msg)
	case OpRHMsg:
		wire = withPayload(AppendRHMsgHeader(nil, acc, sub, rep, ql, r.HeaderSize, r.Size), r.Msg)
	case OpRLSub:
		wire = AppendRLSub(nil, origin, acc, sub, q, r.Weight)
	case OpRLUnsub:
		wire = AppendRLUnsub(nil, origin, acc, sub, q)
	case OpRLMsg:
		wire = withPayload(AppendRLMsgHeader(nil, origin, acc, sub, rep, ql, r.HeaderSize, r.Size), r.Msg)
	case OpLSub:
		wire = AppendLSub(nil, sub, q, r.Weight)
	case OpLUnsub:
		wire = AppendLUnsub(nil, sub, q)
	case OpLMsg:
		wire = withPayload(AppendLMsgHeader(nil, sub, rep, ql, r.Size), r.Msg)
	case OpLHMsg:
		wire = withPayload(AppendLHMsgHeader(nil, sub, rep, ql, r.HeaderSize, r.Size), r.Msg)
	case OpPub:
		wire = AppendPub(nil, sub, rep, msg)
	case OpHPub:
		wire = AppendHPub(nil, sub, rep, msg[:r.HeaderSize], msg[r.HeaderSize:])
	case OpMsg:
		wire = AppendMsg(nil, sub, sid, rep, msg)
	case OpHMsg:
		wire = AppendHMsg(nil, sub, sid, rep, msg[:r.HeaderSize], msg[r.HeaderSize:])
	case OpSub:
		wire = AppendSub(nil, sub, q, sid)
	case OpUnsub:
		wire = AppendUnsub(nil, sid, r.Max)
	case OpPing:
		wire = AppendPing(nil)
	case OpPong:
		wire = AppendPong(nil)
	case OpOK:
		wire = AppendOK(nil)
	default:
		return // INFO/CONNECT/-ERR arguments are free text
	}
	cfg.MaxControlLine, cfg.MaxPayload = -1, -1
	got, err, _ := parseChunks(cfg, wire)
	if err != nil || len(got) != 1 || got[0] != r {
		t.Fatalf("re-encoded %q: got %v, %v; want %v", wire, got, err, r)
	}
}
