package harness

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Consumer workloads: the stream is filled with cfg.Msgs messages of 128 B
// (async publish, outside the timed phase), then one consumer reads them
// all. The timed phase runs from the start of consumption to the delivery
// of the last message; afterwards the consumer's state is checked through
// the JetStream API (every message delivered and, with explicit acks,
// acknowledged). A server that answers the consumer create with "not
// implemented" makes the run fail with ErrNotImplemented.

// consumerPoll is how often consumer state is polled after the timed phase.
const consumerPoll = 2 * time.Millisecond

// JSConsume reads the stream with a durable pull consumer through
// Consume (nats.go's default pull batches), acknowledging every message
// explicitly.
func JSConsume() Workload {
	return Workload{Key: "js-consume", Name: "JS durable consume 128 B, explicit ack", Size: msgSize,
		run: func(url string, cfg Config) (Result, error) { return runConsumer(url, cfg, consumeDurable) }}
}

// JSFetch reads the stream with a durable pull consumer through Fetch in
// batches of 100, acknowledging every message explicitly.
func JSFetch() Workload {
	return Workload{Key: "js-fetch", Name: "JS fetch batch 100, 128 B, explicit ack", Size: msgSize,
		run: func(url string, cfg Config) (Result, error) { return runConsumer(url, cfg, consumeFetch) }}
}

// JSOrdered reads the stream with an ordered consumer (ephemeral, no
// acks, flow control) through Consume.
func JSOrdered() Workload {
	return Workload{Key: "js-ordered", Name: "JS ordered consumer 128 B", Size: msgSize,
		run: func(url string, cfg Config) (Result, error) { return runConsumer(url, cfg, consumeOrdered) }}
}

// consumeFunc reads n messages from stream s in the timed phase. It
// returns once the last one was delivered; verify then checks the
// consumer's state after the timed phase.
type consumeFunc func(r *jsRun, s jetstream.Stream, n, size int, timer Timer) (elapsed time.Duration, verify func() error, err error)

func runConsumer(url string, cfg Config, consume consumeFunc) (Result, error) {
	r, err := newJSRun(url, cfg, true)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	s, err := r.createStream()
	if err != nil {
		return Result{}, err
	}
	if err := r.publishAsync(cfg.Msgs, make([]byte, cfg.Size)); err != nil {
		return Result{}, err
	}
	if err := r.checkStored(s, cfg.Msgs); err != nil {
		return Result{}, err
	}
	elapsed, verify, err := consume(r, s, cfg.Msgs, cfg.Size, cfg.Timer)
	if err != nil {
		return Result{}, notImplemented(err)
	}
	if err := verify(); err != nil {
		return Result{}, err
	}
	return Result{Published: cfg.Msgs, Delivered: cfg.Msgs, Size: cfg.Size, Elapsed: elapsed}, r.watch.Err()
}

// durableConfig is the durable pull consumer of the consume and fetch
// workloads: explicit acks, nats.go's other defaults.
var durableConfig = jetstream.ConsumerConfig{Durable: "BENCH", AckPolicy: jetstream.AckExplicitPolicy}

// counter checks each delivery (size, order) and signals the last one.
type counter struct {
	n, size int
	got     int
	done    chan struct{}
	err     error // set before done is closed, if a delivery was wrong
}

func newCounter(n, size int) *counter { return &counter{n: n, size: size, done: make(chan struct{})} }

// deliver counts one message; called from one goroutine at a time.
func (c *counter) deliver(m jetstream.Msg, ack bool) {
	if c.got >= c.n {
		c.got++
		return
	}
	c.got++
	if len(m.Data()) != c.size {
		c.finish(fmt.Errorf("%w: message %d has %d bytes, want %d", ErrDelivery, c.got, len(m.Data()), c.size))
		return
	}
	if ack {
		if err := m.Ack(); err != nil {
			c.finish(fmt.Errorf("harness: ack: %w", err))
			return
		}
	}
	if c.got == c.n {
		md, err := m.Metadata()
		switch {
		case err != nil:
			c.finish(fmt.Errorf("harness: metadata of the last message: %w", err))
		case md.Sequence.Stream != uint64(c.n):
			c.finish(fmt.Errorf("%w: message %d has stream sequence %d", ErrDelivery, c.n, md.Sequence.Stream))
		default:
			c.finish(nil)
		}
	}
}

func (c *counter) finish(err error) {
	select {
	case <-c.done:
	default:
		c.err = err
		close(c.done)
	}
}

// wait waits for the last delivery, a watcher failure or the deadline.
func (c *counter) wait(r *jsRun) error {
	deadline := time.NewTimer(r.remaining())
	defer deadline.Stop()
	select {
	case <-c.done:
		return c.err
	case <-r.watch.failed:
		return r.watch.Err()
	case <-deadline.C:
		return fmt.Errorf("%w: consumer delivered fewer than %d messages", ErrTimeout, c.n)
	}
}

func consumeDurable(r *jsRun, s jetstream.Stream, n, size int, timer Timer) (time.Duration, func() error, error) {
	cons, err := s.CreateOrUpdateConsumer(r.ctx, durableConfig)
	if err != nil {
		return 0, nil, fmt.Errorf("harness: create consumer: %w", err)
	}
	c := newCounter(n, size)
	timer.StartTimer()
	start := time.Now()
	cc, err := cons.Consume(func(m jetstream.Msg) { c.deliver(m, true) },
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			r.watch.fail(fmt.Errorf("harness: consume: %w", err))
		}))
	if err != nil {
		timer.StopTimer()
		return 0, nil, fmt.Errorf("harness: consume: %w", err)
	}
	err = c.wait(r)
	elapsed := time.Since(start)
	timer.StopTimer()
	cc.Stop()
	if err != nil {
		return 0, nil, err
	}
	return elapsed, func() error { return waitAcked(r, cons, n) }, nil
}

func consumeFetch(r *jsRun, s jetstream.Stream, n, size int, timer Timer) (time.Duration, func() error, error) {
	cons, err := s.CreateOrUpdateConsumer(r.ctx, durableConfig)
	if err != nil {
		return 0, nil, fmt.Errorf("harness: create consumer: %w", err)
	}
	c := newCounter(n, size)
	timer.StartTimer()
	start := time.Now()
	for c.got < n && err == nil {
		var batch jetstream.MessageBatch
		batch, err = cons.Fetch(min(jsFetchBatch, n-c.got), jetstream.FetchMaxWait(r.remaining()))
		if err != nil {
			err = fmt.Errorf("harness: fetch: %w", err)
			break
		}
		for m := range batch.Messages() {
			c.deliver(m, true)
		}
		if berr := batch.Error(); berr != nil {
			err = fmt.Errorf("harness: fetch: %w", berr)
		}
	}
	elapsed := time.Since(start)
	timer.StopTimer()
	if err == nil {
		err = c.wait(r) // the last delivery was checked; no waiting left
	}
	if err != nil {
		return 0, nil, err
	}
	return elapsed, func() error { return waitAcked(r, cons, n) }, nil
}

func consumeOrdered(r *jsRun, s jetstream.Stream, n, size int, timer Timer) (time.Duration, func() error, error) {
	// One create attempt: a refusal is final (nats.go would retry with
	// backoff).
	cons, err := s.OrderedConsumer(r.ctx, jetstream.OrderedConsumerConfig{MaxResetAttempts: 1})
	if err != nil {
		return 0, nil, fmt.Errorf("harness: ordered consumer: %w", err)
	}
	c := newCounter(n, size)
	timer.StartTimer()
	start := time.Now()
	cc, err := cons.Consume(func(m jetstream.Msg) { c.deliver(m, false) },
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			r.watch.fail(fmt.Errorf("harness: ordered consume: %w", err))
		}))
	if err != nil {
		timer.StopTimer()
		return 0, nil, fmt.Errorf("harness: ordered consume: %w", err)
	}
	err = c.wait(r)
	elapsed := time.Since(start)
	timer.StopTimer()
	cc.Stop()
	if err != nil {
		return 0, nil, err
	}
	return elapsed, func() error { return nil }, nil
}

// waitAcked polls the consumer until every one of the n messages has been
// delivered once and acknowledged (acks are published without waiting
// for a reply, so the server may still be processing the last ones).
func waitAcked(r *jsRun, cons jetstream.Consumer, n int) error {
	tick := time.NewTicker(consumerPoll)
	defer tick.Stop()
	for {
		info, err := cons.Info(r.ctx)
		if err != nil {
			return fmt.Errorf("harness: consumer info: %w", err)
		}
		if info.AckFloor.Stream == uint64(n) && info.NumAckPending == 0 {
			if info.Delivered.Stream != uint64(n) || info.NumRedelivered != 0 {
				return fmt.Errorf("%w: consumer delivered up to %d with %d redelivered, want %d and 0",
					ErrDelivery, info.Delivered.Stream, info.NumRedelivered, n)
			}
			return nil
		}
		select {
		case <-tick.C:
		case <-r.watch.failed:
			return r.watch.Err()
		case <-r.ctx.Done():
			return fmt.Errorf("%w: consumer ack floor %d, %d pending, want %d acknowledged",
				ErrTimeout, info.AckFloor.Stream, info.NumAckPending, n)
		}
	}
}
