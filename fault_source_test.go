package fern

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fernmq/fern/internal/faultnet"
	"github.com/nats-io/nats.go/jetstream"
)

// Fault tests of sources and mirrors across the leaf link (issue 11
// point 4): whatever the schedule does to the links (cut, flap every
// 300 ms, blackhole, delay, drop), and kill -9 of the upstream (the leaf)
// or the downstream (core n1) on their crash clones, the downstream stream
// ends up with every message the upstream acknowledged, once each, in
// upstream order.

// TestFaultSourceLeafToCore: core n1's stream CORE sources the leaf's
// ORDERS (domain "factory"), which a client of the leaf fills, for each
// upstream retention. With WorkQueue and Interest, a message leaves
// ORDERS only once CORE stored it durably: a crash of n1 after that
// answer must not lose it.
func TestFaultSourceLeafToCore(t *testing.T) {
	for _, ret := range []jetstream.RetentionPolicy{jetstream.LimitsPolicy, jetstream.WorkQueuePolicy, jetstream.InterestPolicy} {
		t.Run(ret.String(), func(t *testing.T) {
			runFaultSeeds(t, 2, func(t *testing.T, seed uint64) {
				faultSource(t, seed, ret)
			})
		})
	}
}

func faultSource(t *testing.T, seed uint64, ret jetstream.RetentionPolicy) {
	top := startFaultTopology(t, faultTopologyOptions{Leaf: true, JetStream: true, Seed: seed, TornCrash: seed%2 == 0,
		Domains: map[string]string{"leaf": "factory"}})
	ctx, cancel := context.WithTimeout(context.Background(), 6*faultWait)
	defer cancel()
	leafJS := jsOf(t, top.connect(t, "leaf"))
	if _, err := leafJS.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"factory.orders.>"}, Retention: ret}); err != nil {
		t.Fatal(err)
	}
	coreJS := jsOf(t, top.connect(t, "n1"))
	if _, err := coreJS.CreateStream(ctx, jetstream.StreamConfig{Name: "CORE",
		Sources: []*jetstream.StreamSource{{Name: "ORDERS", Domain: "factory"}}}); err != nil {
		t.Fatal(err)
	}
	if ret == jetstream.InterestPolicy {
		// An interest stream drops what no consumer wants when it is
		// stored, as officially: publish once CORE's consumer is there.
		waitFor(t, "CORE's consumer on ORDERS", func() bool {
			st, err := leafJS.Stream(ctx, "ORDERS")
			return err == nil && st.CachedInfo().State.Consumers > 0
		})
	}
	sched := faultnet.NewSchedule(faultnet.ScheduleConfig{
		Seed: seed, Duration: 2 * time.Second, FlapPeriod: 300 * time.Millisecond,
		Links:    [][2]string{{"leaf", "n1"}, {"leaf", "n2"}, {"leaf", "n3"}, {"n1", "n2"}, {"n1", "n3"}},
		Killable: []string{"leaf", "n1"}, Require: []faultnet.FaultKind{faultnet.FaultKill}, MaxEpisodes: 5,
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(sched)
		}
	})
	pub := newAckedPublisher(top.connect(t, "leaf"), "factory.orders.new")
	pub.perMilli = 4
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); pub.run(stop) }()
	stopPub := sync.OnceFunc(func() { close(stop); <-done })
	t.Cleanup(stopPub)
	pub.waitAcks(t, 20)
	if err := sched.Run(ctx, top.apply); err != nil {
		t.Fatal(err)
	}
	top.heal(t)
	pub.waitAcks(t, pub.count()+5)
	stopPub()

	acked := pub.acked()
	for i := range acked {
		acked[i].Seq = 0 // CORE numbers them its own way
	}
	got := waitSourced(t, ctx, top, "n1", "CORE", acked, "leaf", "ORDERS")
	if r := faultnet.Check(acked, got); !r.OK() {
		t.Fatalf("CORE after faults: %v", r)
	} else {
		t.Logf("%v", r)
	}
	if ret != jetstream.LimitsPolicy {
		// Everything was answered for: the upstream lets it all go.
		js := jsOf(t, top.connect(t, "leaf"))
		waitFor(t, "ORDERS emptied by the flow-control acks", func() bool {
			st, err := js.Stream(ctx, "ORDERS")
			return err == nil && st.CachedInfo().State.Msgs == 0
		})
	}
}

// waitSourced reads stream on server until it holds every message of
// want (by ID), and returns what it holds, with sequences cleared. When
// it never does, the failure shows the source info and the upstream
// stream (upStream on upServer) with its consumers.
func waitSourced(t *testing.T, ctx context.Context, top *faultTopology, server, stream string, want []faultnet.Msg, upServer, upStream string) []faultnet.Msg {
	t.Helper()
	js := jsOf(t, top.connect(t, server))
	deadline := time.Now().Add(2 * faultWait)
	for {
		st, err := js.Stream(ctx, stream)
		if err == nil && (st.CachedInfo().State.Msgs >= uint64(len(want)) || time.Now().After(deadline)) {
			got := readStream(t, ctx, js, stream)
			have := map[string]bool{}
			for _, m := range got {
				have[m.ID] = true
			}
			missing := slices.IndexFunc(want, func(m faultnet.Msg) bool { return !have[m.ID] })
			if missing >= 0 && time.Now().After(deadline) {
				t.Logf("%s lacks acknowledged message #%d (%v)", stream, missing+1, want[missing])
			}
			if missing < 0 || time.Now().After(deadline) && st.CachedInfo().State.Msgs >= uint64(len(want)) {
				for i := range got {
					got[i].Seq = 0
				}
				return got
			}
		}
		if time.Now().After(deadline) {
			info := "no info"
			if err == nil {
				ci := st.CachedInfo()
				src, _ := json.Marshal(struct {
					Mirror  any `json:"mirror"`
					Sources any `json:"sources"`
				}{ci.Mirror, ci.Sources})
				info = fmt.Sprintf("%+v %s", ci.State, src)
			}
			t.Fatalf("%s on %s never held the %d acknowledged messages: %s (err %v)\nupstream: %s", stream, server, len(want), info, err,
				describeStream(ctx, jsOf(t, top.connect(t, upServer)), upStream))
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// describeStream is a stream's state and its consumers' info, as JSON,
// for a failure message.
func describeStream(ctx context.Context, js jetstream.JetStream, name string) string {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return err.Error()
	}
	out, _ := json.Marshal(st.CachedInfo().State)
	for ci := range st.ListConsumers(ctx).Info() {
		b, _ := json.Marshal(ci)
		out = append(append(out, "\nconsumer "...), b...)
	}
	return string(out)
}

// TestFaultMirrorCoreToLeaf: the leaf's CONFIG_M mirrors core n1's CONFIG
// (domain "hub"), which a client of n1 fills, while the links fail and
// the leaf (downstream) or n1 (upstream) is killed. The mirror holds
// every acknowledged message at the sequence its PubAck gave.
func TestFaultMirrorCoreToLeaf(t *testing.T) {
	runFaultSeeds(t, 2, func(t *testing.T, seed uint64) {
		top := startFaultTopology(t, faultTopologyOptions{Leaf: true, JetStream: true, Seed: seed, TornCrash: seed%2 == 1,
			Domains: map[string]string{"leaf": "factory", "n1": "hub"}})
		ctx, cancel := context.WithTimeout(context.Background(), 6*faultWait)
		defer cancel()
		coreJS := jsOf(t, top.connect(t, "n1"))
		if _, err := coreJS.CreateStream(ctx, jetstream.StreamConfig{Name: "CONFIG", Subjects: []string{"config.>"}}); err != nil {
			t.Fatal(err)
		}
		leafJS := jsOf(t, top.connect(t, "leaf"))
		if _, err := leafJS.CreateStream(ctx, jetstream.StreamConfig{Name: "CONFIG_M",
			Mirror: &jetstream.StreamSource{Name: "CONFIG", Domain: "hub"}}); err != nil {
			t.Fatal(err)
		}
		sched := faultnet.NewSchedule(faultnet.ScheduleConfig{
			Seed: seed, Duration: 2 * time.Second, FlapPeriod: 300 * time.Millisecond,
			Links:    [][2]string{{"leaf", "n1"}, {"leaf", "n2"}, {"leaf", "n3"}, {"n1", "n2"}, {"n1", "n3"}},
			Killable: []string{"leaf", "n1"}, Require: []faultnet.FaultKind{faultnet.FaultKill}, MaxEpisodes: 5,
		})
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(sched)
			}
		})
		pub := newAckedPublisher(top.connect(t, "n1"), "config.line")
		pub.perMilli = 4
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { defer close(done); pub.run(stop) }()
		stopPub := sync.OnceFunc(func() { close(stop); <-done })
		t.Cleanup(stopPub)
		pub.waitAcks(t, 20)
		if err := sched.Run(ctx, top.apply); err != nil {
			t.Fatal(err)
		}
		top.heal(t)
		pub.waitAcks(t, pub.count()+5)
		stopPub()

		acked := pub.acked()
		waitSourced(t, ctx, top, "leaf", "CONFIG_M", acked, "n1", "CONFIG")
		got := readStream(t, ctx, jsOf(t, top.connect(t, "leaf")), "CONFIG_M")
		if r := faultnet.Check(acked, got); !r.OK() {
			t.Fatalf("CONFIG_M after faults: %v", r)
		} else {
			t.Logf("%v", r)
		}
	})
}
