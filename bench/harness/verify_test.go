package harness

import (
	"errors"
	"testing"
	"time"
)

// The tests in this file check the harness's own failure detection against
// the official server, so they do not depend on Fern.

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"single", ms(7), 0.99, 7 * time.Millisecond},
		{"median odd", ms(3, 1, 2), 0.5, 2 * time.Millisecond},
		{"median even is lower", ms(4, 1, 3, 2), 0.5, 2 * time.Millisecond},
		{"p99 of 100", ms(seq(100)...), 0.99, 99 * time.Millisecond},
		{"p99 of 1000", ms(seq(1000)...), 0.99, 990 * time.Millisecond},
		{"p100", ms(5, 9, 1), 1, 9 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.samples, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

// seq returns 1..n in reverse order, so percentile has to sort.
func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = n - i
	}
	return out
}

func TestVerifyGroupDetectsMismatch(t *testing.T) {
	url, stop, err := Official().Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	const msgs = 100
	tests := []struct {
		name     string
		real     group // what actually subscribes
		claimed  group // what verification expects
		verified int   // message count verification expects
	}{
		{"fan-out member short", group{subs: 2}, group{subs: 2}, msgs + 1},
		{"fan-out member extra", group{subs: 2}, group{subs: 2}, msgs - 1},
		{"queue duplicates", group{subs: 2}, group{subs: 2, queue: "q"}, msgs},
		{"queue short", group{subs: 3, queue: "q"}, group{subs: 3, queue: "q"}, msgs + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(url, Config{Timeout: 10 * time.Second})
			defer r.close()
			pub, err := r.connect("publisher")
			if err != nil {
				t.Fatal(err)
			}
			subs, err := subscribeGroup(r, tc.real, msgs)
			if err != nil {
				t.Fatal(err)
			}
			if err := publishAll(r, pub, make([]byte, 8), msgs); err != nil {
				t.Fatal(err)
			}
			if err := awaitDeliveries(r, subs); err != nil {
				t.Fatal(err)
			}
			if err := r.flush(pub, "publisher"); err != nil {
				t.Fatal(err)
			}
			if _, err := verifyGroup(r, tc.claimed, subs, tc.verified); !errors.Is(err, ErrDelivery) {
				t.Errorf("verifyGroup = %v, want ErrDelivery", err)
			}
			// The truthful expectation passes, so the failures above are
			// caused by the mismatch alone.
			if _, err := verifyGroup(r, tc.real, subs, msgs); err != nil {
				t.Errorf("verifyGroup with the real shape = %v", err)
			}
		})
	}
}

func TestAwaitDeliveriesTimesOut(t *testing.T) {
	url, stop, err := Official().Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	r := newRun(url, Config{Timeout: 5 * time.Second})
	defer r.close()
	subs, err := subscribeGroup(r, group{subs: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	r.deadline = time.Now().Add(20 * time.Millisecond) // nothing is published
	if err := awaitDeliveries(r, subs); !errors.Is(err, ErrTimeout) {
		t.Errorf("awaitDeliveries = %v, want ErrTimeout", err)
	}
}

func TestWatcherStopsWaitOnConnectionFailure(t *testing.T) {
	url, stop, err := Official().Start()
	if err != nil {
		t.Fatal(err)
	}
	r := newRun(url, Config{Timeout: 10 * time.Second})
	defer r.close()
	subs, err := subscribeGroup(r, group{subs: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	stop() // the server goes away: the subscriber's disconnect is reported
	if err := awaitDeliveries(r, subs); err == nil || errors.Is(err, ErrTimeout) {
		t.Errorf("awaitDeliveries = %v, want the disconnect error", err)
	}
}
