package fern

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/fernmq/fern/internal/ws"
	"github.com/fernmq/fern/leaf"
)

// WebSocket carries the same protocols as TCP: after the HTTP upgrade the
// connection is handed to the client or leaf machinery unchanged (a
// request path ending in /leafnode is a leaf, as on the official server).

const wsHandshakeTimeout = 2 * time.Second

// startWebsocketLocked binds the websocket listener. s.mu is held.
func (s *Server) startWebsocketLocked() error {
	w := &s.opts.Websocket
	ln, err := s.listen(w.Host, w.Port, "websocket")
	if err != nil {
		return err
	}
	s.wsLn = ln
	s.log.Info("listening for websocket connections", "addr", ln.Addr().String(), "tls", s.wsTLS != nil)
	if s.wsTLS != nil {
		// wss://: TLS first (the handshake runs on the first read, in the
		// upgrade goroutine), then the HTTP upgrade.
		ln = tls.NewListener(ln, s.wsTLS)
	}
	s.accept.Add(1)
	go s.acceptLoop(ln, "websocket", func(nc net.Conn) {
		// The handshake reads from the socket: not in the accept loop.
		go s.upgradeWebsocket(nc)
	})
	return nil
}

// upgradeWebsocket answers the handshake and starts a client or a leaf.
func (s *Server) upgradeWebsocket(nc net.Conn) {
	conn, path, err := ws.Accept(nc, ws.AcceptOptions{HandshakeTimeout: wsHandshakeTimeout, AllowNoMasking: true})
	if err != nil {
		s.log.Debug("websocket handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		_ = nc.Close()
		return
	}
	if ws.IsLeafPath(path) {
		s.createLeaf(conn, nil, nil)
		return
	}
	s.createClient(conn)
}

// upgradeLeafDial turns a dialled TCP connection into a WebSocket one for a
// ws:// remote.
func upgradeLeafDial(nc net.Conn, u leaf.URL) (net.Conn, error) {
	return ws.Client(nc, u.Host, ws.LeafPath(u.Path), ws.ClientOptions{HandshakeTimeout: wsHandshakeTimeout})
}

// WebsocketAddr is the bound websocket listener address, or nil.
func (s *Server) WebsocketAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wsLn == nil {
		return nil
	}
	return s.wsLn.Addr()
}
