package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream domains over a leaf link, Fern against the official server in
// both directions: a leaf whose JetStream has the domain "factory" on a
// hub with JetStream on (with and without a domain of its own). A client
// of the hub reaches the leaf's JetStream with jetstream.NewWithDomain:
// it creates a stream there, reads what a client of the leaf published
// (by sequence and through a durable pull consumer, whose deliveries must
// show the stored subject), acknowledges across the link, uses a KV bucket
// through the domain, and, after the hub is replaced by a new one on the
// same leafnodes port, reads what the leaf stored while it was cut off.
//
// The leaf dials its hub through a leafTap, and the servers log into a
// buffer: a failure shows the wire exchange and the logs.

// jsDomain is the leaf's JetStream domain.
const jsDomain = "factory"

// jsDomainSubjects are the subjects the leaf's client publishes to, in
// turn: deliveries must show each message's own.
var jsDomainSubjects = []string{"factory.orders.new", "factory.orders.rush"}

func TestJetStreamDomainOverLeaf(t *testing.T) {
	f, o := harness.KindFern, harness.KindOfficial
	for _, tc := range []struct {
		leaf, hub, hubDomain string
	}{
		{leaf: f, hub: o},
		{leaf: f, hub: o, hubDomain: "hub"},
		{leaf: o, hub: f},
		{leaf: o, hub: f, hubDomain: "hub"},
	} {
		name := tc.leaf + "-leaf/" + tc.hub + "-hub"
		if tc.hubDomain != "" {
			name += "-domain-" + tc.hubDomain
		}
		t.Run(name, func(t *testing.T) {
			p := startDomainPair(t, tc.leaf, tc.hub, tc.hubDomain)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			p.checkStreamAndConsumer(ctx)
			p.checkKV(ctx)
			p.checkCutAndRestore(ctx)
		})
	}
}

// domainPair is a hub and a leaf with a JetStream domain, its client and
// a client of the hub.
type domainPair struct {
	t          *testing.T
	hubSpec    harness.LeafSpec
	hub, leaf  *harness.LeafServer
	tap        *leafTap
	logs       *syncLog
	leafClient *nats.Conn
	// core is a client of the hub; factory is its JetStream of the
	// leaf's domain, local its hub's own JetStream.
	core           *nats.Conn
	factory, local jetstream.JetStream
	published      int // messages the leaf's client has published
}

func startDomainPair(t *testing.T, leafKind, hubKind, hubDomain string) *domainPair {
	t.Helper()
	p := &domainPair{t: t, logs: &syncLog{}}
	logger := slog.New(slog.NewTextHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p.hubSpec = harness.LeafSpec{Kind: hubKind, Name: "hub", LeafListen: true, Logger: logger.With("side", "hub"),
		JetStream: &harness.LeafJetStream{StoreDir: t.TempDir(), Domain: hubDomain}}
	p.hub = startLeafServer(t, p.hubSpec)
	p.tap = newLeafTap(t, p.hub.LeafURL())
	p.leaf = startLeafServer(t, harness.LeafSpec{Kind: leafKind, Name: "leaf", Hubs: []string{p.tap.URL()},
		ReconnectInterval: 20 * time.Millisecond, Logger: logger.With("side", "leaf"),
		JetStream: &harness.LeafJetStream{StoreDir: t.TempDir(), Domain: jsDomain}})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("wire (leaf -> hub is \"->\"):\n%s", p.tap.transcript())
			t.Logf("logs:\n%s", p.logs.tail(150))
		}
	})
	p.leafClient = p.connect(p.leaf)
	p.attachCore()
	return p
}

// attachCore waits for the link and for the hub to hear of the domain's
// API, then connects the hub's client.
func (p *domainPair) attachCore() {
	p.t.Helper()
	p.waitFor("the leaf link", func() bool { return p.hub.NumLeafs() == 1 && p.leaf.NumLeafs() == 1 })
	p.waitFor("the hub to hear of $JS."+jsDomain+".API", func() bool {
		return p.hub.HasInterest("$JS." + jsDomain + ".API.INFO")
	})
	p.core = p.connect(p.hub)
	var err error
	if p.factory, err = jetstream.NewWithDomain(p.core, jsDomain); err != nil {
		p.t.Fatal(err)
	}
	if p.local, err = jetstream.New(p.core); err != nil {
		p.t.Fatal(err)
	}
}

func (p *domainPair) connect(s *harness.LeafServer) *nats.Conn {
	p.t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.NoReconnect(), nats.Name(p.t.Name()+"/"+s.Name()))
	if err != nil {
		p.t.Fatalf("connect to %s: %v", s.Name(), err)
	}
	p.t.Cleanup(nc.Close)
	return nc
}

func (p *domainPair) waitFor(what string, cond func() bool) {
	p.t.Helper()
	if err := harness.Poll(leafWait, what, cond); err != nil {
		p.t.Fatal(err)
	}
}

// publish sends n orders from the leaf's client, each acknowledged by the
// leaf's JetStream under its domain.
func (p *domainPair) publish(ctx context.Context, n int) {
	p.t.Helper()
	js, err := jetstream.New(p.leafClient)
	if err != nil {
		p.t.Fatal(err)
	}
	for range n {
		seq := p.published + 1
		ack, err := js.Publish(ctx, orderSubject(seq), []byte(orderData(seq)))
		if err != nil {
			p.t.Fatalf("leaf publish %d: %v", seq, err)
		}
		if ack.Stream != "ORDERS" || ack.Sequence != uint64(seq) || ack.Domain != jsDomain {
			p.t.Fatalf("leaf publish %d: ack %+v, want ORDERS seq %d domain %q", seq, ack, seq, jsDomain)
		}
		p.published = seq
	}
}

func orderSubject(seq int) string { return jsDomainSubjects[seq%len(jsDomainSubjects)] }
func orderData(seq int) string    { return "order " + strconv.Itoa(seq) }

// checkStreamAndConsumer creates the stream from the hub, on the leaf,
// and reads the leaf's orders from the hub.
func (p *domainPair) checkStreamAndConsumer(ctx context.Context) {
	t := p.t
	t.Helper()
	st, err := p.factory.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"factory.orders.>"}})
	if err != nil {
		t.Fatalf("create the stream through the domain: %v", err)
	}
	// It is on the leaf, not on the hub, whose own API stays its own.
	ljs, _ := jetstream.New(p.leafClient)
	if _, err := ljs.Stream(ctx, "ORDERS"); err != nil {
		t.Fatalf("the stream is not on the leaf: %v", err)
	}
	if _, err := p.local.Stream(ctx, "ORDERS"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("the hub's own JetStream on ORDERS: %v, want stream not found", err)
	}
	if ai, err := p.factory.AccountInfo(ctx); err != nil || ai.Domain != jsDomain || ai.Streams != 1 {
		t.Fatalf("account info through the domain: %v %+v", err, ai)
	}

	p.publish(ctx, 6)
	p.checkGet(ctx, st, 1)
	c, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "sync", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("consumer through the domain: %v", err)
	}
	p.fetchAll(ctx, c, 1)
}

// checkGet reads orders from..published by sequence through the domain.
func (p *domainPair) checkGet(ctx context.Context, st jetstream.Stream, from int) {
	p.t.Helper()
	for seq := from; seq <= p.published; seq++ {
		m, err := st.GetMsg(ctx, uint64(seq))
		if err != nil {
			p.t.Fatalf("get %d through the domain: %v", seq, err)
		}
		if string(m.Data) != orderData(seq) || m.Subject != orderSubject(seq) || m.Sequence != uint64(seq) {
			p.t.Fatalf("get %d: %q on %q seq %d, want %q on %q", seq, m.Data, m.Subject, m.Sequence,
				orderData(seq), orderSubject(seq))
		}
	}
}

// fetchAll fetches orders from..published with the durable consumer, each
// with its stored subject, acks each (waiting for the leaf's answer) and
// checks the consumer's state.
func (p *domainPair) fetchAll(ctx context.Context, c jetstream.Consumer, from int) {
	t := p.t
	t.Helper()
	// The leaf announces the consumer's ack subjects when it creates it.
	ack := "$JS.ACK.ORDERS.sync.1.1.1.1.0"
	p.waitFor("the hub to hear of "+ack, func() bool { return p.hub.HasInterest(ack) })
	want := p.published - from + 1
	batch, err := c.Fetch(want, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatalf("fetch through the domain: %v", err)
	}
	seq := from
	for m := range batch.Messages() {
		if string(m.Data()) != orderData(seq) || m.Subject() != orderSubject(seq) {
			t.Fatalf("fetched %q on %q, want %q on %q (reply %q)", m.Data(), m.Subject(),
				orderData(seq), orderSubject(seq), m.Reply())
		}
		if md, err := m.Metadata(); err != nil || md.Sequence.Stream != uint64(seq) {
			t.Fatalf("metadata of order %d: %v %+v (reply %q)", seq, err, md, m.Reply())
		}
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("ack order %d across the link: %v", seq, err)
		}
		seq++
	}
	if got := seq - from; got != want || batch.Error() != nil {
		t.Fatalf("fetched %d of %d: %v", got, want, batch.Error())
	}
	info, err := c.Info(ctx)
	if err != nil || info.AckFloor.Stream != uint64(p.published) || info.NumPending != 0 || info.NumAckPending != 0 {
		t.Fatalf("consumer after the acks: %v %+v", err, info)
	}
}

// checkKV uses a bucket on the leaf through the domain: created, written
// and read from the hub, read back on the leaf.
func (p *domainPair) checkKV(ctx context.Context) {
	t := p.t
	t.Helper()
	kv, err := p.factory.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "settings"})
	if err != nil {
		t.Fatalf("create a bucket through the domain: %v", err)
	}
	rev, err := kv.Put(ctx, "speed", []byte("fast"))
	if err != nil {
		t.Fatalf("kv put through the domain: %v", err)
	}
	e, err := kv.Get(ctx, "speed")
	if err != nil || string(e.Value()) != "fast" || e.Revision() != rev {
		t.Fatalf("kv get through the domain: %v %+v (put revision %d)", err, e, rev)
	}
	// An update carries the expected revision in a header: a stale one is
	// refused.
	if _, err := kv.Update(ctx, "speed", []byte("slow"), rev+7); !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		t.Fatalf("kv update at a stale revision through the domain: %v, want a revision mismatch", err)
	}
	if _, err := kv.Update(ctx, "speed", []byte("fast"), rev); err != nil {
		t.Fatalf("kv update through the domain: %v", err)
	}
	ljs, _ := jetstream.New(p.leafClient)
	lkv, err := ljs.KeyValue(ctx, "settings")
	if err != nil {
		t.Fatalf("the bucket on the leaf: %v", err)
	}
	if e, err := lkv.Get(ctx, "speed"); err != nil || string(e.Value()) != "fast" {
		t.Fatalf("kv get on the leaf: %v %+v", err, e)
	}
}

// checkCutAndRestore stops the hub, publishes on the leaf while it is cut
// off, starts a new hub on the same leafnodes port and reads the new
// orders from it.
func (p *domainPair) checkCutAndRestore(ctx context.Context) {
	t := p.t
	t.Helper()
	u, err := url.Parse(p.hub.LeafURL())
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	p.core.Close()
	p.hub.Stop()
	p.waitFor("the link down", func() bool { return p.leaf.NumLeafs() == 0 })
	from := p.published + 1
	p.publish(ctx, 4)

	spec := p.hubSpec
	spec.Name, spec.LeafPort = "hub2", port
	spec.JetStream = &harness.LeafJetStream{StoreDir: t.TempDir(), Domain: p.hubSpec.JetStream.Domain}
	p.hub = startLeafServer(t, spec)
	p.attachCore()
	st, err := p.factory.Stream(ctx, "ORDERS")
	if err != nil {
		t.Fatalf("the stream through the new hub: %v", err)
	}
	p.checkGet(ctx, st, from)
	c, err := st.Consumer(ctx, "sync")
	if err != nil {
		t.Fatalf("the durable through the new hub: %v", err)
	}
	p.fetchAll(ctx, c, from)
}

// syncLog collects the servers' log lines.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

// tail is the last n lines.
func (l *syncLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(strings.TrimRight(l.buf.String(), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("(%d lines left out)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
