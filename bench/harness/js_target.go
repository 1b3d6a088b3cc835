package harness

import (
	"fmt"
	"os"
	"time"

	"github.com/fernmq/fern"
	"github.com/nats-io/nats-server/v2/server"
)

// JetStream targets: one server of either kind with JetStream on a fresh
// temporary store directory, at a stated durability. A JetStream figure is
// only meaningful next to its durability, so every target carries one and
// the benchmarks and tables print it beside each number.

// Durability is how far an acknowledged publish has gone towards the disk.
type Durability struct {
	// Key is a short identifier ("fsync"), usable in benchmark names.
	Key string
	// Name is the human label used in tables.
	Name string
	// Fern and Official describe each implementation's setting in words.
	Fern, Official string
	// fern and official apply the setting.
	fern     func(*fern.JetStreamOptions)
	official func(*server.Options)
}

// officialDefaultSync is the official server's default sync_interval
// (server/opts.go defaultSyncInterval), used for Fern's matching setting.
const officialDefaultSync = 2 * time.Minute

// DurabilityFsync: a PubAck means the message is on disk (fsynced). Fern's
// default, group commit (the fsyncs of concurrent publishes batched into
// one, each PubAck sent after the fsync covering it), against the official
// `sync_interval: always` (its store files opened O_SYNC: every write
// synced before the PubAck).
func DurabilityFsync() Durability {
	return Durability{
		Key: "fsync", Name: "fsync before ack",
		Fern:     "default (group commit)",
		Official: "sync_interval: always",
		fern:     func(*fern.JetStreamOptions) {},
		official: func(o *server.Options) { o.SyncAlways = true },
	}
}

// DurabilityInterval: a PubAck means the message was written to the store
// file (it survives a process crash), with an fsync every two minutes (it
// may not survive an OS crash). The official default, against Fern with
// SyncInterval set to the same two minutes.
func DurabilityInterval() Durability {
	return Durability{
		Key: "interval", Name: "ack after write, fsync every 2 min",
		Fern:     "SyncInterval: 2m",
		Official: "default (sync_interval: 2m)",
		fern:     func(o *fern.JetStreamOptions) { o.SyncInterval = officialDefaultSync },
		official: func(*server.Options) {},
	}
}

// DurabilityEachWrite: the same guarantee as DurabilityFsync by the same
// mechanism on both sides: Fern with SyncAlways (an fsync per message, no
// group commit) against the official `sync_interval: always`. Not in
// Durabilities(); it shows what group commit buys.
func DurabilityEachWrite() Durability {
	return Durability{
		Key: "always", Name: "fsync each message before ack",
		Fern:     "SyncAlways",
		Official: "sync_interval: always",
		fern:     func(o *fern.JetStreamOptions) { o.SyncAlways = true },
		official: func(o *server.Options) { o.SyncAlways = true },
	}
}

// Durabilities returns the durability settings compared, strongest first.
func Durabilities() []Durability {
	return []Durability{DurabilityFsync(), DurabilityInterval()}
}

// JSTarget is a server of kind (KindFern or KindOfficial) with JetStream
// enabled at durability d. Each Start creates a new temporary store
// directory, which stop removes after the server has shut down. Name is
// the kind, so the targets of one durability fit the compare table.
func JSTarget(kind string, d Durability) Target {
	return Target{Name: kind, Start: func() (string, func(), error) { return startJS(kind, d) }}
}

// JSTargets returns Fern and the official server at durability d, in that
// order.
func JSTargets(d Durability) []Target {
	return []Target{JSTarget(KindFern, d), JSTarget(KindOfficial, d)}
}

func startJS(kind string, d Durability) (string, func(), error) {
	dir, err := os.MkdirTemp("", "fern-bench-js-")
	if err != nil {
		return "", nil, fmt.Errorf("harness: jetstream store dir: %w", err)
	}
	var url string
	var stop func()
	switch kind {
	case KindFern:
		url, stop, err = startFernJS(dir, d)
	case KindOfficial:
		url, stop, err = startOfficialJS(dir, d)
	default:
		err = fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	return url, func() {
		stop()
		_ = os.RemoveAll(dir)
	}, nil
}

func startFernJS(dir string, d Durability) (string, func(), error) {
	js := fern.JetStreamOptions{Enabled: true, StoreDir: dir}
	d.fern(&js)
	s, err := runFern(&fern.Options{Host: "127.0.0.1", Port: -1, ServerName: "fern-js", JetStream: js}, "fern jetstream")
	if err != nil {
		return "", nil, err
	}
	return s.ClientURL(), func() { stopFern(s) }, nil
}

func startOfficialJS(dir string, d Durability) (string, func(), error) {
	o := &server.Options{
		Host:       "127.0.0.1",
		Port:       -1,
		ServerName: "official-js",
		NoLog:      true,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   dir,
	}
	d.official(o)
	s, err := server.NewServer(o)
	if err != nil {
		return "", nil, fmt.Errorf("harness: start official jetstream: %w", err)
	}
	stop := func() {
		s.Shutdown()
		s.WaitForShutdown()
	}
	go s.Start()
	if !s.ReadyForConnections(startTimeout) || !s.JetStreamEnabled() {
		stop()
		return "", nil, fmt.Errorf("harness: start official jetstream: %w", ErrNotReady)
	}
	return s.ClientURL(), stop, nil
}
