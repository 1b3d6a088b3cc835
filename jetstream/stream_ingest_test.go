package jetstream

import (
	"strings"
	"sync"
	"testing"

	"github.com/fernmq/fern/store"
)

func TestPublishDedupe(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"D","subjects":["d.>"]}`)
	a := te.publish("d.1", hdrs("Nats-Msg-Id", "m1"), "x")
	if a.Error != nil || a.Seq != 1 || a.Duplicate || a.Stream != "D" {
		t.Fatalf("first %+v", a)
	}
	te.publish("d.2", nil, "y")
	a = te.publish("d.3", hdrs("Nats-Msg-Id", "m1"), "x")
	if !a.Duplicate || a.Seq != 1 {
		t.Fatalf("duplicate %+v", a)
	}
	// A different stream subject with the same id is still a duplicate.
	if st := te.e.Stream("D").Store().State(); st.Msgs != 2 {
		t.Fatalf("duplicate stored: %+v", st)
	}
	te.restart()
	a = te.publish("d.4", hdrs("Nats-Msg-Id", "m1"), "x")
	if !a.Duplicate || a.Seq != 1 {
		t.Fatalf("after restart %+v", a)
	}
	if a = te.publish("d.4", hdrs("Nats-Msg-Id", "m2"), "x"); a.Duplicate || a.Seq != 3 {
		t.Fatalf("new id after restart %+v", a)
	}
}

func TestDedupeWindowExpiry(t *testing.T) {
	d := newDedupeWindow()
	const w = 100
	d.add("a", 1, 1000)
	d.add("b", 2, 1050)
	if seq, ok := d.lookup("a", 1099, w); !ok || seq != 1 {
		t.Fatal("a expired early")
	}
	if _, ok := d.lookup("a", 1100, w); ok {
		t.Fatal("a kept past the window")
	}
	if _, ok := d.lookup("b", 1100, w); !ok {
		t.Fatal("b expired early")
	}
	// Re-adding an id after expiry keeps the newer entry.
	d.add("a", 3, 1120)
	if seq, ok := d.lookup("a", 1150, w); !ok || seq != 3 || d.len() != 1 {
		t.Fatalf("a re-added: %d %v len %d", seq, ok, d.len())
	}
}

func TestPublishExpectations(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"E","subjects":["e.>"],"storage":"memory"}`)
	te.publish("e.a", hdrs("Nats-Msg-Id", "id1"), "1") // seq 1
	te.publish("e.b", nil, "2")                        // seq 2, no msg id
	for _, tc := range []struct {
		name string
		hdr  []byte
		code uint16
		desc string
		seq  uint64
	}{
		{"stream", hdrs("Nats-Expected-Stream", "X"), 10060, "", 0},
		{"stream ok", hdrs("Nats-Expected-Stream", "E"), 0, "", 3},
		{"last seq", hdrs("Nats-Expected-Last-Sequence", "1"), 10071, "wrong last sequence: 3", 0},
		{"last seq bad", hdrs("Nats-Expected-Last-Sequence", "x"), 10071, "", 0},
		{"last seq ok", hdrs("Nats-Expected-Last-Sequence", "3"), 0, "", 4},
		{"subj seq", hdrs("Nats-Expected-Last-Subject-Sequence", "0"), 10071, "wrong last sequence: 4", 0},
		{"subj seq ok", hdrs("Nats-Expected-Last-Subject-Sequence", "4"), 0, "", 5},
		{"subj seq other", hdrs("Nats-Expected-Last-Subject-Sequence", "1", "Nats-Expected-Last-Subject-Sequence-Subject", "e.a"), 0, "", 6},
		{"subj seq wildcard", hdrs("Nats-Expected-Last-Subject-Sequence", "2", "Nats-Expected-Last-Subject-Sequence-Subject", "e.*"), 10071, "wrong last sequence: 6", 0},
		{"subj seq none", hdrs("Nats-Expected-Last-Subject-Sequence", "0", "Nats-Expected-Last-Subject-Sequence-Subject", "e.zzz"), 0, "", 7},
		{"subject header alone", hdrs("Nats-Expected-Last-Subject-Sequence-Subject", "e.a"), 10193, "", 0},
		{"last msg id", hdrs("Nats-Expected-Last-Msg-Id", "id1"), 10070, "wrong last msg ID: ", 0},
		{"ttl", hdrs("Nats-TTL", "1s"), 10166, "", 0},
		{"incr", hdrs("Nats-Incr", "1"), 10168, "", 0},
		{"batch", hdrs("Nats-Batch-Id", "b"), 10174, "", 0},
		{"schedule", hdrs("Nats-Schedule", "@every 1s"), 10188, "", 0},
		// Order: expected stream before expected last sequence.
		{"order stream first", hdrs("Nats-Expected-Last-Sequence", "1", "Nats-Expected-Stream", "X"), 10060, "", 0},
		// Order: expectations before dedupe.
		{"order expectations before dedupe", hdrs("Nats-Msg-Id", "id1", "Nats-Expected-Last-Sequence", "1"), 10071, "", 0},
	} {
		a := te.publish("e.c", tc.hdr, "z")
		switch {
		case tc.code == 0 && (a.Error != nil || a.Seq != tc.seq):
			t.Errorf("%s: %+v %v, want seq %d", tc.name, a, a.Error, tc.seq)
		case tc.code != 0 && (a.Error == nil || a.Error.ErrCode != tc.code || a.Seq != 0 || a.Stream != "E"):
			t.Errorf("%s: %+v %v, want %d", tc.name, a, a.Error, tc.code)
		case tc.desc != "" && a.Error.Description != tc.desc:
			t.Errorf("%s: description %q want %q", tc.name, a.Error.Description, tc.desc)
		}
	}
	// Expected last msg id against a last message that had one.
	te.publish("e.c", hdrs("Nats-Msg-Id", "id9"), "z")
	if a := te.publish("e.c", hdrs("Nats-Expected-Last-Msg-Id", "id9"), "z"); a.Error != nil {
		t.Fatalf("expected last msg id: %v", a.Error)
	}
	// Dedupe comes before the last-msg-id check.
	a := te.publish("e.c", hdrs("Nats-Msg-Id", "id9", "Nats-Expected-Last-Msg-Id", "nope"), "z")
	if !a.Duplicate || a.Error != nil {
		t.Fatalf("dedupe before last msg id: %+v", a)
	}
}

func TestPublishRollup(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"R","subjects":["r.>"],"allow_rollup_hdrs":true,"storage":"memory"}`)
	te.mustCreate(`{"name":"N","subjects":["n.>"],"storage":"memory"}`)
	for _, s := range []string{"r.a", "r.a", "r.b", "r.b"} {
		te.publish(s, nil, "x")
	}
	if a := te.publish("r.a", hdrs("Nats-Rollup", "sub"), "x"); a.Error != nil || a.Seq != 5 {
		t.Fatalf("rollup sub %+v", a)
	}
	counts := te.e.Stream("R").Store().SubjectCounts(">")
	if counts["r.a"] != 1 || counts["r.b"] != 2 {
		t.Fatalf("after sub rollup %v", counts)
	}
	if a := te.publish("r.c", hdrs("Nats-Rollup", "all"), "x"); a.Error != nil {
		t.Fatal(a.Error)
	}
	if st := te.e.Stream("R").Store().State(); st.Msgs != 1 || st.FirstSeq != 6 {
		t.Fatalf("after all rollup %+v", st)
	}
	if a := te.publish("r.c", hdrs("Nats-Rollup", "bogus"), "x"); a.Error == nil || a.Error.ErrCode != 10111 {
		t.Fatalf("bad rollup value %+v", a)
	}
	if a := te.publish("n.c", hdrs("Nats-Rollup", "sub"), "x"); a.Error == nil || a.Error.ErrCode != 10111 || a.Error.Description != "rollup not permitted" {
		t.Fatalf("rollup not allowed %+v", a.Error)
	}
}

func TestPublishLimits(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"L","subjects":["l.>"],"discard":"new","max_msgs":2,"max_msg_size":10}`)
	te.publish("l.a", nil, "1")
	te.publish("l.a", nil, "2")
	if a := te.publish("l.a", nil, "3"); a.Error == nil || a.Error.ErrCode != 10077 || a.Error.Description != "maximum messages exceeded" {
		t.Fatalf("discard new %+v", a.Error)
	}
	if a := te.publish("l.b", nil, "01234567890"); a.Error == nil || a.Error.ErrCode != 10054 {
		t.Fatalf("max_msg_size %+v", a.Error)
	}
	big := make([]byte, maxHeaderLen+10)
	copy(big, "NATS/1.0\r\n")
	te.mustCreate(`{"name":"H","subjects":["h"]}`)
	if a := te.publish("h", big, ""); a.Error == nil || a.Error.ErrCode != 10097 {
		t.Fatalf("header size %+v", a.Error)
	}
	// Discard new with a per-subject history (KV): the subject's oldest goes.
	te.mustCreate(`{"name":"KV_b","subjects":["$KV.b.>"],"discard":"new","max_msgs_per_subject":2,"allow_rollup_hdrs":true,"deny_delete":true,"allow_direct":true}`)
	for i := 0; i < 4; i++ {
		if a := te.publish("$KV.b.k", nil, "v"); a.Error != nil {
			t.Fatalf("kv put %d: %v", i, a.Error)
		}
	}
	if st := te.e.Stream("KV_b").Store().State(); st.Msgs != 2 || st.FirstSeq != 3 {
		t.Fatalf("kv history %+v", st)
	}
	// discard_new_per_subject refuses instead.
	te.mustCreate(`{"name":"P","subjects":["p"],"discard":"new","max_msgs_per_subject":1,"discard_new_per_subject":true}`)
	te.publish("p", nil, "v")
	if a := te.publish("p", nil, "v"); a.Error == nil || a.Error.Description != "maximum messages per subject exceeded" {
		t.Fatalf("discard new per subject %+v", a.Error)
	}
}

func TestPublishNoAckSealedAndNoReply(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"Q","subjects":["q"],"no_ack":true,"storage":"memory"}`)
	te.host.deliver("q", "", nil, []byte("no reply"))
	te.noReply("q", "with reply")
	te.mustCreate(`{"name":"S","subjects":["s"]}`)
	te.publish("s", nil, "x")
	r := te.api("$JS.API.STREAM.UPDATE.S", `{"name":"S","subjects":["s"],"sealed":true}`)
	cfg := r["config"].(map[string]any)
	if cfg["sealed"] != true || cfg["deny_delete"] != true || cfg["deny_purge"] != true || cfg["discard"] != "new" {
		t.Fatalf("sealed config %v", cfg)
	}
	if a := te.publish("s", nil, "x"); a.Error == nil || a.Error.ErrCode != 10109 {
		t.Fatalf("sealed publish %+v", a.Error)
	}
	if errCode(t, te.api("$JS.API.STREAM.PURGE.S", "")) != 10109 {
		t.Fatal("sealed purge")
	}
	if errCode(t, te.api("$JS.API.STREAM.UPDATE.S", `{"name":"S","subjects":["s"]}`)) != 10052 {
		t.Fatal("unseal accepted")
	}
	// Wait for the no-reply publish to q to be stored: the stream's
	// goroutine stores in order, so the acked publish below comes after.
	if st := te.e.Stream("Q").Store().State(); st.Msgs > 2 {
		t.Fatalf("no_ack stream %+v", st)
	}
}

func TestOnStoredAndSyncModes(t *testing.T) {
	for _, mode := range []struct {
		name string
		cfg  Config
		body string
	}{
		{"group commit", Config{}, `{"name":"O","subjects":["o"]}`},
		{"always", Config{Sync: SyncAlways}, `{"name":"O","subjects":["o"]}`},
		{"interval", Config{Sync: SyncInterval}, `{"name":"O","subjects":["o"]}`},
		{"async persist", Config{}, `{"name":"O","subjects":["o"],"persist_mode":"async"}`},
		{"memory", Config{}, `{"name":"O","subjects":["o"],"storage":"memory","compression":"s2"}`},
	} {
		t.Run(mode.name, func(t *testing.T) {
			te := startEngine(t, mode.cfg)
			te.mustCreate(mode.body)
			var mu sync.Mutex
			var seen []uint64
			te.e.Stream("O").OnStored(func(seq uint64, subject string) {
				mu.Lock()
				seen = append(seen, seq)
				mu.Unlock()
			})
			// Publish a burst without waiting, then one with a reply:
			// acks come after the stores, in order.
			for i := 0; i < 50; i++ {
				te.host.deliver("o", "", nil, []byte("x"))
			}
			if a := te.publish("o", nil, "last"); a.Seq != 51 {
				t.Fatalf("puback %+v", a)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 51 || seen[0] != 1 || seen[50] != 51 {
				t.Fatalf("OnStored saw %d: %v", len(seen), seen)
			}
		})
	}
}

func TestPubAckEncoding(t *testing.T) {
	s := &Stream{name: `we"ird`, e: &Engine{cfg: Config{Domain: "d"}}}
	for _, tc := range []struct {
		r    ingestResult
		want string
	}{
		{ingestResult{seq: 5}, `{"stream":"we\"ird","seq":5,"domain":"d"}`},
		{ingestResult{seq: 5, dup: true}, `{"stream":"we\"ird","seq":5,"domain":"d","duplicate":true}`},
		{ingestResult{seq: 5, err: errWrongLastSeq(3)}, `{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"we\"ird","seq":0}`},
	} {
		if got := string(s.appendPubAck(nil, &tc.r)); got != tc.want {
			t.Errorf("got %s\nwant %s", got, tc.want)
		}
	}
	if got := string(appendJSONString(nil, "a\x01\\")); got != `"a\u0001\\"` {
		t.Errorf("escape: %s", got)
	}
}

func TestStoreErrorMapping(t *testing.T) {
	for err, want := range map[error]uint16{
		store.ErrMaxMsgs: 10077, store.ErrMaxBytes: 10077, store.ErrMaxMsgsPerSubject: 10077,
		store.ErrMsgTooLarge: 10054, store.ErrClosed: 10077,
	} {
		if got := storeError(err); got.ErrCode != want || strings.HasPrefix(got.Description, "store:") && want != 10077 {
			t.Errorf("%v: %+v", err, got)
		}
	}
}
