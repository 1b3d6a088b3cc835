package interop

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
	"github.com/nats-io/nats.go"
)

// Leaf interop: an official leaf on a Fern hub, a Fern leaf on an official
// hub (and, as controls, each implementation with itself), then a leaf on
// a hub that is one server of a two-server cluster. The leaf always dials
// its hub's leafnodes port through a leafTap, so the tests can check the
// wire (each message crosses once; a subject nobody wants never crosses;
// LS- on withdrawal) and show the exchange when something fails.
//
// Every wait polls server state (HasInterest, NumLeafs, NumRoutes) or the
// book of deliveries with a bounded deadline; exact counts are checked
// after a fence message has followed the data along the same path.

const (
	// leafReconnect is the leaf's redial delay in these tests.
	leafReconnect = 50 * time.Millisecond
	// leafMsgs is how many messages each direction carries.
	leafMsgs = 300
	// leafRequests is how many requests each direction sends.
	leafRequests = 20
)

// leafPair is a hub and a leaf attached to it through a tap.
type leafPair struct {
	hub, leaf *harness.LeafServer
	tap       *leafTap
}

func startLeafPair(t *testing.T, hubKind, leafKind string) *leafPair {
	t.Helper()
	hub := startLeafServer(t, harness.LeafSpec{Kind: hubKind, Name: "hub-" + hubKind, LeafListen: true})
	tap := newLeafTap(t, hub.LeafURL())
	leaf := startLeafServer(t, harness.LeafSpec{Kind: leafKind, Name: "leaf-" + leafKind,
		Hubs: []string{tap.URL()}, ReconnectInterval: leafReconnect})
	leafWaitFor(t, tap, "leaf attached", func() bool { return hub.NumLeafs() == 1 && leaf.NumLeafs() == 1 })
	return &leafPair{hub: hub, leaf: leaf, tap: tap}
}

// leafCheckWire fails the test unless the leaf opened conns connections
// and neither side sent -ERR.
func leafCheckWire(t *testing.T, tap *leafTap, conns int) {
	t.Helper()
	if n, errs := tap.accepted(), tap.errLines(); n != conns || len(errs) > 0 {
		t.Errorf("leaf connections %d (want %d), -ERR lines %q\nwire:\n%s", n, conns, errs, tap.transcript())
	}
}

func TestLeafInterop(t *testing.T) {
	tests := []struct {
		name              string
		hubKind, leafKind string
	}{
		{"official leaf on fern hub", harness.KindFern, harness.KindOfficial},
		{"fern leaf on official hub", harness.KindOfficial, harness.KindFern},
		{"control: official leaf on official hub", harness.KindOfficial, harness.KindOfficial},
		{"control: fern leaf on fern hub", harness.KindFern, harness.KindFern},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lp := startLeafPair(t, tc.hubKind, tc.leafKind)
			t.Run("messages both ways", func(t *testing.T) { leafMessagesBothWays(t, lp) })
			t.Run("request reply", func(t *testing.T) { leafRequestReply(t, lp) })
			t.Run("queue groups", func(t *testing.T) { leafQueueGroups(t, lp) })
			t.Run("interest withdrawal", func(t *testing.T) { leafWithdrawal(t, lp) })
			t.Run("keepalive", func(t *testing.T) {
				leafWaitFor(t, lp.tap, "a PING each way, each answered", func() bool { return lp.tap.pingsAnswered(1) })
			})
			leafCheckWire(t, lp.tap, 1)
			t.Run("link drop and resync", func(t *testing.T) { leafResync(t, lp) })
			leafCheckWire(t, lp.tap, 2)
		})
	}
}

// leafCheckOnce fails the test unless the subscriptions keys together got
// every payload of want exactly once.
func leafCheckOnce(t *testing.T, bk *leafBook, tap *leafTap, what string, keys []string, want []string) {
	t.Helper()
	if bad := bk.exactlyOnce(keys, want); len(bad) > 0 {
		t.Errorf("%s: not exactly once: %s\nwire:\n%s", what, strings.Join(bad, ", "), tap.transcript())
	}
}

// leafCrossings is how many message lines for subject went in direction dir.
func leafCrossings(tap *leafTap, dir, subject string) int {
	return tap.count(dir, "LMSG", subject) + tap.count(dir, "HMSG", subject)
}

func leafMessagesBothWays(t *testing.T, lp *leafPair) {
	bk := newLeafBook()
	hubSub := newLeafPeer(t, bk, lp.hub, "hubsub")
	hubPub := newLeafPeer(t, bk, lp.hub, "hubpub")
	leafSub := newLeafPeer(t, bk, lp.leaf, "leafsub")
	leafPub := newLeafPeer(t, bk, lp.leaf, "leafpub")
	// Two matching subscriptions on one connection each side: a literal
	// and a wildcard. Each message still crosses once.
	hubSub.sub(t, "up.data", "")
	hubSub.sub(t, "up.*", "")
	leafSub.sub(t, "down.data", "")
	leafSub.sub(t, "down.>", "")
	leafWaitFor(t, lp.tap, "leaf learns up.data", func() bool { return lp.leaf.HasInterest("up.data") })
	leafWaitFor(t, lp.tap, "hub learns down.data", func() bool { return lp.hub.HasInterest("down.data") })

	up, down := leafPayloads("up", leafMsgs), leafPayloads("down", leafMsgs)
	leafPub.publish(t, "nobody.up", leafPayloads("nobody", 10))
	leafPub.publish(t, "up.data", up)
	hubPub.publish(t, "nobody.down", leafPayloads("nobody", 10))
	hubPub.publish(t, "down.data", down)
	leafPub.fence(t, lp.tap, hubSub)
	hubPub.fence(t, lp.tap, leafSub)

	leafCheckOnce(t, bk, lp.tap, "leaf -> hub, literal", []string{hubSub.key("up.data", "")}, up)
	leafCheckOnce(t, bk, lp.tap, "leaf -> hub, wildcard", []string{hubSub.key("up.*", "")}, up)
	leafCheckOnce(t, bk, lp.tap, "hub -> leaf, literal", []string{leafSub.key("down.data", "")}, down)
	leafCheckOnce(t, bk, lp.tap, "hub -> leaf, wildcard", []string{leafSub.key("down.>", "")}, down)
	for _, c := range []struct {
		dir, subject string
		want         int
	}{
		{"->", "up.data", leafMsgs}, {"<-", "down.data", leafMsgs},
		{"->", "nobody.up", 0}, {"<-", "nobody.down", 0},
	} {
		if got := leafCrossings(lp.tap, c.dir, c.subject); got != c.want {
			t.Errorf("%s crossed %s %d times, want %d\nwire:\n%s", c.subject, c.dir, got, c.want, lp.tap.transcript())
		}
	}
}

// leafRespond answers every request on subject with "re:" and the request.
func leafRespond(t *testing.T, p *leafPeer, subject string) {
	t.Helper()
	_, err := p.nc.Subscribe(subject, func(m *nats.Msg) { _ = m.Respond(append([]byte("re:"), m.Data...)) })
	if err != nil {
		t.Fatalf("%s: subscribe %s: %v", p.name, subject, err)
	}
	if err := p.nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// leafRequestN sends n requests from p to subject and checks every reply.
func leafRequestN(t *testing.T, tap *leafTap, p *leafPeer, subject string, n int) {
	t.Helper()
	leafWaitFor(t, tap, p.srv.Name()+" learns "+subject, func() bool { return p.srv.HasInterest(subject) })
	for i := range n {
		req := fmt.Sprintf("%s-%d", p.name, i)
		m, err := p.nc.Request(subject, []byte(req), leafWait)
		if err != nil {
			t.Fatalf("%s: request %d on %s: %v\nwire:\n%s", p.name, i, subject, err, tap.transcript())
		}
		if string(m.Data) != "re:"+req {
			t.Fatalf("%s: reply %q to %q", p.name, m.Data, req)
		}
	}
}

func leafRequestReply(t *testing.T, lp *leafPair) {
	bk := newLeafBook()
	hubP := newLeafPeer(t, bk, lp.hub, "hubrr")
	leafP := newLeafPeer(t, bk, lp.leaf, "leafrr")
	leafRespond(t, hubP, "svc.hub")
	leafRespond(t, leafP, "svc.leaf")
	leafRequestN(t, lp.tap, leafP, "svc.hub", leafRequests)
	leafRequestN(t, lp.tap, hubP, "svc.leaf", leafRequests)
}

func leafQueueGroups(t *testing.T, lp *leafPair) {
	bk := newLeafBook()
	var hubM, leafM []*leafPeer
	for i := range 2 {
		hubM = append(hubM, newLeafPeer(t, bk, lp.hub, fmt.Sprintf("hubq%d", i)))
		leafM = append(leafM, newLeafPeer(t, bk, lp.leaf, fmt.Sprintf("leafq%d", i)))
	}
	hubPub := newLeafPeer(t, bk, lp.hub, "hubqpub")
	leafPub := newLeafPeer(t, bk, lp.leaf, "leafqpub")
	// workers: members on both sides. far: members only on the side
	// away from the publisher, so every message crosses with a queue list.
	var workers, farDown, farUp []string
	for i := range 2 {
		hubM[i].sub(t, "q.work", "workers")
		leafM[i].sub(t, "q.work", "workers")
		leafM[i].sub(t, "q.down", "far")
		hubM[i].sub(t, "q.up", "far")
		workers = append(workers, hubM[i].key("q.work", "workers"), leafM[i].key("q.work", "workers"))
		farDown = append(farDown, leafM[i].key("q.down", "far"))
		farUp = append(farUp, hubM[i].key("q.up", "far"))
	}
	leafWaitFor(t, lp.tap, "hub learns q.down", func() bool { return lp.hub.HasInterest("q.down") })
	leafWaitFor(t, lp.tap, "leaf learns q.up", func() bool { return lp.leaf.HasInterest("q.up") })

	wHub, wLeaf := leafPayloads("work-hub", leafMsgs), leafPayloads("work-leaf", leafMsgs)
	down, up := leafPayloads("far-down", leafMsgs), leafPayloads("far-up", leafMsgs)
	hubPub.publish(t, "q.work", wHub)
	hubPub.publish(t, "q.down", down)
	leafPub.publish(t, "q.work", wLeaf)
	leafPub.publish(t, "q.up", up)
	all := append(append([]*leafPeer{}, hubM...), leafM...)
	hubPub.fence(t, lp.tap, all...)
	leafPub.fence(t, lp.tap, all...)

	leafCheckOnce(t, bk, lp.tap, "workers", workers, append(wHub, wLeaf...))
	leafCheckOnce(t, bk, lp.tap, "far group on the leaf", farDown, down)
	leafCheckOnce(t, bk, lp.tap, "far group on the hub", farUp, up)
	if got := leafCrossings(lp.tap, "<-", "q.down"); got != leafMsgs {
		t.Errorf("q.down crossed hub -> leaf %d times, want %d", got, leafMsgs)
	}
	if got := leafCrossings(lp.tap, "->", "q.up"); got != leafMsgs {
		t.Errorf("q.up crossed leaf -> hub %d times, want %d", got, leafMsgs)
	}
}

func leafWithdrawal(t *testing.T, lp *leafPair) {
	bk := newLeafBook()
	hubA := newLeafPeer(t, bk, lp.hub, "hubwa")
	hubB := newLeafPeer(t, bk, lp.hub, "hubwb")
	hubPub := newLeafPeer(t, bk, lp.hub, "hubwpub")
	leafP := newLeafPeer(t, bk, lp.leaf, "leafw")
	leafPub := newLeafPeer(t, bk, lp.leaf, "leafwpub")

	// Hub side: a plain subscription and a queue group of two.
	plain := hubA.sub(t, "gone.hub", "")
	qa := hubA.sub(t, "gone.hubq", "g")
	qb := hubB.sub(t, "gone.hubq", "g")
	leafWaitFor(t, lp.tap, "leaf learns gone.hub and gone.hubq", func() bool {
		return lp.leaf.HasInterest("gone.hub") && lp.leaf.HasInterest("gone.hubq")
	})
	leafUnsub(t, plain)
	leafWaitFor(t, lp.tap, "leaf forgets gone.hub", func() bool { return !lp.leaf.HasInterest("gone.hub") })
	if n := lp.tap.count("<-", "LS-", "gone.hub"); n != 1 {
		t.Errorf("hub sent %d LS- gone.hub, want 1", n)
	}
	// One member of two leaves: the group's interest stays, with weight 1.
	leafWaitFor(t, lp.tap, "hub announces gone.hubq with weight 2", func() bool {
		return lp.tap.last("<-", "gone.hubq") == "LS+ gone.hubq g 2"
	})
	leafUnsub(t, qa)
	leafWaitFor(t, lp.tap, "hub re-announces gone.hubq with weight 1", func() bool {
		return lp.tap.last("<-", "gone.hubq") == "LS+ gone.hubq g 1"
	})
	if !lp.leaf.HasInterest("gone.hubq") {
		t.Errorf("leaf lost gone.hubq with one member left\nwire:\n%s", lp.tap.transcript())
	}
	leafUnsub(t, qb)
	leafWaitFor(t, lp.tap, "leaf forgets gone.hubq", func() bool { return !lp.leaf.HasInterest("gone.hubq") })
	if last := lp.tap.last("<-", "gone.hubq"); last != "LS- gone.hubq g" {
		t.Errorf("last interest line for gone.hubq %q, want LS- gone.hubq g", last)
	}
	leafPub.publish(t, "gone.hub", leafPayloads("late", 20))
	leafPub.publish(t, "gone.hubq", leafPayloads("lateq", 20))
	leafPub.fence(t, lp.tap, hubA, hubB)
	if n := leafCrossings(lp.tap, "->", "gone.hub") + leafCrossings(lp.tap, "->", "gone.hubq"); n != 0 {
		t.Errorf("%d messages crossed to the hub after its interest was withdrawn\nwire:\n%s", n, lp.tap.transcript())
	}

	// Leaf side: withdraw, then subscribe again.
	ls := leafP.sub(t, "gone.leaf", "")
	leafWaitFor(t, lp.tap, "hub learns gone.leaf", func() bool { return lp.hub.HasInterest("gone.leaf") })
	leafUnsub(t, ls)
	leafWaitFor(t, lp.tap, "hub forgets gone.leaf", func() bool { return !lp.hub.HasInterest("gone.leaf") })
	hubPub.publish(t, "gone.leaf", leafPayloads("late", 20))
	hubPub.fence(t, lp.tap, leafP)
	if n := leafCrossings(lp.tap, "<-", "gone.leaf"); n != 0 {
		t.Errorf("%d messages crossed to the leaf after its interest was withdrawn\nwire:\n%s", n, lp.tap.transcript())
	}
	leafP.sub(t, "gone.leaf", "")
	leafWaitFor(t, lp.tap, "hub learns gone.leaf again", func() bool { return lp.hub.HasInterest("gone.leaf") })
	again := leafPayloads("again", 20)
	hubPub.publish(t, "gone.leaf", again)
	hubPub.fence(t, lp.tap, leafP)
	leafCheckOnce(t, bk, lp.tap, "after resubscribing", []string{leafP.key("gone.leaf", "")}, again)
}

// leafResync cuts the leaf connection; while the leaf redials, interest
// changes on both sides. After the new connection, each side knows
// exactly the other's current interest, and messages flow both ways.
func leafResync(t *testing.T, lp *leafPair) {
	bk := newLeafBook()
	hubP := newLeafPeer(t, bk, lp.hub, "hubre")
	leafP := newLeafPeer(t, bk, lp.leaf, "leafre")
	oldHub := hubP.sub(t, "re.old.hub", "")
	oldLeaf := leafP.sub(t, "re.old.leaf", "")
	leafWaitFor(t, lp.tap, "old interest known", func() bool {
		return lp.leaf.HasInterest("re.old.hub") && lp.hub.HasInterest("re.old.leaf")
	})

	lp.tap.cut()
	leafUnsub(t, oldHub)
	leafUnsub(t, oldLeaf)
	hubP.sub(t, "re.up", "")
	leafP.sub(t, "re.down", "")
	leafWaitFor(t, lp.tap, "leaf back on a second connection", func() bool {
		return lp.tap.accepted() == 2 && lp.hub.NumLeafs() == 1 && lp.leaf.NumLeafs() == 1
	})
	leafWaitFor(t, lp.tap, "interest resynced", func() bool {
		return lp.leaf.HasInterest("re.up") && lp.hub.HasInterest("re.down") &&
			!lp.leaf.HasInterest("re.old.hub") && !lp.hub.HasInterest("re.old.leaf")
	})
	up, down := leafPayloads("re-up", 50), leafPayloads("re-down", 50)
	leafP.publish(t, "re.up", up)
	hubP.publish(t, "re.down", down)
	leafP.fence(t, lp.tap, hubP)
	hubP.fence(t, lp.tap, leafP)
	leafCheckOnce(t, bk, lp.tap, "leaf -> hub after resync", []string{hubP.key("re.up", "")}, up)
	leafCheckOnce(t, bk, lp.tap, "hub -> leaf after resync", []string{leafP.key("re.down", "")}, down)
}

func leafUnsub(t *testing.T, s *nats.Subscription) {
	t.Helper()
	if err := s.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
}

// leafTrio is a two-server cluster (hub, other) and a leaf attached to
// the hub through a tap.
type leafTrio struct {
	clusterKind      string
	hub, other, leaf *harness.LeafServer
	tap              *leafTap
}

// TestLeafInteropCluster attaches a leaf to one server (the hub) of a
// two-server cluster of the other implementation (and, as controls, of
// its own) and checks that the other cluster server and the leaf reach
// each other through the hub: messages both ways, queue groups spanning
// all three servers, a queue group whose only members are behind the leaf,
// and request/reply.
func TestLeafInteropCluster(t *testing.T) {
	tests := []struct {
		name                  string
		clusterKind, leafKind string
	}{
		{"fern leaf on official cluster", harness.KindOfficial, harness.KindFern},
		{"official leaf on fern cluster", harness.KindFern, harness.KindOfficial},
		{"control: official leaf on official cluster", harness.KindOfficial, harness.KindOfficial},
		{"control: fern leaf on fern cluster", harness.KindFern, harness.KindFern},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &leafTrio{clusterKind: tc.clusterKind}
			tr.hub = startLeafServer(t, harness.LeafSpec{Kind: tc.clusterKind, Name: "hub", Cluster: "core", LeafListen: true})
			tr.other = startLeafServer(t, harness.LeafSpec{Kind: tc.clusterKind, Name: "other", Cluster: "core",
				LeafListen: true, Routes: []string{tr.hub.RouteURL()}})
			tr.tap = newLeafTap(t, tr.hub.LeafURL())
			tr.leaf = startLeafServer(t, harness.LeafSpec{Kind: tc.leafKind, Name: "leaf",
				Hubs: []string{tr.tap.URL()}, ReconnectInterval: leafReconnect})
			leafWaitFor(t, tr.tap, "route and leaf", func() bool {
				return tr.hub.NumRoutes() == 1 && tr.other.NumRoutes() == 1 &&
					tr.hub.NumLeafs() == 1 && tr.leaf.NumLeafs() == 1
			})
			t.Run("messages both ways", tr.messages)
			t.Run("queue group over three servers", tr.queueEverywhere)
			t.Run("queue group behind the leaf", tr.queueBehindLeaf)
			t.Run("request reply", tr.requestReply)
			leafCheckWire(t, tr.tap, 1)
		})
	}
}

// messages: plain subjects both ways between the leaf and the other
// server.
func (tr *leafTrio) messages(t *testing.T) {
	bk := newLeafBook()
	leafSub := newLeafPeer(t, bk, tr.leaf, "leafsub")
	leafPub := newLeafPeer(t, bk, tr.leaf, "leafpub")
	otherSub := newLeafPeer(t, bk, tr.other, "othersub")
	otherPub := newLeafPeer(t, bk, tr.other, "otherpub")
	leafSub.sub(t, "c.down", "")
	otherSub.sub(t, "c.up", "")
	leafWaitFor(t, tr.tap, "other learns c.down", func() bool { return tr.other.HasInterest("c.down") })
	leafWaitFor(t, tr.tap, "leaf learns c.up", func() bool { return tr.leaf.HasInterest("c.up") })
	down, up := leafPayloads("down", leafMsgs), leafPayloads("up", leafMsgs)
	otherPub.publish(t, "c.down", down)
	leafPub.publish(t, "c.up", up)
	otherPub.fence(t, tr.tap, leafSub)
	leafPub.fence(t, tr.tap, otherSub)
	leafCheckOnce(t, bk, tr.tap, "other -> leaf", []string{leafSub.key("c.down", "")}, down)
	leafCheckOnce(t, bk, tr.tap, "leaf -> other", []string{otherSub.key("c.up", "")}, up)
	for _, c := range []struct {
		dir, subject string
		want         int
	}{{"<-", "c.down", leafMsgs}, {"->", "c.up", leafMsgs}} {
		if got := leafCrossings(tr.tap, c.dir, c.subject); got != c.want {
			t.Errorf("%s crossed %s %d times, want %d", c.subject, c.dir, got, c.want)
		}
	}
}

// queueEverywhere: one member on each server, publishers on each server;
// each message reaches one member.
func (tr *leafTrio) queueEverywhere(t *testing.T) {
	bk := newLeafBook()
	var members, pubs []*leafPeer
	var keys, want []string
	for _, s := range []*harness.LeafServer{tr.leaf, tr.hub, tr.other} {
		m := newLeafPeer(t, bk, s, "q-"+s.Name())
		m.sub(t, "c.q", "g")
		members = append(members, m)
		keys = append(keys, m.key("c.q", "g"))
		pubs = append(pubs, newLeafPeer(t, bk, s, "pub-"+s.Name()))
	}
	for _, p := range pubs {
		pl := leafPayloads(p.name, 100)
		p.publish(t, "c.q", pl)
		want = append(want, pl...)
	}
	for _, p := range pubs {
		p.fence(t, tr.tap, members...)
	}
	leafCheckOnce(t, bk, tr.tap, "queue group over three servers", keys, want)
}

// queueBehindLeaf: a group whose two members are on the leaf only,
// published on the other server, so every message goes over the route
// and the leaf connection with its queue list.
func (tr *leafTrio) queueBehindLeaf(t *testing.T) {
	bk := newLeafBook()
	m1 := newLeafPeer(t, bk, tr.leaf, "far1")
	m2 := newLeafPeer(t, bk, tr.leaf, "far2")
	pub := newLeafPeer(t, bk, tr.other, "farpub")
	m1.sub(t, "c.far", "far")
	m2.sub(t, "c.far", "far")
	leafWaitFor(t, tr.tap, "other learns c.far", func() bool { return tr.other.HasInterest("c.far") })
	far := leafPayloads("far", leafMsgs)
	pub.publish(t, "c.far", far)
	pub.fence(t, tr.tap, m1, m2)
	leafCheckOnce(t, bk, tr.tap, "queue group behind the leaf", []string{m1.key("c.far", "far"), m2.key("c.far", "far")}, far)
	if got := leafCrossings(tr.tap, "<-", "c.far"); got != leafMsgs {
		t.Errorf("c.far crossed to the leaf %d times, want %d", got, leafMsgs)
	}
}

// requestReply between the leaf and the other server, both ways.
func (tr *leafTrio) requestReply(t *testing.T) {
	bk := newLeafBook()
	leafRR := newLeafPeer(t, bk, tr.leaf, "leafrr")
	otherRR := newLeafPeer(t, bk, tr.other, "otherrr")
	leafRespond(t, leafRR, "c.svc.leaf")
	leafRespond(t, otherRR, "c.svc.other")
	leafRequestN(t, tr.tap, otherRR, "c.svc.leaf", leafRequests)
	leafRequestN(t, tr.tap, leafRR, "c.svc.other", leafRequests)
}
