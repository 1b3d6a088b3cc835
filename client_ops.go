package fern

import (
	"context"
	"crypto/subtle"
	"encoding/json"

	"github.com/fernmq/fern/protocol"
	"github.com/fernmq/fern/subject"
)

// HandleOp is the parser's callback: one complete client op. It runs on
// the read goroutine; f is valid only during the call.
func (c *client) HandleOp(f *protocol.Frame) error {
	if c.log.Enabled(context.Background(), levelTrace) {
		c.traceOp(f)
	}
	switch c.kind() {
	case kindRoute:
		return c.handleRouteOp(f)
	case kindLeaf:
		return c.handleLeafOp(f)
	}
	if !c.connected && c.srv.authRequired() && f.Op != protocol.OpConnect {
		return c.authViolation()
	}
	switch f.Op {
	case protocol.OpPub, protocol.OpHPub:
		return c.processPub(f)
	case protocol.OpSub:
		return c.processSub(f)
	case protocol.OpUnsub:
		return c.processUnsub(f)
	case protocol.OpPing:
		return c.processPing()
	case protocol.OpPong:
		c.processPong()
	case protocol.OpConnect:
		return c.processConnect(f.Arg)
	case protocol.OpErr:
		c.log.Info("client sent -ERR", "text", string(f.Arg))
		return c.refuse("", reasonProtocol)
	case protocol.OpInfo:
		// A client's INFO carries nothing the server needs, but it must be
		// JSON: the official server closes the connection otherwise.
		if !json.Valid(f.Arg) {
			return c.refuse("", reasonProtocol)
		}
	case protocol.OpOK:
	default:
		return c.refuse("Unknown Protocol Operation", reasonProtocol)
	}
	return nil
}

func (c *client) traceOp(f *protocol.Frame) {
	ctx, msg := context.Background(), "<<- "+f.Op.String()
	switch f.Op {
	case protocol.OpPub, protocol.OpHPub:
		c.log.Log(ctx, levelTrace, msg, "subject", string(f.Subject), "reply", string(f.Reply), "hdr", f.HeaderSize, "size", f.Size)
	case protocol.OpSub:
		c.log.Log(ctx, levelTrace, msg, "subject", string(f.Subject), "queue", string(f.Queue), "sid", string(f.Sid))
	case protocol.OpUnsub:
		c.log.Log(ctx, levelTrace, msg, "sid", string(f.Sid), "max", f.Max)
	case protocol.OpConnect, protocol.OpInfo, protocol.OpErr:
		c.log.Log(ctx, levelTrace, msg, "arg", redactSecrets(f.Arg))
	default:
		c.log.Log(ctx, levelTrace, msg)
	}
}

// redactSecrets hides credential values in a CONNECT for the trace log.
func redactSecrets(arg []byte) string {
	var m map[string]any
	if json.Unmarshal(arg, &m) != nil {
		return string(arg)
	}
	for _, k := range []string{"pass", "auth_token", "sig", "jwt"} {
		if _, ok := m[k]; ok {
			m[k] = "[REDACTED]"
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// processConnect applies CONNECT. Fields it omits keep their defaults.
func (c *client) processConnect(arg []byte) error {
	if !c.connected && isLeafConnect(arg) {
		return c.becomeLeaf(arg)
	}
	ci := c.conn
	if err := json.Unmarshal(arg, &ci); err != nil {
		// The official server closes without an -ERR on bad CONNECT JSON.
		c.log.Debug("bad CONNECT JSON", "err", err)
		return c.refuse("", reasonProtocol)
	}
	if ci.Protocol < 0 || ci.Protocol > 1 {
		return c.refuse("invalid client protocol", reasonProtocol)
	}
	if ci.NoResponders && !ci.Headers {
		return c.refuse("no responders requires headers support", reasonProtocol)
	}
	if c.srv.authRequired() && !c.srv.checkAuth(&ci) {
		return c.authViolation()
	}
	c.conn = ci
	c.connected = true
	c.mu.Lock()
	c.headers = ci.Headers
	c.authenticated = true
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	c.mu.Unlock()
	if ci.Verbose {
		c.enqueue(protocol.OKLine)
	}
	return nil
}

// authViolation answers a failed or missing authentication and closes.
func (c *client) authViolation() error {
	return c.refuse("Authorization Violation", reasonAuth)
}

// authRequired reports whether clients must authenticate.
func (s *Server) authRequired() bool {
	a := &s.opts.Authorization
	return a.User != "" || a.Token != ""
}

// checkAuth compares credentials in constant time.
func (s *Server) checkAuth(ci *connectInfo) bool {
	a := &s.opts.Authorization
	if a.Token != "" {
		return subtle.ConstantTimeCompare([]byte(ci.Token), []byte(a.Token)) == 1
	}
	u := subtle.ConstantTimeCompare([]byte(ci.User), []byte(a.User))
	p := subtle.ConstantTimeCompare([]byte(ci.Pass), []byte(a.Password))
	return u&p == 1
}

// processPing answers PONG. After the first PING of a client that speaks
// protocol 1, the official server sends a second INFO with connect_info;
// nats.go has already read its PONG by then, so it is safe.
func (c *client) processPing() error {
	c.enqueue(protocol.PongLine)
	c.mu.Lock()
	first := !c.firstPongSent && c.connected
	if first {
		c.firstPongSent = true
		c.asyncInfo = c.conn.Protocol >= 1
	}
	c.mu.Unlock()
	if first && c.conn.Protocol >= 1 {
		info := protocol.AppendInfo(nil, appendInfoJSON(c.srv.clientInfo(c, true)))
		c.enqueue(string(info))
	}
	return nil
}

// processSub handles SUB <subject> [queue] <sid>.
func (c *client) processSub(f *protocol.Frame) error {
	if !subject.Valid(f.Subject) || (len(f.Queue) > 0 && !subject.ValidQueue(f.Queue)) {
		c.sendErr("Invalid Subject")
		return nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errStop
	}
	if _, dup := c.subs[string(f.Sid)]; dup {
		// The first registration of a sid is kept, as on the official server.
		c.mu.Unlock()
		c.okIfVerbose()
		return nil
	}
	sub := &subscription{
		client:  c,
		subject: string(f.Subject),
		queue:   string(f.Queue),
		sid:     append([]byte(nil), f.Sid...),
	}
	c.subs[string(sub.sid)] = sub
	c.mu.Unlock()
	if err := c.srv.addSub(sub); err != nil {
		c.mu.Lock()
		delete(c.subs, string(sub.sid))
		c.mu.Unlock()
		c.sendErr("Invalid Subject")
		return nil
	}
	c.okIfVerbose()
	return nil
}

// processUnsub handles UNSUB <sid> [max]. With a max above what was
// already delivered, the subscription ends after max messages; otherwise
// at once. An unknown sid is ignored.
func (c *client) processUnsub(f *protocol.Frame) error {
	c.mu.Lock()
	sub := c.subs[string(f.Sid)]
	c.mu.Unlock()
	if sub != nil {
		if f.Max > 0 && int64(f.Max) > sub.delivered.Load() {
			sub.max.Store(int64(f.Max))
		} else {
			c.removeSub(sub)
		}
	}
	c.okIfVerbose()
	return nil
}

// removeSub drops sub from its client and from the interest table. Safe
// from any goroutine; only the first call has an effect.
func (c *client) removeSub(sub *subscription) {
	c.mu.Lock()
	cur, ok := c.subs[string(sub.sid)]
	if ok && cur == sub {
		delete(c.subs, string(sub.sid))
	}
	c.mu.Unlock()
	if ok && cur == sub {
		c.srv.removeSub(sub)
	}
}

func (c *client) okIfVerbose() {
	if c.conn.Verbose {
		c.enqueue(protocol.OKLine)
	}
}

// processPub handles PUB and HPUB.
func (c *client) processPub(f *protocol.Frame) error {
	if f.Op == protocol.OpHPub && !c.conn.Headers {
		// The official server closes without an -ERR text.
		return c.refuse("", reasonProtocol)
	}
	if c.conn.Verbose {
		c.enqueue(protocol.OKLine)
	}
	if c.conn.Pedantic && !subject.ValidLiteral(f.Subject) {
		// Reported, but the message is still processed, as officially.
		c.sendErr("Invalid Publish Subject")
	}
	if isRaftSubject(f.Subject) {
		return nil // servers' own traffic (cluster_raft.go)
	}
	c.processMsg(f.Subject, f.Reply, f.HeaderSize, f.Msg)
	return nil
}
