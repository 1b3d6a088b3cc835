package fern

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fernmq/fern/internal/compress"
	"github.com/fernmq/fern/protocol"
	"github.com/fernmq/fern/route"
)

// Route connection lifecycle (see package route for the protocol rules):
//
//	accept side: INFO ->, <- CONNECT, <- INFO: register
//	solicit side: CONNECT ->, INFO ->, <- INFO: register
//
// With compression configured (the default "accept" counts) the solicit
// side holds its INFO until it has the peer's, as officially, and puts
// the negotiated mode in it. When the modes agree on S2, the INFO that
// carries the mode is the last op in the clear on each side: both switch
// to an S2 stream, re-send their INFO compressed and register on the
// peer's second INFO.
//
// Registration keeps one route per remote server ID: the first registered
// stays and a later duplicate is closed, as on the official server. When
// two servers dial each other at once and each keeps a different
// connection, both end up closed and the dial loops reconnect (with
// jitter, so the next attempts rarely collide). A registered
// route is sent the whole local interest and a PING, and every other route
// is told about it (gossip), so servers that know only one peer end in a
// full mesh.

const (
	reasonDuplicateRoute closeReason = "duplicate route"
	reasonRouteToSelf    closeReason = "route to self"
	reasonClusterName    closeReason = "cluster name mismatch"
	reasonRouteClosed    closeReason = "route closed"

	routeDialTimeout  = time.Second
	routeMaxPingEvery = 30 * time.Second
	routeFirstPing    = time.Second
)

// routeState is what a route connection has beyond a client's.
type routeState struct {
	solicited bool
	url       route.URL // the URL dialled (solicited routes)
	explicit  bool      // from cluster.routes (retried forever)

	start time.Time // when the connection began (s2_auto measures from it)

	// Read goroutine only until registered, then read-only.
	gotConnect  bool
	negotiated  bool   // compression negotiation is over
	compression string // the negotiated mode
	remoteID    string
	info        route.Info
	gossipURL   string // where other servers can dial this peer

	registered atomic.Bool
	// outcome is set when registration fails, for the solicit loop.
	outcome atomic.Value // closeReason
}

// routeConfigured reports whether this server runs a cluster.
func (s *Server) routeConfigured() bool { return s.opts.Cluster.Set() }

// listen binds a listener for what ("client", "route", "leafnode"): an
// empty host is the client host, port -1 an ephemeral port.
func (s *Server) listen(host string, port int, what string) (net.Listener, error) {
	if port == -1 {
		port = 0
	}
	if host == "" {
		host = s.opts.Host
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	listen := net.Listen
	if s.opts.Listen != nil {
		listen = s.opts.Listen
	}
	ln, err := listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fern: %s listener on %s: %w", what, addr, err)
	}
	return ln, nil
}

// dialRoute opens a connection to a route URL's host:port (Options.Dial
// or TCP).
func (s *Server) dialRoute(addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(s.ctx, routeDialTimeout)
	defer cancel()
	if s.opts.Dial != nil {
		return s.opts.Dial(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// startCluster binds the route listener and starts dialling the
// configured routes. s.mu is held.
func (s *Server) startClusterLocked() error {
	c := &s.opts.Cluster
	if c.Port != 0 {
		ln, err := s.listen(c.Host, c.Port, "route")
		if err != nil {
			return err
		}
		s.routeLn = ln
		s.log.Info("listening for route connections", "addr", ln.Addr().String(), "cluster", s.clusterName)
		s.accept.Add(1)
		go s.acceptLoop(ln, "route", func(nc net.Conn) { s.createRoute(nc, nil, false) })
	}
	for _, raw := range c.Routes {
		u, err := route.ParseURL(raw)
		if err != nil {
			return fmt.Errorf("fern: cluster.routes: %w", err)
		}
		s.accept.Add(1)
		go func() {
			defer s.accept.Done()
			s.solicitRoute(u, true, 0)
		}()
	}
	return nil
}

// solicitRoute dials u until a route to it is registered, and again each
// time that route is lost. An explicit route (cluster.routes) is retried
// forever; one learned by gossip gets retries+1 attempts per loss.
func (s *Server) solicitRoute(u route.URL, explicit bool, retries int) {
	interval := s.opts.Cluster.RetryInterval
	failures := 0
	for {
		if s.isShuttingDown() {
			return
		}
		nc, err := s.dialRoute(u.Host)
		if err != nil {
			failures++
			if !explicit && failures > retries {
				s.log.Debug("giving up on gossiped route", "url", u.String(), "err", err)
				return
			}
			s.log.Debug("route dial failed", "url", u.String(), "attempt", failures, "err", err)
			if !s.sleep(route.Backoff(min(failures-1, 5), interval, 30*interval)) {
				return
			}
			continue
		}
		c := s.createRoute(nc, &u, explicit)
		if c == nil {
			return
		}
		<-c.closeCh
		reason, _ := c.route.outcome.Load().(closeReason)
		switch {
		case reason == reasonRouteToSelf:
			s.log.Debug("dropping route to self", "url", u.String())
			return
		case reason == reasonDuplicateRoute:
			// Another connection to that server won; wait for it to end.
			s.waitRouteGone(s.routeRemoteID(c))
			if !explicit {
				return
			}
		case c.route.registered.Load():
			// A gossiped route gets its retries again: when two servers
			// closed each other's duplicate, this is what reconnects them.
			s.log.Info("route lost, reconnecting", "url", u.String(), "remote", s.routeRemoteID(c))
			failures = 0
		default:
			failures++
			if !explicit && failures > retries {
				return
			}
		}
		if !s.sleep(route.Backoff(min(failures, 5), interval, 30*interval)) {
			return
		}
	}
}

// sleep waits d, or returns false if the server shuts down first.
func (s *Server) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.shutdown:
		return false
	}
}

// waitRouteGone returns once no route to id is registered (or shutdown).
func (s *Server) waitRouteGone(id string) {
	for {
		s.mu.Lock()
		r := s.routes[id]
		s.mu.Unlock()
		if r == nil {
			return
		}
		select {
		case <-r.closeCh:
		case <-s.shutdown:
			return
		}
	}
}

func (s *Server) isShuttingDown() bool {
	select {
	case <-s.shutdown:
		return true
	default:
		return false
	}
}

// createRoute starts a route connection; u is the dialled URL for a
// solicited route, nil for an accepted one.
func (s *Server) createRoute(nc net.Conn, u *route.URL, explicit bool) *client {
	c := s.newConn(nc, kindRoute, protocol.Config{
		MaxControlLine: 16 * s.opts.MaxControlLine, // as officially for servers
		MaxPayload:     -1,                         // routes carry whatever a client could
		Accept:         protocol.RouteOps,
	})
	c.route = &routeState{solicited: u != nil, explicit: explicit, start: time.Now()}
	co := &s.opts.Cluster.Compression
	if u != nil {
		c.route.url = *u
	}
	c.log = s.log.With("route", c.cid, "remote", nc.RemoteAddr().String())

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return nil
	}
	s.routeConns[c.cid] = c
	s.conns.Add(1)
	if u != nil {
		ci := route.Connect{
			Echo: true, Headers: true, Name: s.id, Cluster: s.clusterName,
			Dynamic: s.clusterDynamic, User: u.User, Pass: u.Pass,
		}
		b, _ := json.Marshal(ci)
		c.out = protocol.AppendConnect(c.out, b)
	} else if s.opts.Cluster.User != "" {
		c.authTimer = time.AfterFunc(s.opts.Cluster.AuthTimeout, c.authTimeout)
	}
	if u == nil || !compress.Wants(co.Mode) {
		c.out = protocol.AppendInfo(c.out, s.routeInfoJSONLocked("", co.Mode))
	}
	s.mu.Unlock()

	if s.routeTLS != nil {
		// TLS from the first byte on routes, as officially: the writer is
		// held until the read loop has done the handshake.
		cfg, isClient := s.routeTLS, u != nil
		if isClient {
			cfg = s.routeTLSClient.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName = u.Hostname()
			}
		}
		c.mu.Lock()
		c.holdOut = true
		c.mu.Unlock()
		c.upgrade = func([]byte) error {
			return c.startTLSFirst(cfg, isClient, s.opts.Cluster.TLS.handshakeTimeout())
		}
	}
	c.log.Debug("route connection", "solicited", u != nil)
	c.start(min(routeFirstPing, s.opts.FirstPingDelay))
	return c
}

// routeInfoJSONLocked is this server's route INFO with the compression
// mode to announce; gossipIP, when set, replaces the IP field (forwarding
// another server's INFO uses its own).
func (s *Server) routeInfoJSONLocked(gossipIP, compression string) []byte {
	info := route.Info{
		ID:          s.id,
		Name:        s.opts.ServerName,
		Version:     Version,
		Proto:       route.ProtoVersion,
		Go:          goVersion(),
		Host:        s.opts.Cluster.Host,
		Headers:     true,
		MaxPayload:  s.opts.MaxPayload,
		Cluster:     s.clusterName,
		Dynamic:     s.clusterDynamic,
		AuthReq:     s.opts.Cluster.User != "",
		Compression: compression,
		Raft:        true,
	}
	if info.Host == "" {
		info.Host = s.opts.Host
	}
	if s.routeLn != nil {
		info.Port = s.routeLn.Addr().(*net.TCPAddr).Port
	}
	if s.opts.Cluster.Advertise != "" {
		info.IP = "nats-route://" + s.opts.Cluster.Advertise + "/"
	}
	if !s.opts.Cluster.NoAdvertise {
		info.ConnectURLs = s.ownClientURLsLocked()
	}
	b, _ := json.Marshal(&info)
	return b
}

// ownClientURLsLocked lists host:port URLs at which this server accepts
// clients, for connect_urls. An unspecified listen address is replaced by
// the machine's interface addresses (loopback if it has no other).
func (s *Server) ownClientURLsLocked() []string {
	if s.ln == nil {
		return nil
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	port := strconv.Itoa(addr.Port)
	if !addr.IP.IsUnspecified() {
		return []string{net.JoinHostPort(addr.IP.String(), port)}
	}
	var urls []string
	if ifaddrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range ifaddrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				urls = append(urls, net.JoinHostPort(ipn.IP.String(), port))
			}
		}
	}
	if len(urls) == 0 {
		urls = []string{net.JoinHostPort("127.0.0.1", port)}
	}
	return urls
}
