package jetstream

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fernmq/fern/subject"
)

// fakeHost is an in-process Host: subscriptions in a list, matched with
// subject.Matches; one member per queue group gets a message. Replies to
// subjects a test waits on go to a channel.
type fakeHost struct {
	mu     sync.Mutex
	subs   map[int]*fakeSub
	nextID int
	inbox  map[string]chan fakeMsg
	rr     int
}

type fakeSub struct {
	f              *fakeHost
	id             int
	subject, queue string
	h              MsgHandler
}

type fakeMsg struct {
	subject, reply string
	hdr, data      []byte
}

func newFakeHost() *fakeHost {
	return &fakeHost{subs: make(map[int]*fakeSub), inbox: make(map[string]chan fakeMsg)}
}

func (f *fakeHost) Subscribe(subj, queue string, h MsgHandler) (Subscription, error) {
	if !subject.Valid(subj) {
		return nil, fmt.Errorf("bad subject %q", subj)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	s := &fakeSub{f: f, id: f.nextID, subject: subj, queue: queue, h: h}
	f.subs[s.id] = s
	return s, nil
}

func (s *fakeSub) Unsubscribe() {
	s.f.mu.Lock()
	delete(s.f.subs, s.id)
	s.f.mu.Unlock()
}

func (f *fakeHost) NewPublisher() Publisher { return fakePub{f} }

func (f *fakeHost) HasInterest(subj string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.subs {
		if subject.Matches(subj, s.subject) {
			return true
		}
	}
	return false
}

// subCount counts subscriptions on exactly subj.
func (f *fakeHost) subCount(subj string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.subs {
		if s.subject == subj {
			n++
		}
	}
	return n
}

type fakePub struct{ f *fakeHost }

func (p fakePub) Publish(subj, reply string, hdr, data []byte) { p.f.deliver(subj, reply, hdr, data) }

func (f *fakeHost) deliver(subj, reply string, hdr, data []byte) {
	f.mu.Lock()
	var hs []MsgHandler
	groups := map[string][]MsgHandler{}
	for _, s := range f.subs {
		if !subject.Matches(subj, s.subject) {
			continue
		}
		if s.queue == "" {
			hs = append(hs, s.h)
		} else {
			groups[s.queue] = append(groups[s.queue], s.h)
		}
	}
	for _, g := range groups {
		f.rr++
		hs = append(hs, g[f.rr%len(g)])
	}
	ch := f.inbox[subj]
	f.mu.Unlock()
	if ch != nil {
		ch <- fakeMsg{subject: subj, reply: reply, hdr: clone(hdr), data: clone(data)}
	}
	for _, h := range hs {
		h(subj, reply, hdr, data)
	}
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

var inboxSeq atomic.Uint64

// newInbox registers a reply subject the test can wait on.
func (f *fakeHost) newInbox() (string, chan fakeMsg) {
	name := fmt.Sprintf("_INBOX.t.%d", inboxSeq.Add(1))
	ch := make(chan fakeMsg, 64)
	f.mu.Lock()
	f.inbox[name] = ch
	f.mu.Unlock()
	return name, ch
}

// testEngine is an engine on a fake host in a temporary directory.
type testEngine struct {
	t    testing.TB
	e    *Engine
	host *fakeHost
	dir  string
	cfg  Config
}

func startEngine(t *testing.T, cfg Config) *testEngine {
	t.Helper()
	if cfg.StoreDir == "" {
		cfg.StoreDir = t.TempDir()
	}
	if cfg.Logger == nil && os.Getenv("FERN_JS_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	te := &testEngine{t: t, host: newFakeHost(), dir: cfg.StoreDir, cfg: cfg}
	te.start()
	t.Cleanup(func() { te.e.Stop() })
	return te
}

func (te *testEngine) start() {
	te.t.Helper()
	e, err := New(te.cfg, te.host)
	if err != nil {
		te.t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		te.t.Fatal(err)
	}
	te.e = e
}

// restart stops the engine and starts a new one on the same directory.
func (te *testEngine) restart() {
	te.t.Helper()
	if err := te.e.Stop(); err != nil {
		te.t.Fatal(err)
	}
	te.host = newFakeHost()
	te.start()
}

const waitReply = 10 * time.Second

// request sends a request and returns the single reply.
func (te *testEngine) request(subj string, hdr []byte, body string) fakeMsg {
	te.t.Helper()
	reply, ch := te.host.newInbox()
	te.host.deliver(subj, reply, hdr, []byte(body))
	select {
	case m := <-ch:
		return m
	case <-time.After(waitReply):
		te.t.Fatalf("no reply to %s %s", subj, body)
	}
	return fakeMsg{}
}

// noReply checks that a request gets no answer: the API goroutine answers
// in order, so once a later INFO is answered, an earlier reply would have
// arrived.
func (te *testEngine) noReply(subj string, body string) {
	te.t.Helper()
	reply, ch := te.host.newInbox()
	te.host.deliver(subj, reply, nil, []byte(body))
	te.request("$JS.API.INFO", nil, "")
	select {
	case m := <-ch:
		te.t.Fatalf("unexpected reply to %s: %s", subj, m.data)
	default:
	}
}

// api sends a request and decodes the JSON reply into a map.
func (te *testEngine) api(subj, body string) map[string]any {
	te.t.Helper()
	m := te.request(subj, nil, body)
	var v map[string]any
	if err := json.Unmarshal(m.data, &v); err != nil {
		te.t.Fatalf("%s: reply not JSON: %q", subj, m.data)
	}
	return v
}

// apiInto sends a request and decodes the reply into out.
func (te *testEngine) apiInto(subj, body string, out any) {
	te.t.Helper()
	m := te.request(subj, nil, body)
	if err := json.Unmarshal(m.data, out); err != nil {
		te.t.Fatalf("%s: %v: %q", subj, err, m.data)
	}
}

// mustCreate creates a stream and fails the test on an error reply.
func (te *testEngine) mustCreate(cfg string) map[string]any {
	te.t.Helper()
	var c struct{ Name string }
	json.Unmarshal([]byte(cfg), &c)
	r := te.api("$JS.API.STREAM.CREATE."+c.Name, cfg)
	if r["error"] != nil {
		te.t.Fatalf("create %s: %v", c.Name, r["error"])
	}
	return r
}

type pubAck struct {
	Error     *APIError `json:"error"`
	Stream    string    `json:"stream"`
	Seq       uint64    `json:"seq"`
	Duplicate bool      `json:"duplicate"`
	Domain    string    `json:"domain"`
}

// publish publishes with a reply and returns the PubAck.
func (te *testEngine) publish(subj string, hdr []byte, data string) pubAck {
	te.t.Helper()
	m := te.request(subj, hdr, data)
	var a pubAck
	if err := json.Unmarshal(m.data, &a); err != nil {
		te.t.Fatalf("puback not JSON: %q", m.data)
	}
	return a
}

// hdrs builds a header block from key, value pairs.
func hdrs(kv ...string) []byte {
	b := []byte("NATS/1.0\r\n")
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(b, kv[i]+": "+kv[i+1]+"\r\n"...)
	}
	return append(b, "\r\n"...)
}

func errCode(t *testing.T, r map[string]any) int {
	t.Helper()
	e, ok := r["error"].(map[string]any)
	if !ok {
		return 0
	}
	return int(e["err_code"].(float64))
}

func TestNewChecksConfig(t *testing.T) {
	h := newFakeHost()
	for _, tc := range []struct {
		name string
		cfg  Config
		host Host
	}{
		{"no dir", Config{}, h},
		{"no host", Config{StoreDir: t.TempDir()}, nil},
		{"bad sync", Config{StoreDir: t.TempDir(), Sync: 7}, h},
	} {
		if _, err := New(tc.cfg, tc.host); err == nil {
			t.Errorf("%s: New accepted %+v", tc.name, tc.cfg)
		}
	}
}

func TestStartStopLifecycle(t *testing.T) {
	te := startEngine(t, Config{})
	if err := te.e.Start(); err != ErrStarted {
		t.Fatalf("second Start: %v", err)
	}
	if n := te.host.subCount("$JS.API.>"); n != 1 {
		t.Fatalf("API subscriptions: %d", n)
	}
	if err := te.e.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := te.host.subCount("$JS.API.>"); n != 0 {
		t.Fatalf("API subscriptions after Stop: %d", n)
	}
	if err := te.e.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := te.e.Start(); err != ErrStopped {
		t.Fatalf("Start after Stop: %v", err)
	}
}

func TestDomainPrefixAndPubAck(t *testing.T) {
	te := startEngine(t, Config{Domain: "hub"})
	r := te.api("$JS.hub.API.STREAM.CREATE.S", `{"name":"S","subjects":["s.>"]}`)
	if r["error"] != nil {
		t.Fatal(r["error"])
	}
	a := te.publish("s.1", nil, "x")
	if a.Domain != "hub" || a.Seq != 1 {
		t.Fatalf("puback %+v", a)
	}
	info := te.api("$JS.API.INFO", "")
	if info["domain"] != "hub" {
		t.Fatalf("info domain: %v", info["domain"])
	}
}
