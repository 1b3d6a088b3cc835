package harness

import (
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
)

// requestSubject is the subject the responder listens on.
const requestSubject = "bench.req"

// runRequestReply sends cfg.Msgs sequential requests from one connection to
// a responder on another that echoes the payload back, and records each
// round trip's latency.
func runRequestReply(url string, cfg Config) (Result, error) {
	r := newRun(url, cfg)
	defer r.close()
	responder, err := r.connect("responder")
	if err != nil {
		return Result{}, err
	}
	sub, err := responder.Subscribe(requestSubject, func(m *nats.Msg) {
		if err := m.Respond(m.Data); err != nil {
			r.watch.fail(fmt.Errorf("harness: respond: %w", err))
		}
	})
	if err != nil {
		return Result{}, fmt.Errorf("harness: subscribe responder: %w", err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return Result{}, fmt.Errorf("harness: pending limits responder: %w", err)
	}
	if err := r.flush(responder, "responder"); err != nil {
		return Result{}, err
	}
	requester, err := r.connect("requester")
	if err != nil {
		return Result{}, err
	}
	payload := make([]byte, cfg.Size)
	// The first request also sets up nats.go's shared reply subscription;
	// keep that out of the measurement.
	if err := request(r, requester, payload); err != nil {
		return Result{}, err
	}
	lat := make([]time.Duration, cfg.Msgs)

	cfg.Timer.StartTimer()
	start := time.Now()
	for i := range lat {
		t0 := time.Now()
		if err = request(r, requester, payload); err != nil {
			break
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	cfg.Timer.StopTimer()
	if err != nil {
		return Result{}, err
	}

	res := Result{Published: cfg.Msgs, Delivered: cfg.Msgs, Size: cfg.Size, Elapsed: elapsed}
	res.P50, res.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	res.PerSubscriber, err = verifyRequests(r, responder, requester, cfg.Msgs+1)
	return res, err
}

// request performs one round trip and checks the reply echoes the payload.
func request(r *run, nc *nats.Conn, payload []byte) error {
	msg, err := nc.Request(requestSubject, payload, r.remaining())
	if err != nil {
		return fmt.Errorf("harness: request: %w", err)
	}
	if len(msg.Data) != len(payload) {
		return fmt.Errorf("%w: reply of %d bytes, want %d", ErrDelivery, len(msg.Data), len(payload))
	}
	return r.watch.Err()
}

// verifyRequests checks that the responder received, and the requester got
// back, exactly want messages (the warm-up request included).
func verifyRequests(r *run, responder, requester *nats.Conn, want int) ([]uint64, error) {
	if err := r.flush(responder, "responder"); err != nil {
		return nil, err
	}
	if err := r.flush(requester, "requester"); err != nil {
		return nil, err
	}
	got := []uint64{responder.Stats().InMsgs, requester.Stats().InMsgs}
	if got[0] != uint64(want) || got[1] != uint64(want) {
		return got, fmt.Errorf("%w: responder got %d requests, requester %d replies, want %d",
			ErrDelivery, got[0], got[1], want)
	}
	return got, r.watch.Err()
}

// percentile returns the nearest-rank p-quantile of samples (sorting them
// in place). It returns 0 for no samples.
func percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	if !slices.IsSorted(samples) {
		slices.Sort(samples)
	}
	rank := int(p*float64(len(samples))+0.999999999) - 1
	return samples[min(max(rank, 0), len(samples)-1)]
}
