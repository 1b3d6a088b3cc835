package fern

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A leaf with a JetStream domain: clients on the hub reach it over the
// leaf link with jetstream.NewWithDomain. The factory's orders, stored on
// the leaf while the link was down, are read from the core once it is back.
func TestJetStreamDomainOverLeaf(t *testing.T) {
	hub := startServer(t, &Options{ServerName: "hub", LeafNode: LeafNodeOptions{Host: "127.0.0.1", Port: -1},
		JetStream: JetStreamOptions{Enabled: true, StoreDir: t.TempDir()}})
	var in, dials atomic.Int64
	lf := startServer(t, &Options{ServerName: "leaf",
		JetStream: JetStreamOptions{Enabled: true, StoreDir: t.TempDir(), Domain: "factory"},
		LeafNode: LeafNodeOptions{Remotes: []RemoteLeafOptions{{URLs: []string{"nats://" + hub.LeafAddr().String()}}},
			ReconnectInterval: 20 * time.Millisecond, Dial: countingDial(&in, &dials)}})
	waitFor(t, "leaf link", func() bool { return hub.NumLeafs() == 1 && lf.NumLeafs() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	core := natsConn(t, hub)
	factory, err := jetstream.NewWithDomain(core, "factory")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hub hears of the domain's API", func() bool { return hub.HasInterest("$JS.factory.API.INFO") })
	// The stream is created from the core, on the leaf.
	if _, err := factory.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"factory.orders.>"}}); err != nil {
		t.Fatalf("create on the leaf from the core: %v", err)
	}
	if lf.JetStream().Stream("ORDERS") == nil {
		t.Fatal("the stream is not on the leaf")
	}
	if hub.JetStream().Stream("ORDERS") != nil {
		t.Fatal("the stream landed on the hub")
	}
	// Key-value through the domain: writes go to $JS.factory.API.$KV.>,
	// which the domain maps back to $KV.> (as officially).
	kv, err := factory.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "line"})
	if err != nil {
		t.Fatalf("KV bucket through the domain: %v", err)
	}
	rev, err := kv.Put(ctx, "temp", []byte("21"))
	if err != nil {
		t.Fatalf("KV put through the domain: %v", err)
	}
	if e, err := kv.Get(ctx, "temp"); err != nil || string(e.Value()) != "21" || e.Revision() != rev {
		t.Fatalf("KV get through the domain: %v %+v", err, e)
	}
	// The hub's own JetStream still answers on $JS.API (its domain-less API).
	local, _ := jetstream.New(core)
	if names := listStreams(ctx, local); len(names) != 0 {
		t.Fatalf("hub streams: %v", names)
	}

	// Orders published on the leaf while the link is down are stored there.
	leafClient := natsConn(t, lf)
	ljs, _ := jetstream.New(leafClient)
	leafAddr := hub.LeafAddr().(*net.TCPAddr)
	shutdownNow(t, hub)
	waitFor(t, "link down", func() bool { return lf.NumLeafs() == 0 })
	for i := 1; i <= 5; i++ {
		if _, err := ljs.Publish(ctx, "factory.orders.new", []byte("order "+strconv.Itoa(i))); err != nil {
			t.Fatalf("publish while cut off: %v", err)
		}
	}

	// A new hub on the same leafnodes address; the link comes back and the
	// core reads the orders, in order.
	hub2 := startServer(t, &Options{ServerName: "hub2", LeafNode: LeafNodeOptions{Host: "127.0.0.1", Port: leafAddr.Port}})
	waitFor(t, "link back", func() bool { return hub2.NumLeafs() == 1 && lf.NumLeafs() == 1 })
	core2 := natsConn(t, hub2)
	factory2, _ := jetstream.NewWithDomain(core2, "factory")
	waitFor(t, "the new hub hears of the domain's API", func() bool { return hub2.HasInterest("$JS.factory.API.INFO") })
	st, err := factory2.Stream(ctx, "ORDERS")
	if err != nil {
		t.Fatalf("stream through the domain: %v", err)
	}
	for i := 1; i <= 5; i++ {
		m, err := st.GetMsg(ctx, uint64(i))
		if err != nil || string(m.Data) != fmt.Sprintf("order %d", i) || m.Subject != "factory.orders.new" {
			t.Fatalf("order %d from the core: %v %+v", i, err, m)
		}
	}
	// A durable pull consumer on the leaf, fetched from the core.
	c, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "sync", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("consumer through the domain: %v", err)
	}
	batch, err := c.Fetch(5, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		if string(m.Data()) != fmt.Sprintf("order %d", n) || m.Subject() != "factory.orders.new" {
			t.Fatalf("fetched %q on %q as message %d", m.Data(), m.Subject(), n)
		}
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("ack across the link: %v", err)
		}
	}
	if n != 5 || batch.Error() != nil {
		t.Fatalf("fetched %d of 5: %v", n, batch.Error())
	}
	info, err := c.Info(ctx)
	if err != nil || info.AckFloor.Stream != 5 || info.NumPending != 0 {
		t.Fatalf("consumer after the sync: %v %+v", err, info)
	}
}

func listStreams(ctx context.Context, js jetstream.JetStream) []string {
	var names []string
	l := js.StreamNames(ctx)
	for n := range l.Name() {
		names = append(names, n)
	}
	return names
}

// A server with JetStream answers $JS.API itself: requests from a leaf's
// clients never cross to a hub that has JetStream too, and the other way
// round (each side is its own domain).
func TestJetStreamAPIStaysOnItsSide(t *testing.T) {
	hub := startServer(t, &Options{ServerName: "hub", LeafNode: LeafNodeOptions{Host: "127.0.0.1", Port: -1},
		JetStream: JetStreamOptions{Enabled: true, StoreDir: t.TempDir()}})
	lf := startServer(t, &Options{ServerName: "leaf", JetStream: JetStreamOptions{Enabled: true, StoreDir: t.TempDir()},
		LeafNode: LeafNodeOptions{Remotes: []RemoteLeafOptions{{URLs: []string{"nats://" + hub.LeafAddr().String()}}},
			ReconnectInterval: 20 * time.Millisecond}})
	waitFor(t, "leaf link", func() bool { return hub.NumLeafs() == 1 && lf.NumLeafs() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hubClient := natsConn(t, hub)
	hjs, _ := jetstream.New(hubClient)
	if _, err := hjs.CreateStream(ctx, jetstream.StreamConfig{Name: "HUB", Subjects: []string{"hub.>"}}); err != nil {
		t.Fatal(err)
	}
	// Observers on each side would draw the other's requests if they crossed.
	hubSpy, _ := hubClient.SubscribeSync("$JS.API.>")
	hubFence, _ := hubClient.SubscribeSync("fence")
	hubClient.Flush()
	leafClient := natsConn(t, lf)
	waitInterest(t, lf, "fence", 1)
	ljs, _ := jetstream.New(leafClient)
	for i := 0; i < 10; i++ {
		if names := listStreams(ctx, ljs); len(names) != 0 {
			t.Fatalf("the leaf's client got the hub's streams: %v", names)
		}
	}
	leafClient.Publish("fence", nil)
	leafClient.Flush()
	if _, err := hubFence.NextMsg(clusterWait); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := hubSpy.Pending(); n != 0 {
		t.Fatalf("%d of the leaf's $JS.API requests reached the hub", n)
	}
}

// A leaf with JetStream but no domain says once, at start, the line its
// jetstream block lacks; a leaf with a domain, or a server that is no
// leaf, says nothing.
func TestJetStreamLeafDomainHint(t *testing.T) {
	hub := startServer(t, &Options{ServerName: "hub", LeafNode: LeafNodeOptions{Host: "127.0.0.1", Port: -1}})
	remotes := []RemoteLeafOptions{{URLs: []string{"nats://" + hub.LeafAddr().String()}}}
	for _, tc := range []struct {
		name    string
		domain  string
		remotes []RemoteLeafOptions
		want    int
	}{
		{"leaf without domain", "", remotes, 1},
		{"leaf with domain", "factory", remotes, 0},
		{"not a leaf", "", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logCounter
			s := startServer(t, &Options{ServerName: "edge", Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				JetStream: JetStreamOptions{Enabled: true, StoreDir: t.TempDir(), Domain: tc.domain},
				LeafNode:  LeafNodeOptions{Remotes: tc.remotes, ReconnectInterval: 20 * time.Millisecond}})
			if tc.remotes != nil {
				waitFor(t, "leaf link", func() bool { return s.NumLeafs() == 1 })
			}
			if got := logs.count("add `domain: edge` to its jetstream block"); got != tc.want {
				t.Fatalf("hint logged %d times, want %d", got, tc.want)
			}
		})
	}
}
