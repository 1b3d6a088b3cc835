package fern

import (
	"context"
	"crypto/tls"
	"errors"
	"github.com/fernmq/fern/internal/ratelog"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/fernmq/fern/auth"
	"github.com/fernmq/fern/jetstream"
	"github.com/fernmq/fern/route"
	"github.com/fernmq/fern/subject"
)

// Version is the server version announced in INFO.
const Version = "0.1.0"

var (
	// ErrServerClosed is returned by Start once Shutdown has been called.
	ErrServerClosed = errors.New("fern: server closed")
	// ErrAlreadyStarted is returned by a second call to Start.
	ErrAlreadyStarted = errors.New("fern: server already started")
)

// Server is one Fern server. Create it with NewServer, then Start it.
// Two servers in one process share nothing.
type Server struct {
	// refusals logs refused connections: the first per address, then a
	// summary a minute (internal/ratelog).
	refusals *ratelog.Limiter
	// blocks is the free list of outbound blocks (client_outq.go).
	blocks blockPool
	opts   Options
	log    *slog.Logger
	id     string

	// subs is the interest table: every subscription of every connection.
	subs *subject.Sublist[*subscription]

	nextCID atomic.Uint64

	mu       sync.Mutex
	started  bool
	starting bool // Start is running (JetStream starts before s.mu is taken)
	closed   bool
	ln       net.Listener
	clients  map[uint64]*client

	// Cluster state, guarded by mu.
	routeLn         net.Listener
	routes          map[string]*client // registered routes by remote server ID
	routeConns      map[uint64]*client // every route connection, for shutdown
	dialing         map[string]bool    // gossiped servers being dialled
	interest        *route.Interest    // local interest announced to routes
	clusterName     string
	clusterDynamic  bool
	lastConnectURLs []string

	// Leaf state, guarded by mu.
	leafLn    net.Listener
	wsLn      net.Listener
	leafs     map[uint64]*client // registered leaf connections
	leafConns map[uint64]*client // every leaf connection, for shutdown
	leafCIDRs *auth.CIDRList     // allowed_leaf_cidrs (read-only)

	// js is the JetStream engine (nil when off); set by Start before any
	// listener, read-only after.
	js *jetstream.Engine

	// TLS of the client, leafnodes and websocket listeners (nil: none).
	clientTLS, leafTLS, wsTLS *tls.Config
	// routeTLS and routeTLSClient are the two sides of route TLS (nil:
	// none); the client side is cloned per dial for its ServerName.
	routeTLS, routeTLSClient *tls.Config

	// ctx is cancelled by Shutdown; dials use it.
	ctx    context.Context
	cancel context.CancelFunc

	ready    chan struct{}
	shutdown chan struct{} // closed when Shutdown begins
	conns    sync.WaitGroup
	accept   sync.WaitGroup
}

// NewServer copies opts, fills in defaults and validates the result. The
// caller's struct is not modified and may be reused. Bad options (and TLS
// files that cannot be loaded) are errors naming the field. (Features Fern
// lacks have no Options fields; configuration files that ask for them are
// refused by the config reader, wrapping ErrNotImplemented.)
func NewServer(opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		opts:       o,
		id:         newServerID(),
		subs:       subject.NewSublist[*subscription](0),
		clients:    make(map[uint64]*client),
		routes:     make(map[string]*client),
		routeConns: make(map[uint64]*client),
		dialing:    make(map[string]bool),
		interest:   route.NewInterest(),
		leafs:      make(map[uint64]*client),
		leafConns:  make(map[uint64]*client),
		leafCIDRs: auth.NewCIDRList(append(append([]netip.Prefix(nil),
			o.Authorization.AllowedLeafCIDRs...), o.LeafNode.AllowedLeafCIDRs...)),
		ready:    make(chan struct{}),
		shutdown: make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if s.opts.ServerName == "" {
		s.opts.ServerName = s.id
	}
	s.clusterName = s.opts.Cluster.Name
	if s.clusterName == "" {
		s.clusterName, s.clusterDynamic = newServerID()[1:23], true
	}
	s.log = o.Logger.With("server", s.opts.ServerName)
	s.refusals = ratelog.New(s.log, ratelog.Options{})
	for _, l := range []struct {
		opts *TLSOptions
		cfg  **tls.Config
	}{{o.TLS, &s.clientTLS}, {o.LeafNode.TLS, &s.leafTLS}, {o.Websocket.TLS, &s.wsTLS}} {
		if l.opts == nil {
			continue
		}
		cfg, err := l.opts.serverConfig()
		if err != nil {
			return nil, err
		}
		*l.cfg = cfg
	}
	if t := o.Cluster.TLS; t != nil {
		var err error
		if s.routeTLS, s.routeTLSClient, err = t.routeConfigs(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start binds the client listener and starts accepting connections. It
// returns once the listener is bound: a port in use is an error here, not a
// log line. Start does not block.
func (s *Server) Start() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.started || s.starting {
		s.mu.Unlock()
		return ErrAlreadyStarted
	}
	s.starting = true
	s.mu.Unlock()
	// JetStream subscribes through the interest table (which takes s.mu).
	if s.opts.JetStream.Enabled {
		if err := s.startJetStream(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	err := s.startLocked()
	s.starting = false
	s.mu.Unlock()
	if err != nil {
		s.stopJetStream()
	}
	return err
}

// startLocked binds the listeners and starts accepting. s.mu is held.
func (s *Server) startLocked() error {
	ln, err := s.listen(s.opts.Host, s.opts.Port, "client")
	if err != nil {
		return err
	}
	s.ln = ln
	if s.routeConfigured() {
		if err := s.startClusterLocked(); err != nil {
			s.closeListenersLocked()
			return err
		}
	}
	if s.opts.LeafNode.Set() {
		if err := s.startLeafLocked(); err != nil {
			s.closeListenersLocked()
			return err
		}
	}
	if s.opts.Websocket.Port != 0 {
		if err := s.startWebsocketLocked(); err != nil {
			s.closeListenersLocked()
			return err
		}
	}
	s.started = true
	s.log.Info("listening for client connections", "addr", ln.Addr().String(), "version", Version)
	s.accept.Add(2)
	go s.acceptLoop(ln, "client", func(nc net.Conn) { s.createClientTLS(nc, s.clientTLS) })
	go s.trimIdle()
	close(s.ready)
	return nil
}

// Ready is closed once the server accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the bound client address, or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// ClientURL is the nats:// URL clients use to reach this server. An
// unspecified listen host (0.0.0.0, ::) is reported as the loopback address.
func (s *Server) ClientURL() string {
	addr, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	ip := addr.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "nats://" + net.JoinHostPort(ip.String(), strconv.Itoa(addr.Port))
}

// ID is the server's unique ID, as announced in INFO.
func (s *Server) ID() string { return s.id }

// NumClients is the number of client connections currently registered.
func (s *Server) NumClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// HasInterest reports whether anyone (a local client, a route or a leaf)
// has a subscription matching the literal subject.
func (s *Server) HasInterest(subject string) bool { return s.subs.HasInterest([]byte(subject)) }

// NumSubscriptions is the number of subscriptions in the interest table.
func (s *Server) NumSubscriptions() int { return s.subs.Count() }

// Shutdown stops accepting, flushes what every connection has pending,
// closes the connections and waits for them, or until ctx is done. It is
// safe to call more than once and before Start.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := !s.closed
	if first {
		s.closed = true
		close(s.shutdown)
		s.cancel()
		s.closeListenersLocked()
	}
	conns := s.allConnsLocked()
	s.mu.Unlock()
	if first {
		s.log.Info("shutting down", "connections", len(conns))
		// JetStream first: it stores what is queued and queues the last
		// PubAcks, which the connections then flush as they close.
		s.stopJetStream()
		// Closing takes each connection's interest out, which takes s.mu:
		// never close while holding it.
		for _, c := range conns {
			c.closeAfterFlush(reasonServerShutdown)
		}
	}

	done := make(chan struct{})
	go func() {
		s.accept.Wait()
		s.conns.Wait()
		s.refusals.Close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		// Out of time: drop whatever is still unflushed.
		s.mu.Lock()
		conns = s.allConnsLocked()
		s.mu.Unlock()
		for _, c := range conns {
			c.closeNow(reasonServerShutdown)
		}
		return ctx.Err()
	}
}

// allConnsLocked lists every client, route and leaf connection.
func (s *Server) allConnsLocked() []*client {
	conns := make([]*client, 0, len(s.clients)+len(s.routeConns)+len(s.leafConns))
	for _, m := range []map[uint64]*client{s.clients, s.routeConns, s.leafConns} {
		for _, c := range m {
			conns = append(conns, c)
		}
	}
	return conns
}

// closeListenersLocked closes every bound listener (Start failed, or
// Shutdown). s.mu is held.
func (s *Server) closeListenersLocked() {
	for _, ln := range []net.Listener{s.ln, s.routeLn, s.leafLn, s.wsLn} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// acceptLoop accepts connections on ln and hands each to create, until
// the listener closes. what names the listener in logs.
func (s *Server) acceptLoop(ln net.Listener, what string, create func(net.Conn)) {
	defer s.accept.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.shutdown:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Error("accept failed, listener stopped", "listener", what, "err", err)
			return
		}
		create(nc)
	}
}

// register adds c to the client table, or reports why it cannot.
func (s *Server) register(c *client) (ok bool, full bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, false
	}
	if len(s.clients) >= s.opts.MaxConnections {
		return false, true
	}
	s.clients[c.cid] = c
	s.conns.Add(1)
	return true, false
}

// unregister removes c from the client table.
func (s *Server) unregister(c *client) {
	s.mu.Lock()
	delete(s.clients, c.cid)
	s.mu.Unlock()
}
