package fern

import (
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// recorded is one message an in-process handler received.
type recorded struct {
	subject, reply string
	hdr, data      string
}

type recorder struct {
	mu   sync.Mutex
	msgs []recorded
	ch   chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 100)} }

func (r *recorder) handle(subject, reply string, hdr, data []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, recorded{subject, reply, string(hdr), string(data)})
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *recorder) wait(t *testing.T, n int) []recorded {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-r.ch:
		case <-time.After(clusterWait):
			t.Fatalf("handler got %d of %d messages", i, n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.msgs...)
}

func TestJSHostSubscribeAndPublish(t *testing.T) {
	s := startServer(t, &Options{ServerName: "js"})
	h := newJSHost(s)
	rec := newRecorder()
	sub, err := h.Subscribe("orders.>", "", rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	nc := natsConn(t, s)
	m := nats.NewMsg("orders.new")
	m.Header.Set("Nats-Msg-Id", "1")
	m.Data = []byte("payload")
	m.Reply = "reply.to"
	if err := nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	nc.Publish("orders.plain", []byte("p2"))
	nc.Flush()
	got := rec.wait(t, 2)
	if got[0].subject != "orders.new" || got[0].reply != "reply.to" || got[0].data != "payload" ||
		got[0].hdr != "NATS/1.0\r\nNats-Msg-Id: 1\r\n\r\n" {
		t.Fatalf("first message: %+v", got[0])
	}
	if got[1].hdr != "" || got[1].data != "p2" {
		t.Fatalf("second message: %+v", got[1])
	}

	// Publishing reaches client subscribers, with headers.
	inbox, _ := nc.SubscribeSync("reply.>")
	nc.Flush()
	p := h.NewPublisher()
	p.Publish("reply.x", "", []byte("NATS/1.0\r\nA: b\r\n\r\n"), []byte("ack"))
	r, err := inbox.NextMsg(clusterWait)
	if err != nil || string(r.Data) != "ack" || r.Header.Get("A") != "b" {
		t.Fatalf("published reply: %v %+v", err, r)
	}
	if !h.HasInterest("orders.x") {
		t.Fatal("HasInterest misses the in-process subscription")
	}
	sub.Unsubscribe()
	if h.HasInterest("orders.x") {
		t.Fatal("in-process subscription still there after Unsubscribe")
	}
}

// In-process subscriptions stay local: routes do not hear of them and
// routed messages do not reach them.
func TestJSHostLocalOnly(t *testing.T) {
	a := startClusterServer(t, "a")
	b := startClusterServer(t, "b", routeURL(a))
	waitMesh(t, []*Server{a, b})
	h := newJSHost(a)
	rec := newRecorder()
	if _, err := h.Subscribe("local.>", "", rec.handle); err != nil {
		t.Fatal(err)
	}
	// A client subscription on a makes b forward local.x to a: the routed
	// copy must reach the client, not the in-process handler.
	ca := natsConn(t, a)
	cs, _ := ca.SubscribeSync("local.x")
	ca.Flush()
	waitInterest(t, b, "local.x", 1)
	cb := natsConn(t, b)
	cb.Publish("local.x", []byte("from b"))
	cb.Flush()
	if _, err := cs.NextMsg(clusterWait); err != nil {
		t.Fatal(err)
	}
	// Then a local publish on a: the handler sees it (and only it).
	ca.Publish("local.x", []byte("from a"))
	ca.Flush()
	got := rec.wait(t, 1)
	if len(got) != 1 || got[0].data != "from a" {
		t.Fatalf("handler got %+v", got)
	}
	if b.HasInterest("local.y") {
		t.Fatal("b heard of a's in-process subscription")
	}
}

func TestJSHostPublishAllocs(t *testing.T) {
	s := startServer(t, &Options{ServerName: "js"})
	h := newJSHost(s)
	var n int
	if _, err := h.Subscribe("sink", "", func(_, _ string, _, _ []byte) { n++ }); err != nil {
		t.Fatal(err)
	}
	p := h.NewPublisher()
	hdr, data := []byte("NATS/1.0\r\n\r\n"), []byte("x")
	p.Publish("none", "", hdr, data) // grow buffers
	if a := testing.AllocsPerRun(100, func() { p.Publish("none", "", hdr, data) }); a != 0 {
		t.Fatalf("Publish to no one: %v allocs", a)
	}
}

// PublishTo routes by the deliver subject and shows the stored subject.
func TestJSHostPublishTo(t *testing.T) {
	s := startServer(t, &Options{ServerName: "js"})
	h := newJSHost(s)
	nc := natsConn(t, s)
	inbox, _ := nc.SubscribeSync("_INBOX.pull.1")
	nc.Flush()
	p := h.NewPublisher().(*jsPublisher)
	p.PublishTo("_INBOX.pull.1", "orders.new", "$JS.ACK.S.C.1.1.1.0.0", nil, []byte("m"))
	m, err := inbox.NextMsg(clusterWait)
	if err != nil || m.Subject != "orders.new" || m.Reply != "$JS.ACK.S.C.1.1.1.0.0" || string(m.Data) != "m" {
		t.Fatalf("PublishTo: %v %+v", err, m)
	}
	// The override does not stick.
	other, _ := nc.SubscribeSync("plain")
	nc.Flush()
	p.Publish("plain", "", nil, []byte("x"))
	if m, err := other.NextMsg(clusterWait); err != nil || m.Subject != "plain" {
		t.Fatalf("Publish after PublishTo: %v %+v", err, m)
	}
}
