package jetstream

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fernmq/fern/store"
)

// Sources and mirrors on one engine (fake host). The cross-server cases
// and the fault tests are in the root package (jetstream_source_e2e_test.go,
// fault_source_test.go) and bench/interop.

// waitUntil polls cond (every 5 ms) for at most d.
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, d)
		}
		time.Sleep(5 * time.Millisecond) // polling an engine's state; nothing to wait on
	}
}

func streamMsgs(te *testEngine, name string) uint64 {
	s := te.e.Stream(name)
	if s == nil {
		return 0
	}
	return s.Store().State().Msgs
}

func runOf(t *testing.T, te *testEngine, stream string) *sourceRun {
	t.Helper()
	var r *sourceRun
	waitUntil(t, "the source runs", 20*time.Second, func() bool {
		if sg := te.e.Stream(stream).src.Load(); sg != nil && len(sg.runs) > 0 {
			r = sg.runs[0]
			return true
		}
		return false
	})
	return r
}

// gateFS holds the fsyncs of files whose path contains hold while closed.
type gateFS struct {
	store.FS
	hold string
	mu   sync.Mutex
	open chan struct{} // closed when the gate is open
}

func newGateFS(inner store.FS, hold string) *gateFS {
	g := &gateFS{FS: inner, hold: hold, open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gateFS) shut() {
	g.mu.Lock()
	g.open = make(chan struct{})
	g.mu.Unlock()
}

func (g *gateFS) release() {
	g.mu.Lock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
	g.mu.Unlock()
}

func (g *gateFS) wrap(name string, f store.File, err error) (store.File, error) {
	if err != nil || !strings.Contains(name, g.hold) {
		return f, err
	}
	return gateFile{File: f, g: g}, nil
}

func (g *gateFS) Create(name string) (store.File, error) {
	f, err := g.FS.Create(name)
	return g.wrap(name, f, err)
}

func (g *gateFS) OpenAppend(name string) (store.File, error) {
	f, err := g.FS.OpenAppend(name)
	return g.wrap(name, f, err)
}

func (g *gateFS) Lock(name string) (io.Closer, error) { return g.FS.Lock(name) }

type gateFile struct {
	store.File
	g *gateFS
}

func (f gateFile) Sync() error {
	f.g.mu.Lock()
	open := f.g.open
	f.g.mu.Unlock()
	<-open
	return f.File.Sync()
}

// A WorkQueue upstream lets a message go only when the downstream's
// flow-control answer says it is stored, and the downstream answers only
// once that is durable: while the downstream's fsync is held, the
// upstream keeps everything, however many times it asks.
func TestSourceFlowControlAnswerWaitsForDurability(t *testing.T) {
	gfs := newGateFS(store.NewCrashFS(), "/streams/S/msgs/")
	te := startEngine(t, Config{StoreDir: "/js", FS: gfs})
	te.mustCreate(`{"name":"ORIG","subjects":["o.>"],"retention":"workqueue"}`)
	te.mustCreate(`{"name":"S","sources":[{"name":"ORIG"}]}`)
	r := runOf(t, te, "S")
	waitUntil(t, "the upstream consumer", 20*time.Second, func() bool { return r.heartbeats.Load() > 0 })

	gfs.shut()
	t.Cleanup(gfs.release) // before the engine's Stop, which syncs
	for i := 1; i <= 10; i++ {
		if a := te.publish("o.x", nil, fmt.Sprint(i)); a.Error != nil {
			t.Fatal(a.Error)
		}
	}
	// The upstream delivered them and asked for an answer, then went on
	// heartbeating: it would have had the answer by now. (S's store may
	// itself wait on the held fsync, so its count is not waited for.)
	waitUntil(t, "a flow-control request", 20*time.Second, func() bool { return r.flowRequests.Load() > 0 })
	hb := r.heartbeats.Load()
	waitUntil(t, "two heartbeats after it", 20*time.Second, func() bool { return r.heartbeats.Load() >= hb+2 })
	if n := streamMsgs(te, "ORIG"); n != 10 {
		t.Fatalf("ORIG holds %d messages while S has not made them durable, want 10", n)
	}
	gfs.release()
	waitUntil(t, "ORIG emptied once S is durable", 20*time.Second, func() bool {
		return streamMsgs(te, "ORIG") == 0 && streamMsgs(te, "S") == 10
	})
}

// An upstream deleted and created again: stream info shows the error
// while it is gone, and the new stream is sourced from its start.
func TestSourceUpstreamDeletedAndRecreated(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"ORIG","subjects":["o.>"]}`)
	te.mustCreate(`{"name":"S","sources":[{"name":"ORIG"}]}`)
	for i := 1; i <= 5; i++ {
		te.publish("o.x", nil, fmt.Sprint(i))
	}
	waitUntil(t, "S has 5", 20*time.Second, func() bool { return streamMsgs(te, "S") == 5 })
	if r := te.api("$JS.API.STREAM.DELETE.ORIG", ""); r["error"] != nil {
		t.Fatal(r["error"])
	}
	waitUntil(t, "an error in S's info", 20*time.Second, func() bool {
		var info struct {
			Sources []StreamSourceInfo `json:"sources"`
		}
		te.apiInto("$JS.API.STREAM.INFO.S", "", &info)
		return len(info.Sources) == 1 && info.Sources[0].Error != nil
	})
	te.mustCreate(`{"name":"ORIG","subjects":["o.>"]}`)
	for i := 1; i <= 3; i++ {
		te.publish("o.x", nil, fmt.Sprint("new", i))
	}
	waitUntil(t, "S has the new stream's 3 too", 120*time.Second, func() bool { return streamMsgs(te, "S") == 8 })
	var info struct {
		Sources []StreamSourceInfo `json:"sources"`
	}
	te.apiInto("$JS.API.STREAM.INFO.S", "", &info)
	if info.Sources[0].Error != nil {
		t.Fatalf("error after resync: %+v", info.Sources[0].Error)
	}
}

// A purged upstream goes on from its next message.
func TestSourceUpstreamPurged(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"ORIG","subjects":["o.>"]}`)
	te.mustCreate(`{"name":"S","sources":[{"name":"ORIG"}]}`)
	te.mustCreate(`{"name":"M","mirror":{"name":"ORIG"}}`)
	for i := 1; i <= 5; i++ {
		te.publish("o.x", nil, fmt.Sprint(i))
	}
	waitUntil(t, "S and M have 5", 20*time.Second, func() bool { return streamMsgs(te, "S") == 5 && streamMsgs(te, "M") == 5 })
	if r := te.api("$JS.API.STREAM.PURGE.ORIG", ""); r["error"] != nil {
		t.Fatal(r["error"])
	}
	for i := 6; i <= 8; i++ {
		te.publish("o.x", nil, fmt.Sprint(i))
	}
	waitUntil(t, "S and M have 8", 20*time.Second, func() bool { return streamMsgs(te, "S") == 8 && streamMsgs(te, "M") == 8 })
	if st := te.e.Stream("M").Store().State(); st.LastSeq != 8 {
		t.Fatalf("mirror last seq %d, want 8", st.LastSeq)
	}
}

// A sourced message the downstream cannot store (discard new, full) is
// fetched again once there is room: nothing lost, nothing twice.
func TestSourceStoreFailureRefetches(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"ORIG","subjects":["o.>"]}`)
	te.mustCreate(`{"name":"S","sources":[{"name":"ORIG"}],"max_msgs":5,"discard":"new"}`)
	for i := 1; i <= 12; i++ {
		te.publish("o.x", nil, fmt.Sprint(i))
	}
	waitUntil(t, "S full", 20*time.Second, func() bool { return streamMsgs(te, "S") == 5 })
	waitUntil(t, "the failure in S's info", 20*time.Second, func() bool {
		var info struct {
			Sources []StreamSourceInfo `json:"sources"`
		}
		te.apiInto("$JS.API.STREAM.INFO.S", "", &info)
		return len(info.Sources) == 1 && info.Sources[0].Error != nil
	})
	if r := te.api("$JS.API.STREAM.UPDATE.S", `{"name":"S","sources":[{"name":"ORIG"}],"max_msgs":100,"discard":"new"}`); r["error"] != nil {
		t.Fatal(r["error"])
	}
	waitUntil(t, "S has all 12", 20*time.Second, func() bool { return streamMsgs(te, "S") == 12 })
	var m store.Msg
	for seq := uint64(1); seq <= 12; seq++ {
		got, err := te.e.Stream("S").Store().Load(seq, &m)
		if err != nil || string(got.Data) != fmt.Sprint(seq) {
			t.Fatalf("S seq %d: %v %q", seq, err, m.Data)
		}
	}
}

func TestSourcedHeader(t *testing.T) {
	for _, tc := range []struct{ in, source, want string }{
		{"", "", ""},
		{"", "O 1 > > a", "NATS/1.0\r\nNats-Stream-Source: O 1 > > a\r\n\r\n"},
		{"NATS/1.0\r\nA: 1\r\nNats-Expected-Stream: X\r\nNats-Batch-Id: b\r\nNats-Stream-Source: P 3 > > a\r\n\r\n", "O 1 > > a",
			"NATS/1.0\r\nA: 1\r\nNats-Stream-Source: O 1 > > a\r\n\r\n"},
		{"NATS/1.0\r\nNats-Expected-Last-Sequence: 4\r\n\r\n", "", ""},
		{"NATS/1.0\r\nNats-Msg-Id: x\r\nNats-Stream-Source: P 3 > > a\r\n\r\n", "",
			"NATS/1.0\r\nNats-Msg-Id: x\r\nNats-Stream-Source: P 3 > > a\r\n\r\n"},
	} {
		var in []byte
		if tc.in != "" {
			in = []byte(tc.in)
		}
		if got := string(sourcedHeader(in, tc.source)); got != tc.want {
			t.Errorf("sourcedHeader(%q, %q) = %q, want %q", tc.in, tc.source, got, tc.want)
		}
	}
}

func TestStreamSourceValueRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		iname, subj, ident string
		seq                uint64
		want               string
	}{
		{"ORIG > >", "o.x", "Zai80bTI", 1, "ORIG 1 > > o.x Zai80bTI"},
		{"ORIG:abcdEFGH o.* >", "o.y", "", 42, "ORIG:abcdEFGH 42 o.* > o.y"},
	} {
		v := streamSourceValue(tc.iname, tc.seq, tc.subj, tc.ident)
		if v != tc.want {
			t.Errorf("value %q, want %q", v, tc.want)
		}
		iname, seq, ident, ok := parseStreamSource(v)
		if !ok || iname != tc.iname || seq != tc.seq || ident != tc.ident {
			t.Errorf("parse %q: %q %d %q %v", v, iname, seq, ident, ok)
		}
	}
	if iname, seq, _, ok := parseStreamSource("OLD 7"); !ok || iname != "OLD > >" || seq != 7 {
		t.Errorf("old form: %q %d %v", iname, seq, ok)
	}
	for _, bad := range []string{"", "X", "X y > >", "X 1 >"} {
		if _, _, _, ok := parseStreamSource(bad); ok {
			t.Errorf("parse %q: ok", bad)
		}
	}
}

func TestApplyTransform(t *testing.T) {
	for _, tc := range []struct {
		src, dest, subj, want string
		ok                    bool
	}{
		{"o.*", "p.$1", "o.a", "p.a", true},
		{"o.*.*", "p.{{wildcard(2)}}.{{ wildcard(1) }}", "o.a.b", "p.b.a", true},
		{"o.>", "p.>", "o.a.b", "p.a.b", true},
		{"o.*", "", "o.a", "o.a", true},
		{"o.*", "p.$1", "q.a", "", false},
		{"o.*", "p.$1", "o.a.b", "", false},
		{"", "x.$1", "o.a", "x.o.a", true},
	} {
		got, ok := applyTransform(tc.src, tc.dest, tc.subj)
		if got != tc.want || ok != tc.ok {
			t.Errorf("applyTransform(%q, %q, %q) = %q %v, want %q %v", tc.src, tc.dest, tc.subj, got, ok, tc.want, tc.ok)
		}
	}
}

// An upstream may start delivering before it answers the create (the
// count in its answer then includes those deliveries): they are kept,
// not dropped as an earlier consumer's, and nothing is lost while its
// heartbeats say all is delivered.
func TestSourceKeepsDeliveriesBeforeTheCreateReply(t *testing.T) {
	te := startEngine(t, Config{})
	var creates atomic.Int64
	up := te.host.NewPublisher()
	_, err := te.host.Subscribe("$JS.up.API.CONSUMER.CREATE.UP", "", func(subj, reply string, hdr, data []byte) {
		var req CreateConsumerRequest
		if err := json.Unmarshal(data, &req); err != nil {
			t.Errorf("create body: %v", err)
			return
		}
		n := creates.Add(1)
		name := fmt.Sprint("C", n)
		deliver := req.Config.DeliverSubject
		for seq := 1; seq <= 3; seq++ {
			ack := fmt.Sprintf("$JS.ACK.UP.%s.1.%d.%d.%d.%d", name, seq, seq, time.Now().UnixNano(), 3-seq)
			up.Publish(deliver, ack, nil, []byte(fmt.Sprint(seq)))
		}
		up.Publish(reply, "", nil, []byte(fmt.Sprintf(`{"type":"io.nats.jetstream.api.v1.consumer_create_response","name":%q,"delivered":{"consumer_seq":3,"stream_seq":3},"num_pending":0}`, name)))
		up.Publish(deliver, "", []byte("NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 3\r\nNats-Last-Stream: 3\r\n\r\n"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	te.mustCreate(`{"name":"S","sources":[{"name":"UP","external":{"api":"$JS.up.API"}}]}`)
	waitUntil(t, "S holds the 3 delivered before the reply", 10*time.Second, func() bool { return streamMsgs(te, "S") == 3 })
	if n := creates.Load(); n != 1 {
		t.Fatalf("%d consumer creates, want 1 (no gap was there to recreate for)", n)
	}
}

// A caught-up mirror with mirror_direct answers its origin's direct gets
// (and goes on answering when the origin is gone); without it, it does
// not subscribe them.
func TestMirrorDirectAnswersTheOriginsDirectGets(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"ORIG","subjects":["o.>"],"allow_direct":true}`)
	te.mustCreate(`{"name":"PLAIN","subjects":["p.>"]}`)
	te.mustCreate(`{"name":"M","mirror":{"name":"ORIG"}}`)
	te.mustCreate(`{"name":"MP","mirror":{"name":"PLAIN"}}`)
	for i := 1; i <= 3; i++ {
		te.publish("o.x", nil, fmt.Sprint(i))
		te.publish("p.x", nil, fmt.Sprint(i))
	}
	waitUntil(t, "the mirrors hold 3", 20*time.Second, func() bool { return streamMsgs(te, "M") == 3 && streamMsgs(te, "MP") == 3 })
	var info struct {
		Config StreamConfig `json:"config"`
	}
	te.apiInto("$JS.API.STREAM.INFO.M", "", &info)
	if !info.Config.MirrorDirect {
		t.Fatal("M's mirror_direct is not set from ORIG's allow_direct")
	}
	waitUntil(t, "M answering ORIG's direct gets", 20*time.Second, func() bool { return te.e.Stream("M").answersDirectFor("ORIG") })
	if te.e.Stream("MP").answersDirectFor("PLAIN") {
		t.Fatal("MP answers PLAIN's direct gets without mirror_direct")
	}
	for _, name := range []string{"ORIG", "PLAIN"} {
		if r := te.api("$JS.API.STREAM.DELETE."+name, ""); r["error"] != nil {
			t.Fatal(r["error"])
		}
	}
	cases := []struct {
		subj, body, stream, data string
	}{
		{"$JS.API.DIRECT.GET.ORIG", `{"seq":2}`, "M", "2"},
		{"$JS.API.DIRECT.GET.ORIG.o.x", "", "M", "3"},
	}
	for _, c := range cases {
		m := te.request(c.subj, nil, c.body)
		if got := headerString(m.hdr, "Nats-Stream"); got != c.stream || string(m.data) != c.data {
			t.Errorf("%s %s: answered by %q with %q, want %q with %q (hdr %q)", c.subj, c.body, got, m.data, c.stream, c.data, m.hdr)
		}
	}
	// Deleting the mirror drops its subscriptions.
	m := te.e.Stream("M")
	if r := te.api("$JS.API.STREAM.DELETE.M", ""); r["error"] != nil {
		t.Fatal(r["error"])
	}
	if m.answersDirectFor("ORIG") || te.host.subCount("$JS.API.DIRECT.GET.ORIG") != 0 {
		t.Fatal("ORIG's direct gets still subscribed after M was deleted")
	}
}
