package harness

import (
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Leaf workloads. Both run on a LeafTriangle:
//
//   - RunLeafPubSub: a publisher on one server and a subscriber on another
//     (on the triangle: on L and on B, so every message goes leaf -> hub A
//     -> route -> B), timed and checked like the pub->sub workload;
//   - RunLeafFailover: a subscriber on L, a publisher on the cluster server
//     that is not L's hub; the hub is shut down and the run measures how
//     long until a message published after the shutdown reaches L's
//     subscriber through the other server.

// RunLeafPubSub publishes cfg.Msgs messages of cfg.Size bytes (default
// 128) from a connection to pub to one subscriber connected to sub, after
// waiting until pub knows the subscriber's interest (which, across a leaf
// and a route, means every hop does). The timed phase and the delivery
// checks are those of the pub->sub workload.
func RunLeafPubSub(pub, sub *LeafServer, cfg Config) (Result, error) {
	if cfg.Msgs < 1 {
		return Result{}, ErrConfig
	}
	if cfg.Size <= 0 {
		cfg.Size = msgSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Timer == nil {
		cfg.Timer = noTimer{}
	}
	r := newRun(sub.ClientURL(), cfg)
	defer r.close()
	// The publisher's run shares the subscriber run's deadline and
	// failure watcher.
	rp := &run{url: pub.ClientURL(), deadline: r.deadline, watch: r.watch}
	defer rp.close()
	pc, err := rp.connect("publisher")
	if err != nil {
		return Result{}, err
	}
	g := group{subs: 1}
	subs, err := subscribeGroup(r, g, cfg.Msgs)
	if err != nil {
		return Result{}, err
	}
	if err := Poll(r.remaining(), pub.Name()+" learns the subscriber's interest", func() bool {
		return pub.HasInterest(publishSubject)
	}); err != nil {
		return Result{}, err
	}
	payload := make([]byte, cfg.Size)

	cfg.Timer.StartTimer()
	start := time.Now()
	err = publishAll(rp, pc, payload, cfg.Msgs)
	if err == nil {
		err = awaitDeliveries(r, subs)
	}
	elapsed := time.Since(start)
	cfg.Timer.StopTimer()
	if err != nil {
		return Result{}, err
	}
	if err := rp.flush(pc, "publisher"); err != nil {
		return Result{}, err
	}
	res := Result{Published: cfg.Msgs, Delivered: cfg.Msgs, Size: cfg.Size, Elapsed: elapsed}
	res.PerSubscriber, err = verifyGroup(r, g, subs, cfg.Msgs)
	return res, err
}

// FailoverResult is what one failover run measured, from the moment the
// hub's shutdown began.
type FailoverResult struct {
	// Shutdown is how long the hub's shutdown call took.
	Shutdown time.Duration
	// Failover is when the first message published after the shutdown
	// returned reached the leaf's subscriber.
	Failover time.Duration
}

// failoverSubject is the subject of the failover workload.
const failoverSubject = "bench.failover"

// failoverPublishEvery paces the failover publisher: the resolution of the
// measurement.
const failoverPublishEvery = time.Millisecond

// RunLeafFailover measures, on a running triangle whose leaf is attached,
// how long messages from the other cluster server stop reaching the
// leaf's subscriber when the leaf's hub shuts down. The triangle is left
// with the hub stopped.
func RunLeafFailover(tri *LeafTriangle, timeout time.Duration) (FailoverResult, error) {
	hub := tri.Hub()
	if hub == nil {
		return FailoverResult{}, fmt.Errorf("%w: leaf not attached", ErrLeafTimeout)
	}
	other := tri.A
	if hub == tri.A {
		other = tri.B
	}
	r := newRun(tri.L.ClientURL(), Config{Timeout: timeout})
	defer r.close()
	rp := &run{url: other.ClientURL(), deadline: r.deadline, watch: r.watch}
	defer rp.close()
	sc, err := r.connect("leaf-subscriber")
	if err != nil {
		return FailoverResult{}, err
	}
	pc, err := rp.connect("publisher")
	if err != nil {
		return FailoverResult{}, err
	}

	// cutoff is the last sequence published before the hub's shutdown
	// returned (MaxInt64 until then); arrived is closed on the first
	// delivery of a later one, whose arrival time is at.
	var cutoff atomic.Int64
	cutoff.Store(math.MaxInt64)
	var at atomic.Int64
	arrived := make(chan struct{})
	baseline := make(chan struct{}, 1)
	_, err = sc.Subscribe(failoverSubject, func(m *nats.Msg) {
		seq, _ := strconv.ParseInt(string(m.Data), 10, 64)
		if seq == 0 {
			select {
			case baseline <- struct{}{}:
			default:
			}
			return
		}
		if seq > cutoff.Load() && at.CompareAndSwap(0, time.Now().UnixNano()) {
			close(arrived)
		}
	})
	if err != nil {
		return FailoverResult{}, fmt.Errorf("harness: subscribe: %w", err)
	}
	if err := r.flush(sc, "leaf-subscriber"); err != nil {
		return FailoverResult{}, err
	}
	if err := Poll(r.remaining(), other.Name()+" learns the leaf's interest", func() bool {
		return other.HasInterest(failoverSubject)
	}); err != nil {
		return FailoverResult{}, err
	}
	// The path works before the hub goes: sequence 0 crosses.
	if err := pc.Publish(failoverSubject, []byte("0")); err != nil {
		return FailoverResult{}, fmt.Errorf("harness: publish: %w", err)
	}
	if err := leafWaitChan(r, baseline, "baseline message"); err != nil {
		return FailoverResult{}, err
	}

	var seq atomic.Int64
	stop := make(chan struct{})
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		tick := time.NewTicker(failoverPublishEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			n := seq.Add(1)
			if err := pc.Publish(failoverSubject, []byte(strconv.FormatInt(n, 10))); err != nil {
				r.watch.fail(fmt.Errorf("harness: publish %d: %w", n, err))
				return
			}
		}
	}()
	defer func() {
		close(stop)
		<-pubDone
	}()

	t0 := time.Now()
	hub.Stop()
	res := FailoverResult{Shutdown: time.Since(t0)}
	cutoff.Store(seq.Load())
	if err := leafWaitChan(r, arrived, "a message through the other hub"); err != nil {
		return res, err
	}
	res.Failover = time.Duration(at.Load() - t0.UnixNano())
	return res, nil
}

// leafWaitChan waits for ch within the run's deadline, failing early on a
// connection failure.
func leafWaitChan[T any](r *run, ch <-chan T, what string) error {
	timer := time.NewTimer(r.remaining())
	defer timer.Stop()
	select {
	case <-ch:
		return nil
	case <-r.watch.failed:
		return r.watch.Err()
	case <-timer.C:
		return fmt.Errorf("%w: %s", ErrTimeout, what)
	}
}
