package fern_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fernmq/fern"
	"github.com/nats-io/nats.go"
)

// End-to-end behaviour through the real client, nats.go v1.55.

func TestClientPubSub(t *testing.T) {
	s := runServer(t, nil)
	pub, sub := connect(t, s), connect(t, s)
	ch := make(chan *nats.Msg, 16)
	if _, err := sub.ChanSubscribe("factory.orders.*", ch); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.ChanSubscribe("factory.>", ch); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish("factory.orders.new", []byte("order-1")); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish("other.subject", []byte("nobody")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // one per matching subscription
		m := recv(t, ch)
		if m.Subject != "factory.orders.new" || string(m.Data) != "order-1" {
			t.Fatalf("got %s %q", m.Subject, m.Data)
		}
	}
	pub.Flush()
	sub.Flush()
	select {
	case m := <-ch:
		t.Fatalf("unexpected extra message %s", m.Subject)
	default:
	}
}

func recv(t *testing.T, ch <-chan *nats.Msg) *nats.Msg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(testTimeout):
		t.Fatal("no message")
		return nil
	}
}

func TestClientHeaders(t *testing.T) {
	s := runServer(t, nil)
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("h")
	m := nats.NewMsg("h")
	m.Header.Set("Trace-Id", "abc")
	m.Data = []byte("body")
	if err := nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	got, err := sub.NextMsg(testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Get("Trace-Id") != "abc" || string(got.Data) != "body" {
		t.Fatalf("header %v data %q", got.Header, got.Data)
	}
}

func TestClientQueueGroupEachMessageOnce(t *testing.T) {
	s := runServer(t, nil)
	const members, msgs = 5, 1000
	var total atomic.Int64
	counts := make([]atomic.Int64, members)
	done := make(chan struct{})
	for i := 0; i < members; i++ {
		nc := connect(t, s)
		i := i
		if _, err := nc.QueueSubscribe("work", "workers", func(*nats.Msg) {
			counts[i].Add(1)
			if total.Add(1) == msgs {
				close(done)
			}
		}); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
	}
	// A plain subscriber on the same subject gets every message too.
	plain := connect(t, s)
	psub, _ := plain.SubscribeSync("work")
	plain.Flush()
	pub := connect(t, s)
	for i := 0; i < msgs; i++ {
		pub.Publish("work", []byte("job"))
	}
	pub.Flush()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatalf("queue group received %d of %d", total.Load(), msgs)
	}
	for i := 0; i < msgs; i++ {
		if _, err := psub.NextMsg(testTimeout); err != nil {
			t.Fatalf("plain subscriber: message %d: %v", i, err)
		}
	}
	// Flush every member's connection: no extra delivery may be in flight.
	pub.Flush()
	if n := total.Load(); n != msgs {
		t.Fatalf("queue group received %d, want exactly %d", n, msgs)
	}
	used := 0
	for i := range counts {
		if counts[i].Load() > 0 {
			used++
		}
	}
	if used < 2 {
		t.Fatalf("all messages went to %d member(s); expected a spread", used)
	}
}

func TestClientRequestReply(t *testing.T) {
	s := runServer(t, nil)
	svc, cli := connect(t, s), connect(t, s)
	svc.Subscribe("svc.echo", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) })
	svc.Flush()
	for i := 0; i < 50; i++ {
		r, err := cli.Request("svc.echo", []byte(fmt.Sprint(i)), testTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Data) != fmt.Sprintf("re:%d", i) {
			t.Fatalf("reply %q", r.Data)
		}
	}
}

func TestClientNoResponders(t *testing.T) {
	s := runServer(t, nil)
	nc := connect(t, s)
	_, err := nc.Request("nobody.home", []byte("x"), testTimeout)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("got %v, want ErrNoResponders", err)
	}
}

func TestClientAutoUnsubscribe(t *testing.T) {
	s := runServer(t, nil)
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("limited")
	sub.AutoUnsubscribe(3)
	for i := 0; i < 10; i++ {
		nc.Publish("limited", []byte("x"))
	}
	nc.Flush()
	for i := 0; i < 3; i++ {
		if _, err := sub.NextMsg(testTimeout); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sub.NextMsg(50 * time.Millisecond); err == nil {
		t.Fatal("got a 4th message after auto-unsubscribe at 3")
	}
	waitFor(t, "server-side unsubscribe", func() bool { return s.NumSubscriptions() == 0 })
}

func TestClientUnsubscribeStopsDelivery(t *testing.T) {
	s := runServer(t, nil)
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("u")
	nc.Flush()
	if s.NumSubscriptions() != 1 {
		t.Fatalf("subs = %d", s.NumSubscriptions())
	}
	sub.Unsubscribe()
	nc.Flush()
	if s.NumSubscriptions() != 0 {
		t.Fatalf("subs after unsubscribe = %d", s.NumSubscriptions())
	}
}

func TestClientNoEcho(t *testing.T) {
	s := runServer(t, nil)
	nc := connect(t, s, nats.NoEcho())
	other := connect(t, s)
	self, _ := nc.SubscribeSync("e")
	theirs, _ := other.SubscribeSync("e")
	nc.Flush()
	other.Flush()
	nc.Publish("e", []byte("x"))
	nc.Flush()
	if _, err := theirs.NextMsg(testTimeout); err != nil {
		t.Fatal(err)
	}
	if _, err := self.NextMsg(50 * time.Millisecond); err == nil {
		t.Fatal("no-echo client received its own message")
	}
}

func TestClientMaxPayload(t *testing.T) {
	s := runServer(t, &fern.Options{MaxPayload: 1024})
	nc := connect(t, s)
	if got := nc.MaxPayload(); got != 1024 {
		t.Fatalf("client sees max_payload %d", got)
	}
	if err := nc.Publish("big", make([]byte, 2048)); !errors.Is(err, nats.ErrMaxPayload) {
		t.Fatalf("got %v, want ErrMaxPayload", err)
	}
}

func TestClientAuth(t *testing.T) {
	s := runServer(t, &fern.Options{Authorization: fern.Authorization{User: "ops", Password: "pw"}})
	if _, err := nats.Connect(s.ClientURL(), nats.UserInfo("ops", "wrong")); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("wrong password: got %v, want authorization violation", err)
	}
	if _, err := nats.Connect(s.ClientURL()); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("no credentials: got %v", err)
	}
	nc := connect(t, s, nats.UserInfo("ops", "pw"))
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	ts := runServer(t, &fern.Options{Authorization: fern.Authorization{Token: "tok"}})
	connect(t, ts, nats.Token("tok"))
	if _, err := nats.Connect(ts.ClientURL(), nats.Token("bad")); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("bad token: got %v", err)
	}
}

// A subscriber that never reads is cut off as a slow consumer; the
// publisher is never blocked by it and a healthy subscriber gets all.
func TestClientSlowConsumerDoesNotBlockPublisher(t *testing.T) {
	s := runServer(t, &fern.Options{MaxPending: 1 << 20, MaxPayload: 64 << 10, WriteDeadline: 200 * time.Millisecond})
	slow := dialRaw(t, s)
	slow.send("CONNECT {\"verbose\":false}\r\nSUB flood 1\r\nPING\r\n")
	slow.expect("PONG\r\n")
	// The slow client now stops reading.
	healthy := connect(t, s)
	got := make(chan struct{}, 1024)
	healthy.Subscribe("flood", func(*nats.Msg) { got <- struct{}{} })
	healthy.Flush()
	pub := connect(t, s)
	payload := make([]byte, 4096)
	// 64 MB in batches of 400 KB: the healthy subscriber drains each batch
	// before the next, so only the slow one can exceed max_pending.
	const batches, batch = 160, 100
	for b := 0; b < batches; b++ {
		for i := 0; i < batch; i++ {
			if err := pub.Publish("flood", payload); err != nil {
				t.Fatal(err)
			}
		}
		if err := pub.FlushTimeout(testTimeout); err != nil {
			t.Fatalf("publisher blocked in batch %d: %v", b, err)
		}
		for i := 0; i < batch; i++ {
			select {
			case <-got:
			case <-time.After(testTimeout):
				t.Fatalf("healthy subscriber stalled in batch %d at %d", b, i)
			}
		}
	}
	waitFor(t, "slow consumer to be closed", func() bool { return s.NumClients() == 2 })
}

func TestClientConcurrentPublishers(t *testing.T) {
	s := runServer(t, nil)
	sub := connect(t, s)
	var got atomic.Int64
	const pubs, each = 4, 500
	done := make(chan struct{})
	sub.Subscribe("c.>", func(*nats.Msg) {
		if got.Add(1) == pubs*each {
			close(done)
		}
	})
	sub.Flush()
	var wg sync.WaitGroup
	for p := 0; p < pubs; p++ {
		wg.Add(1)
		nc := connect(t, s)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				nc.Publish(fmt.Sprintf("c.%d", p), []byte("x"))
			}
			nc.Flush()
		}(p)
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatalf("got %d of %d", got.Load(), pubs*each)
	}
}

// A subscriber that stops reading is cut off by write_deadline even when
// max_pending is far away.
func TestClientSlowConsumerWriteDeadline(t *testing.T) {
	s := runServer(t, &fern.Options{MaxPending: 512 << 20, MaxPayload: 1 << 20, WriteDeadline: 100 * time.Millisecond})
	slow := dialRaw(t, s)
	slow.send("CONNECT {\"verbose\":false}\r\nSUB flood 1\r\nPING\r\n")
	slow.expect("PONG\r\n")
	pub := connect(t, s)
	closedBy := make(chan struct{})
	go func() {
		defer close(closedBy)
		payload := make([]byte, 64<<10)
		// Far more than the kernel buffers hold; the writer blocks, the
		// deadline passes and the server drops the client. Bounded.
		for i := 0; i < 4096 && s.NumClients() == 2; i++ {
			if err := pub.Publish("flood", payload); err != nil {
				return
			}
			if i%64 == 0 {
				pub.Flush()
			}
		}
	}()
	waitFor(t, "write-deadline slow consumer to be closed", func() bool { return s.NumClients() == 1 })
	<-closedBy
	if err := pub.FlushTimeout(testTimeout); err != nil {
		t.Fatalf("publisher affected: %v", err)
	}
}
