package harness

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Cluster workloads: the same publish/subscribe measurement as the single
// server workloads, with the publisher and the subscribers on different
// servers of one cluster, so every counted delivery (but the local ones of
// the fan-out) crosses a route.

// ClusterTarget starts a full-mesh cluster of one implementation.
type ClusterTarget struct {
	Name string
	Kind string // KindFern or KindOfficial
}

// ClusterTargets returns a Fern cluster and an official cluster, in that
// order.
func ClusterTargets() []ClusterTarget {
	return []ClusterTarget{{Name: "fern", Kind: KindFern}, {Name: "official", Kind: KindOfficial}}
}

// clusterMeshTimeout bounds the wait for a benchmark cluster's mesh.
const clusterMeshTimeout = 10 * time.Second

// Start starts n servers of the target's kind, waits for their full mesh
// and returns their client URLs and a function that stops them all.
func (t ClusterTarget) Start(n int) (urls []string, stop func(), err error) {
	kinds := make([]string, n)
	for i := range kinds {
		kinds[i] = t.Kind
	}
	nodes, err := StartCluster(kinds, 50*time.Millisecond, clusterMeshTimeout)
	if err != nil {
		return nil, nil, err
	}
	for _, node := range nodes {
		urls = append(urls, node.ClientURL())
	}
	return urls, func() { StopAll(nodes) }, nil
}

// ClusterWorkload is a named scenario over the servers of a cluster.
type ClusterWorkload struct {
	// Key is a short identifier ("route-pubsub").
	Key string
	// Name is the human label used in tables.
	Name string
	// Size is the default payload size.
	Size int
	// Servers is how many servers the cluster needs.
	Servers int
	// Publisher is the index of the publisher's server; Subscribers holds
	// the server index of each subscriber connection.
	Publisher   int
	Subscribers []int
}

// RoutePubSub publishes 128 B messages on the first server of a
// two-server cluster to one subscriber on the second.
func RoutePubSub() ClusterWorkload {
	return ClusterWorkload{Key: "route-pubsub", Name: "route pub→sub 1:1 128 B", Size: msgSize,
		Servers: 2, Publisher: 0, Subscribers: []int{1}}
}

// RouteFanOut publishes 128 B messages on the first server of a
// three-server cluster to one subscriber on each server (one local, two
// across routes); throughput counts all three deliveries of each message.
func RouteFanOut() ClusterWorkload {
	return ClusterWorkload{Key: "route-fanout", Name: "route fan-out 1:3 128 B", Size: msgSize,
		Servers: 3, Publisher: 0, Subscribers: []int{0, 1, 2}}
}

// ClusterWorkloads returns every cluster workload in table order.
func ClusterWorkloads() []ClusterWorkload {
	return []ClusterWorkload{RoutePubSub(), RouteFanOut()}
}

// Run performs the workload against a cluster whose client URLs are urls
// (at least w.Servers of them). Result.PerSubscriber follows
// w.Subscribers.
func (w ClusterWorkload) Run(urls []string, cfg Config) (Result, error) {
	if cfg.Msgs < 1 || len(urls) < w.Servers {
		return Result{}, ErrConfig
	}
	if cfg.Size <= 0 {
		cfg.Size = w.Size
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Timer == nil {
		cfg.Timer = noTimer{}
	}
	return runClusterGroup(urls, cfg, w.Publisher, w.Subscribers)
}

// runClusterGroup is runGroup (a plain fan-out) with each connection on
// its own server.
func runClusterGroup(urls []string, cfg Config, pubAt int, subsAt []int) (Result, error) {
	r := newRun(urls[pubAt], cfg)
	defer r.close()
	pub, err := r.connectTo(urls[pubAt], "publisher")
	if err != nil {
		return Result{}, err
	}
	g := group{subs: len(subsAt)}
	s := &subscribers{
		counts: make([]atomic.Int64, g.subs),
		target: int64(g.expected(cfg.Msgs)),
		done:   make(chan struct{}),
	}
	for i, at := range subsAt {
		name := fmt.Sprintf("subscriber-%d@%d", i, at)
		nc, err := r.connectTo(urls[at], name)
		if err != nil {
			return Result{}, err
		}
		sub, err := nc.Subscribe(publishSubject, func(*nats.Msg) { s.deliver(i) })
		if err != nil {
			return Result{}, fmt.Errorf("harness: subscribe %s: %w", name, err)
		}
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			return Result{}, fmt.Errorf("harness: pending limits %s: %w", name, err)
		}
		if err := r.flush(nc, name); err != nil {
			return Result{}, err
		}
		s.conns = append(s.conns, nc)
	}
	if err := awaitRoutedInterest(r, pub, urls, subsAt); err != nil {
		return Result{}, err
	}
	payload := make([]byte, cfg.Size)

	cfg.Timer.StartTimer()
	start := time.Now()
	err = publishAll(r, pub, payload, cfg.Msgs)
	if err == nil {
		err = awaitDeliveries(r, s)
	}
	elapsed := time.Since(start)
	cfg.Timer.StopTimer()
	if err != nil {
		return Result{}, err
	}
	if err := r.flush(pub, "publisher"); err != nil {
		return Result{}, err
	}
	res := Result{Published: cfg.Msgs, Delivered: g.expected(cfg.Msgs), Size: cfg.Size, Elapsed: elapsed}
	res.PerSubscriber, err = verifyGroup(r, g, s, cfg.Msgs)
	return res, err
}

// connectTo dials a run connection to a server other than the run's own.
func (r *run) connectTo(url, name string) (*nats.Conn, error) {
	own := r.url
	r.url = url
	defer func() { r.url = own }()
	return r.connect(name)
}

// probeEvery is how long awaitRoutedInterest waits for one probe before
// sending another.
const probeEvery = 5 * time.Millisecond

// awaitRoutedInterest returns once the publisher's server knows every
// subscription. The subscriptions were flushed, so each subscriber's
// server has already queued their RS+ on its routes; a probe subscription
// made after them on that server is announced after them on the same
// route, so a probe that reaches it from the publisher proves the
// publisher's server has processed the earlier RS+. Probes use their own
// connections, so the subscribers' message counts stay exact.
func awaitRoutedInterest(r *run, pub *nats.Conn, urls []string, subsAt []int) error {
	for _, at := range subsAt {
		name := "probe@" + strconv.Itoa(at)
		nc, err := r.connectTo(urls[at], name)
		if err != nil {
			return err
		}
		subj := "bench.ready." + strconv.Itoa(at)
		got := make(chan struct{})
		var once sync.Once
		if _, err := nc.Subscribe(subj, func(*nats.Msg) { once.Do(func() { close(got) }) }); err != nil {
			return fmt.Errorf("harness: subscribe %s: %w", name, err)
		}
		if err := r.flush(nc, name); err != nil {
			return err
		}
		if err := probeUntil(r, pub, subj, got); err != nil {
			return err
		}
	}
	return nil
}

// probeUntil publishes on subj every probeEvery until got is closed, the
// run fails or its deadline passes.
func probeUntil(r *run, pub *nats.Conn, subj string, got <-chan struct{}) error {
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for {
		if err := pub.Publish(subj, nil); err != nil {
			return fmt.Errorf("harness: probe %s: %w", subj, err)
		}
		if err := pub.Flush(); err != nil {
			return fmt.Errorf("harness: probe %s: %w", subj, err)
		}
		select {
		case <-got:
			return nil
		case <-r.watch.failed:
			return r.watch.Err()
		case <-tick.C:
		}
		if err := r.expired("waiting for interest on " + subj); err != nil {
			return err
		}
	}
}
