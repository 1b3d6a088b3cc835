package fern

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fernmq/fern/internal/faultnet"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Fault tests: whole topologies on internal/faultnet (fault_topology_test.go).

// TestFaultTopologyLinksAndHeals is the harness's own check at the server
// level: the topology links up, traffic flows both ways through the
// leaf, a cut of the leaf's hub link moves it to another core, a killed
// core comes back on its ports and rejoins the mesh.
func TestFaultTopologyLinksAndHeals(t *testing.T) {
	top := startFaultTopology(t, faultTopologyOptions{Leaf: true, JetStream: true, Domains: map[string]string{"leaf": "factory"}})
	probeBothWays(t, top)

	hub := ""
	for _, c := range top.cores {
		if top.server(c).NumLeafs() == 1 {
			hub = c
		}
	}
	top.net.Cut("leaf", hub)
	waitFor(t, "the leaf on another hub", func() bool {
		return top.server(hub).NumLeafs() == 0 && top.server("leaf").NumLeafs() == 1 && top.linkState() == ""
	})
	probeBothWays(t, top)

	if err := top.kill("n2"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n1 sees n2 gone", func() bool { return top.server("n1").NumRoutes() == 1 })
	top.heal(t)
	probeBothWays(t, top)
}

// probeBothWays checks, with bounded retries while interest propagates,
// that a request from every core reaches a responder on the leaf and one
// from the leaf reaches a responder on every core.
func probeBothWays(t *testing.T, top *faultTopology) {
	t.Helper()
	leaf := top.connect(t, "leaf")
	leaf.Subscribe("probe.down", func(m *nats.Msg) { m.Respond([]byte("leaf")) })
	leaf.Flush()
	for _, c := range top.cores {
		nc := top.connect(t, c)
		subj := "probe.up." + c
		nc.Subscribe(subj, func(m *nats.Msg) { m.Respond([]byte(c)) })
		nc.Flush()
		requestUntil(t, nc, "probe.down", "leaf")
		requestUntil(t, leaf, subj, c)
		nc.Close()
	}
	leaf.Close()
}

// requestUntil retries a request until it gets the expected answer
// (interest takes a moment to cross routes and leaf links).
func requestUntil(t *testing.T, nc *nats.Conn, subj, want string) {
	t.Helper()
	deadline := time.Now().Add(faultWait)
	for {
		m, err := nc.Request(subj, nil, 200*time.Millisecond)
		if err == nil && string(m.Data) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s: no answer %q after %v (last: %v)", subj, want, faultWait, err)
		}
	}
}

// TestFaultJetStreamLeafCrash: a file stream on the leaf (domain
// "factory") takes acknowledged publishes from a client on core n1,
// across the leaf link, while the schedule kills and restarts the leaf
// (on its crash clone: only what was synced survives) and cuts, flaps,
// blackholes and delays its links. After healing, every acknowledged
// message is in the stream once, in order, at the sequence its PubAck
// gave.
func TestFaultJetStreamLeafCrash(t *testing.T) {
	runFaultSeeds(t, 3, func(t *testing.T, seed uint64) {
		// Even seeds crash with torn writes: a random prefix of the
		// unsynced writes survives, and the next one is cut short.
		top := startFaultTopology(t, faultTopologyOptions{Leaf: true, JetStream: true, Seed: seed, TornCrash: seed%2 == 0,
			Domains: map[string]string{"leaf": "factory"}})
		ctx, cancel := context.WithTimeout(context.Background(), 4*faultWait)
		defer cancel()
		local, _ := jetstream.New(top.connect(t, "leaf"))
		if _, err := local.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"factory.orders.>"}}); err != nil {
			t.Fatal(err)
		}
		sched := faultnet.NewSchedule(faultnet.ScheduleConfig{
			Seed: seed, Duration: 1500 * time.Millisecond, FlapPeriod: 300 * time.Millisecond,
			Links:    [][2]string{{"leaf", "n1"}, {"leaf", "n2"}, {"leaf", "n3"}, {"client", "n1"}},
			Killable: []string{"leaf"}, Require: []faultnet.FaultKind{faultnet.FaultKill}, MaxEpisodes: 5,
		})
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(sched)
			}
		})

		pub := newAckedPublisher(top.connect(t, "n1"), "factory.orders.new")
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { defer close(done); pub.run(stop) }()
		stopPub := sync.OnceFunc(func() { close(stop); <-done })
		t.Cleanup(stopPub) // also when the test fails early
		if err := sched.Run(ctx, top.apply); err != nil {
			t.Fatal(err)
		}
		top.heal(t)
		// Publishes work again once healed.
		pub.waitAcks(t, pub.count()+5)
		stopPub()

		got := readStream(t, ctx, jsOf(t, top.connect(t, "leaf")), "ORDERS")
		if r := faultnet.Check(pub.acked(), got); !r.OK() {
			t.Fatalf("stream ORDERS after faults: %v", r)
		} else {
			t.Logf("%v", r)
		}
	})
}

func jsOf(t *testing.T, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// ackedPublisher publishes numbered messages asynchronously (up to 64
// awaiting their PubAck, so a crash finds writes not yet synced), each
// once (no retry), and records those whose PubAck came back.
type ackedPublisher struct {
	js   jetstream.JetStream
	subj string
	// perMilli, when set, paces the workload: at most that many
	// publishes per millisecond.
	perMilli int

	mu   sync.Mutex
	msgs []faultnet.Msg
	nums []int         // publish number of each of msgs
	more chan struct{} // closed and replaced on each ack
}

func newAckedPublisher(nc *nats.Conn, subj string) *ackedPublisher {
	js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(64), jetstream.WithPublishAsyncTimeout(500*time.Millisecond))
	return &ackedPublisher{js: js, subj: subj, more: make(chan struct{})}
}

type pendingPub struct {
	num int
	id  string
	f   jetstream.PubAckFuture
}

func (p *ackedPublisher) run(stop <-chan struct{}) {
	pending := make(chan pendingPub, 64)
	settled := make(chan struct{})
	go func() {
		defer close(settled)
		for pp := range pending {
			p.settle(pp)
		}
	}()
	defer func() { close(pending); <-settled }()
	var tick <-chan time.Time
	if p.perMilli > 0 {
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		tick = tk.C
	}
	for num := 1; ; num++ {
		select {
		case <-stop:
			return
		default:
		}
		if tick != nil && num%p.perMilli == 0 {
			select {
			case <-stop:
				return
			case <-tick:
			}
		}
		id := fmt.Sprintf("m%d", num)
		// No client retry: nats.go resends a publish answered "no
		// responders" 250 ms later, behind newer ones, which Check
		// reports as reordered (it did, before this option).
		f, err := p.js.PublishAsync(p.subj, []byte(id), jetstream.WithRetryAttempts(0))
		if err != nil {
			time.Sleep(5 * time.Millisecond) // workload pacing while disconnected
			continue
		}
		pending <- pendingPub{num: num, id: id, f: f}
	}
}

// settle records a PubAck, or drops a publish that got none: it may or
// may not be stored.
func (p *ackedPublisher) settle(pp pendingPub) {
	select {
	case ack := <-pp.f.Ok():
		p.mu.Lock()
		p.msgs = append(p.msgs, faultnet.Msg{ID: pp.id, Seq: ack.Sequence})
		p.nums = append(p.nums, pp.num)
		close(p.more)
		p.more = make(chan struct{})
		p.mu.Unlock()
	case <-pp.f.Err():
		// A quick failure (no responders while the leaf is away) would
		// spin the publisher: this slows it down.
		time.Sleep(5 * time.Millisecond) // workload pacing
	}
}

func (p *ackedPublisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.msgs)
}

// acked lists the acknowledged messages in publish order (one
// connection publishes them, so the stream must store them in it).
func (p *ackedPublisher) acked() []faultnet.Msg {
	p.mu.Lock()
	defer p.mu.Unlock()
	idx := make([]int, len(p.msgs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return p.nums[a] - p.nums[b] })
	out := make([]faultnet.Msg, len(idx))
	for i, j := range idx {
		out[i] = p.msgs[j]
	}
	return out
}

// waitAcks waits until n publishes were acknowledged.
func (p *ackedPublisher) waitAcks(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(faultWait)
	for {
		p.mu.Lock()
		k, more := len(p.msgs), p.more
		p.mu.Unlock()
		if k >= n {
			return
		}
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("%d of %d publishes acknowledged after %v", k, n, faultWait)
		}
	}
}

// readStream reads every message of a stream, in sequence order, with an
// ordered consumer.
func readStream(t *testing.T, ctx context.Context, js jetstream.JetStream, name string) []faultnet.Msg {
	t.Helper()
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs == 0 {
		return nil
	}
	oc, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("ordered consumer on %s: %v", name, err)
	}
	var out []faultnet.Msg
	for {
		batch, err := oc.FetchNoWait(4096)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		n := 0
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				t.Fatalf("read %s: %v", name, err)
			}
			out = append(out, faultnet.Msg{ID: string(m.Data()), Seq: md.Sequence.Stream})
			n++
			if md.Sequence.Stream >= info.State.LastSeq {
				return out
			}
		}
		if batch.Error() != nil {
			t.Fatalf("read %s: %v", name, batch.Error())
		}
		if n == 0 {
			select {
			case <-ctx.Done():
				t.Fatalf("read %s: %d of %d messages: %v", name, len(out), info.State.Msgs, ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// TestFaultHarnessCatchesUnsyncedAcks is the harness's check that a
// crash really drops what was not synced: with sync_interval (PubAcks
// before the fsync) a crash of the leaf loses acknowledged messages, and
// Check says so.
func TestFaultHarnessCatchesUnsyncedAcks(t *testing.T) {
	top := startFaultTopology(t, faultTopologyOptions{Cores: 1, Leaf: true, JetStream: true,
		Tweak: func(name string, o *Options) { o.JetStream.SyncInterval = time.Hour }})
	ctx, cancel := context.WithTimeout(context.Background(), faultWait)
	defer cancel()
	js := jsOf(t, top.connect(t, "leaf"))
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}}); err != nil {
		t.Fatal(err)
	}
	var acked []faultnet.Msg
	for i := range 20 {
		a, err := js.Publish(ctx, "s", fmt.Appendf(nil, "m%d", i))
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, faultnet.Msg{ID: fmt.Sprintf("m%d", i), Seq: a.Sequence})
	}
	if err := top.kill("leaf"); err != nil {
		t.Fatal(err)
	}
	top.heal(t)
	r := faultnet.Check(acked, readStream(t, ctx, jsOf(t, top.connect(t, "leaf")), "S"))
	if len(r.Lost) != 20 {
		t.Fatalf("unsynced acks survived a crash: %v", r)
	}
}

// TestFaultCorePubSubLinks: core pub/sub across 3 cores and the leaf
// while the schedule cuts, flaps, blackholes, delays and isolates links
// and may crash core n2 (its clients reconnect when it is back).
// Core NATS is at-most-once, so during the faults only this is checked:
// no subscriber gets a message twice, and a publisher's messages arrive
// in the order sent. After healing: the leaf is back on exactly one hub,
// requests flow both ways, and a batch published with interest
// established arrives whole, in order, at every subscriber.
func TestFaultCorePubSubLinks(t *testing.T) {
	runFaultSeeds(t, 3, func(t *testing.T, seed uint64) {
		top := startFaultTopology(t, faultTopologyOptions{Leaf: true, Seed: seed})
		servers := append(slices.Clone(top.cores), "leaf")
		sched := faultnet.NewSchedule(faultnet.ScheduleConfig{
			Seed: seed, Duration: 1500 * time.Millisecond, FlapPeriod: 300 * time.Millisecond,
			Hosts: servers, Killable: []string{"n2"}, MaxEpisodes: 6,
		})
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(sched)
			}
		})
		// Subscribers: the leaf on flow.down, every core on flow.up.
		subs := map[string]*flowSub{}
		for _, s := range servers {
			subj := "flow.up"
			if s == "leaf" {
				subj = "flow.down"
			}
			subs[s] = newFlowSub(t, top.connect(t, s), subj)
		}
		for _, s := range servers {
			waitFor(t, "interest everywhere", func() bool {
				return top.server(s).HasInterest("flow.up") && top.server(s).HasInterest("flow.down")
			})
		}
		// Publishers: every core on flow.down, the leaf on flow.up.
		pubs := map[string]*flowPub{}
		for _, s := range servers {
			subj := "flow.down"
			if s == "leaf" {
				subj = "flow.up"
			}
			pubs[s] = &flowPub{nc: top.connect(t, s), subj: subj, name: s}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for _, p := range pubs {
			wg.Add(1)
			go func() { defer wg.Done(); p.run(stop, "f") }()
		}
		stopPubs := sync.OnceFunc(func() { close(stop); wg.Wait() })
		t.Cleanup(stopPubs) // also when the test fails early
		ctx, cancel := context.WithTimeout(context.Background(), 2*faultWait)
		defer cancel()
		if err := sched.Run(ctx, top.apply); err != nil {
			t.Fatal(err)
		}
		stopPubs()
		top.heal(t)
		probeBothWays(t, top)
		for _, s := range servers {
			waitFor(t, "interest after healing", func() bool {
				return top.server(s).HasInterest("flow.up") && top.server(s).HasInterest("flow.down")
			})
		}
		// During the faults: at most once, in order.
		lost, sent := 0, 0
		for sub, fs := range subs {
			for pub, p := range pubs {
				if p.subj != fs.subj {
					continue
				}
				r := faultnet.Check(p.sentWith("f"), fs.from(pub, "f"))
				if len(r.Duplicated) > 0 || len(r.Reordered) > 0 || len(r.Unacked) > 0 {
					t.Errorf("%s -> %s during faults: %v", pub, sub, r)
				}
				lost += len(r.Lost)
				sent += r.Acked
			}
		}
		t.Logf("during faults: %d of %d deliveries lost (allowed); %d events", lost, sent, len(sched.Events))
		// Healed: a batch arrives whole.
		for _, p := range pubs {
			p.burst("s", 100)
		}
		for sub, fs := range subs {
			for pub, p := range pubs {
				if p.subj != fs.subj {
					continue
				}
				want := p.sentWith("s")
				fs.waitFrom(t, pub, "s", len(want))
				if r := faultnet.Check(want, fs.from(pub, "s")); !r.OK() {
					t.Errorf("%s -> %s after healing: %v", pub, sub, r)
				}
			}
		}
	})
}

// flowPub publishes "<name>|<phase><k>" messages.
type flowPub struct {
	nc         *nats.Conn
	subj, name string

	mu   sync.Mutex
	sent []faultnet.Msg
}

func (p *flowPub) publish(phase string) {
	p.mu.Lock()
	id := fmt.Sprintf("%s%d", phase, len(p.sent))
	p.sent = append(p.sent, faultnet.Msg{ID: id})
	p.mu.Unlock()
	p.nc.Publish(p.subj, []byte(p.name+"|"+id))
}

func (p *flowPub) run(stop <-chan struct{}, phase string) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		p.publish(phase)
		time.Sleep(2 * time.Millisecond) // workload pacing
	}
}

func (p *flowPub) burst(phase string, n int) {
	for range n {
		p.publish(phase)
	}
	p.nc.Flush()
}

// sentWith lists what was sent in a phase.
func (p *flowPub) sentWith(phase string) []faultnet.Msg {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []faultnet.Msg
	for _, m := range p.sent {
		if strings.HasPrefix(m.ID, phase) {
			out = append(out, m)
		}
	}
	return out
}

// flowSub records what a subscription received, by publisher.
type flowSub struct {
	subj string

	mu   sync.Mutex
	got  map[string][]faultnet.Msg
	more chan struct{}
}

func newFlowSub(t *testing.T, nc *nats.Conn, subj string) *flowSub {
	t.Helper()
	fs := &flowSub{subj: subj, got: map[string][]faultnet.Msg{}, more: make(chan struct{})}
	sub, err := nc.Subscribe(subj, func(m *nats.Msg) {
		pub, id, _ := strings.Cut(string(m.Data), "|")
		fs.mu.Lock()
		fs.got[pub] = append(fs.got[pub], faultnet.Msg{ID: id})
		close(fs.more)
		fs.more = make(chan struct{})
		fs.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	nc.Flush()
	return fs
}

func (fs *flowSub) from(pub, phase string) []faultnet.Msg {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []faultnet.Msg
	for _, m := range fs.got[pub] {
		if strings.HasPrefix(m.ID, phase) {
			out = append(out, m)
		}
	}
	return out
}

// waitFrom waits until n messages of a phase came from pub.
func (fs *flowSub) waitFrom(t *testing.T, pub, phase string, n int) {
	t.Helper()
	deadline := time.After(faultWait)
	for {
		fs.mu.Lock()
		more := fs.more
		fs.mu.Unlock()
		if k := len(fs.from(pub, phase)); k >= n {
			return
		}
		select {
		case <-more:
		case <-deadline:
			t.Errorf("%s: %d of %d %q messages from %s", fs.subj, len(fs.from(pub, phase)), n, phase, pub)
			return
		}
	}
}
