package harness

import (
	"errors"
	"time"
)

// DefaultTimeout bounds a workload run when Config.Timeout is zero.
const DefaultTimeout = time.Minute

// Sentinel errors. Workload errors wrap one of these (or a nats.go error).
var (
	// ErrDelivery means a subscriber saw a different number of messages
	// than the workload expects.
	ErrDelivery = errors.New("harness: delivery count mismatch")
	// ErrTimeout means the run did not finish within Config.Timeout.
	ErrTimeout = errors.New("harness: workload timed out")
	// ErrClosedByServer means a connection was closed by the other side
	// without a recorded error.
	ErrClosedByServer = errors.New("harness: connection closed by server")
	// ErrConfig means the Config cannot be run (for example Msgs < 1).
	ErrConfig = errors.New("harness: invalid config")
)

// Timer is the part of *testing.B a workload uses to exclude connection
// setup and verification from a benchmark's time and allocation counts.
type Timer interface {
	StartTimer()
	StopTimer()
}

// Config is one workload run.
type Config struct {
	// Msgs is how many messages are published (requests sent, for
	// request/reply) in the timed phase. It must be at least 1.
	Msgs int
	// Size is the payload size in bytes; 0 means the workload's default.
	Size int
	// Timeout bounds the whole run, setup included; 0 means DefaultTimeout.
	Timeout time.Duration
	// Timer, when set, is started just before the timed phase and stopped
	// just after it. Pass the *testing.B of a benchmark, after StopTimer.
	Timer Timer
}

// Result is what one run measured.
type Result struct {
	// Published is the number of messages (or requests) sent in the timed
	// phase.
	Published int
	// Delivered is the number of messages the throughput counts: messages
	// received by subscribers (N×10 for a 1:10 fan-out), or Published when
	// nothing subscribes (publish-only) and for request/reply (completed
	// round trips).
	Delivered int
	// Size is the payload size of each message.
	Size int
	// Elapsed is the duration of the timed phase: from the first publish
	// to the last delivery (or, with no subscriber, to the PONG that
	// answers the publisher's flush).
	Elapsed time.Duration
	// PerSubscriber holds, per subscriber connection, the number of MSG
	// frames the server wrote to it, read after a final flush round trip.
	PerSubscriber []uint64
	// P50 and P99 are round-trip latency percentiles (request/reply only).
	P50, P99 time.Duration
}

// MsgsPerSec is Delivered over Elapsed.
func (r Result) MsgsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Delivered) / r.Elapsed.Seconds()
}

// MBPerSec is delivered payload megabytes (10^6 bytes) per second.
func (r Result) MBPerSec() float64 {
	return r.MsgsPerSec() * float64(r.Size) / 1e6
}

// Workload is a named scenario run through nats.go against a server URL.
type Workload struct {
	// Key is a short identifier ("pubsub"), usable as a flag value.
	Key string
	// Name is the human label used in tables ("pub→sub 1:1 128 B").
	Name string
	// Size is the default payload size.
	Size int
	// Latency reports whether Result.P50/P99 are meaningful.
	Latency bool
	// run performs the scenario with a fully defaulted Config.
	run func(url string, cfg Config) (Result, error)
}

// Run performs the workload against the server at url.
func (w Workload) Run(url string, cfg Config) (Result, error) {
	if cfg.Msgs < 1 {
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
	return w.run(url, cfg)
}

type noTimer struct{}

func (noTimer) StartTimer() {}
func (noTimer) StopTimer()  {}

// Workload sizes and shapes from the benchmark plan.
const (
	pubOnlySize  = 16
	msgSize      = 128
	fanOutSubs   = 10
	queueMembers = 5
)

// PubOnly publishes 16 B messages that no one subscribes to.
func PubOnly() Workload {
	return Workload{Key: "pub", Name: "pub-only 16 B", Size: pubOnlySize,
		run: func(url string, cfg Config) (Result, error) {
			return runGroup(url, cfg, group{})
		}}
}

// PubSub publishes 128 B messages to one subscriber on another connection.
func PubSub() Workload {
	return Workload{Key: "pubsub", Name: "pub→sub 1:1 128 B", Size: msgSize,
		run: func(url string, cfg Config) (Result, error) {
			return runGroup(url, cfg, group{subs: 1})
		}}
}

// FanOut publishes 128 B messages to ten subscribers, each on its own
// connection; every subscriber must receive every message.
func FanOut() Workload {
	return Workload{Key: "fanout", Name: "fan-out 1:10 128 B", Size: msgSize,
		run: func(url string, cfg Config) (Result, error) {
			return runGroup(url, cfg, group{subs: fanOutSubs})
		}}
}

// Queue publishes 128 B messages to a queue group of five members, each on
// its own connection; every message must reach exactly one member.
func Queue() Workload {
	return Workload{Key: "queue", Name: "queue group of 5, 128 B", Size: msgSize,
		run: func(url string, cfg Config) (Result, error) {
			return runGroup(url, cfg, group{subs: queueMembers, queue: "workers"})
		}}
}

// RequestReply sends sequential 128 B requests to a responder on another
// connection and measures each round trip.
func RequestReply() Workload {
	return Workload{Key: "reqrep", Name: "request/reply 128 B", Size: msgSize,
		Latency: true, run: runRequestReply}
}

// Workloads returns every workload in table order.
func Workloads() []Workload {
	return []Workload{PubOnly(), PubSub(), FanOut(), Queue(), RequestReply()}
}
