package harness

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// group describes the subscribers of a publish workload: how many
// connections subscribe, and whether they form a queue group.
type group struct {
	subs  int
	queue string
}

// publishSubject is the subject every publish workload uses.
const publishSubject = "bench.msgs"

// checkEvery is how many messages are published between checks of the
// deadline and the failure watcher.
const checkEvery = 4096

// expected returns the number of deliveries the whole group should see for
// msgs published messages.
func (g group) expected(msgs int) int {
	if g.queue != "" {
		return msgs
	}
	return msgs * g.subs
}

// subscribers is the receiving side of a group run.
type subscribers struct {
	conns  []*nats.Conn
	counts []atomic.Int64 // callback deliveries per subscriber
	total  atomic.Int64
	target int64
	done   chan struct{} // closed when total reaches target
}

func (s *subscribers) deliver(i int) {
	s.counts[i].Add(1)
	if s.total.Add(1) == s.target {
		close(s.done)
	}
}

// runGroup publishes cfg.Msgs messages from one connection to a subject the
// group subscribes to, and times the run until every expected delivery has
// arrived (or, with no subscriber, until the publisher's flush returns).
func runGroup(url string, cfg Config, g group) (Result, error) {
	r := newRun(url, cfg)
	defer r.close()
	pub, err := r.connect("publisher")
	if err != nil {
		return Result{}, err
	}
	subs, err := subscribeGroup(r, g, cfg.Msgs)
	if err != nil {
		return Result{}, err
	}
	payload := make([]byte, cfg.Size)

	cfg.Timer.StartTimer()
	start := time.Now()
	err = publishAll(r, pub, payload, cfg.Msgs)
	if err == nil && g.subs == 0 {
		err = r.flush(pub, "publisher")
	}
	if err == nil && g.subs > 0 {
		err = awaitDeliveries(r, subs)
	}
	elapsed := time.Since(start)
	cfg.Timer.StopTimer()
	if err != nil {
		return Result{}, err
	}

	res := Result{Published: cfg.Msgs, Delivered: g.expected(cfg.Msgs), Size: cfg.Size, Elapsed: elapsed}
	if g.subs == 0 {
		res.Delivered = cfg.Msgs
		return res, nil
	}
	if err := r.flush(pub, "publisher"); err != nil {
		return Result{}, err
	}
	res.PerSubscriber, err = verifyGroup(r, g, subs, cfg.Msgs)
	return res, err
}

// subscribeGroup opens one connection per subscriber, subscribes it with
// unlimited client-side pending limits (so nats.go never drops), and waits
// for a flush round trip so the server has registered every subscription
// before the first publish.
func subscribeGroup(r *run, g group, msgs int) (*subscribers, error) {
	s := &subscribers{
		counts: make([]atomic.Int64, g.subs),
		target: int64(g.expected(msgs)),
		done:   make(chan struct{}),
	}
	for i := range g.subs {
		name := fmt.Sprintf("subscriber-%d", i)
		nc, err := r.connect(name)
		if err != nil {
			return nil, err
		}
		cb := func(*nats.Msg) { s.deliver(i) }
		var sub *nats.Subscription
		if g.queue != "" {
			sub, err = nc.QueueSubscribe(publishSubject, g.queue, cb)
		} else {
			sub, err = nc.Subscribe(publishSubject, cb)
		}
		if err != nil {
			return nil, fmt.Errorf("harness: subscribe %s: %w", name, err)
		}
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			return nil, fmt.Errorf("harness: pending limits %s: %w", name, err)
		}
		if err := r.flush(nc, name); err != nil {
			return nil, err
		}
		s.conns = append(s.conns, nc)
	}
	return s, nil
}

// publishAll publishes msgs copies of payload, checking the deadline and
// the watcher every checkEvery messages.
func publishAll(r *run, pub *nats.Conn, payload []byte, msgs int) error {
	for i := range msgs {
		if err := pub.Publish(publishSubject, payload); err != nil {
			return fmt.Errorf("harness: publish %d: %w", i, err)
		}
		if i%checkEvery == checkEvery-1 {
			if err := r.watch.Err(); err != nil {
				return err
			}
			if err := r.expired("publishing"); err != nil {
				return err
			}
		}
	}
	return r.watch.Err()
}

// awaitDeliveries blocks until every expected delivery arrived, a
// connection failed, or the deadline passed.
func awaitDeliveries(r *run, s *subscribers) error {
	timer := time.NewTimer(time.Until(r.deadline))
	defer timer.Stop()
	select {
	case <-s.done:
		return nil
	case <-r.watch.failed:
		return r.watch.Err()
	case <-timer.C:
		return fmt.Errorf("%w: %d of %d deliveries", ErrTimeout, s.total.Load(), s.target)
	}
}

// verifyGroup flushes every subscriber connection, then checks that the
// server wrote exactly the expected number of messages to each (fan-out) or
// in total (queue group), and that the callbacks saw the same.
func verifyGroup(r *run, g group, s *subscribers, msgs int) ([]uint64, error) {
	per := make([]uint64, len(s.conns))
	var sum uint64
	for i, nc := range s.conns {
		if err := r.flush(nc, fmt.Sprintf("subscriber-%d", i)); err != nil {
			return nil, err
		}
		per[i] = nc.Stats().InMsgs
		sum += per[i]
		if g.queue == "" && (per[i] != uint64(msgs) || s.counts[i].Load() != int64(msgs)) {
			return per, fmt.Errorf("%w: subscriber %d got %d MSGs (%d callbacks), want %d",
				ErrDelivery, i, per[i], s.counts[i].Load(), msgs)
		}
	}
	if err := r.watch.Err(); err != nil {
		return per, err
	}
	if sum != uint64(g.expected(msgs)) || s.total.Load() != s.target {
		return per, fmt.Errorf("%w: group got %d MSGs (%d callbacks), want %d",
			ErrDelivery, sum, s.total.Load(), g.expected(msgs))
	}
	return per, nil
}
