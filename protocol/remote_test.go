package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Configurations of a server's route and leaf parsers.
var (
	routeCfg  = Config{Accept: RouteOps, MaxControlLine: 16 * DefaultMaxControlLine, MaxPayload: -1}
	pinnedCfg = Config{Accept: RouteOps, MaxControlLine: 16 * DefaultMaxControlLine, MaxPayload: -1, NoAccount: true}
	leafCfg   = Config{Accept: LeafOps, MaxControlLine: 16 * DefaultMaxControlLine}
)

// manyQueues is a queue list longer than the client control line limit.
var manyQueues = strings.TrimSpace(strings.Repeat("queue-group-with-a-long-name ", 150))

var remoteParseCases = []parseCase{
	// Route: RS+ and RS-.
	{"rs+", routeCfg, "RS+ $G foo.bar\r\n", []rec{{Op: OpRSub, Account: "$G", Subject: "foo.bar"}}},
	{"rs+ queue weight", routeCfg, "RS+ $G foo q1 2\r\n",
		[]rec{{Op: OpRSub, Account: "$G", Subject: "foo", Queue: "q1", Weight: 2}}},
	{"rs+ bad weights count as 1", routeCfg,
		"RS+ A foo q x\r\nRS+ A foo q 0\r\nRS+ A foo q 1234567890\r\nRS+ A foo q -5\r\n",
		[]rec{{Op: OpRSub, Account: "A", Subject: "foo", Queue: "q", Weight: 1},
			{Op: OpRSub, Account: "A", Subject: "foo", Queue: "q", Weight: 1},
			{Op: OpRSub, Account: "A", Subject: "foo", Queue: "q", Weight: 1},
			{Op: OpRSub, Account: "A", Subject: "foo", Queue: "q", Weight: 1}}},
	{"rs+ max weight", routeCfg, "RS+ A foo q 999999999\r\n",
		[]rec{{Op: OpRSub, Account: "A", Subject: "foo", Queue: "q", Weight: 999999999}}},
	{"rs+ separators and case", routeCfg, "rs+\tA \t foo\rq\t3 \r\n",
		[]rec{{Op: OpRSub, Account: "A", Subject: "foo", Queue: "q", Weight: 3}}},
	{"rs-", routeCfg, "RS- $G foo\r\nrs- $G foo q1\n",
		[]rec{{Op: OpRUnsub, Account: "$G", Subject: "foo"},
			{Op: OpRUnsub, Account: "$G", Subject: "foo", Queue: "q1"}}},

	// Route: RMSG.
	{"rmsg", routeCfg, "RMSG $G foo 5\r\nhello\r\n",
		[]rec{{Op: OpRMsg, Account: "$G", Subject: "foo", Size: 5, Msg: "hello"}}},
	{"rmsg reply", routeCfg, "RMSG $G foo _INBOX.x 5\r\nhello\r\n",
		[]rec{{Op: OpRMsg, Account: "$G", Subject: "foo", Reply: "_INBOX.x", Size: 5, Msg: "hello"}}},
	{"rmsg queues", routeCfg, "RMSG $G foo | q1 q2 5\r\nhello\r\n",
		[]rec{{Op: OpRMsg, Account: "$G", Subject: "foo", QueueList: "q1 q2", Queues: "q1 q2", Size: 5, Msg: "hello"}}},
	{"rmsg reply queue", routeCfg, "rmsg $G foo + r q1 5\nhello\r\n",
		[]rec{{Op: OpRMsg, Account: "$G", Subject: "foo", Reply: "r", QueueList: "q1", Queues: "q1", Size: 5, Msg: "hello"}}},
	{"rmsg plus without queues", routeCfg, "RMSG $G foo + r 0\r\n\r\n",
		[]rec{{Op: OpRMsg, Account: "$G", Subject: "foo", Reply: "r"}}},
	{"rmsg lone bar is a reply", routeCfg, "RMSG $G foo | 0\r\n\r\n",
		[]rec{{Op: OpRMsg, Account: "$G", Subject: "foo", Reply: "|"}}},
	{"rmsg many queues odd separators", routeCfg, "RMSG $G foo |  a\tb  c\rd e f g h i j \t3\r\nabc\r\n",
		[]rec{{Op: OpRMsg, Account: "$G", Subject: "foo", QueueList: "a\tb  c\rd e f g h i j",
			Queues: "a b c d e f g h i j", Size: 3, Msg: "abc"}}},
	{"rmsg queue list above client limit", routeCfg, "RMSG $G foo + r " + manyQueues + " 1\r\nx\r\n",
		[]rec{{Op: OpRMsg, Account: "$G", Subject: "foo", Reply: "r", QueueList: manyQueues, Queues: manyQueues,
			Size: 1, Msg: "x"}}},

	// Route: HMSG.
	{"route hmsg", routeCfg, "HMSG $G foo 12 14\r\n" + hdr12 + "hi\r\n",
		[]rec{{Op: OpRHMsg, Account: "$G", Subject: "foo", HeaderSize: 12, Size: 14, Msg: hdr12 + "hi"}}},
	{"route hmsg reply", routeCfg, "HMSG $G foo r 12 12\r\n" + hdr12 + "\r\n",
		[]rec{{Op: OpRHMsg, Account: "$G", Subject: "foo", Reply: "r", HeaderSize: 12, Size: 12, Msg: hdr12}}},
	{"route hmsg reply queues", routeCfg, "HMSG $G foo + r q1 q2 12 12\r\n" + hdr12 + "\r\n",
		[]rec{{Op: OpRHMsg, Account: "$G", Subject: "foo", Reply: "r", QueueList: "q1 q2", Queues: "q1 q2",
			HeaderSize: 12, Size: 12, Msg: hdr12}}},
	{"route hmsg queues", routeCfg, "HMSG $G foo | q1 0 2\r\nhi\r\n",
		[]rec{{Op: OpRHMsg, Account: "$G", Subject: "foo", QueueList: "q1", Queues: "q1", Size: 2, Msg: "hi"}}},

	// Route: leaf-origin LS+, LS-, LMSG.
	{"route ls+", routeCfg, "LS+ C2 $G foo\r\nLS+ _ $G foo q 3\r\n",
		[]rec{{Op: OpRLSub, Origin: "C2", Account: "$G", Subject: "foo"},
			{Op: OpRLSub, Origin: "_", Account: "$G", Subject: "foo", Queue: "q", Weight: 3}}},
	{"route ls-", routeCfg, "LS- C2 $G foo\r\nls- C2 $G foo q\r\n",
		[]rec{{Op: OpRLUnsub, Origin: "C2", Account: "$G", Subject: "foo"},
			{Op: OpRLUnsub, Origin: "C2", Account: "$G", Subject: "foo", Queue: "q"}}},
	{"route lmsg", routeCfg, "LMSG C2 $G foo 0 5\r\nhello\r\n",
		[]rec{{Op: OpRLMsg, Origin: "C2", Account: "$G", Subject: "foo", Size: 5, Msg: "hello"}}},
	{"route lmsg reply header", routeCfg, "LMSG C2 $G foo r 12 14\r\n" + hdr12 + "hi\r\n",
		[]rec{{Op: OpRLMsg, Origin: "C2", Account: "$G", Subject: "foo", Reply: "r", HeaderSize: 12, Size: 14,
			Msg: hdr12 + "hi"}}},
	{"route lmsg reply queues", routeCfg, "LMSG C2 $G foo + r q1 q2 0 2\r\nhi\r\n",
		[]rec{{Op: OpRLMsg, Origin: "C2", Account: "$G", Subject: "foo", Reply: "r", QueueList: "q1 q2",
			Queues: "q1 q2", Size: 2, Msg: "hi"}}},
	{"route lmsg queues", routeCfg, "LMSG C2 $G foo | q1 0 2\r\nhi\r\n",
		[]rec{{Op: OpRLMsg, Origin: "C2", Account: "$G", Subject: "foo", QueueList: "q1", Queues: "q1",
			Size: 2, Msg: "hi"}}},
	{"route lmsg plus without queues", routeCfg, "LMSG C2 $G foo + r 0 0\r\n\r\n",
		[]rec{{Op: OpRLMsg, Origin: "C2", Account: "$G", Subject: "foo", Reply: "r"}}},

	// Route: the other ops.
	{"route session", routeCfg,
		"CONNECT {\"name\":\"N1\",\"cluster\":\"C1\"}\r\nINFO {\"server_id\":\"N1\"} \r\nPING\r\nPONG\r\n+OK\r\n" +
			"RS+ $G foo\r\nRMSG $G foo 1\r\nx\r\n-ERR 'Stale Connection'\r\n",
		[]rec{{Op: OpConnect, Arg: `{"name":"N1","cluster":"C1"}`}, {Op: OpInfo, Arg: `{"server_id":"N1"}`},
			{Op: OpPing}, {Op: OpPong}, {Op: OpOK}, {Op: OpRSub, Account: "$G", Subject: "foo"},
			{Op: OpRMsg, Account: "$G", Subject: "foo", Size: 1, Msg: "x"}, {Op: OpErr, Arg: "Stale Connection"}}},

	// Pinned-account route.
	{"pinned", pinnedCfg,
		"RS+ foo\r\nRS+ foo q 2\r\nRS- foo\r\nRS- foo q\r\nRMSG foo 5\r\nhello\r\nRMSG foo r 0\r\n\r\n" +
			"RMSG foo | q 0\r\n\r\nHMSG foo + r q 12 12\r\n" + hdr12 + "\r\nLS+ C2 foo\r\nLS- C2 foo q\r\n" +
			"LMSG C2 foo + r q1 0 0\r\n\r\nLMSG _ foo 0 0\r\n\r\n",
		[]rec{{Op: OpRSub, Subject: "foo"}, {Op: OpRSub, Subject: "foo", Queue: "q", Weight: 2},
			{Op: OpRUnsub, Subject: "foo"}, {Op: OpRUnsub, Subject: "foo", Queue: "q"},
			{Op: OpRMsg, Subject: "foo", Size: 5, Msg: "hello"}, {Op: OpRMsg, Subject: "foo", Reply: "r"},
			{Op: OpRMsg, Subject: "foo", QueueList: "q", Queues: "q"},
			{Op: OpRHMsg, Subject: "foo", Reply: "r", QueueList: "q", Queues: "q", HeaderSize: 12, Size: 12, Msg: hdr12},
			{Op: OpRLSub, Origin: "C2", Subject: "foo"}, {Op: OpRLUnsub, Origin: "C2", Subject: "foo", Queue: "q"},
			{Op: OpRLMsg, Origin: "C2", Subject: "foo", Reply: "r", QueueList: "q1", Queues: "q1"},
			{Op: OpRLMsg, Origin: "_", Subject: "foo"}}},

	// Leaf connection.
	{"leaf ls+", leafCfg, "LS+ foo\r\nLS+ foo q 3\r\nls+ foo q bad\n",
		[]rec{{Op: OpLSub, Subject: "foo"}, {Op: OpLSub, Subject: "foo", Queue: "q", Weight: 3},
			{Op: OpLSub, Subject: "foo", Queue: "q", Weight: 1}}},
	{"leaf ls-", leafCfg, "LS- foo\r\nLS- foo q\r\n",
		[]rec{{Op: OpLUnsub, Subject: "foo"}, {Op: OpLUnsub, Subject: "foo", Queue: "q"}}},
	{"leaf lmsg", leafCfg, "LMSG foo 5\r\nhello\r\n",
		[]rec{{Op: OpLMsg, Subject: "foo", Size: 5, Msg: "hello"}}},
	{"leaf lmsg reply", leafCfg, "LMSG foo r 5\r\nhello\r\n",
		[]rec{{Op: OpLMsg, Subject: "foo", Reply: "r", Size: 5, Msg: "hello"}}},
	{"leaf lmsg reply queues", leafCfg, "LMSG foo + r q1 q2 5\r\nhello\r\n",
		[]rec{{Op: OpLMsg, Subject: "foo", Reply: "r", QueueList: "q1 q2", Queues: "q1 q2", Size: 5, Msg: "hello"}}},
	{"leaf lmsg queues", leafCfg, "lmsg\tfoo\t|\tq1\t5\r\nhello\r\n",
		[]rec{{Op: OpLMsg, Subject: "foo", QueueList: "q1", Queues: "q1", Size: 5, Msg: "hello"}}},
	{"leaf hmsg", leafCfg, "HMSG foo 12 14\r\n" + hdr12 + "hi\r\n",
		[]rec{{Op: OpLHMsg, Subject: "foo", HeaderSize: 12, Size: 14, Msg: hdr12 + "hi"}}},
	{"leaf hmsg reply", leafCfg, "HMSG foo r 12 12\r\n" + hdr12 + "\r\n",
		[]rec{{Op: OpLHMsg, Subject: "foo", Reply: "r", HeaderSize: 12, Size: 12, Msg: hdr12}}},
	{"leaf hmsg reply queue", leafCfg, "HMSG foo + r q 12 12\r\n" + hdr12 + "\r\n",
		[]rec{{Op: OpLHMsg, Subject: "foo", Reply: "r", QueueList: "q", Queues: "q", HeaderSize: 12, Size: 12, Msg: hdr12}}},
	{"leaf hmsg queues", leafCfg, "HMSG foo | q1 q2 12 12\r\n" + hdr12 + "\r\n",
		[]rec{{Op: OpLHMsg, Subject: "foo", QueueList: "q1 q2", Queues: "q1 q2", HeaderSize: 12, Size: 12, Msg: hdr12}}},
	{"leaf payload at limit", Config{Accept: LeafOps, MaxPayload: 5}, "LMSG foo 5\r\nhello\r\n",
		[]rec{{Op: OpLMsg, Subject: "foo", Size: 5, Msg: "hello"}}},
	{"leaf session", leafCfg,
		"INFO {\"connect_info\":true}\r\nCONNECT {\"name\":\"L\"}\r\nPING\r\nPONG\r\n+OK\r\nLS+ $LDS.x\r\n" +
			"-ERR 'Loop detected'\r\n",
		[]rec{{Op: OpInfo, Arg: `{"connect_info":true}`}, {Op: OpConnect, Arg: `{"name":"L"}`}, {Op: OpPing},
			{Op: OpPong}, {Op: OpOK}, {Op: OpLSub, Subject: "$LDS.x"}, {Op: OpErr, Arg: "Loop detected"}}},
}

func TestParseRemoteOps(t *testing.T) { runParseCases(t, remoteParseCases) }

var remoteErrorCases = []errorCase{
	// Ops of the wrong connection kind.
	{"route op on leaf", leafCfg, "R", 0, ErrUnknownOp},
	{"route op on client", Config{}, "RMSG $G foo 1\r\n", 0, ErrUnknownOp},
	{"leaf op on route", routeCfg, "LSX", 0, ErrUnknownOp},
	{"client pub on route", routeCfg, "PU", 0, ErrUnknownOp},
	{"client sub on route", routeCfg, "S", 0, ErrUnknownOp},
	{"client unsub on leaf", leafCfg, "U", 0, ErrUnknownOp},
	{"msg on route", routeCfg, "M", 0, ErrUnknownOp},
	{"account sub on route", routeCfg, "A+ $G\r\n", 0, ErrUnknownOp},
	{"rs+ no separator", routeCfg, "RS+\r\n", 0, ErrUnknownOp},
	{"rs* unknown", routeCfg, "RS*", 0, ErrUnknownOp},

	// RS+ / RS-.
	{"rs+ missing subject", routeCfg, "RS+ $G\r\n", 0, ErrInvalidArgs},
	{"rs+ no args", routeCfg, "RS+ \r\n", 0, ErrInvalidArgs},
	{"rs+ queue without weight", routeCfg, "RS+ $G foo q\r\n", 0, ErrInvalidArgs},
	{"rs+ too many args", routeCfg, "RS+ $G foo q 1 x\r\n", 0, ErrInvalidArgs},
	{"rs+ far too many args", routeCfg, "RS+ a b c d e f g h i\r\n", 0, ErrInvalidArgs},
	{"pinned rs+ queue without weight", pinnedCfg, "RS+ foo q\r\n", 0, ErrInvalidArgs},
	{"pinned rs+ with account", pinnedCfg, "RS+ $G foo\r\n", 0, ErrInvalidArgs},
	{"rs- missing subject", routeCfg, "RS- $G\r\n", 0, ErrInvalidArgs},
	{"rs- too many args", routeCfg, "PING\r\nRS- $G foo q x\r\n", 1, ErrInvalidArgs},

	// Route LS+ / LS- always carry an origin.
	{"route ls+ without origin", routeCfg, "LS+ $G foo\r\n", 0, ErrInvalidArgs},
	{"route ls+ queue without weight", routeCfg, "LS+ C $G foo q\r\n", 0, ErrInvalidArgs},
	{"route ls- without origin", routeCfg, "LS- $G\r\n", 0, ErrInvalidArgs},
	{"route ls- too many args", routeCfg, "LS- C $G foo q x\r\n", 0, ErrInvalidArgs},

	// RMSG.
	{"rmsg missing size", routeCfg, "RMSG $G foo\r\n", 0, ErrInvalidArgs},
	{"rmsg bad size", routeCfg, "RMSG $G foo x\r\n", 0, ErrInvalidArgs},
	{"rmsg reply bad size", routeCfg, "RMSG $G foo r 5x\r\n", 0, ErrInvalidArgs},
	{"rmsg bad reply indicator", routeCfg, "RMSG $G foo r q 5\r\n", 0, ErrInvalidArgs},
	{"rmsg long reply indicator", routeCfg, "RMSG $G foo ++ r q 5\r\n", 0, ErrInvalidArgs},
	{"rmsg queues bad size", routeCfg, "RMSG $G foo | q x\r\n", 0, ErrInvalidArgs},
	{"rmsg many queues bad size", routeCfg, "RMSG $G foo | a b c d e f x\r\n", 0, ErrInvalidArgs},
	{"rmsg many queues bad indicator", routeCfg, "RMSG $G foo - a b c d e f 1\r\n", 0, ErrInvalidArgs},
	{"rmsg 10 digit size", routeCfg, "RMSG $G foo 1000000000\r\n", 0, ErrInvalidArgs},
	{"rmsg payload not followed by CRLF", routeCfg, "RMSG $G foo 1\r\nxy", 0, ErrUnknownOp},
	{"rmsg default payload limit", Config{Accept: RouteOps}, "RMSG $G foo 1048577\r\n", 0, ErrMaxPayload},
	{"rmsg client control line limit", Config{Accept: RouteOps, MaxPayload: -1},
		"RMSG $G foo | " + manyQueues + " 1\r\n", 0, ErrMaxControlLine},

	// Route HMSG and LMSG.
	{"route hmsg missing sizes", routeCfg, "HMSG $G foo 2\r\n", 0, ErrInvalidArgs},
	{"route hmsg header larger than total", routeCfg, "HMSG $G foo 3 2\r\n", 0, ErrInvalidArgs},
	{"route hmsg queues bad header size", routeCfg, "HMSG $G foo | q x 5\r\n", 0, ErrInvalidArgs},
	{"route hmsg queues header larger", routeCfg, "HMSG $G foo + r q 6 5\r\n", 0, ErrInvalidArgs},
	{"route hmsg client form", routeCfg, "HMSG foo 1 12\r\n", 0, ErrInvalidArgs},
	{"route lmsg missing header size", routeCfg, "LMSG C $G foo 5\r\n", 0, ErrInvalidArgs},
	{"route lmsg bad indicator", routeCfg, "LMSG C $G foo x y 0 5\r\n", 0, ErrInvalidArgs},
	{"route lmsg header larger", routeCfg, "LMSG C $G foo | q 6 5\r\n", 0, ErrInvalidArgs},

	// Leaf.
	{"leaf ls+ no args", leafCfg, "LS+ \r\n", 0, ErrInvalidArgs},
	{"leaf ls+ queue without weight", leafCfg, "LS+ foo q\r\n", 0, ErrInvalidArgs},
	{"leaf ls+ too many args", leafCfg, "LS+ foo q 1 x\r\n", 0, ErrInvalidArgs},
	{"leaf ls- too many args", leafCfg, "LS- foo q x\r\n", 0, ErrInvalidArgs},
	{"leaf lmsg missing size", leafCfg, "LMSG foo\r\n", 0, ErrInvalidArgs},
	{"leaf lmsg bad size", leafCfg, "LMSG foo r x\r\n", 0, ErrInvalidArgs},
	{"leaf lmsg bad indicator", leafCfg, "LMSG foo x y 5\r\n", 0, ErrInvalidArgs},
	{"leaf lmsg queues bad size", leafCfg, "LMSG foo + r q x\r\n", 0, ErrInvalidArgs},
	{"leaf hmsg missing size", leafCfg, "HMSG foo 5\r\n", 0, ErrInvalidArgs},
	{"leaf hmsg header larger", leafCfg, "HMSG foo 6 5\r\n", 0, ErrInvalidArgs},
	{"leaf hmsg client form too many", leafCfg, "HMSG foo 1 r 12 14 x\r\n", 0, ErrInvalidArgs},
	{"leaf max payload lmsg", Config{Accept: LeafOps, MaxPayload: 4}, "LMSG foo 5\r\n", 0, ErrMaxPayload},
	{"leaf max payload hmsg total", Config{Accept: LeafOps, MaxPayload: 4}, "HMSG foo | q 2 5\r\n", 0, ErrMaxPayload},
	{"leaf control line", Config{Accept: LeafOps, MaxControlLine: 10}, "LS+ abcdefghijk", 0, ErrMaxControlLine},
}

func TestParseRemoteErrors(t *testing.T) { runErrorCases(t, remoteErrorCases) }

// TestSameNameOps checks that Config.Accept decides which of the ops that
// share a wire name is parsed.
func TestSameNameOps(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		in   string
		want rec
	}{
		{Config{Accept: ServerOps}, "HMSG a b 2 3\r\nxyz\r\n",
			rec{Op: OpHMsg, Subject: "a", Sid: "b", HeaderSize: 2, Size: 3, Msg: "xyz"}},
		{routeCfg, "HMSG a b 2 3\r\nxyz\r\n",
			rec{Op: OpRHMsg, Account: "a", Subject: "b", HeaderSize: 2, Size: 3, Msg: "xyz"}},
		{pinnedCfg, "HMSG a b 2 3\r\nxyz\r\n",
			rec{Op: OpRHMsg, Subject: "a", Reply: "b", HeaderSize: 2, Size: 3, Msg: "xyz"}},
		{leafCfg, "HMSG a b 2 3\r\nxyz\r\n",
			rec{Op: OpLHMsg, Subject: "a", Reply: "b", HeaderSize: 2, Size: 3, Msg: "xyz"}},
		{routeCfg, "LS+ a b c\r\n", rec{Op: OpRLSub, Origin: "a", Account: "b", Subject: "c"}},
		{leafCfg, "LS+ a b c\r\n", rec{Op: OpLSub, Subject: "a", Queue: "b", Weight: 1}},
		{routeCfg, "LS- a b c\r\n", rec{Op: OpRLUnsub, Origin: "a", Account: "b", Subject: "c"}},
		{pinnedCfg, "LS- a b c\r\n", rec{Op: OpRLUnsub, Origin: "a", Subject: "b", Queue: "c"}},
		{routeCfg, "LMSG a b c 0 1\r\nx\r\n", rec{Op: OpRLMsg, Origin: "a", Account: "b", Subject: "c", Size: 1, Msg: "x"}},
		{leafCfg, "LMSG a b 1\r\nx\r\n", rec{Op: OpLMsg, Subject: "a", Reply: "b", Size: 1, Msg: "x"}},
	} {
		got, err, _ := parseChunks(tc.cfg, []byte(tc.in))
		if err != nil || len(got) != 1 || got[0] != tc.want {
			t.Errorf("%q with accept %#x noAccount %v: got %v, %v; want %v", tc.in, tc.cfg.Accept, tc.cfg.NoAccount,
				got, err, tc.want)
		}
	}
	// The route LMSG line is not a valid leaf LMSG: "b" is no reply indicator.
	if _, err, _ := parseChunks(leafCfg, []byte("LMSG a b c 0 1\r\nx\r\n")); !errors.Is(err, ErrInvalidArgs) {
		t.Errorf("route LMSG on a leaf: got %v, want ErrInvalidArgs", err)
	}
	// A set holding two ops of the same name matches the lowest-numbered one.
	got, err, _ := parseChunks(Config{Accept: ServerOps | RouteOps}, []byte("HMSG a b 2 3\r\nxyz\r\n"))
	if err != nil || len(got) != 1 || got[0].Op != OpHMsg {
		t.Errorf("mixed set: got %v, %v", got, err)
	}
}

// TestOpSets checks each set against what the official server accepts on
// that connection kind (see the package documentation).
func TestOpSets(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  OpSet
		want []Op
	}{
		{"route", RouteOps, []Op{OpInfo, OpConnect, OpPing, OpPong, OpOK, OpErr, OpRSub, OpRUnsub, OpRMsg, OpRHMsg,
			OpRLSub, OpRLUnsub, OpRLMsg}},
		{"leaf", LeafOps, []Op{OpInfo, OpConnect, OpPing, OpPong, OpOK, OpErr, OpLSub, OpLUnsub, OpLMsg, OpLHMsg}},
	} {
		var want OpSet
		for _, o := range tc.want {
			want |= 1 << o
		}
		if tc.set != want {
			t.Errorf("%s: set %#x, want %#x", tc.name, tc.set, want)
		}
	}
	for _, set := range []OpSet{ClientOps, ServerOps, RouteOps, LeafOps} {
		seen := map[string]Op{}
		for o := Op(1); o < numOps; o++ {
			if !set.Has(o) {
				continue
			}
			if prev, ok := seen[o.String()]; ok {
				t.Errorf("set %#x holds ops %d and %d, both named %s", set, prev, o, o)
			}
			seen[o.String()] = o
		}
	}
}

func TestNextQueue(t *testing.T) {
	for _, tc := range []struct {
		list string
		want []string
	}{
		{"", nil},
		{" \t\r", nil},
		{"q", []string{"q"}},
		{"q1 q2", []string{"q1", "q2"}},
		{"\tq1 \r q2\t\tq3 ", []string{"q1", "q2", "q3"}},
	} {
		var got []string
		list := []byte(tc.list)
		for q, rest := NextQueue(list); q != nil; q, rest = NextQueue(rest) {
			if cap(q) != len(q) {
				t.Errorf("%q: queue %q has capacity past its end", tc.list, q)
			}
			got = append(got, string(q))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("NextQueue(%q): %q, want %q", tc.list, got, tc.want)
		}
	}
	if q, rest := NextQueue(nil); q != nil || rest != nil {
		t.Errorf("NextQueue(nil) = %q, %q", q, rest)
	}
}

func TestCloneRemoteFrame(t *testing.T) {
	var got *Frame
	h := handlerFunc(func(f *Frame) error {
		got = f.Clone()
		return nil
	})
	in := []byte("LMSG C2 $G foo + r q1 q2 12 14\r\n" + hdr12 + "hi\r\n")
	if err := NewParser(routeCfg).Parse(in, h); err != nil {
		t.Fatal(err)
	}
	want := toRec(got)
	for i := range in {
		in[i] = 0
	}
	if toRec(got) != want || want.Origin != "C2" || want.Account != "$G" || want.QueueList != "q1 q2" {
		t.Fatalf("clone %v, want %v", toRec(got), want)
	}
	if cap(got.Origin) != len(got.Origin) || cap(got.QueueList) != len(got.QueueList) {
		t.Fatal("cloned slices have capacity past their end")
	}
}

func TestLastFields(t *testing.T) {
	for _, tc := range []struct {
		s          string
		k          int
		t0, t1     string
		beforeText string
	}{
		{"a b c", 1, "", "c", "a b"},
		{"a b c", 2, "b", "c", "a"},
		{"a\tb \r c \t", 2, "b", "c", "a"},
		{"ab  12 345", 2, "12", "345", "ab"},
		{"5", 1, "", "5", ""},
	} {
		sp, before := lastFields([]byte(tc.s), tc.k)
		t0 := tc.s[sp[0].start:sp[0].end]
		t1 := tc.s[sp[1].start:sp[1].end]
		if t0 != tc.t0 || t1 != tc.t1 || tc.s[:before] != tc.beforeText {
			t.Errorf("lastFields(%q, %d) = %q %q before %q", tc.s, tc.k, t0, t1, tc.s[:before])
		}
	}
}

// withPayload appends a payload and CRLF after a message header line.
func withPayload(dst []byte, payload string) []byte {
	dst = append(dst, payload...)
	return append(dst, CRLF...)
}

var remoteEncodeCases = []struct {
	name string
	cfg  Config
	wire string
	enc  func(dst []byte) []byte
	want rec
}{
	{"rs+", routeCfg, "RS+ $G foo\r\n",
		func(d []byte) []byte { return AppendRSub(d, b("$G"), b("foo"), nil, 7) },
		rec{Op: OpRSub, Account: "$G", Subject: "foo"}},
	{"rs+ queue", routeCfg, "RS+ $G foo q 2\r\n",
		func(d []byte) []byte { return AppendRSub(d, b("$G"), b("foo"), b("q"), 2) },
		rec{Op: OpRSub, Account: "$G", Subject: "foo", Queue: "q", Weight: 2}},
	{"rs+ weight clamped low", pinnedCfg, "RS+ foo q 1\r\n",
		func(d []byte) []byte { return AppendRSub(d, nil, b("foo"), b("q"), 0) },
		rec{Op: OpRSub, Subject: "foo", Queue: "q", Weight: 1}},
	{"rs+ weight clamped high", routeCfg, "RS+ $G foo q 999999999\r\n",
		func(d []byte) []byte { return AppendRSub(d, b("$G"), b("foo"), b("q"), 2_000_000_000) },
		rec{Op: OpRSub, Account: "$G", Subject: "foo", Queue: "q", Weight: 999999999}},
	{"rs-", routeCfg, "RS- $G foo\r\n",
		func(d []byte) []byte { return AppendRUnsub(d, b("$G"), b("foo"), nil) },
		rec{Op: OpRUnsub, Account: "$G", Subject: "foo"}},
	{"rs- queue pinned", pinnedCfg, "RS- foo q\r\n",
		func(d []byte) []byte { return AppendRUnsub(d, nil, b("foo"), b("q")) },
		rec{Op: OpRUnsub, Subject: "foo", Queue: "q"}},
	{"rmsg", routeCfg, "RMSG $G foo 5\r\nhello\r\n",
		func(d []byte) []byte {
			return withPayload(AppendRMsgHeader(d, b("$G"), b("foo"), nil, nil, 5), "hello")
		},
		rec{Op: OpRMsg, Account: "$G", Subject: "foo", Size: 5, Msg: "hello"}},
	{"rmsg reply", routeCfg, "RMSG $G foo r 0\r\n\r\n",
		func(d []byte) []byte { return withPayload(AppendRMsgHeader(d, b("$G"), b("foo"), b("r"), nil, 0), "") },
		rec{Op: OpRMsg, Account: "$G", Subject: "foo", Reply: "r"}},
	{"rmsg queues", routeCfg, "RMSG $G foo | q1 q2 1\r\nx\r\n",
		func(d []byte) []byte {
			return withPayload(AppendRMsgHeader(d, b("$G"), b("foo"), nil, b("q1 q2"), 1), "x")
		},
		rec{Op: OpRMsg, Account: "$G", Subject: "foo", QueueList: "q1 q2", Queues: "q1 q2", Size: 1, Msg: "x"}},
	{"rmsg reply queues", routeCfg, "RMSG $G foo + r q1 1\r\nx\r\n",
		func(d []byte) []byte {
			return withPayload(AppendRMsgHeader(d, b("$G"), b("foo"), b("r"), b("q1"), 1), "x")
		},
		rec{Op: OpRMsg, Account: "$G", Subject: "foo", Reply: "r", QueueList: "q1", Queues: "q1", Size: 1, Msg: "x"}},
	{"rmsg pinned", pinnedCfg, "RMSG foo 1\r\nx\r\n",
		func(d []byte) []byte { return withPayload(AppendRMsgHeader(d, nil, b("foo"), nil, nil, 1), "x") },
		rec{Op: OpRMsg, Subject: "foo", Size: 1, Msg: "x"}},
	{"route hmsg", routeCfg, "HMSG $G foo + r q1 12 14\r\n" + hdr12 + "hi\r\n",
		func(d []byte) []byte {
			return withPayload(AppendRHMsgHeader(d, b("$G"), b("foo"), b("r"), b("q1"), 12, 14), hdr12+"hi")
		},
		rec{Op: OpRHMsg, Account: "$G", Subject: "foo", Reply: "r", QueueList: "q1", Queues: "q1",
			HeaderSize: 12, Size: 14, Msg: hdr12 + "hi"}},
	{"route hmsg plain", routeCfg, "HMSG $G foo 12 12\r\n" + hdr12 + "\r\n",
		func(d []byte) []byte {
			return withPayload(AppendRHMsgHeader(d, b("$G"), b("foo"), nil, nil, 12, 12), hdr12)
		},
		rec{Op: OpRHMsg, Account: "$G", Subject: "foo", HeaderSize: 12, Size: 12, Msg: hdr12}},
	{"route ls+", routeCfg, "LS+ C2 $G foo q 3\r\n",
		func(d []byte) []byte { return AppendRLSub(d, b("C2"), b("$G"), b("foo"), b("q"), 3) },
		rec{Op: OpRLSub, Origin: "C2", Account: "$G", Subject: "foo", Queue: "q", Weight: 3}},
	{"route ls+ no origin sentinel", routeCfg, "LS+ _ $G foo\r\n",
		func(d []byte) []byte { return AppendRLSub(d, b("_"), b("$G"), b("foo"), nil, 3) },
		rec{Op: OpRLSub, Origin: "_", Account: "$G", Subject: "foo"}},
	{"route ls-", routeCfg, "LS- C2 $G foo\r\n",
		func(d []byte) []byte { return AppendRLUnsub(d, b("C2"), b("$G"), b("foo"), nil) },
		rec{Op: OpRLUnsub, Origin: "C2", Account: "$G", Subject: "foo"}},
	{"route ls- pinned queue", pinnedCfg, "LS- C2 foo q\r\n",
		func(d []byte) []byte { return AppendRLUnsub(d, b("C2"), nil, b("foo"), b("q")) },
		rec{Op: OpRLUnsub, Origin: "C2", Subject: "foo", Queue: "q"}},
	{"route lmsg", routeCfg, "LMSG C2 $G foo 0 5\r\nhello\r\n",
		func(d []byte) []byte {
			return withPayload(AppendRLMsgHeader(d, b("C2"), b("$G"), b("foo"), nil, nil, 0, 5), "hello")
		},
		rec{Op: OpRLMsg, Origin: "C2", Account: "$G", Subject: "foo", Size: 5, Msg: "hello"}},
	{"route lmsg queues", routeCfg, "LMSG C2 $G foo | q1 q2 12 12\r\n" + hdr12 + "\r\n",
		func(d []byte) []byte {
			return withPayload(AppendRLMsgHeader(d, b("C2"), b("$G"), b("foo"), nil, b("q1 q2"), 12, 12), hdr12)
		},
		rec{Op: OpRLMsg, Origin: "C2", Account: "$G", Subject: "foo", QueueList: "q1 q2", Queues: "q1 q2",
			HeaderSize: 12, Size: 12, Msg: hdr12}},
	{"leaf ls+", leafCfg, "LS+ foo\r\n",
		func(d []byte) []byte { return AppendLSub(d, b("foo"), nil, 5) },
		rec{Op: OpLSub, Subject: "foo"}},
	{"leaf ls+ queue", leafCfg, "LS+ foo q 5\r\n",
		func(d []byte) []byte { return AppendLSub(d, b("foo"), b("q"), 5) },
		rec{Op: OpLSub, Subject: "foo", Queue: "q", Weight: 5}},
	{"leaf ls-", leafCfg, "LS- foo q\r\n",
		func(d []byte) []byte { return AppendLUnsub(d, b("foo"), b("q")) },
		rec{Op: OpLUnsub, Subject: "foo", Queue: "q"}},
	{"leaf lmsg", leafCfg, "LMSG foo 5\r\nhello\r\n",
		func(d []byte) []byte { return withPayload(AppendLMsgHeader(d, b("foo"), nil, nil, 5), "hello") },
		rec{Op: OpLMsg, Subject: "foo", Size: 5, Msg: "hello"}},
	{"leaf lmsg reply queues", leafCfg, "LMSG foo + r q1 q2 5\r\nhello\r\n",
		func(d []byte) []byte {
			return withPayload(AppendLMsgHeader(d, b("foo"), b("r"), b("q1 q2"), 5), "hello")
		},
		rec{Op: OpLMsg, Subject: "foo", Reply: "r", QueueList: "q1 q2", Queues: "q1 q2", Size: 5, Msg: "hello"}},
	{"leaf hmsg", leafCfg, "HMSG foo r 12 14\r\n" + hdr12 + "hi\r\n",
		func(d []byte) []byte {
			return withPayload(AppendLHMsgHeader(d, b("foo"), b("r"), nil, 12, 14), hdr12+"hi")
		},
		rec{Op: OpLHMsg, Subject: "foo", Reply: "r", HeaderSize: 12, Size: 14, Msg: hdr12 + "hi"}},
	{"leaf hmsg queue", leafCfg, "HMSG foo | q 12 12\r\n" + hdr12 + "\r\n",
		func(d []byte) []byte { return withPayload(AppendLHMsgHeader(d, b("foo"), nil, b("q"), 12, 12), hdr12) },
		rec{Op: OpLHMsg, Subject: "foo", QueueList: "q", Queues: "q", HeaderSize: 12, Size: 12, Msg: hdr12}},
}

func TestEncodeRemoteRoundTrip(t *testing.T) {
	for _, tc := range remoteEncodeCases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.enc([]byte("keep"))
			if string(got) != "keep"+tc.wire {
				t.Fatalf("encoded %q, want %q", got, tc.wire)
			}
			recs, err, buffered := parseChunks(tc.cfg, got[4:])
			if err != nil || buffered != 0 {
				t.Fatalf("parse: %v (buffered %d)", err, buffered)
			}
			if !reflect.DeepEqual(recs, []rec{tc.want}) {
				t.Fatalf("parsed %v, want %v", recs, tc.want)
			}
		})
	}
}

// TestRelayQueueList checks that a server relaying an RMSG to a leaf can pass
// the parsed queue list on unchanged.
func TestRelayQueueList(t *testing.T) {
	var out []byte
	h := handlerFunc(func(f *Frame) error {
		out = AppendLMsgHeader(out, f.Subject, f.Reply, f.QueueList, f.Size)
		out = withPayload(out, string(f.Msg))
		return nil
	})
	in := AppendRMsgHeader(nil, b("$G"), b("foo"), b("r"), b("q1 q2"), 2)
	in = withPayload(in, "hi")
	if err := NewParser(routeCfg).Parse(in, h); err != nil {
		t.Fatal(err)
	}
	if want := "LMSG foo + r q1 q2 2\r\nhi\r\n"; string(out) != want {
		t.Fatalf("relayed %q, want %q", out, want)
	}
	if !bytes.HasPrefix(in, []byte("RMSG $G foo + r q1 q2 2\r\n")) {
		t.Fatalf("input %q", in)
	}
}
