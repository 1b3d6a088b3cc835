package fern

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/fernmq/fern/auth"
	"github.com/fernmq/fern/internal/compress"
	"github.com/fernmq/fern/leaf"
	"github.com/fernmq/fern/protocol"
	"github.com/fernmq/fern/route"
)

// Leaf connections (see package leaf for the protocol rules):
//
//	hub, leafnodes port: INFO ->, <- CONNECT: admit, register
//	hub, client port:    INFO ->, <- CONNECT with server_id and no lang:
//	                     the client connection becomes a leaf, admit, register
//	leaf (solicit):      <- INFO, CONNECT ->: register
//
// Registration sends the connection its interest snapshot, our loop
// detection subject and a PING. A hub admits a leaf only if its source
// address passes the admission rules (allowed_leaf_cidrs), before any
// interest or message is exchanged.

const (
	reasonLeafAdmission closeReason = "leaf refused by admission rules"
	reasonLeafLoop      closeReason = "leaf loop detected"
	reasonLeafCluster   closeReason = "leaf has the hub's cluster name"
	reasonLeafClosed    closeReason = "leaf connection closed"

	leafDialTimeout = time.Second
	// leafLoopDelay is the default LeafNodeOptions.LoopDelay (as
	// officially).
	leafLoopDelay = 30 * time.Second
	// leafConnectInfoWait bounds the wait for the hub's answer to CONNECT
	// (as officially).
	leafConnectInfoWait = 2 * time.Second
)

// leafState is what a leaf connection has beyond a client's.
type leafState struct {
	// solicited: we dialled, so we are the leaf and the other end is our
	// hub. Otherwise we are the hub.
	solicited bool
	url       leaf.URL

	// interest counts what the other end must hear about (guarded by
	// Server.mu).
	interest *route.Interest

	// remote is the configuration of the remote we dialled.
	remote *RemoteLeafOptions
	// start is when the connection began (s2_auto measures from it).
	start time.Time

	// Read goroutine only.
	gotInfo       bool
	gotConnect    bool
	negotiated    bool // compression negotiation is over
	awaitInfo     bool // S2 started: the hub re-sends its INFO compressed
	infoOnConnect bool // the hub answers CONNECT with a connect_info INFO
	// awaitConnectInfo: CONNECT sent, the link registers on connect_info.
	awaitConnectInfo bool
	compression      string // the negotiated mode
	remoteID         string
	remoteName       string
	remoteCluster    string

	registered atomic.Bool
	outcome    atomic.Value // closeReason, for the dial loop
}

func newLeafState(solicited bool) *leafState {
	return &leafState{solicited: solicited, interest: route.NewInterest(), start: time.Now()}
}

// startLeafLocked binds the leafnodes listener and starts dialling the
// remotes. s.mu is held.
func (s *Server) startLeafLocked() error {
	l := &s.opts.LeafNode
	if l.Port != 0 {
		ln, err := s.listen(l.Host, l.Port, "leafnode")
		if err != nil {
			return err
		}
		s.leafLn = ln
		s.log.Info("listening for leaf node connections", "addr", ln.Addr().String())
		s.accept.Add(1)
		go s.acceptLoop(ln, "leafnode", func(nc net.Conn) { s.createLeaf(nc, nil, s.leafTLS) })
	}
	// The seed lists one remote per core server and means them as
	// alternatives ("if one fails, it tries the next"). Fern has one
	// account, so every remote leads to the same interest graph: they form
	// one failover list and the leaf keeps a single link. (The official
	// server opens a link per remote; to one cluster that is a loop, which
	// it then detects and refuses.)
	var urls []leaf.URL
	for i, r := range l.Remotes {
		if len(r.URLs) == 0 {
			return fmt.Errorf("fern: leafnodes.remotes[%d]: no url", i)
		}
		for _, raw := range r.URLs {
			u, err := leaf.ParseURL(raw)
			if err != nil {
				return fmt.Errorf("fern: leafnodes.remotes[%d]: %w", i, err)
			}
			u.Remote = i
			urls = append(urls, u)
		}
	}
	if len(urls) > 0 {
		s.accept.Add(1)
		go func() {
			defer s.accept.Done()
			s.solicitLeaf(&leaf.Dialer{URLs: urls, Interval: l.ReconnectInterval, MaxInterval: l.MaxReconnectInterval})
		}()
	}
	return nil
}

// solicitLeaf keeps this server connected to one remote (a hub): it dials
// the remote's URLs in order, moving on after each failure, and redials
// after a lost link, forever, with the reconnect interval plus jitter.
func (s *Server) solicitLeaf(d *leaf.Dialer) {
	for !s.isShuttingDown() {
		u := d.Next()
		if d.Refusals() == 0 {
			s.log.Info("leaf: connecting to hub", "url", u.String())
		} else {
			s.log.Debug("leaf: connecting to hub", "url", u.String(), "refused", d.Refusals())
		}
		nc, err := s.dialLeafURL(u)
		if err != nil {
			s.refusals.Log(slog.LevelWarn, "leaf: connect to hub failed", "dial "+u.String(), "url", u.String(), "err", err)
			if !s.sleep(d.Delay()) {
				return
			}
			continue
		}
		c := s.createLeaf(nc, &u, nil)
		if c == nil {
			return
		}
		<-c.closeCh
		c.mu.Lock()
		reason := c.reason
		c.mu.Unlock()
		if c.leaf.registered.Load() {
			d.Connected()
			s.refusals.Forget("refused " + u.String())
			s.refusals.Forget("dial " + u.String())
			s.log.Warn("leaf: lost connection to hub", "url", u.String(), "reason", reason)
		} else {
			// The hub answered and closed before the link was up: a
			// refusal (auth, admission, TLS). Back off; log it once per
			// hub, then a summary a minute.
			d.Refused()
			s.refusals.Log(slog.LevelWarn, "leaf: hub connection failed", "refused "+u.String(), "url", u.String(), "reason", reason, "next_attempt", "backing off")
		}
		// After a lost link wait exactly the interval (as officially); add
		// jitter only after failed attempts.
		delay := d.Delay()
		if c.leaf.registered.Load() {
			delay = d.Interval
		}
		if o, _ := c.leaf.outcome.Load().(closeReason); o == reasonLeafLoop {
			delay = s.opts.LeafNode.LoopDelay
		}
		if !s.sleep(delay) {
			return
		}
	}
}

// dialLeafURL opens a connection to a hub: TCP, then for wss:// the TLS
// handshake, then for ws:// and wss:// the WebSocket upgrade. (For tls://
// and nats:// TLS comes after the hub's INFO, in the leaf protocol.)
func (s *Server) dialLeafURL(u leaf.URL) (net.Conn, error) {
	nc, err := s.dialLeaf(u.Host)
	if err != nil || !u.WebSocket() {
		return nc, err
	}
	if u.Scheme == "wss" {
		r := &s.opts.LeafNode.Remotes[u.Remote]
		cfg, err := remoteTLS(r).clientConfig(u.Hostname())
		if err != nil {
			_ = nc.Close()
			return nil, err
		}
		tc := tls.Client(nc, cfg)
		ctx, cancel := context.WithTimeout(s.ctx, remoteTLS(r).handshakeTimeout())
		err = tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		nc = tc
	}
	wc, err := upgradeLeafDial(nc, u)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	return wc, nil
}

// remoteTLS is a remote's TLS settings, or the defaults (system roots).
func remoteTLS(r *RemoteLeafOptions) *TLSOptions {
	if r.TLS != nil {
		return r.TLS
	}
	return &TLSOptions{}
}

// dialLeaf opens a TCP connection to a hub.
func (s *Server) dialLeaf(addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(s.ctx, leafDialTimeout)
	defer cancel()
	if dial := s.opts.LeafNode.Dial; dial != nil {
		return dial(ctx, "tcp", addr)
	}
	if dial := s.opts.Dial; dial != nil {
		return dial(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// ConnectedHubs names the hubs this server is connected to as a leaf.
func (s *Server) ConnectedHubs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hubs []string
	for _, c := range s.leafs {
		if c.leaf.solicited {
			hubs = append(hubs, c.leaf.remoteName)
		}
	}
	return hubs
}

// createLeaf starts a leaf connection: u is the hub's URL when we dialled
// (we are the leaf), nil when we accepted on the leafnodes port, where
// tlsCfg (if set) makes TLS required: the handshake follows our INFO.
func (s *Server) createLeaf(nc net.Conn, u *leaf.URL, tlsCfg *tls.Config) *client {
	c := s.newConn(nc, kindLeaf, protocol.Config{
		MaxControlLine: 16 * s.opts.MaxControlLine,
		MaxPayload:     s.opts.MaxPayload,
		Accept:         protocol.LeafOps,
	})
	c.leaf = newLeafState(u != nil)
	if u != nil {
		c.leaf.url = *u
		c.leaf.remote = &s.opts.LeafNode.Remotes[u.Remote]
	}
	c.log = s.log.With("leaf", c.cid, "remote", nc.RemoteAddr().String())

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return nil
	}
	s.leafConns[c.cid] = c
	s.conns.Add(1)
	s.mu.Unlock()

	if u == nil {
		if ok, why := s.admitLeaf(nc.RemoteAddr()); !ok {
			c.refuseLeaf(why)
		} else {
			c.out = protocol.AppendInfo(c.out, s.leafInfoJSON(c, leafInfoFirst, tlsCfg != nil))
			if tlsCfg != nil {
				c.upgrade = func(rest []byte) error {
					return c.startTLS(rest, tlsCfg, false, s.opts.LeafNode.TLS.handshakeTimeout())
				}
			}
			c.mu.Lock()
			c.authTimer = time.AfterFunc(s.opts.LeafNode.AuthTimeout, c.authTimeout)
			c.mu.Unlock()
		}
	}
	c.start(min(routeFirstPing, s.opts.FirstPingDelay))
	return c
}

// refuseLeaf answers a leaf that the admission rules refuse.
func (c *client) refuseLeaf(why string) {
	c.srv.refusals.Log(slog.LevelWarn, "leaf connection refused", "leaf "+c.ip, "addr", c.ip, "rule", why)
	c.mu.Lock()
	c.out = protocol.AppendErr(c.out, "Authorization Violation")
	c.mu.Unlock()
	c.closeAfterFlush(reasonLeafAdmission)
}

// admitLeaf applies the leaf admission rules to a source address. It
// returns the rule that decided, for the log. An address that cannot be
// read is the zero address: admitted only when there are no rules.
func (s *Server) admitLeaf(addr net.Addr) (bool, string) {
	ip, _ := auth.AddrFromNet(addr)
	if a := s.opts.LeafAdmission; a != nil {
		if a.Allow(ip) {
			return true, "admission hook"
		}
		return false, fmt.Sprintf("admission hook refused %s", ip)
	}
	if rule, ok := s.leafCIDRs.Match(ip); ok {
		return true, "allowed_leaf_cidrs " + rule.String()
	}
	if s.leafCIDRs.Allow(ip) {
		return true, "no allowed_leaf_cidrs: every address is admitted"
	}
	return false, fmt.Sprintf("%s is outside allowed_leaf_cidrs %s", ip, s.leafCIDRs.String())
}

// Which INFO leafInfoJSON builds.
type leafInfoKind uint8

const (
	leafInfoFirst      leafInfoKind = iota // on accept
	leafInfoCompressed                     // re-sent after switching to S2
	leafInfoConnect                        // after CONNECT (connect_info)
)

// leafInfoJSON is the hub's INFO on a leaf connection.
func (s *Server) leafInfoJSON(c *client, kind leafInfoKind, tlsRequired bool) []byte {
	connectInfo := kind == leafInfoConnect
	s.mu.Lock()
	info := leaf.Info{
		ID:            s.id,
		Name:          s.opts.ServerName,
		Version:       Version,
		Proto:         leaf.ProtoVersion,
		Go:            goVersion(),
		Host:          s.opts.LeafNode.Host,
		Headers:       true,
		MaxPayload:    s.opts.MaxPayload,
		ClientID:      c.cid,
		Cluster:       s.clusterName,
		InfoOnConnect: true,
		ConnectInfo:   connectInfo,
		TLSRequired:   tlsRequired,
		AuthRequired:  s.opts.LeafNode.User != "" || s.authRequired(),
		JetStream:     s.opts.JetStream.Enabled,
		Domain:        s.opts.JetStream.Domain,
	}
	co := &s.opts.LeafNode.Compression
	switch {
	case kind == leafInfoCompressed:
		info.Compression = infoCompression(co, c.leaf.compression)
	case kind == leafInfoFirst && co.Mode != compress.NotSupported:
		// On the leafnodes port only: a leaf on the client port sees a
		// client INFO, which never offers compression. "off" is sent as
		// such (the leaf then says "off" too), as officially.
		info.Compression = co.Mode
	}
	if s.leafLn != nil {
		addr := s.leafLn.Addr().(*net.TCPAddr)
		info.Port = addr.Port
		info.LeafNodeURLs = []string{addr.String()}
	}
	s.mu.Unlock()
	if connectInfo {
		info.RemoteAccount = globalAccount
	}
	b, _ := json.Marshal(&info)
	return b
}

// becomeLeaf turns a connection on the client port into a leaf after a
// CONNECT that came from a leaf node (server_id set, no lang): the seed's
// leafs dial the core's client port.
func (c *client) becomeLeaf(arg []byte) error {
	s := c.srv
	c.mu.Lock()
	nsubs := len(c.subs)
	c.mu.Unlock()
	if nsubs > 0 {
		// It subscribed as a client first: not a leaf.
		return c.refuse("", reasonProtocol)
	}
	s.mu.Lock()
	delete(s.clients, c.cid)
	s.leafConns[c.cid] = c
	s.mu.Unlock()
	c.leaf = newLeafState(false)
	c.kindv.Store(uint32(kindLeaf))
	c.log = s.log.With("leaf", c.cid, "remote", c.nc.RemoteAddr().String())
	c.parser.SetAccept(protocol.LeafOps)
	c.parser.SetMaxControlLine(16 * s.opts.MaxControlLine)
	if ok, why := s.admitLeaf(c.nc.RemoteAddr()); !ok {
		c.refuseLeaf(why)
		return errStop
	}
	return c.processLeafConnect(arg)
}

// isLeafConnect tells a leaf's CONNECT from a client's.
func isLeafConnect(arg []byte) bool {
	var probe struct {
		ID   string `json:"server_id"`
		Lang string `json:"lang"`
	}
	return json.Unmarshal(arg, &probe) == nil && probe.ID != "" && probe.Lang == ""
}

// loopSubject is this server's loop-detection subject.
func (s *Server) loopSubject() string { return leaf.LoopSubjectPrefix + s.id }

// registerLeaf adds a leaf connection and sends it our interest.
func (s *Server) registerLeaf(c *client) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.leafs[c.cid] = c
	c.leaf.registered.Store(true)
	// Snapshot under s.mu: deltas (also under s.mu) follow it in order.
	s.subs.All(func(_, _ string, sub *subscription) bool {
		if c.leafWants(sub) {
			countInterest(c.leaf.interest, sub, true)
		}
		return true
	})
	c.mu.Lock()
	c.leaf.interest.Each(func(subj, queue string, weight int32) {
		c.out = appendInterest(c.out, kindLeaf, subj, queue, true, weight)
	})
	c.out = appendInterest(c.out, kindLeaf, s.loopSubject(), "", true, 0)
	c.out = protocol.AppendPing(c.out)
	c.mu.Unlock()
	s.mu.Unlock()
	c.signalFlush()
	if c.leaf.solicited {
		c.log.Info("leaf: connected to hub", "url", c.leaf.url.String(), "hub", c.leaf.remoteName)
	} else {
		c.log.Info("leaf node connected", "leaf", c.leaf.remoteName, "cluster", c.leaf.remoteCluster)
	}
	s.retrySources()
	return true
}

// dropLeaf takes a closing leaf out of the interest graph at once.
func (s *Server) dropLeaf(c *client) {
	s.mu.Lock()
	delete(s.leafs, c.cid)
	s.mu.Unlock()
}

// unregisterLeaf runs when a leaf connection has fully ended.
func (s *Server) unregisterLeaf(c *client) {
	s.mu.Lock()
	delete(s.leafConns, c.cid)
	s.mu.Unlock()
}

// NumLeafs is the number of registered leaf connections (as hub and as
// leaf).
func (s *Server) NumLeafs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.leafs)
}

// LeafAddr is the bound leafnodes listener address, or nil.
func (s *Server) LeafAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leafLn == nil {
		return nil
	}
	return s.leafLn.Addr()
}
