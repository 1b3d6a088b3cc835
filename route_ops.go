package fern

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"

	"github.com/fernmq/fern/internal/compress"
	"github.com/fernmq/fern/protocol"
	"github.com/fernmq/fern/route"
)

// handleRouteOp is HandleOp for route connections.
func (c *client) handleRouteOp(f *protocol.Frame) error {
	rs := c.route
	if !rs.solicited && !rs.gotConnect && f.Op != protocol.OpConnect {
		// The first protocol on an accepted route must be CONNECT.
		return c.authViolation()
	}
	switch f.Op {
	case protocol.OpConnect:
		return c.processRouteConnect(f.Arg)
	case protocol.OpInfo:
		return c.processRouteInfo(f.Arg)
	case protocol.OpPing:
		c.enqueue(protocol.PongLine)
	case protocol.OpPong:
		c.processPong()
	case protocol.OpOK:
	case protocol.OpErr:
		level := slog.LevelWarn
		if bytes.HasPrefix(f.Arg, []byte("Not possible to have a dedicated route")) {
			// An official peer probing for a pinned $SYS route, which a
			// server without pooling cannot have: expected, harmless.
			level = slog.LevelDebug
		}
		c.log.Log(context.Background(), level, "route sent -ERR", "text", string(f.Arg))
		return c.refuse("", reasonRouteClosed)
	case protocol.OpRSub:
		return c.processRouteSub(f)
	case protocol.OpRUnsub:
		return c.processRouteUnsub(f)
	case protocol.OpRMsg, protocol.OpRHMsg:
		if !rs.registered.Load() {
			return nil // not part of the cluster yet
		}
		c.inQueues = f.QueueList
		c.processMsg(f.Subject, f.Reply, f.HeaderSize, f.Msg)
		c.inQueues = nil
	default:
		// LS+/LS-/LMSG over routes need lnoc, which Fern does not announce.
		return c.refuse("Unknown Protocol Operation", reasonProtocol)
	}
	return nil
}

// processRouteConnect checks an accepted route's CONNECT.
func (c *client) processRouteConnect(arg []byte) error {
	var ci route.Connect
	if err := json.Unmarshal(arg, &ci); err != nil {
		return c.refuse("", reasonProtocol)
	}
	if ci.Lang != "" {
		// A client dialled the route port.
		return c.refuse("attempted to connect to route port", reasonProtocol)
	}
	if ci.Gateway != "" {
		return c.refuse("", reasonProtocol)
	}
	s := c.srv
	s.mu.Lock()
	name, dynamic := s.clusterName, s.clusterDynamic
	s.mu.Unlock()
	if ci.Cluster != name && !dynamic && !ci.Dynamic {
		return c.refuse(fmt.Sprintf("Rejecting connection, cluster name %q does not match %q", ci.Cluster, name), reasonClusterName)
	}
	if u := s.opts.Cluster.User; u != "" {
		okU := subtle.ConstantTimeCompare([]byte(ci.User), []byte(u))
		okP := subtle.ConstantTimeCompare([]byte(ci.Pass), []byte(s.opts.Cluster.Password))
		if okU&okP != 1 {
			return c.authViolation()
		}
	}
	c.mu.Lock()
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	c.authenticated = true
	c.mu.Unlock()
	c.route.gotConnect = true
	s.mu.Lock()
	c.route.remoteID = ci.Name // read by dropRoute, from any goroutine
	s.mu.Unlock()
	return nil
}

// processRouteInfo handles the peer's first INFO (registration) and later
// ones: updates about the peer, or gossip about another server.
func (c *client) processRouteInfo(arg []byte) error {
	var info route.Info
	if err := json.Unmarshal(arg, &info); err != nil {
		return c.refuse("", reasonProtocol)
	}
	s := c.srv
	rs := c.route
	if !rs.registered.Load() && rs.info.ID == "" {
		if info.ID == s.id {
			rs.outcome.Store(reasonRouteToSelf)
			return c.refuse("", reasonRouteToSelf)
		}
		if !rs.negotiated {
			if err := c.negotiateRouteCompression(info.Compression); err != nil {
				return err // errSwitch: registration waits for the compressed INFO
			}
		} else if rs.solicited && compress.Wants(s.opts.Cluster.Compression.Mode) {
			// Our held INFO, now compressed.
			c.enqueue(string(protocol.AppendInfo(nil, s.routeInfoLocked(infoCompression(&s.opts.Cluster.Compression, rs.compression)))))
		}
		if !s.agreeClusterName(&info) {
			rs.outcome.Store(reasonClusterName)
			return c.refuse("", reasonClusterName)
		}
		rs.info = info
		s.mu.Lock()
		rs.remoteID = info.ID
		s.mu.Unlock()
		rs.gossipURL = gossipURL(&info, c.nc)
		if !s.registerRoute(c) {
			return errStop
		}
		return nil
	}
	if info.ID == rs.remoteID {
		s.mu.Lock()
		rs.info.ConnectURLs = info.ConnectURLs
		s.mu.Unlock()
		s.pushClientInfo()
		return nil
	}
	s.learnServer(&info)
	return nil
}

// negotiateRouteCompression runs on the peer's first INFO. Without S2 it
// sends the solicit side's held INFO and returns nil: registration
// proceeds. With S2 it sends (solicit side: before switching, in the
// clear) or re-sends (accept side: after switching) our INFO and returns
// errSwitch.
func (c *client) negotiateRouteCompression(peerMode string) error {
	s := c.srv
	rs := c.route
	rs.negotiated = true
	co := &s.opts.Cluster.Compression
	if !compress.Wants(co.Mode) {
		rs.compression = co.Mode
		return nil // our INFO went out on connect
	}
	cm, err := negotiateCompression(co, peerMode, rs.start)
	if err != nil {
		return c.refuse(err.Error(), reasonProtocol)
	}
	rs.compression = cm
	info := protocol.AppendInfo(nil, s.routeInfoLocked(infoCompression(co, cm)))
	if !compress.Compresses(cm) {
		if rs.solicited {
			c.enqueue(string(info))
		}
		return nil
	}
	if rs.solicited {
		c.enqueue(string(info))
		c.upgrade = func(rest []byte) error { return c.startS2(rest, cm, co) }
		return errSwitch
	}
	c.upgrade = func(rest []byte) error {
		if err := c.startS2(rest, cm, co); err != nil {
			return err
		}
		c.enqueue(string(info))
		return nil
	}
	return errSwitch
}

// routeInfoLocked is routeInfoJSONLocked taking s.mu.
func (s *Server) routeInfoLocked(compression string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.routeInfoJSONLocked("", compression)
}

// gossipURL is where other servers can dial the peer: its advertised IP,
// or the address it connects from with its route port.
func gossipURL(info *route.Info, nc net.Conn) string {
	if info.IP != "" {
		return info.IP
	}
	host := ""
	if tcp, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		host = tcp.IP.String()
	}
	return "nats-route://" + net.JoinHostPort(host, strconv.Itoa(info.Port)) + "/"
}

// agreeClusterName settles the cluster name with a peer: a server without
// a configured name adopts a configured one, and two unnamed servers agree
// on the greater generated name (as the official server does).
func (s *Server) agreeClusterName(info *route.Info) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if info.Cluster == "" || info.Cluster == s.clusterName {
		return true
	}
	if s.clusterDynamic && (!info.Dynamic || s.clusterName < info.Cluster) {
		s.log.Info("adopting cluster name", "name", info.Cluster)
		s.clusterName = info.Cluster
		for id, r := range s.routes {
			if id != info.ID {
				// They connected under the old name; they will reconnect.
				go r.closeAfterFlush(reasonClusterName)
			}
		}
		return true
	}
	// A dynamic peer adopts our name when it reads our INFO.
	return info.Dynamic
}

// registerRoute adds a route to the mesh, resolving duplicates, then sends
// it our interest and tells the other routes about it.
func (s *Server) registerRoute(c *client) bool {
	rs := c.route
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	if s.routes[rs.remoteID] != nil {
		// The first registered route stays, as on the official server, so
		// mixed clusters agree. If both ends kept opposite connections,
		// both get closed and the dial loops connect again.
		s.mu.Unlock()
		rs.outcome.Store(reasonDuplicateRoute)
		c.closeAfterFlush(reasonDuplicateRoute)
		return false
	}
	s.routes[rs.remoteID] = c
	rs.registered.Store(true)

	// The snapshot is taken under s.mu, which also orders every later
	// RS+/RS- after it.
	c.mu.Lock()
	raft := c.speaksRaft()
	s.interest.Each(func(subj, queue string, weight int32) {
		if !raft && isRaftSubject([]byte(subj)) {
			return // an official server hears nothing of Fern's raft
		}
		c.out = appendInterest(c.out, kindRoute, subj, queue, true, weight)
	})
	c.out = protocol.AppendPing(c.out)
	c.mu.Unlock()
	c.signalFlush()

	gossip := protocol.AppendInfo(nil, s.peerInfoJSONLocked(c))
	for id, r := range s.routes {
		if id != rs.remoteID {
			r.sendBytesAsync(gossip)
		}
	}
	s.mu.Unlock()
	c.log.Info("route registered", "remote_id", rs.remoteID, "remote_name", rs.info.Name, "solicited", rs.solicited)
	s.pushClientInfo()
	s.retrySources()
	return true
}

// peerInfoJSONLocked is the INFO we forward to other routes about peer c:
// its own INFO, with the URL to dial it at.
func (s *Server) peerInfoJSONLocked(c *client) []byte {
	info := c.route.info
	info.IP = c.route.gossipURL
	info.Nonce, info.Compression = "", ""
	b, _ := json.Marshal(&info)
	return b
}

// sendBytesAsync queues bytes and wakes the writer (any goroutine).
func (c *client) sendBytesAsync(b []byte) {
	c.mu.Lock()
	if !c.closed {
		c.out = append(c.out, b...)
	}
	c.mu.Unlock()
	c.signalFlush()
}

// learnServer handles gossip about a server we may not be connected to:
// dial it unless we already have, or are getting, a route to it.
func (s *Server) learnServer(info *route.Info) {
	if info.ID == s.id || info.IP == "" {
		return
	}
	u, err := route.ParseURL(info.IP)
	if err != nil {
		s.log.Debug("ignoring gossip with a bad URL", "url", info.IP, "err", err)
		return
	}
	s.mu.Lock()
	if s.closed || s.routes[info.ID] != nil || s.dialing[info.ID] {
		s.mu.Unlock()
		return
	}
	s.dialing[info.ID] = true
	s.accept.Add(1)
	s.mu.Unlock()
	s.log.Debug("dialling gossiped server", "id", info.ID, "url", u.String())
	go func() {
		defer s.accept.Done()
		s.solicitRoute(u, false, s.opts.Cluster.ConnectRetries)
		s.mu.Lock()
		delete(s.dialing, info.ID)
		s.mu.Unlock()
	}()
}

// dropRoute takes a closing route out of the mesh at once, so that a new
// connection to the same server is not mistaken for a duplicate.
func (s *Server) dropRoute(c *client) {
	s.mu.Lock()
	id := c.route.remoteID
	was := s.routes[id] == c
	if was {
		delete(s.routes, id)
	}
	s.mu.Unlock()
	if was {
		c.log.Info("route removed", "remote_id", id, "reason", c.reason)
		s.pushClientInfo()
	}
}

// routeRemoteID is the peer's server ID as known so far (any goroutine).
func (s *Server) routeRemoteID(c *client) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.route.remoteID
}

// unregisterRoute runs when a route connection has fully ended.
func (s *Server) unregisterRoute(c *client) {
	s.mu.Lock()
	delete(s.routeConns, c.cid)
	s.mu.Unlock()
}

// processRouteSub handles RS+ [account] subject [queue weight].
func (c *client) processRouteSub(f *protocol.Frame) error {
	if !c.route.registered.Load() || !knownAccount(f.Account) {
		return nil // other accounts ($SYS, ...) do not exist here
	}
	return c.processRemoteSub(f)
}

// processRouteUnsub handles RS- [account] subject [queue].
func (c *client) processRouteUnsub(f *protocol.Frame) error {
	if !knownAccount(f.Account) {
		return nil
	}
	return c.processRemoteUnsub(f)
}

// knownAccount reports whether a route op's account is ours ($G).
func knownAccount(acc []byte) bool { return len(acc) == 0 || string(acc) == globalAccount }

// clientConnectURLs is connect_urls for clients: this server's client
// URLs and those of every route peer.
func (s *Server) clientConnectURLsLocked() []string {
	if !s.routeConfigured() {
		return nil
	}
	urls := s.ownClientURLsLocked()
	for _, r := range s.routes {
		for _, u := range r.route.info.ConnectURLs {
			if !slices.Contains(urls, u) {
				urls = append(urls, u)
			}
		}
	}
	slices.Sort(urls)
	return urls
}

// pushClientInfo sends an async INFO with the current connect_urls to
// every client that can take one (protocol 1, past its first PONG).
func (s *Server) pushClientInfo() {
	s.mu.Lock()
	urls := s.clientConnectURLsLocked()
	if slices.Equal(urls, s.lastConnectURLs) {
		s.mu.Unlock()
		return
	}
	s.lastConnectURLs = urls
	clients := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	for _, c := range clients {
		c.mu.Lock()
		ready := c.asyncInfo
		c.mu.Unlock()
		if ready {
			info := s.clientInfo(c, false)
			c.sendBytesAsync(protocol.AppendInfo(nil, appendInfoJSON(info)))
		}
	}
}

// NumRoutes is the number of servers this server has a route to.
func (s *Server) NumRoutes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.routes)
}

// ClusterAddr is the bound route listener address, or nil.
func (s *Server) ClusterAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.routeLn == nil {
		return nil
	}
	return s.routeLn.Addr()
}

// ClusterName is the cluster name in use (configured or agreed).
func (s *Server) ClusterName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clusterName
}
