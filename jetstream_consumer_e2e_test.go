package fern

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Consumers end to end with nats.go: pull (Fetch, Next, Consume), acks,
// redelivery, ordered consumers, KV keys/watch/history, legacy push
// subscriptions, and state across a restart.

func fillStream(t *testing.T, ctx context.Context, js jetstream.JetStream, name string, n int) jetstream.Stream {
	t.Helper()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if _, err := js.Publish(ctx, fmt.Sprintf("%s.%d", name, i%3), []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func TestJetStreamPullConsumerE2E(t *testing.T) {
	dir := t.TempDir()
	s := startJS(t, dir)
	_, js := jsClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st := fillStream(t, ctx, js, "P", 10)

	c, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "work", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 500 * time.Millisecond})
	if err != nil {
		t.Fatalf("create consumer: %v", err)
	}
	batch, err := c.Fetch(4)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []string
	for m := range batch.Messages() {
		seqs = append(seqs, string(m.Data()))
		md, _ := m.Metadata()
		if md.Stream != "P" || md.Consumer != "work" || md.NumDelivered != 1 {
			t.Fatalf("metadata %+v", md)
		}
		if m.Subject() == "" || m.Subject()[:2] != "P." {
			t.Fatalf("delivered with subject %q, want the stored one", m.Subject())
		}
		if string(m.Data()) == "2" {
			if err := m.Nak(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("double ack: %v", err)
		}
	}
	if batch.Error() != nil || fmt.Sprint(seqs) != "[1 2 3 4]" {
		t.Fatalf("fetch: %v %v", batch.Error(), seqs)
	}
	// The nak'd message comes back first, as a redelivery.
	m, err := c.Next()
	if err != nil || string(m.Data()) != "2" {
		t.Fatalf("redelivery: %v %v", err, m)
	}
	md, _ := m.Metadata()
	if md.NumDelivered != 2 {
		t.Fatalf("redelivered count %d", md.NumDelivered)
	}
	if err := m.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil || info.NumPending != 6 || info.NumAckPending != 0 || info.AckFloor.Stream != 4 {
		t.Fatalf("info: %v pending=%d ackpending=%d floor=%+v", err, info.NumPending, info.NumAckPending, info.AckFloor)
	}
	// Not acked: redelivered once ack_wait has passed (max_ack_pending 1
	// keeps anything else from being delivered meanwhile).
	rc, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "redo", FilterSubject: "P.1",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: 300 * time.Millisecond, MaxAckPending: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, _ = rc.Next()
	if string(m.Data()) != "1" {
		t.Fatalf("filtered next: %s", m.Data())
	}
	m, err = rc.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil || string(m.Data()) != "1" {
		t.Fatalf("redelivery after ack_wait: %v %v", err, m)
	}
	if md, _ := m.Metadata(); md.NumDelivered != 2 {
		t.Fatalf("redelivery count %d", md.NumDelivered)
	}
	m.DoubleAck(ctx)
	if m, _ = rc.Next(); string(m.Data()) != "4" {
		t.Fatalf("filtered next after ack: %s", m.Data())
	}

	// No messages: FetchNoWait ends empty, without error.
	c2, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "tail", DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		t.Fatal(err)
	}
	b2, err := c2.FetchNoWait(5)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range b2.Messages() {
		n++
	}
	if n != 0 || b2.Error() != nil {
		t.Fatalf("fetch no wait on nothing: %d msgs, %v", n, b2.Error())
	}

	// Consume delivers the rest; then restart and the durable state holds.
	got := make(chan string, 10)
	cc, err := c.Consume(func(m jetstream.Msg) { m.DoubleAck(ctx); got <- string(m.Data()) })
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		select {
		case <-got:
		case <-ctx.Done():
			t.Fatalf("consume: %d of 6", i)
		}
	}
	cc.Stop()
	info, err = c.Info(ctx)
	if err != nil || info.NumPending != 0 || info.AckFloor.Stream != 10 {
		t.Fatalf("after consume: %v %+v", err, info)
	}
	shutdownNow(t, s)
	s2 := startJS(t, dir)
	_, js2 := jsClient(t, s2)
	c3, err := js2.Consumer(ctx, "P", "work")
	if err != nil {
		t.Fatalf("consumer after restart: %v", err)
	}
	info, _ = c3.Info(ctx)
	if info.AckFloor.Stream != 10 || info.Delivered.Stream != 10 || info.NumPending != 0 {
		t.Fatalf("state after restart: %+v %+v", info.AckFloor, info.Delivered)
	}
	js2.Publish(ctx, "P.x", []byte("11"))
	m, err = c3.Next()
	if err != nil || string(m.Data()) != "11" {
		t.Fatalf("next after restart: %v %v", err, m)
	}
}

func TestJetStreamOrderedAndKVWatchE2E(t *testing.T) {
	s := startJS(t, t.TempDir())
	nc, js := jsClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st := fillStream(t, ctx, js, "O", 6)
	oc, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 6; i++ {
		m, err := oc.Next()
		if err != nil || string(m.Data()) != strconv.Itoa(i) {
			t.Fatalf("ordered %d: %v %v", i, err, m)
		}
	}

	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cfg", History: 5})
	if err != nil {
		t.Fatal(err)
	}
	kv.Put(ctx, "a", []byte("1"))
	kv.Put(ctx, "b", []byte("1"))
	kv.Put(ctx, "a", []byte("2"))
	keys, err := kv.Keys(ctx)
	if err != nil || fmt.Sprint(keys) != "[b a]" && fmt.Sprint(keys) != "[a b]" {
		t.Fatalf("keys: %v %v", err, keys)
	}
	hist, err := kv.History(ctx, "a")
	if err != nil || len(hist) != 2 || string(hist[1].Value()) != "2" {
		t.Fatalf("history: %v %d", err, len(hist))
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var initial []string
	for e := range w.Updates() {
		if e == nil {
			break // end of the initial values
		}
		initial = append(initial, e.Key()+"="+string(e.Value()))
	}
	if fmt.Sprint(initial) != "[b=1 a=2]" {
		t.Fatalf("watch initial values: %v", initial)
	}
	kv.Put(ctx, "c", []byte("3"))
	select {
	case e := <-w.Updates():
		if e.Key() != "c" || string(e.Value()) != "3" {
			t.Fatalf("watch update: %s=%s", e.Key(), e.Value())
		}
	case <-ctx.Done():
		t.Fatal("no watch update")
	}

	// Legacy push subscription (nats.JetStreamContext), queue group.
	ljs, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *nats.Msg, 10)
	sub, err := ljs.QueueSubscribe("O.>", "workers", func(m *nats.Msg) { m.Ack(); got <- m }, nats.DeliverAll())
	if err != nil {
		t.Fatalf("legacy queue subscribe: %v", err)
	}
	defer sub.Unsubscribe()
	for i := 1; i <= 6; i++ {
		select {
		case m := <-got:
			if string(m.Data) != strconv.Itoa(i) {
				t.Fatalf("push %d: %s", i, m.Data)
			}
		case <-ctx.Done():
			t.Fatalf("push: %d of 6", i-1)
		}
	}
	if _, err := js.Consumer(ctx, "O", "missing"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("missing consumer: %v", err)
	}
}

// Interest retention: a message no consumer wants is acknowledged but not
// kept; one that consumers want goes once all of them acknowledged it.
func TestJetStreamInterestRetentionE2E(t *testing.T) {
	s := startJS(t, t.TempDir())
	_, js := jsClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "I", Subjects: []string{"i.>"}, Retention: jetstream.InterestPolicy})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := js.Publish(ctx, "i.a", []byte("nobody"))
	if err != nil || ack.Sequence != 1 {
		t.Fatalf("publish without consumers: %v %+v", err, ack)
	}
	info, _ := st.Info(ctx)
	if info.State.Msgs != 0 || info.State.FirstSeq != 2 || info.State.LastSeq != 1 {
		t.Fatalf("state after an unwanted message: %+v", info.State)
	}
	c1, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "a", FilterSubject: "i.a", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "all", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	js.Publish(ctx, "i.a", []byte("both"))
	js.Publish(ctx, "i.b", []byte("only all"))
	info, _ = st.Info(ctx)
	if info.State.Msgs != 2 {
		t.Fatalf("wanted messages not kept: %+v", info.State)
	}
	m, err := c1.Next()
	if err != nil || string(m.Data()) != "both" {
		t.Fatalf("c1: %v %v", err, m)
	}
	m.DoubleAck(ctx)
	if info, _ = st.Info(ctx); info.State.Msgs != 2 {
		t.Fatalf("removed before every consumer acknowledged: %+v", info.State)
	}
	for i := 0; i < 2; i++ {
		m, err := c2.Next()
		if err != nil {
			t.Fatal(err)
		}
		m.DoubleAck(ctx)
	}
	waitFor(t, "interest stream empty", func() bool {
		info, err := st.Info(ctx)
		return err == nil && info.State.Msgs == 0
	})
}
