package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream workloads, run through nats.go's jetstream package against a
// JSTarget. Each creates its own file stream (or KV bucket, itself a
// stream) with one replica, runs a timed phase of cfg.Msgs operations and
// then checks the stream's state through the JetStream API: every
// publish must have been stored exactly once, under the sequence the
// PubAck gave. Sequential workloads (one request in flight) are
// Latency workloads: their Result carries p50 and p99 per operation.

// ErrNotImplemented means the server refused a JetStream feature the
// workload needs as not implemented (Fern answers consumer requests so
// while it has no consumers). Benchmarks and tables skip such a workload.
var ErrNotImplemented = errors.New("harness: not implemented by the server")

// JetStream workload shapes.
const (
	jsStream      = "BENCH"
	jsSubject     = "bench.js.x"
	jsBucket      = "BENCH"
	jsAsyncWindow = 4096 // outstanding async publishes
	jsKVKeys      = 256  // distinct keys in the KV workloads
	jsFetchBatch  = 100
)

// JSPublishAsync publishes 128 B messages to a file stream with
// PublishAsync, at most 4096 unacknowledged, and waits for every PubAck.
func JSPublishAsync() Workload {
	return Workload{Key: "js-pub-async", Name: "JS async publish 128 B (window 4096)", Size: msgSize,
		run: runJSPublishAsync}
}

// JSPublishSync publishes 128 B messages to a file stream one at a time,
// each waiting for its PubAck.
func JSPublishSync() Workload {
	return Workload{Key: "js-pub-sync", Name: "JS sync publish 128 B", Size: msgSize, Latency: true,
		run: runJSPublishSync}
}

// KVPut puts 128 B values into a KV bucket (history 1) one at a time,
// cycling over 256 keys.
func KVPut() Workload {
	return Workload{Key: "kv-put", Name: "KV put 128 B", Size: msgSize, Latency: true, run: runKVPut}
}

// KVGet gets 128 B values from a KV bucket of 256 keys one at a time.
func KVGet() Workload {
	return Workload{Key: "kv-get", Name: "KV get 128 B", Size: msgSize, Latency: true, run: runKVGet}
}

// JSWorkloads returns the publish and KV workloads, then the consumer
// workloads, in table order.
func JSWorkloads() []Workload {
	return []Workload{JSPublishAsync(), JSPublishSync(), KVPut(), KVGet(),
		JSConsume(), JSFetch(), JSOrdered()}
}

// jsRun is a workload run with one client connection and its JetStream
// context; ctx ends at the run's deadline.
type jsRun struct {
	*run
	nc     *nats.Conn
	js     jetstream.JetStream
	ctx    context.Context
	cancel context.CancelFunc
}

// newJSRun connects; async sets up the JetStream context for publishAsync.
func newJSRun(url string, cfg Config, async bool) (*jsRun, error) {
	r := &jsRun{run: newRun(url, cfg)}
	var opts []jetstream.JetStreamOpt
	if async {
		opts = jsAsyncOptions(r.watch)
	}
	r.ctx, r.cancel = context.WithDeadline(context.Background(), r.deadline)
	nc, err := r.connect("jetstream")
	if err != nil {
		r.close()
		return nil, err
	}
	r.nc = nc
	if r.js, err = jetstream.New(nc, opts...); err != nil {
		r.close()
		return nil, fmt.Errorf("harness: jetstream context: %w", err)
	}
	return r, nil
}

func (r *jsRun) close() {
	r.cancel()
	r.run.close()
}

// createStream creates the workload's file stream on jsSubject, deleting
// one left by an earlier run on the same server.
func (r *jsRun) createStream() (jetstream.Stream, error) {
	if err := r.js.DeleteStream(r.ctx, jsStream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("harness: delete stream: %w", err)
	}
	s, err := r.js.CreateStream(r.ctx, jetstream.StreamConfig{
		Name: jsStream, Subjects: []string{"bench.js.>"},
		Storage: jetstream.FileStorage, Replicas: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("harness: create stream: %w", err)
	}
	return s, nil
}

// checkStored verifies that stream s holds exactly want messages, sequences
// 1 to want.
func (r *jsRun) checkStored(s jetstream.Stream, want int) error {
	info, err := s.Info(r.ctx)
	if err != nil {
		return fmt.Errorf("harness: stream info: %w", err)
	}
	st := info.State
	if st.Msgs != uint64(want) || st.FirstSeq != 1 || st.LastSeq != uint64(want) {
		return fmt.Errorf("%w: stream holds %d msgs, seq %d..%d, want %d, seq 1..%d",
			ErrDelivery, st.Msgs, st.FirstSeq, st.LastSeq, want, want)
	}
	return r.watch.Err()
}

// publishAsync publishes n messages with PublishAsync and waits for every
// PubAck. The run must have been created with async set, so the window is
// bounded and a failed PubAck reaches the run's watcher.
func (r *jsRun) publishAsync(n int, payload []byte) error {
	stall := jetstream.WithStallWait(r.remaining())
	for range n {
		if _, err := r.js.PublishAsync(jsSubject, payload, stall); err != nil {
			return fmt.Errorf("harness: publish async: %w", err)
		}
	}
	deadline := time.NewTimer(r.remaining())
	defer deadline.Stop()
	select {
	case <-r.js.PublishAsyncComplete():
	case <-r.watch.failed:
		return r.watch.Err()
	case <-deadline.C:
		return fmt.Errorf("%w: %d PubAcks outstanding", ErrTimeout, r.js.PublishAsyncPending())
	}
	return r.watch.Err()
}

// jsAsyncOptions bounds the async publish window and reports failed
// PubAcks to w.
func jsAsyncOptions(w *watcher) []jetstream.JetStreamOpt {
	return []jetstream.JetStreamOpt{
		jetstream.WithPublishAsyncMaxPending(jsAsyncWindow),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			w.fail(fmt.Errorf("harness: PubAck for %s: %w", m.Subject, err))
		}),
	}
}

func runJSPublishAsync(url string, cfg Config) (Result, error) {
	r, err := newJSRun(url, cfg, true)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	s, err := r.createStream()
	if err != nil {
		return Result{}, err
	}
	payload := make([]byte, cfg.Size)

	cfg.Timer.StartTimer()
	start := time.Now()
	err = r.publishAsync(cfg.Msgs, payload)
	elapsed := time.Since(start)
	cfg.Timer.StopTimer()
	if err != nil {
		return Result{}, err
	}
	res := Result{Published: cfg.Msgs, Delivered: cfg.Msgs, Size: cfg.Size, Elapsed: elapsed}
	return res, r.checkStored(s, cfg.Msgs)
}

func runJSPublishSync(url string, cfg Config) (Result, error) {
	r, err := newJSRun(url, cfg, false)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	s, err := r.createStream()
	if err != nil {
		return Result{}, err
	}
	payload := make([]byte, cfg.Size)
	// The first publish sets up nats.go's reply subscription: warm-up.
	if _, err := r.js.Publish(r.ctx, jsSubject, payload); err != nil {
		return Result{}, fmt.Errorf("harness: publish: %w", err)
	}
	res, err := timeSequential(r, cfg, func(i int) error {
		ack, err := r.js.Publish(r.ctx, jsSubject, payload)
		if err != nil {
			return fmt.Errorf("harness: publish: %w", err)
		}
		if ack.Sequence != uint64(i+2) || ack.Stream != jsStream {
			return fmt.Errorf("%w: PubAck %s/%d, want %s/%d", ErrDelivery, ack.Stream, ack.Sequence, jsStream, i+2)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, r.checkStored(s, cfg.Msgs+1)
}

// timeSequential runs op for i = 0..cfg.Msgs-1 in the timed phase,
// recording each call's latency, and stops at the first error.
func timeSequential(r *jsRun, cfg Config, op func(i int) error) (Result, error) {
	lat := make([]time.Duration, cfg.Msgs)
	var err error
	cfg.Timer.StartTimer()
	start := time.Now()
	for i := range lat {
		t0 := time.Now()
		if err = op(i); err != nil {
			break
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	cfg.Timer.StopTimer()
	if err != nil {
		return Result{}, err
	}
	if err := r.watch.Err(); err != nil {
		return Result{}, err
	}
	res := Result{Published: cfg.Msgs, Delivered: cfg.Msgs, Size: cfg.Size, Elapsed: elapsed}
	res.P50, res.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	return res, nil
}

// kvKeys are the keys of the KV workloads, formatted before the timed
// phase.
func kvKeys() []string {
	keys := make([]string, jsKVKeys)
	for i := range keys {
		keys[i] = "key." + strconv.Itoa(i)
	}
	return keys
}

// createBucket creates the workload's KV bucket, deleting one left by an
// earlier run on the same server.
func (r *jsRun) createBucket() (jetstream.KeyValue, error) {
	if err := r.js.DeleteKeyValue(r.ctx, jsBucket); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("harness: delete bucket: %w", err)
	}
	kv, err := r.js.CreateKeyValue(r.ctx, jetstream.KeyValueConfig{
		Bucket: jsBucket, History: 1, Storage: jetstream.FileStorage, Replicas: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("harness: create bucket: %w", err)
	}
	return kv, nil
}

func runKVPut(url string, cfg Config) (Result, error) {
	r, err := newJSRun(url, cfg, false)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	kv, err := r.createBucket()
	if err != nil {
		return Result{}, err
	}
	keys := kvKeys()
	payload := make([]byte, cfg.Size)
	if _, err := kv.Put(r.ctx, "warmup", payload); err != nil {
		return Result{}, fmt.Errorf("harness: kv put: %w", err)
	}
	res, err := timeSequential(r, cfg, func(i int) error {
		rev, err := kv.Put(r.ctx, keys[i%len(keys)], payload)
		if err != nil {
			return fmt.Errorf("harness: kv put: %w", err)
		}
		if rev != uint64(i+2) {
			return fmt.Errorf("%w: put %d got revision %d, want %d", ErrDelivery, i, rev, i+2)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	st, err := kv.Status(r.ctx)
	if err != nil {
		return Result{}, fmt.Errorf("harness: kv status: %w", err)
	}
	// History 1: one value per key, the warm-up key included.
	if want := uint64(min(cfg.Msgs, len(keys)) + 1); st.Values() != want {
		return Result{}, fmt.Errorf("%w: bucket holds %d values, want %d", ErrDelivery, st.Values(), want)
	}
	return res, r.watch.Err()
}

func runKVGet(url string, cfg Config) (Result, error) {
	r, err := newJSRun(url, cfg, false)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	kv, err := r.createBucket()
	if err != nil {
		return Result{}, err
	}
	keys := kvKeys()
	payload := make([]byte, cfg.Size)
	for i, k := range keys {
		payload[0] = byte(i)
		if _, err := kv.Put(r.ctx, k, payload); err != nil {
			return Result{}, fmt.Errorf("harness: kv put: %w", err)
		}
	}
	if _, err := kv.Get(r.ctx, keys[0]); err != nil { // warm-up
		return Result{}, fmt.Errorf("harness: kv get: %w", err)
	}
	return timeSequential(r, cfg, func(i int) error {
		k := i % len(keys)
		e, err := kv.Get(r.ctx, keys[k])
		if err != nil {
			return fmt.Errorf("harness: kv get %s: %w", keys[k], err)
		}
		if v := e.Value(); len(v) != cfg.Size || v[0] != byte(k) || e.Revision() != uint64(k+1) {
			return fmt.Errorf("%w: get %s: %d bytes (%.1x), revision %d; want %d bytes (%02x...), revision %d",
				ErrDelivery, keys[k], len(v), v, e.Revision(), cfg.Size, byte(k), k+1)
		}
		return nil
	})
}

// notImplemented maps a server error saying "not implemented" (Fern's
// description for features it does not have yet) to ErrNotImplemented.
func notImplemented(err error) error {
	if err != nil && strings.Contains(err.Error(), "not implemented") {
		return fmt.Errorf("%w: %w", ErrNotImplemented, err)
	}
	return err
}
