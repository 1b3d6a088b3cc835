package fern

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/fernmq/fern/internal/compress"
	"github.com/fernmq/fern/leaf"
	"github.com/fernmq/fern/protocol"
)

// handleLeafOp is HandleOp for leaf connections, on either end.
func (c *client) handleLeafOp(f *protocol.Frame) error {
	ls := c.leaf
	if !ls.solicited && !ls.gotConnect && f.Op != protocol.OpConnect {
		// The first protocol from a leaf must be CONNECT, or an INFO that
		// negotiates the compression we offered.
		if f.Op == protocol.OpInfo && !ls.negotiated && compress.Wants(c.srv.opts.LeafNode.Compression.Mode) {
			return c.processLeafInfo(f.Arg)
		}
		return c.authViolation()
	}
	switch f.Op {
	case protocol.OpConnect:
		if ls.solicited {
			return c.refuse("", reasonProtocol)
		}
		return c.processLeafConnect(f.Arg)
	case protocol.OpInfo:
		if ls.solicited {
			return c.processHubInfo(f.Arg)
		}
	case protocol.OpPing:
		c.enqueue(protocol.PongLine)
	case protocol.OpPong:
		c.processPong()
	case protocol.OpOK:
	case protocol.OpErr:
		text := string(f.Arg)
		c.log.Warn("leaf: peer sent -ERR", "text", text)
		if strings.HasPrefix(text, "Loop detected") {
			ls.outcome.Store(reasonLeafLoop)
		}
		return c.refuse("", reasonLeafClosed)
	case protocol.OpLSub:
		return c.processLeafSub(f)
	case protocol.OpLUnsub:
		return c.processLeafUnsub(f)
	case protocol.OpLMsg, protocol.OpLHMsg:
		if !ls.registered.Load() || isRaftSubject(f.Subject) {
			return nil
		}
		c.inQueues = f.QueueList
		c.processMsg(f.Subject, f.Reply, f.HeaderSize, f.Msg)
		c.inQueues = nil
	}
	return nil
}

// processLeafConnect checks a leaf's CONNECT on the hub side and
// registers it.
func (c *client) processLeafConnect(arg []byte) error {
	var ci leaf.Connect
	if err := json.Unmarshal(arg, &ci); err != nil {
		return c.refuse("", reasonProtocol)
	}
	if ci.Lang != "" {
		return c.refuse("attempted to connect to leaf node port", reasonProtocol)
	}
	s := c.srv
	if !s.leafAuthOK(&ci) {
		return c.authViolation()
	}
	s.mu.Lock()
	same := s.routeConfigured() && ci.Cluster == s.clusterName
	s.mu.Unlock()
	if same {
		return c.refuse("remote leafnode has same cluster name", reasonLeafCluster)
	}
	c.mu.Lock()
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	c.authenticated = true
	c.mu.Unlock()
	ls := c.leaf
	ls.gotConnect = true
	ls.remoteID, ls.remoteName, ls.remoteCluster = ci.ID, ci.Name, ci.Cluster
	c.enqueue(string(protocol.AppendInfo(nil, s.leafInfoJSON(c, leafInfoConnect, false))))
	if !s.registerLeaf(c) {
		return errStop
	}
	return nil
}

// processLeafInfo (hub side) answers a leaf's INFO that asks for
// compression: when both sides agree, the rest of the connection is S2
// and the hub re-sends its INFO compressed.
func (c *client) processLeafInfo(arg []byte) error {
	var info leaf.Info
	if err := json.Unmarshal(arg, &info); err != nil {
		return c.refuse("", reasonProtocol)
	}
	ls := c.leaf
	ls.negotiated = true
	cm, err := negotiateCompression(&c.srv.opts.LeafNode.Compression, info.Compression, ls.start)
	if err != nil {
		return c.refuse(err.Error(), reasonProtocol)
	}
	ls.compression = cm
	if !compress.Compresses(cm) {
		return nil
	}
	c.upgrade = func(rest []byte) error {
		if err := c.startS2(rest, cm, &c.srv.opts.LeafNode.Compression); err != nil {
			return err
		}
		c.enqueue(string(protocol.AppendInfo(nil, c.srv.leafInfoJSON(c, leafInfoCompressed, false))))
		return nil
	}
	return errSwitch
}

// leafAuthOK checks a leaf's credentials: against leafnodes
// authorization when it names a user, else as a client's.
func (s *Server) leafAuthOK(ci *leaf.Connect) bool {
	if u := s.opts.LeafNode.User; u != "" {
		okU := subtle.ConstantTimeCompare([]byte(ci.User), []byte(u))
		okP := subtle.ConstantTimeCompare([]byte(ci.Pass), []byte(s.opts.LeafNode.Password))
		return okU&okP == 1
	}
	return !s.authRequired() || s.checkAuth(&connectInfo{User: ci.User, Pass: ci.Pass, Token: ci.Token})
}

// processHubInfo handles the hub's INFO on a connection we dialled. The
// first one may start TLS and compression; then CONNECT registers the
// link. Later ones (connect_info, updates) change nothing.
func (c *client) processHubInfo(arg []byte) error {
	var info leaf.Info
	if err := json.Unmarshal(arg, &info); err != nil {
		return c.refuse("", reasonProtocol)
	}
	ls := c.leaf
	if ls.awaitInfo {
		// The hub's INFO again, the first compressed bytes.
		ls.awaitInfo = false
		return c.sendLeafConnect()
	}
	if ls.awaitConnectInfo && info.ConnectInfo {
		// The hub accepted our CONNECT.
		ls.awaitConnectInfo = false
		c.mu.Lock()
		if c.authTimer != nil {
			c.authTimer.Stop()
		}
		c.mu.Unlock()
		if !c.srv.registerLeaf(c) {
			return errStop
		}
		return nil
	}
	if ls.gotInfo {
		return nil // later updates
	}
	ls.gotInfo = true
	ls.infoOnConnect = info.InfoOnConnect
	s := c.srv
	if info.ID == s.id {
		c.log.Warn("leaf: remote is this server; not connecting to itself", "url", ls.url.String())
		ls.outcome.Store(reasonLeafLoop)
		return c.refuse("", reasonLeafLoop)
	}
	ls.remoteID, ls.remoteName, ls.remoteCluster = info.ID, info.Name, info.Cluster
	// TLS after INFO when the hub requires it or we are configured for it
	// (wss:// did its handshake before the WebSocket upgrade).
	if !ls.url.WebSocket() && (info.TLSRequired || ls.url.TLS() || ls.remote.TLS != nil) {
		t := remoteTLS(ls.remote)
		cfg, err := t.clientConfig(ls.url.Hostname())
		if err != nil {
			c.log.Error("leaf: TLS configuration", "err", err)
			c.closeNow(reasonTLSHandshake)
			return errStop
		}
		hubMode := info.Compression
		c.upgrade = func(rest []byte) error {
			if err := c.startTLS(rest, cfg, true, t.handshakeTimeout()); err != nil {
				return err
			}
			return c.negotiateHubCompression(hubMode)
		}
		return errSwitch
	}
	return c.negotiateHubCompression(info.Compression)
}

// negotiateHubCompression (leaf side) combines our remote's mode with the
// hub's. To compress, the leaf sends a short INFO with its mode, in the
// clear, and switches; the hub answers with its INFO compressed, and only
// then comes CONNECT.
func (c *client) negotiateHubCompression(hubMode string) error {
	ls := c.leaf
	ls.negotiated = true
	co := &ls.remote.Compression
	if !compress.Wants(co.Mode) {
		ls.compression = co.Mode
		return c.sendLeafConnect()
	}
	cm, err := negotiateCompression(co, hubMode, ls.start)
	if err != nil {
		return c.refuse(err.Error(), reasonProtocol)
	}
	ls.compression = cm
	if !compress.Compresses(cm) {
		return c.sendLeafConnect()
	}
	s := c.srv
	info := leaf.Info{
		ID: s.id, Name: s.opts.ServerName, Version: Version, Proto: leaf.ProtoVersion,
		Headers: true, MaxPayload: s.opts.MaxPayload, ClientID: c.cid,
		Compression: infoCompression(co, cm),
	}
	b, _ := json.Marshal(&info)
	c.enqueue(string(protocol.AppendInfo(nil, b)))
	ls.awaitInfo = true
	c.upgrade = func(rest []byte) error { return c.startS2(rest, cm, co) }
	return errSwitch
}

// sendLeafConnect sends our CONNECT to the hub and registers the link.
func (c *client) sendLeafConnect() error {
	ls := c.leaf
	s := c.srv
	s.mu.Lock()
	cluster := s.opts.ServerName
	if s.routeConfigured() {
		cluster = s.clusterName
	}
	s.mu.Unlock()
	mode := ls.compression
	if mode == "" {
		mode = leaf.CompressNotSupported
	}
	ci := leaf.Connect{
		Version:       Version,
		User:          ls.url.User,
		Pass:          ls.url.Pass,
		ID:            s.id,
		Domain:        s.opts.JetStream.Domain,
		Name:          s.opts.ServerName,
		Cluster:       cluster,
		Headers:       true,
		CompressMode:  mode,
		RemoteAccount: globalAccount,
		Proto:         leaf.ProtoVersion,
	}
	if ci.User != "" && ci.Pass == "" {
		ci.Token, ci.User = ci.User, ""
	}
	b, _ := json.Marshal(&ci)
	c.enqueue(string(protocol.AppendConnect(nil, b)))
	if ls.infoOnConnect {
		// Like the official leaf: the link is up once the hub answers
		// with its connect_info INFO (so a hub that refuses us never sees
		// our interest), within leafConnectInfoWait.
		ls.awaitConnectInfo = true
		c.mu.Lock()
		c.authTimer = time.AfterFunc(leafConnectInfoWait, c.staleLeafConnect)
		c.mu.Unlock()
		return nil
	}
	if !s.registerLeaf(c) {
		return errStop
	}
	return nil
}

// staleLeafConnect closes a link whose hub did not answer our CONNECT.
func (c *client) staleLeafConnect() {
	c.mu.Lock()
	if c.closed || c.leaf.registered.Load() {
		c.mu.Unlock()
		return
	}
	c.out = protocol.AppendErr(c.out, "Stale Leaf Node Connection - Closing")
	c.mu.Unlock()
	c.closeAfterFlush(reasonStale)
}

// processLeafSub handles LS+ subject [queue weight].
func (c *client) processLeafSub(f *protocol.Frame) error {
	if !c.leaf.registered.Load() {
		return nil
	}
	if string(f.Subject) == c.srv.loopSubject() {
		text := fmt.Sprintf("Loop detected for leafnode account=%q. Delaying attempt to reconnect for %s", globalAccount, c.srv.opts.LeafNode.LoopDelay)
		c.log.Error("leaf: loop detected", "remote", c.leaf.remoteName)
		c.sendErr(text)
		c.leaf.outcome.Store(reasonLeafLoop)
		return c.refuse("", reasonLeafLoop)
	}
	return c.processRemoteSub(f)
}

// processLeafUnsub handles LS- subject [queue].
func (c *client) processLeafUnsub(f *protocol.Frame) error { return c.processRemoteUnsub(f) }
