package interop

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream sources and mirrors across a leaf link, Fern against the official
// server in both directions (and official against official, which proves
// the test itself): the hub's stream CORE sources the leaf's ORDERS
// through the leaf's JetStream domain (the seed's case), and the leaf's
// stream CONFIG_M mirrors the hub's CONFIG through the hub's domain
// (reference data sent down to the edge). Each runs with a Limits and a
// WorkQueue upstream: with WorkQueue, a message leaves the upstream only
// once the downstream has stored it. Then the link is cut and kept cut
// while both sides take more publishes, and healed: everything arrives,
// exactly once and in order, without anyone pulling.

// jsHubDomain is the hub's JetStream domain, which the leaf's mirror
// names.
const jsHubDomain = "hub"

func TestJetStreamSourceOverLeaf(t *testing.T) {
	f, o := harness.KindFern, harness.KindOfficial
	for _, kinds := range [][2]string{{o, o}, {f, o}, {o, f}, {f, f}} {
		for _, retention := range []jetstream.RetentionPolicy{jetstream.LimitsPolicy, jetstream.WorkQueuePolicy} {
			name := fmt.Sprintf("%s-leaf/%s-hub/%s", kinds[0], kinds[1], retention)
			t.Run(name, func(t *testing.T) {
				p := startDomainPair(t, kinds[0], kinds[1], jsHubDomain)
				ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
				defer cancel()
				sp := newSourcePair(ctx, p, retention)
				sp.publishBoth(10)
				sp.waitSynced()
				p.tap.setDown(true)
				p.waitFor("the link down", func() bool { return p.leaf.NumLeafs() == 0 && p.hub.NumLeafs() == 0 })
				sp.publishBoth(15)
				p.tap.setDown(false)
				sp.waitSynced()
				sp.checkInfo()
			})
		}
	}
}

// sourcePair is a domainPair with the two sourced streams.
type sourcePair struct {
	ctx context.Context
	p   *domainPair
	// leafJS is the leaf's own JetStream; core the hub's.
	leafJS, core jetstream.JetStream
	workQueue    bool
	// configs is how many CONFIG messages the hub's client has published.
	configs int
}

func newSourcePair(ctx context.Context, p *domainPair, retention jetstream.RetentionPolicy) *sourcePair {
	t := p.t
	t.Helper()
	sp := &sourcePair{ctx: ctx, p: p, core: p.local, workQueue: retention == jetstream.WorkQueuePolicy}
	var err error
	if sp.leafJS, err = jetstream.New(p.leafClient); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.leafJS.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS",
		Subjects: []string{"factory.orders.>"}, Retention: retention}); err != nil {
		t.Fatalf("leaf stream ORDERS: %v", err)
	}
	if _, err := sp.core.CreateStream(ctx, jetstream.StreamConfig{Name: "CORE",
		Sources: []*jetstream.StreamSource{{Name: "ORDERS", Domain: jsDomain}}}); err != nil {
		t.Fatalf("hub stream CORE sourcing ORDERS: %v", err)
	}
	if _, err := sp.core.CreateStream(ctx, jetstream.StreamConfig{Name: "CONFIG",
		Subjects: []string{"config.>"}, Retention: retention}); err != nil {
		t.Fatalf("hub stream CONFIG: %v", err)
	}
	if _, err := sp.leafJS.CreateStream(ctx, jetstream.StreamConfig{Name: "CONFIG_M",
		Mirror: &jetstream.StreamSource{Name: "CONFIG", Domain: jsHubDomain}}); err != nil {
		t.Fatalf("leaf stream CONFIG_M mirroring CONFIG: %v", err)
	}
	return sp
}

// publishBoth publishes n orders on the leaf and n configs on the hub,
// each acknowledged by its own side's JetStream (whether or not the link
// is up).
func (sp *sourcePair) publishBoth(n int) {
	t := sp.p.t
	t.Helper()
	sp.p.publish(sp.ctx, n)
	for range n {
		sp.configs++
		if _, err := sp.core.Publish(sp.ctx, "config.line", []byte(configData(sp.configs))); err != nil {
			t.Fatalf("hub publish config %d: %v", sp.configs, err)
		}
	}
}

func configData(n int) string { return "config " + strconv.Itoa(n) }

// waitSynced waits until CORE holds every order and CONFIG_M every
// config, then checks both exactly: order, subject, content, and the
// source header or the mirrored sequence.
func (sp *sourcePair) waitSynced() {
	t := sp.p.t
	t.Helper()
	core := sp.stream(sp.core, "CORE")
	mirror := sp.stream(sp.leafJS, "CONFIG_M")
	sp.waitMsgs(core, "CORE", sp.p.published)
	sp.waitMsgs(mirror, "CONFIG_M", sp.configs)
	for seq := 1; seq <= sp.p.published; seq++ {
		m, err := core.GetMsg(sp.ctx, uint64(seq))
		if err != nil {
			t.Fatalf("CORE seq %d: %v", seq, err)
		}
		if string(m.Data) != orderData(seq) || m.Subject != orderSubject(seq) {
			t.Fatalf("CORE seq %d: %q on %q, want %q on %q (lost, duplicated or reordered)", seq, m.Data, m.Subject,
				orderData(seq), orderSubject(seq))
		}
		// Nats-Stream-Source: <index name> <upstream seq> <src> <dest> <subject>[ <identity>]
		f := strings.Fields(m.Header.Get("Nats-Stream-Source"))
		if len(f) < 5 || !strings.HasPrefix(f[0], "ORDERS") || f[1] != strconv.Itoa(seq) || f[4] != orderSubject(seq) {
			t.Fatalf("CORE seq %d: Nats-Stream-Source %q, want ORDERS… %d > > %s", seq,
				m.Header.Get("Nats-Stream-Source"), seq, orderSubject(seq))
		}
	}
	for seq := 1; seq <= sp.configs; seq++ {
		m, err := mirror.GetMsg(sp.ctx, uint64(seq))
		if err != nil {
			t.Fatalf("CONFIG_M seq %d: %v", seq, err)
		}
		if string(m.Data) != configData(seq) || m.Subject != "config.line" {
			t.Fatalf("CONFIG_M seq %d: %q on %q, want %q (lost, duplicated or reordered)", seq, m.Data, m.Subject, configData(seq))
		}
	}
	if sp.workQueue {
		// Removed upstream once stored downstream.
		sp.waitMsgs(sp.stream(sp.leafJS, "ORDERS"), "ORDERS (work queue)", 0)
		sp.waitMsgs(sp.stream(sp.core, "CONFIG"), "CONFIG (work queue)", 0)
	}
}

// checkInfo checks what stream info says of the source and the mirror
// once they are in sync.
func (sp *sourcePair) checkInfo() {
	t := sp.p.t
	t.Helper()
	info, err := sp.stream(sp.core, "CORE").Info(sp.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Sources) != 1 || info.Sources[0].Name != "ORDERS" || info.Sources[0].Error != nil ||
		info.Sources[0].External == nil || info.Sources[0].External.APIPrefix != "$JS."+jsDomain+".API" {
		t.Fatalf("CORE sources info: %+v", info.Sources)
	}
	minfo, err := sp.stream(sp.leafJS, "CONFIG_M").Info(sp.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if minfo.Mirror == nil || minfo.Mirror.Name != "CONFIG" || minfo.Mirror.Error != nil || minfo.Mirror.Lag != 0 {
		t.Fatalf("CONFIG_M mirror info: %+v", minfo.Mirror)
	}
	if minfo.State.LastSeq != uint64(sp.configs) {
		t.Fatalf("CONFIG_M last seq %d, want %d (a mirror keeps the upstream's sequences)", minfo.State.LastSeq, sp.configs)
	}
}

func (sp *sourcePair) stream(js jetstream.JetStream, name string) jetstream.Stream {
	sp.p.t.Helper()
	st, err := js.Stream(sp.ctx, name)
	if err != nil {
		sp.p.t.Fatalf("stream %s: %v", name, err)
	}
	return st
}

// waitMsgs waits until st holds want messages (and says how many it had).
func (sp *sourcePair) waitMsgs(st jetstream.Stream, name string, want int) {
	sp.p.t.Helper()
	var last uint64
	err := harness.Poll(20*time.Second, fmt.Sprintf("%s to hold %d messages", name, want), func() bool {
		info, err := st.Info(sp.ctx)
		if err != nil {
			return false
		}
		last = info.State.Msgs
		return last == uint64(want)
	})
	if err != nil {
		sp.p.t.Fatalf("%v (it holds %d)", err, last)
	}
}
