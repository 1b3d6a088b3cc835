package fern

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fernmq/fern/leaf"
	"github.com/fernmq/fern/protocol"
)

// handleLeafOp is HandleOp for leaf connections, on either end.
func (c *client) handleLeafOp(f *protocol.Frame) error {
	ls := c.leaf
	if !ls.solicited && !ls.gotConnect && f.Op != protocol.OpConnect {
		// The first protocol from a leaf must be CONNECT.
		return c.authViolation()
	}
	switch f.Op {
	case protocol.OpConnect:
		if ls.solicited {
			c.closeAfterFlush(reasonProtocol)
			return errStop
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
		c.closeAfterFlush(reasonLeafClosed)
		return errStop
	case protocol.OpLSub:
		return c.processLeafSub(f)
	case protocol.OpLUnsub:
		return c.processLeafUnsub(f)
	case protocol.OpLMsg, protocol.OpLHMsg:
		if !ls.registered.Load() {
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
		c.closeAfterFlush(reasonProtocol)
		return errStop
	}
	if ci.Lang != "" {
		c.sendErr("attempted to connect to leaf node port")
		c.closeAfterFlush(reasonProtocol)
		return errStop
	}
	s := c.srv
	if s.authRequired() && !s.checkAuth(&connectInfo{User: ci.User, Pass: ci.Pass, Token: ci.Token}) {
		return c.authViolation()
	}
	s.mu.Lock()
	same := s.routeConfigured() && ci.Cluster == s.clusterName
	s.mu.Unlock()
	if same {
		c.sendErr("remote leafnode has same cluster name")
		c.closeAfterFlush(reasonLeafCluster)
		return errStop
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
	c.enqueue(string(protocol.AppendInfo(nil, s.leafInfoJSON(c, true))))
	if !s.registerLeaf(c) {
		return errStop
	}
	return nil
}

// processHubInfo handles the hub's INFO on a connection we dialled: the
// first one is answered with CONNECT and registers the link.
func (c *client) processHubInfo(arg []byte) error {
	var info leaf.Info
	if err := json.Unmarshal(arg, &info); err != nil {
		c.closeAfterFlush(reasonProtocol)
		return errStop
	}
	ls := c.leaf
	if ls.gotInfo {
		return nil // connect_info and later updates
	}
	ls.gotInfo = true
	s := c.srv
	if info.ID == s.id {
		c.log.Warn("leaf: remote is this server; not connecting to itself", "url", ls.url.String())
		ls.outcome.Store(reasonLeafLoop)
		c.closeAfterFlush(reasonLeafLoop)
		return errStop
	}
	ls.remoteID, ls.remoteName, ls.remoteCluster = info.ID, info.Name, info.Cluster
	s.mu.Lock()
	cluster := s.opts.ServerName
	if s.routeConfigured() {
		cluster = s.clusterName
	}
	s.mu.Unlock()
	ci := leaf.Connect{
		Version:       Version,
		User:          ls.url.User,
		Pass:          ls.url.Pass,
		ID:            s.id,
		Name:          s.opts.ServerName,
		Cluster:       cluster,
		Headers:       true,
		CompressMode:  leaf.CompressNotSupported,
		RemoteAccount: globalAccount,
		Proto:         leaf.ProtoVersion,
	}
	if ci.User != "" && ci.Pass == "" {
		ci.Token, ci.User = ci.User, ""
	}
	b, _ := json.Marshal(&ci)
	c.enqueue(string(protocol.AppendConnect(nil, b)))
	if !s.registerLeaf(c) {
		return errStop
	}
	return nil
}

// processLeafSub handles LS+ subject [queue weight].
func (c *client) processLeafSub(f *protocol.Frame) error {
	if !c.leaf.registered.Load() {
		return nil
	}
	if string(f.Subject) == c.srv.loopSubject() {
		text := fmt.Sprintf("Loop detected for leafnode account=%q. Delaying attempt to reconnect for %s", globalAccount, leafLoopDelay)
		c.log.Error("leaf: loop detected", "remote", c.leaf.remoteName)
		c.sendErr(text)
		c.leaf.outcome.Store(reasonLeafLoop)
		c.closeAfterFlush(reasonLeafLoop)
		return errStop
	}
	return c.processRemoteSub(f)
}

// processLeafUnsub handles LS- subject [queue].
func (c *client) processLeafUnsub(f *protocol.Frame) error { return c.processRemoteUnsub(f) }
