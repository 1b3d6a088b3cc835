package fern

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fernmq/fern/protocol"
	"github.com/fernmq/fern/subject"
)

// Read buffer sizes: a connection starts small and grows while its reads
// fill the buffer, so idle connections stay cheap and busy ones batch well.
const (
	minReadBuf = 1024
	maxReadBuf = 64 * 1024
)

// levelTrace is the slog level for protocol tracing (-V).
const levelTrace = slog.Level(-8)

// closeReason says why a connection ended; it is logged.
type closeReason string

const (
	reasonClientClosed   closeReason = "client closed"
	reasonServerShutdown closeReason = "server shutdown"
	reasonProtocol       closeReason = "protocol violation"
	reasonAuth           closeReason = "authorization violation"
	reasonAuthTimeout    closeReason = "authentication timeout"
	reasonMaxPayload     closeReason = "maximum payload exceeded"
	reasonMaxConns       closeReason = "maximum connections exceeded"
	reasonStale          closeReason = "stale connection"
	reasonSlowPending    closeReason = "slow consumer (pending bytes)"
	reasonSlowWrite      closeReason = "slow consumer (write deadline)"
	reasonWriteError     closeReason = "write error"
	reasonReadError      closeReason = "read error"
)

// errStop is returned by a handler to stop parsing: the connection is
// already being closed and its -ERR (if any) is queued.
var errStop = errors.New("fern: connection closing")

// connKind says what is at the other end of a connection.
type connKind uint8

const (
	kindClient connKind = iota
	kindRoute
	kindLeaf
	// kindInternal is an in-process client of the server itself
	// (JetStream): no socket; its subscriptions call handlers and are
	// never announced to routes or leafs.
	kindInternal
)

// isRemote reports whether a connection is another server (route, leaf).
func (c *client) isRemote() bool {
	k := c.kind()
	return k == kindRoute || k == kindLeaf
}

// subscription is one SUB of a client, or one RS+ of a route. It is the
// value stored in the server's sublist.
type subscription struct {
	client  *client
	subject string
	queue   string
	sid     []byte
	// max is the auto-unsubscribe limit (0: none); delivered counts
	// deliveries so the limit can be enforced by any publisher goroutine.
	max       atomic.Int64
	delivered atomic.Int64
	// weight is a route queue subscription's member count (RS+ weight).
	weight atomic.Int32
	// state guards insertion into and removal from the interest table
	// against a concurrent close: subNew, subActive, subRemoved.
	state atomic.Int32
	// handler, set on in-process subscriptions (kindInternal), receives
	// the message on the publisher's goroutine instead of an outbound
	// buffer.
	handler func(subject, reply string, hdr, data []byte)
	// exported in-process subscriptions count as this server's interest
	// (announced to routes and leafs) and take messages from them.
	exported bool
	// routesOnly in-process subscriptions are announced to routes only
	// and take messages from routes only (cluster_raft.go).
	routesOnly bool
}

// announced reports whether sub is interest that routes and leafs hear
// of: a client's (or a hub-side leaf's), or an exported in-process one.
func (sub *subscription) announced() bool {
	return sub.exported || sub.routesOnly || sub.client.localInterest()
}

const (
	subNew int32 = iota
	subActive
	subRemoved
)

// client is one client connection. Two goroutines serve it: readLoop owns
// the parser and everything marked "read goroutine only"; writeLoop owns
// the socket writes. mu guards the rest.
type client struct {
	srv *Server
	// kindv is the connKind; a client-port connection becomes a leaf on
	// its CONNECT, so it is read atomically (kind()).
	kindv atomic.Uint32
	cid   uint64
	nc    net.Conn
	ip    string
	log   *slog.Logger
	opts  *Options

	// Read goroutine only.
	// rd is where the connection reads: nc, or a TLS or S2 layer over it.
	rd io.Reader
	// upgrade, set by a handler that returns errSwitch, changes the
	// transport; the read loop runs it with the bytes that followed the op.
	upgrade   func(rest []byte) error
	parser    *protocol.Parser
	conn      connectInfo
	connected bool // CONNECT received and accepted
	result    subject.Result[*subscription]
	// rtargets collects, per published message, the routes it goes to
	// and the queue groups each must serve (reused, no allocation).
	rtargets []remoteTarget
	// inQueues is the queue list of the routed message being processed.
	inQueues []byte
	// wireSubj, when set (JetStream deliveries), is the subject written on
	// MSG lines to local clients instead of the subject routed on; jsReply
	// is the scratch for the ack reply that carries it across routes and
	// leafs ("<ack>@<subject>").
	wireSubj []byte
	jsReply  []byte
	// route is set for route connections, leaf for leaf connections.
	route *routeState
	leaf  *leafState
	// flushSet holds the connections this read pass queued bytes for; each
	// is signalled once when the pass ends.
	flushSet map[*client]struct{}
	// stallTimer times waits for slow receivers (client_flow.go).
	stallTimer *time.Timer

	lastIn  atomic.Int64  // unix nanos of the last inbound bytes
	msgsOut atomic.Uint64 // messages forwarded to this route or leaf

	mu            sync.Mutex
	subs          map[string]*subscription // by sid
	headers       bool                     // the client accepts HMSG
	wr            io.Writer                // where the writer writes: nc, or a TLS or S2 layer
	holdOut       bool                     // the transport is being changed: the writer must not write
	outIdle       *sync.Cond               // signalled when a write ends while holdOut is set
	s2auto        *s2Auto                  // set on s2_auto links: the level follows the RTT
	pingSent      time.Time                // when the outstanding PING went out
	out           []byte                   // the queue's tail block (client_outq.go)
	outFull       [][]byte                 // full blocks ahead of out, in order
	outFullLen    int                      // bytes in outFull
	taken         [][]byte                 // the blocks the writer is writing
	cursor        outCursor                // the writer's place in taken
	inflight      int                      // bytes the writer is writing now
	written       uint64                   // bytes written so far (client_flow.go)
	trimWritten   uint64                   // written at the last idle check (client_idle.go)
	drained       chan struct{}            // closed when below StallPending; made by a waiting producer
	stuck         bool                     // no progress for StallWait: producers go on without it
	stuckAt       uint64                   // written when it was found stuck
	pingsOut      int
	firstPingSent bool
	firstPongSent bool
	asyncInfo     bool // the client takes async INFO (protocol 1, first PONG sent)
	authenticated bool
	closed        bool
	flushOnClose  bool
	reason        closeReason
	pingTimer     *time.Timer
	authTimer     *time.Timer

	flushCh chan struct{} // cap 1: "there is something to write"
	closeCh chan struct{} // closed when the connection starts closing
	exits   atomic.Int32  // goroutines finished; teardown at 2
}

// createClient registers a new connection, sends INFO and starts its
// goroutines.
func (s *Server) createClient(nc net.Conn) { s.createClientTLS(nc, nil) }

// createClientTLS is createClient for a listener that requires TLS
// (tlsCfg set): INFO says tls_required and the handshake follows it.
func (s *Server) createClientTLS(nc net.Conn, tlsCfg *tls.Config) {
	c := s.newConn(nc, kindClient, protocol.Config{
		MaxControlLine: s.opts.MaxControlLine,
		MaxPayload:     s.opts.MaxPayload,
		Accept:         protocol.ClientOps,
	})
	c.conn = defaultConnectInfo()
	c.log = s.log.With("cid", c.cid, "remote", nc.RemoteAddr().String())

	info := s.clientInfo(c, false)
	if tlsCfg != nil {
		info.TLSRequired = true
		c.upgrade = func(rest []byte) error {
			return c.startTLS(rest, tlsCfg, false, s.opts.TLS.handshakeTimeout())
		}
	}
	c.out = protocol.AppendInfo(c.out, appendInfoJSON(info))
	ok, full := s.register(c)
	if !ok {
		if full {
			c.out = protocol.AppendErr(c.out, "maximum connections exceeded")
			s.refusals.Log(slog.LevelWarn, "connection refused", string(reasonMaxConns)+" "+c.ip, "addr", c.ip, "reason", reasonMaxConns)
			_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = nc.Write(c.out)
		}
		_ = nc.Close()
		return
	}
	c.log.Debug("client connected")
	c.mu.Lock()
	if s.authRequired() {
		c.authTimer = time.AfterFunc(s.opts.Authorization.Timeout, c.authTimeout)
	}
	c.mu.Unlock()
	c.start(s.opts.FirstPingDelay)
}

// start arms the first PING and starts the connection's two goroutines;
// what is already queued (INFO, CONNECT) is written at once.
func (c *client) start(firstPing time.Duration) {
	c.mu.Lock()
	c.pingTimer = time.AfterFunc(firstPing, c.pingTimerFired)
	c.mu.Unlock()
	c.signalFlush()
	go c.readLoop()
	go c.writeLoop()
}

// newConn builds the state every kind of connection shares: buffers,
// channels, the parser with the kind's op set and limits.
func (s *Server) newConn(nc net.Conn, kind connKind, pc protocol.Config) *client {
	c := &client{
		srv:      s,
		cid:      s.nextCID.Add(1),
		nc:       nc,
		opts:     &s.opts,
		flushSet: make(map[*client]struct{}),
		subs:     make(map[string]*subscription),
		flushCh:  make(chan struct{}, 1),
		closeCh:  make(chan struct{}),
		parser:   protocol.NewParser(pc),
		rd:       nc,
		wr:       nc,
	}
	c.outIdle = sync.NewCond(&c.mu)
	c.kindv.Store(uint32(kind))
	if tcp, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		c.ip = tcp.IP.String()
	}
	c.lastIn.Store(time.Now().UnixNano())
	if kind != kindClient {
		// Servers always speak headers; there is no CONNECT step to wait for.
		c.conn = connectInfo{Headers: true}
		c.headers = true
		c.connected = true
	}
	return c
}

// clientInfo builds the INFO a client gets.
func (s *Server) clientInfo(c *client, connectInfo bool) *serverInfo {
	host, port := s.opts.Host, s.opts.Port
	s.mu.Lock()
	if s.ln != nil {
		port = s.ln.Addr().(*net.TCPAddr).Port
	}
	urls := s.clientConnectURLsLocked()
	s.mu.Unlock()
	info := &serverInfo{
		ID:           s.id,
		Name:         s.opts.ServerName,
		Version:      Version,
		Proto:        1,
		Go:           goVersion(),
		Host:         host,
		Port:         port,
		Headers:      true,
		AuthRequired: s.authRequired(),
		MaxPayload:   s.opts.MaxPayload,
		ClientID:     c.cid,
		ClientIP:     c.ip,
		ConnectURLs:  urls,
	}
	if s.js != nil {
		info.Version, info.JetStream = NATSVersion, true
	}
	if connectInfo {
		info.ConnectInfo = true
		info.RemoteAcct = "$G"
	}
	return info
}

// readLoop reads from the socket and feeds the parser until the
// connection ends. After each read it flushes every connection the pass
// queued bytes for: one signal per connection per pass, not per message.
func (c *client) readLoop() {
	defer c.exited()
	if c.upgrade != nil && !c.runUpgrade(nil) {
		return // a TLS listener: the handshake comes first
	}
	buf := make([]byte, minReadBuf)
	for {
		n, err := c.rd.Read(buf)
		if n > 0 {
			c.lastIn.Store(time.Now().UnixNano())
			if !c.parseInput(buf[:n]) {
				return
			}
		}
		if err != nil {
			c.closeNow(reasonClientClosed)
			return
		}
		switch {
		case n == len(buf) && len(buf) < maxReadBuf:
			buf = make([]byte, 2*len(buf))
		case n < len(buf)/4 && len(buf) > minReadBuf:
			buf = make([]byte, len(buf)/2)
		}
	}
}

// parseInput parses one read's bytes. A handler that changes the
// transport pauses the parser; the bytes after its op belong to the new
// transport and go to the upgrade. It reports false when the connection
// is closing.
func (c *client) parseInput(data []byte) bool {
	used, err := c.parser.ParsePausable(data, c)
	if err != nil && errors.Is(err, protocol.ErrPause) && c.upgrade != nil {
		return c.runUpgrade(data[used:])
	}
	c.flushQueued()
	if err != nil {
		c.protocolError(err)
		return false
	}
	return true
}

// refuse ends the connection from a handler: -ERR '<text>' when text is
// not empty, then close after flushing. It returns errStop, which stops
// the parser without another -ERR.
func (c *client) refuse(text string, reason closeReason) error {
	if text != "" {
		c.sendErr(text)
	}
	c.closeAfterFlush(reason)
	return errStop
}

// protocolError answers a parse or handler error and closes.
func (c *client) protocolError(err error) {
	if errors.Is(err, errStop) {
		return
	}
	reason := reasonProtocol
	if text, ok := protocol.ErrText(err); ok {
		if errors.Is(err, protocol.ErrMaxPayload) {
			reason = reasonMaxPayload
		}
		c.sendErr(text)
	}
	c.log.Debug("protocol error", "err", err)
	c.closeAfterFlush(reason)
}

// flushQueued wakes the writer of every connection this pass wrote to.
func (c *client) flushQueued() {
	for dst := range c.flushSet {
		dst.signalFlush()
	}
	if c.kind() != kindInternal {
		c.waitDrained()
	}
	clear(c.flushSet)
}

// signalFlush tells the writer there is something to write.
func (c *client) signalFlush() {
	select {
	case c.flushCh <- struct{}{}:
	default:
	}
}

// closeAfterFlush starts closing: the writer sends what is queued (such as
// a final -ERR) and then closes the socket.
func (c *client) closeAfterFlush(reason closeReason) { c.markClosed(reason, true) }

// closeNow closes the socket at once, dropping what is queued.
func (c *client) closeNow(reason closeReason) {
	c.markClosed(reason, false)
	_ = c.nc.Close()
}

// markClosed runs once per connection: it removes the connection's
// interest so nothing more is delivered to it, stops its timers and wakes
// the writer to finish.
func (c *client) markClosed(reason closeReason, flush bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed, c.flushOnClose, c.reason = true, flush, reason
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	subs := make([]*subscription, 0, len(c.subs))
	for _, sub := range c.subs {
		subs = append(subs, sub)
	}
	clear(c.subs)
	c.mu.Unlock()
	// Logged first, so the line is out before anything can observe the
	// connection gone.
	c.logClose(reason)
	for _, sub := range subs {
		c.srv.removeSub(sub)
	}
	switch c.kind() {
	case kindRoute:
		c.srv.dropRoute(c)
	case kindLeaf:
		c.srv.dropLeaf(c)
	}
	close(c.closeCh)
}

// logClose logs why the connection closes, at the level the reason
// deserves.
func (c *client) logClose(reason closeReason) {
	switch reason {
	case reasonClientClosed, reasonServerShutdown, reasonLeafAdmission, reasonTLSHandshake:
		// Refusals by admission rules and failed handshakes were logged
		// (rate-limited) where they were found.
		c.log.Debug("client closed", "reason", reason)
	case reasonAuth, reasonAuthTimeout:
		// Outside input: the first per address, then a summary a minute.
		c.srv.refusals.Log(slog.LevelInfo, "client closed", string(reason)+" "+c.ip, "cid", c.cid, "addr", c.ip, "reason", reason)
	case reasonSlowWrite:
		if c.isRemote() {
			// Links are never closed for pending bytes (client_flow.go):
			// only a peer that accepted nothing for the write deadline.
			c.log.Warn("link closed: its peer accepted nothing for the write deadline", "reason", reason, "write_deadline", c.opts.WriteDeadline)
		} else {
			c.log.Warn("Slow Consumer Detected", "reason", reason, "write_deadline", c.opts.WriteDeadline)
		}
	case reasonSlowPending:
		c.log.Warn("Slow Consumer Detected", "reason", reason, "max_pending", c.opts.MaxPending)
	default:
		c.log.Info("client closed", "reason", reason)
	}
}

// exited is called by each of the two goroutines as it ends; the second
// one finishes the teardown.
func (c *client) exited() {
	if c.exits.Add(1) == 2 {
		switch c.kind() {
		case kindRoute:
			c.srv.unregisterRoute(c)
		case kindLeaf:
			c.srv.unregisterLeaf(c)
		default:
			c.srv.unregister(c)
		}
		c.srv.conns.Done()
	}
}

// kind says what is at the other end.
func (c *client) kind() connKind { return connKind(c.kindv.Load()) }

// isClosed reports whether the connection has started closing.
func (c *client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}
