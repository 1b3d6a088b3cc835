package fern

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/fernmq/fern/jetstream"
)

// NATSVersion is the server version announced to clients when JetStream
// is on: the official release whose client protocol and JetStream API
// Fern follows. Clients choose API subjects by it (nats.go's legacy
// JetStream context, used by KV watchers, needs >= 2.9 for the consumer
// create subjects). Fern's own version is Version.
const NATSVersion = "2.11.0"

// startJetStream creates and starts the JetStream engine (before the
// listeners, so no client sees the server without its API).
func (s *Server) startJetStream() error {
	o := &s.opts.JetStream
	dir := o.StoreDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "fern-jetstream")
	}
	cfg := jetstream.Config{
		StoreDir:        dir,
		MaxMemory:       o.MaxMemoryStore,
		MaxStore:        o.MaxFileStore,
		ServerID:        s.id,
		ServerName:      s.opts.ServerName,
		Version:         NATSVersion,
		MaxBufferedMsgs: o.MaxBufferedMsgs,
		Domain:          o.Domain,
		MaxBufferedSize: int(min(o.MaxBufferedSize, int64(math.MaxInt))),
		Logger:          s.log.With("component", "jetstream"),
		FS:              o.FS,
	}
	switch {
	case o.SyncAlways:
		cfg.Sync = jetstream.SyncAlways
	case o.SyncInterval > 0:
		cfg.Sync, cfg.Interval = jetstream.SyncInterval, o.SyncInterval
	}
	e, err := jetstream.New(cfg, newJSHost(s))
	if err != nil {
		return fmt.Errorf("fern: jetstream: %w", err)
	}
	// Set before Start: streams' sources publish from Start on, and the
	// data path reads s.js.
	s.js = e
	if err := e.Start(); err != nil {
		s.js = nil
		return fmt.Errorf("fern: jetstream: %w", err)
	}
	s.hintLeafDomain()
	return nil
}

// hintLeafDomain logs, once at start, the line a leaf with JetStream but
// no domain lacks: without a domain its streams share the core's $JS.API
// name space, so a core stream cannot source or mirror them and a core
// client cannot reach them (each side answers its own $JS.API).
func (s *Server) hintLeafDomain() {
	if s.opts.JetStream.Domain != "" || len(s.opts.LeafNode.Remotes) == 0 {
		return
	}
	name := s.opts.ServerName
	if name == "" {
		name = "leaf"
	}
	s.log.Warn("this leaf's JetStream has no domain: core streams cannot source or mirror its streams, nor core clients reach them; "+
		"add `domain: "+name+"` to its jetstream block", "hint", "jetstream { domain: "+name+" }")
}

// stopJetStream stops the engine: queued publishes are stored and the
// stores closed cleanly.
func (s *Server) stopJetStream() {
	if s.js == nil {
		return
	}
	if err := s.js.Stop(); err != nil {
		s.log.Warn("jetstream stop", "err", err)
	}
}

// JetStream is the running engine, or nil when JetStream is off.
func (s *Server) JetStream() *jetstream.Engine { return s.js }

// retrySources tells JetStream's sources and mirrors that a route or leaf
// connection registered: an upstream may be reachable again.
func (s *Server) retrySources() {
	if s.js != nil {
		s.js.RetrySources()
	}
}
