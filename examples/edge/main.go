// Command edge runs the seed's story (shared/seed) in one process: a
// three-server core cluster and a factory leaf node, built from the seed's
// own config files with host names swapped for loopback addresses.
//
//	go run ./examples/edge
//
// It shows factory.orders.new going up from the leaf to the core,
// factory.alerts.critical coming down from the core to the leaf, the
// core's FACTORY_ORDERS stream (on nats-1) sourcing the leaf's ORDERS
// stream through the leaf's JetStream domain "factory" (the one addition
// to the seed's configs), the leaf failing over when the core server it is
// connected to dies, the leaf acknowledging 20,000 orders while the whole
// core is down, FACTORY_ORDERS catching up by itself once nats-1 is back
// (nobody reads the leaf's stream; progress lines show its count grow and
// its lag shrink), checked in order with none twice, and a leaf from
// outside allowed_leaf_cidrs being refused.
//
// The core's JetStream is single-server (no clustered JetStream yet), so
// FACTORY_ORDERS lives on nats-1, the server it is created through and
// the one that comes back first.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fernmq/fern"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The seed's config files, as written there.
const coreConf = `listen: 0.0.0.0:4222
cluster {
listen: 0.0.0.0:6222
routes = [
"nats://nats-2:6222",
"nats://nats-3:6222"
]
}
jetstream {
storeDir: "./store"
}
authorization {
# Allow connections from the leaf node's IP address.
# If the leaf node is on a different network segment, you'd use its CIDR.
# For simplicity, let's assume it's on a known subnet.
# Replace with the actual IP or CIDR of your factory leaf node.
allowed_leaf_cidrs = ["192.168.1.0/24"]
}
`

const leafConf = `listen: 0.0.0.0:4222
# This is the crucial part: defining the connections to the core cluster
# The leaf node will try to connect to *any* of these URLs.
# If one fails, it tries the next.
# The core cluster servers should be configured to accept connections from leaf nodes.
jetstream: {
storeDir: "./store"
}
leaf {
remotes = [
{ url: "nats://nats-1:4222" },
{ url: "nats://nats-2:4222" },
{ url: "nats://nats-3:4222" }
]
}
`

// Loopback addresses stand in for the seed's hosts. The factory's subnet
// is 127.0.2.0/24; a rogue leaf dials from 127.0.3.1.
var hosts = map[string]string{"nats-1": "127.0.1.1", "nats-2": "127.0.1.2", "nats-3": "127.0.1.3"}

const (
	factoryAddr = "127.0.2.1"
	factoryCIDR = "127.0.2.0/24"
	rogueAddr   = "127.0.3.1"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "edge:", err)
		os.Exit(1)
	}
}

// localize swaps the seed's host names and addresses for loopback ones,
// and the seed's shared "./store" for a directory of this server's own
// (four servers run in one process).
func localize(conf, self, storeDir string) string {
	for name, ip := range hosts {
		conf = strings.ReplaceAll(conf, name+":", ip+":")
	}
	conf = strings.ReplaceAll(conf, "0.0.0.0:", self+":")
	conf = strings.ReplaceAll(conf, "192.168.1.0/24", factoryCIDR)
	return strings.ReplaceAll(conf, `storeDir: "./store"`, "storeDir: "+strconv.Quote(storeDir))
}

// fromAddr dials from a fixed loopback source address, so that the hubs
// see the leaf coming from the factory's subnet (or the rogue's).
func fromAddr(ip string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return d.DialContext
}

func run(out io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	logs := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("EDGE_LOGS") != "" {
		logs = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: edgeLogLevel()}))
	}
	ctx := context.Background()
	storeRoot, err := os.MkdirTemp("", "fern-edge-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(storeRoot)

	// 1. The core: three servers from core.conf.
	var core []*fern.Server
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("nats-%d", i)
		conf := localize(coreConf, hosts[name], filepath.Join(storeRoot, name))
		opts, err := fern.ParseConfig(name+"/core.conf", []byte(conf))
		if err != nil {
			return err
		}
		opts.ServerName, opts.Logger = name, logs.With("server", name)
		opts.Cluster.RetryInterval = 100 * time.Millisecond
		s, err := start(opts)
		if err != nil {
			return err
		}
		defer s.Shutdown(ctx)
		core = append(core, s)
	}
	if err := until(10*time.Second, func() bool {
		return core[0].NumRoutes() == 2 && core[1].NumRoutes() == 2 && core[2].NumRoutes() == 2
	}); err != nil {
		return fmt.Errorf("core cluster did not form: %w", err)
	}
	say("core cluster up: nats-1, nats-2, nats-3 (%s, %s, %s), full mesh of routes",
		core[0].ClientURL(), core[1].ClientURL(), core[2].ClientURL())

	// 2. The factory leaf from leaf.conf.
	opts, err := fern.ParseConfig("leaf-factory/leaf.conf", []byte(localize(leafConf, factoryAddr, filepath.Join(storeRoot, "leaf-factory"))))
	if err != nil {
		return err
	}
	opts.ServerName, opts.Logger = "leaf-factory", logs.With("server", "leaf-factory")
	// One addition to the seed's leaf.conf: a JetStream domain, so that the
	// core can reach the factory's streams over the leaf link.
	opts.JetStream.Domain = "factory"
	opts.LeafNode.Dial = fromAddr(factoryAddr)
	opts.LeafNode.ReconnectInterval = 100 * time.Millisecond
	lf, err := start(opts)
	if err != nil {
		return err
	}
	defer lf.Shutdown(ctx)
	if err := until(10*time.Second, func() bool { return len(lf.ConnectedHubs()) == 1 }); err != nil {
		return fmt.Errorf("leaf did not connect: %w", err)
	}
	say("leaf-factory up at %s, connected to %s (admitted by allowed_leaf_cidrs %s)", lf.ClientURL(), lf.ConnectedHubs()[0], factoryCIDR)

	// 3. factory.orders.new goes up: published on the leaf, received by a
	// service on nats-2.
	svc, err := nats.Connect(core[1].ClientURL())
	if err != nil {
		return err
	}
	defer svc.Close()
	orders, _ := svc.SubscribeSync("factory.orders.new")
	svc.Flush()
	factory, err := nats.Connect(lf.ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer factory.Close()
	if err := until(5*time.Second, func() bool { return lf.HasInterest("factory.orders.new") }); err != nil {
		return err
	}
	factory.Publish("factory.orders.new", []byte("order #1001: 40 pallets"))
	m, err := orders.NextMsg(5 * time.Second)
	if err != nil {
		return fmt.Errorf("order did not reach the core: %w", err)
	}
	say("up:   leaf published factory.orders.new -> nats-2 received %q", m.Data)

	// 4. factory.alerts.critical comes down: published on nats-3, received
	// on the leaf.
	alerts, _ := factory.SubscribeSync("factory.alerts.critical")
	factory.Flush()
	ops, err := nats.Connect(core[2].ClientURL())
	if err != nil {
		return err
	}
	defer ops.Close()
	if err := until(5*time.Second, func() bool { return core[2].HasInterest("factory.alerts.critical") }); err != nil {
		return err
	}
	ops.Publish("factory.alerts.critical", []byte("line 3 overheating"))
	m, err = alerts.NextMsg(5 * time.Second)
	if err != nil {
		return fmt.Errorf("alert did not reach the leaf: %w", err)
	}
	say("down: nats-3 published factory.alerts.critical -> leaf received %q", m.Data)

	// 5. The seed's jetstream block, with a domain. Through nats-1 the core
	// creates ORDERS on the leaf (domain "factory") and its own
	// FACTORY_ORDERS, which sources ORDERS across the leaf link by itself.
	// The core's JetStream is single-server (no clustered JetStream yet):
	// FACTORY_ORDERS lives on nats-1, the server that comes back first below.
	hq, err := nats.Connect(core[0].ClientURL())
	if err != nil {
		return err
	}
	defer hq.Close()
	coreJS, err := createStreams(ctx, hq)
	if err != nil {
		return err
	}
	say("streams: through nats-1 the core created ORDERS on the leaf (domain \"factory\") and FACTORY_ORDERS on nats-1, sourcing it (the core's JetStream is single-server: FACTORY_ORDERS lives on nats-1, the server that comes back first)")
	leafJS, err := jetstream.New(factory, jetstream.WithPublishAsyncMaxPending(inFlight))
	if err != nil {
		return err
	}
	if _, err := leafJS.Publish(ctx, "factory.orders.new", order(firstOrder, "before the cut")); err != nil {
		return fmt.Errorf("stored publish on the leaf: %w", err)
	}
	if err := waitHeld(ctx, coreJS, 1); err != nil {
		return fmt.Errorf("order #%d did not reach FACTORY_ORDERS: %w", firstOrder, err)
	}
	say("source: order #%d, acknowledged by the leaf's ORDERS, arrived at FACTORY_ORDERS on nats-1", firstOrder)

	// 6. The core server holding the leaf dies; the leaf fails over.
	hub := lf.ConnectedHubs()[0]
	var victim *fern.Server
	for i, s := range core {
		if fmt.Sprintf("nats-%d", i+1) == hub {
			victim = s
		}
	}
	began := time.Now()
	victim.Shutdown(ctx)
	if err := until(10*time.Second, func() bool {
		h := lf.ConnectedHubs()
		return len(h) == 1 && h[0] != hub
	}); err != nil {
		return fmt.Errorf("leaf did not fail over: %w", err)
	}
	say("failover: %s stopped; leaf reconnected to %s in %v", hub, lf.ConnectedHubs()[0], time.Since(began).Round(time.Millisecond))
	var survivor *fern.Server
	for _, s := range core {
		if s != victim {
			survivor = s
		}
	}
	ops2, err := nats.Connect(survivor.ClientURL())
	if err != nil {
		return err
	}
	defer ops2.Close()
	if err := until(5*time.Second, func() bool { return survivor.HasInterest("factory.alerts.critical") }); err != nil {
		return err
	}
	ops2.Publish("factory.alerts.critical", []byte("line 3 back to normal"))
	if m, err = alerts.NextMsg(5 * time.Second); err != nil {
		return fmt.Errorf("alert after failover: %w", err)
	}
	say("down: after failover the leaf still receives %q", m.Data)

	// 7. The cut: every core server is down (the failover stopped one). The
	// leaf keeps taking orders, each acknowledged once fsynced in ORDERS.
	var down []string
	for i, s := range core {
		if s != victim {
			s.Shutdown(ctx)
			down = append(down, fmt.Sprintf("nats-%d", i+1))
		}
	}
	if err := until(10*time.Second, func() bool { return len(lf.ConnectedHubs()) == 0 }); err != nil {
		return fmt.Errorf("leaf still linked: %w", err)
	}
	began = time.Now()
	if err := publishOrders(leafJS, firstOrder+1, cutOff); err != nil {
		return err
	}
	say("store: all cores down (%s stopped too); the leaf acknowledged all %s orders (#%d to #%d) in its ORDERS stream, each after fsync, %d in flight, in %.2f s",
		strings.Join(down, ", "), grouped(cutOff), firstOrder+1, firstOrder+cutOff, inFlight, time.Since(began).Seconds())

	// 8. nats-1 comes back on its store directory and ports. Nobody reads
	// the leaf's stream: FACTORY_ORDERS resumes its source by itself, and
	// its lag shrinks to nothing.
	name := "nats-1"
	back, err := fern.ParseConfig(name+"/core.conf", []byte(localize(coreConf, hosts[name], filepath.Join(storeRoot, name))))
	if err != nil {
		return err
	}
	back.ServerName, back.Logger = name, logs.With("server", name)
	back.Cluster.RetryInterval = 100 * time.Millisecond
	restarted, err := start(back)
	if err != nil {
		return err
	}
	defer restarted.Shutdown(ctx)
	backAt := time.Now()
	hq2, err := nats.Connect(restarted.ClientURL())
	if err != nil {
		return err
	}
	defer hq2.Close()
	if coreJS, err = jetstream.New(hq2); err != nil {
		return err
	}
	total := uint64(1 + cutOff)
	say("source: nats-1 is back; nobody reads ORDERS: FACTORY_ORDERS resumes its source by itself (lag: orders the leaf has yet to send)")
	took, err := watchSync(ctx, coreJS, total, backAt, say)
	if err != nil {
		return fmt.Errorf("%w (leaf linked to %v)", err, lf.ConnectedHubs())
	}
	if err := checkOrder(ctx, coreJS, total); err != nil {
		return err
	}
	say("sync: caught up with all %d orders, in order, none twice, %.2f s after %s came back", total, took.Seconds(), name)

	// 9. A leaf dialling from outside the allowed range is refused.
	rogueOpts, _ := fern.ParseConfig("rogue/leaf.conf", []byte(localize(leafConf, rogueAddr, filepath.Join(storeRoot, "rogue"))))
	rogueOpts.ServerName, rogueOpts.Logger = "leaf-rogue", logs.With("server", "leaf-rogue")
	rogueOpts.LeafNode.Dial = fromAddr(rogueAddr)
	rogueOpts.LeafNode.ReconnectInterval = 100 * time.Millisecond
	refused := make(chan string, 4)
	rogueOpts.Logger = slog.New(&watch{Handler: logs.Handler(), hit: refused})
	rogue, err := start(rogueOpts)
	if err != nil {
		return err
	}
	defer rogue.Shutdown(ctx)
	select {
	case why := <-refused:
		say("refused: a leaf dialling from %s (outside %s) got %s", rogueAddr, factoryCIDR, why)
	case <-time.After(5 * time.Second):
		return errors.New("the rogue leaf was not refused")
	}
	if n := restarted.NumLeafs(); n != 1 {
		return fmt.Errorf("%s has %d leaf connections, want only the factory's", name, n)
	}
	say("done")
	return nil
}

// start creates and starts a server.
func start(opts *fern.Options) (*fern.Server, error) {
	s, err := fern.NewServer(opts)
	if err != nil {
		return nil, err
	}
	return s, s.Start()
}

// until polls cond until it holds or d passes.
func until(d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v", d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// watch is a slog handler that reports the hub's -ERR to the demo.
type watch struct {
	slog.Handler
	hit chan<- string
}

func (w *watch) Handle(ctx context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "text" && strings.Contains(a.Value.String(), "Authorization Violation") {
			select {
			case w.hit <- "-ERR '" + a.Value.String() + "'":
			default:
			}
		}
		return true
	})
	return w.Handler.Handle(ctx, r)
}

func (w *watch) WithAttrs(as []slog.Attr) slog.Handler {
	return &watch{Handler: w.Handler.WithAttrs(as), hit: w.hit}
}

func (w *watch) WithGroup(g string) slog.Handler {
	return &watch{Handler: w.Handler.WithGroup(g), hit: w.hit}
}

// edgeLogLevel is EDGE_LOGS=debug's debug level, else info.
func edgeLogLevel() slog.Level {
	if os.Getenv("EDGE_LOGS") == "debug" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
