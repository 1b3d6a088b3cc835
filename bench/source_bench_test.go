package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern/bench/harness"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Sourcing across a leaf link: a hub (the core) whose stream CORE sources
// the stream ORDERS of a leaf with JetStream domain "factory" (the seed's
// case), both servers of one kind, fresh stores on the real disk, each
// server's default durability. Three workloads, each on fresh servers:
//
//   - catch-up: the leaf holds N messages of 128 B, then the hub creates
//     CORE; the time until CORE holds all N.
//   - core restart: CORE is in sync; the hub stops, the leaf stores N
//     more while it is down, the hub starts again on the same store and
//     leafnodes port; the time from its start until CORE holds them all
//     (the official server waits for a consumer-create reply it sent
//     before any leaf could connect, then backs off).
//   - steady: the leaf's client publishes N messages (async, acked) while
//     the link is up; messages/s from the first publish until CORE holds
//     all N.
//
// TestSourceTable prints them as one markdown table, Fern and the official
// server interleaved in the same run:
//
//	BENCH_SOURCE_TABLE=1 go test -run TestSourceTable -v .
//
// (BENCH_SOURCE_MSGS, comma-separated, sets the sizes, default
// 100000,1000000; BENCH_SOURCE_ROUNDS the rounds, default 3;
// BENCH_SOURCE_KINDS=official runs one kind alone, logging its numbers.)

const (
	sourceDomain     = "factory"
	sourceRunTimeout = 3 * time.Minute
)

// sourceResult is one run of the three workloads on one kind.
type sourceResult struct {
	catchUp, restart time.Duration
	steadyRate       float64
}

func TestSourceTable(t *testing.T) {
	if os.Getenv("BENCH_SOURCE_TABLE") == "" {
		t.Skip("set BENCH_SOURCE_TABLE=1 to print the sourcing benchmark table")
	}
	sizes := []int{100000, 1000000}
	if v := os.Getenv("BENCH_SOURCE_MSGS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			var n int
			if _, err := fmt.Sscan(f, &n); err != nil || n < 1 {
				t.Fatalf("BENCH_SOURCE_MSGS=%q: want positive integers", v)
			}
			sizes = append(sizes, n)
		}
	}
	rounds := envInt(t, "BENCH_SOURCE_ROUNDS", 3)
	kinds := []string{harness.KindFern, harness.KindOfficial}
	if v := os.Getenv("BENCH_SOURCE_KINDS"); v != "" {
		kinds = strings.Split(v, ",") // one kind alone: its own numbers, no ratio
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nsourcing across a leaf link, 128 B, median of %d rounds, default durability on each side\n\n", rounds)
	b.WriteString("| workload | msgs | Fern | official | Fern / official |\n|---|---:|---:|---:|---:|\n")
	for _, n := range sizes {
		res := map[string][]sourceResult{}
		for round := range rounds {
			for i := range kinds {
				kind := kinds[(i+round)%len(kinds)]
				r, err := sourceRun(t, kind, n)
				if err != nil {
					t.Fatalf("%s, %d msgs, round %d: %v", kind, n, round+1, err)
				}
				t.Logf("%s %d msgs round %d: catch-up %v, restart %v, steady %.0f msgs/s",
					kind, n, round+1, r.catchUp, r.restart, r.steadyRate)
				res[kind] = append(res[kind], r)
			}
		}
		f, o := res[harness.KindFern], res[harness.KindOfficial]
		if len(f) == 0 || len(o) == 0 {
			continue
		}
		dur := func(rs []sourceResult, get func(sourceResult) time.Duration) time.Duration {
			ds := make([]time.Duration, len(rs))
			for i, r := range rs {
				ds[i] = get(r)
			}
			slices.Sort(ds)
			return ds[len(ds)/2]
		}
		catch := func(r sourceResult) time.Duration { return r.catchUp }
		restart := func(r sourceResult) time.Duration { return r.restart }
		// For durations the ratio is official / Fern: above 1 means Fern is faster.
		fmt.Fprintf(&b, "| catch-up | %d | %v | %v | %.2f |\n", n, dur(f, catch), dur(o, catch),
			float64(dur(o, catch))/float64(dur(f, catch)))
		fmt.Fprintf(&b, "| core restart | %d | %v | %v | %.2f |\n", n, dur(f, restart), dur(o, restart),
			float64(dur(o, restart))/float64(dur(f, restart)))
		rate := func(rs []sourceResult) float64 {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = r.steadyRate
			}
			slices.Sort(v)
			return v[len(v)/2]
		}
		fmt.Fprintf(&b, "| steady (msgs/s) | %d | %.0f | %.0f | %.2f |\n", n, rate(f), rate(o), rate(f)/rate(o))
	}
	b.WriteString("\n(durations: Fern / official is official's time over Fern's, so above 1 is Fern faster)\n")
	t.Log(b.String())
}

// sourcePair is a hub and a leaf of one kind, with their clients.
type sourcePair struct {
	t         *testing.T
	hubSpec   harness.LeafSpec
	hub, leaf *harness.LeafServer
	hubNC     *nats.Conn
	leafJS    jetstream.JetStream
	core      jetstream.JetStream
}

func sourceRun(t *testing.T, kind string, n int) (sourceResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sourceRunTimeout)
	defer cancel()
	var r sourceResult
	p, err := startSourcePair(t, kind)
	if err != nil {
		return r, err
	}
	defer p.stop()
	if _, err := p.leafJS.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"factory.orders.>"}}); err != nil {
		return r, fmt.Errorf("leaf stream: %w", err)
	}
	if err := publishAsync(ctx, p.leafJS, n); err != nil {
		return r, err
	}
	start := time.Now()
	if _, err := p.core.CreateStream(ctx, jetstream.StreamConfig{Name: "CORE",
		Sources: []*jetstream.StreamSource{{Name: "ORDERS", Domain: sourceDomain}}}); err != nil {
		return r, fmt.Errorf("hub stream: %w", err)
	}
	if err := waitStreamMsgs(ctx, p.core, "CORE", n); err != nil {
		return r, fmt.Errorf("catch-up: %w", err)
	}
	r.catchUp = time.Since(start)

	// Core restart.
	p.hubNC.Close()
	p.hub.Stop()
	if err := harness.Poll(10*time.Second, "the link down", func() bool { return p.leaf.NumLeafs() == 0 }); err != nil {
		return r, err
	}
	if err := publishAsync(ctx, p.leafJS, n); err != nil {
		return r, err
	}
	start = time.Now()
	if err := p.startHub(); err != nil {
		return r, err
	}
	if err := waitStreamMsgs(ctx, p.core, "CORE", 2*n); err != nil {
		return r, fmt.Errorf("after the core restart: %w", err)
	}
	r.restart = time.Since(start)

	// Steady.
	start = time.Now()
	if err := publishAsync(ctx, p.leafJS, n); err != nil {
		return r, err
	}
	if err := waitStreamMsgs(ctx, p.core, "CORE", 3*n); err != nil {
		return r, fmt.Errorf("steady: %w", err)
	}
	r.steadyRate = float64(n) / time.Since(start).Seconds()
	return r, nil
}

func startSourcePair(t *testing.T, kind string) (*sourcePair, error) {
	p := &sourcePair{t: t}
	p.hubSpec = harness.LeafSpec{Kind: kind, Name: "core", LeafListen: true,
		JetStream: &harness.LeafJetStream{StoreDir: t.TempDir()}}
	if err := p.startHub(); err != nil {
		return nil, err
	}
	var err error
	p.leaf, err = harness.StartLeafServer(harness.LeafSpec{Kind: kind, Name: "factory", Hubs: []string{p.hub.LeafURL()},
		ReconnectInterval: 100 * time.Millisecond, JetStream: &harness.LeafJetStream{StoreDir: t.TempDir(), Domain: sourceDomain}})
	if err != nil {
		p.stop()
		return nil, err
	}
	nc, err := nats.Connect(p.leaf.ClientURL())
	if err != nil {
		p.stop()
		return nil, err
	}
	p.leafJS, _ = jetstream.New(nc)
	if err := harness.Poll(10*time.Second, "the leaf link", func() bool { return p.hub.NumLeafs() == 1 }); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// startHub starts the hub (again: same store, same leafnodes port) and
// connects its client.
func (p *sourcePair) startHub() error {
	hub, err := harness.StartLeafServer(p.hubSpec)
	if err != nil {
		return err
	}
	p.hub = hub
	if p.hubSpec.LeafPort == 0 {
		var port int
		if _, err := fmt.Sscanf(hub.LeafURL()[strings.LastIndexByte(hub.LeafURL(), ':')+1:], "%d", &port); err != nil {
			return err
		}
		p.hubSpec.LeafPort = port
	}
	if p.hubNC, err = nats.Connect(hub.ClientURL()); err != nil {
		return err
	}
	p.core, _ = jetstream.New(p.hubNC)
	return nil
}

func (p *sourcePair) stop() {
	if p.hubNC != nil {
		p.hubNC.Close()
	}
	for _, s := range []*harness.LeafServer{p.leaf, p.hub} {
		if s != nil {
			s.Stop()
		}
	}
}

// publishAsync publishes n acknowledged messages of 128 B.
func publishAsync(ctx context.Context, js jetstream.JetStream, n int) error {
	payload := make([]byte, 128)
	for i := 0; i < n; i++ {
		if _, err := js.PublishAsync("factory.orders.new", payload); err != nil {
			return fmt.Errorf("publish %d: %w", i, err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publish: %w", ctx.Err())
	}
}

// waitStreamMsgs waits until the stream holds want messages.
func waitStreamMsgs(ctx context.Context, js jetstream.JetStream, name string, want int) error {
	var last uint64
	for {
		if st, err := js.Stream(ctx, name); err == nil {
			if info, err := st.Info(ctx); err == nil {
				last = info.State.Msgs
				if last >= uint64(want) {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s holds %d of %d: %w", name, last, want, errors.Join(ctx.Err()))
		case <-time.After(10 * time.Millisecond):
		}
	}
}
