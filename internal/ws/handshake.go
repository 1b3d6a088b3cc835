package ws

import (
	"bufio"
	"crypto/fips140"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// ErrHandshake wraps every failed opening handshake.
var ErrHandshake = errors.New("ws: handshake failed")

// errRequestTooLarge is what the handshake reader returns past its limit.
var errRequestTooLarge = errors.New("ws: handshake request too large")

const (
	// acceptGUID is appended to Sec-WebSocket-Key before hashing (RFC 6455
	// section 1.3).
	acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

	// LeafSuffix ends the request path of a leaf connection.
	LeafSuffix = "/leafnode"

	noMaskingHeader = "Nats-No-Masking"

	maxHandshakeBytes       = 64 << 10 // request or response head, cookies included
	defaultHandshakeTimeout = 5 * time.Second
	defaultCloseTimeout     = time.Second
)

// AcceptOptions configure the server side. The zero value is usable.
type AcceptOptions struct {
	// HandshakeTimeout bounds reading the request and writing the answer.
	// Zero means 5 s; negative means no limit. Accept clears the
	// connection's deadline once done.
	HandshakeTimeout time.Duration
	// AllowNoMasking accepts a client's "Nats-No-Masking: true" (a
	// nats-server extension used by leafs): the header is echoed and the
	// client's frames need not be masked.
	AllowNoMasking bool
	// MaxFrameSize is the largest frame payload read; zero means
	// DefaultMaxFrameSize.
	MaxFrameSize int64
	// CloseTimeout bounds sending the close frame in Close; zero means 1 s.
	CloseTimeout time.Duration
}

// ClientOptions configure the client (soliciting) side. The zero value is
// usable.
type ClientOptions struct {
	// HandshakeTimeout bounds writing the request and reading the answer.
	// Zero means 5 s; negative means no limit. Client clears the
	// connection's deadline once done.
	HandshakeTimeout time.Duration
	// NoMasking asks the server for "Nats-No-Masking: true"; frames are
	// sent unmasked only if the server echoes it.
	NoMasking bool
	// MaxFrameSize is the largest frame payload read; zero means
	// DefaultMaxFrameSize.
	MaxFrameSize int64
	// CloseTimeout bounds sending the close frame in Close; zero means 1 s.
	CloseTimeout time.Duration
}

// LeafPath is the request path a leaf sends for a remote URL whose escaped
// path is urlPath: "" or "/" give "/leafnode", "/some/path" gives
// "/some/path/leafnode". (nats-server sends "//leafnode" for a URL ending
// in a bare "/"; both end in "/leafnode", which is all a server looks at.)
func LeafPath(urlPath string) string {
	return path.Join("/", urlPath, LeafSuffix)
}

// IsLeafPath reports whether a request path asks for a leaf connection: a
// nats-server treats any path ending in "/leafnode" so.
func IsLeafPath(p string) bool {
	return strings.HasSuffix(p, LeafSuffix)
}

// acceptKey computes Sec-WebSocket-Accept for a Sec-WebSocket-Key. SHA-1
// is what RFC 6455 prescribes (it is not used for security here), so it is
// exempt from FIPS 140 enforcement, as in nats-server.
func acceptKey(key string) string {
	var sum [sha1.Size]byte
	fips140.WithoutEnforcement(func() {
		sum = sha1.Sum([]byte(key + acceptGUID))
	})
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Accept answers the WebSocket opening handshake read from c (the server
// side). It returns the connection that carries the byte stream and the
// request path (see IsLeafPath). A bad request is answered with an HTTP
// error before the error is returned; the caller closes c on error.
func Accept(c net.Conn, opts AcceptOptions) (net.Conn, string, error) {
	timeout := opts.HandshakeTimeout
	if timeout == 0 {
		timeout = defaultHandshakeTimeout
	}
	if timeout > 0 {
		_ = c.SetDeadline(time.Now().Add(timeout))
	}
	br := bufio.NewReaderSize(&limitedReader{r: c, n: maxHandshakeBytes}, 4096)
	req, hs := readUpgradeRequest(br)
	if hs.err != nil {
		if hs.status != 0 {
			_, _ = c.Write(httpError(hs.status, hs.reason))
		}
		return nil, "", hs.err
	}
	noMasking := opts.AllowNoMasking && req.header.Get(noMaskingHeader) == "true"
	if _, err := c.Write(acceptResponse(req.key, noMasking)); err != nil {
		return nil, "", fmt.Errorf("%w: writing response: %w", ErrHandshake, err)
	}
	if timeout > 0 {
		_ = c.SetDeadline(time.Time{})
	}
	conn := newConn(c, false, false, !noMasking, opts.MaxFrameSize, opts.CloseTimeout)
	conn.takeBuffered(br)
	return conn, req.path, nil
}

// upgradeRequest is what Accept needs from a request.
type upgradeRequest struct {
	path   string
	key    string
	header textproto.MIMEHeader
}

// handshakeFailure says how a request failed: status 0 means an I/O error
// that gets no answer.
type handshakeFailure struct {
	status int
	reason string
	err    error
}

func reject(status int, reason string) handshakeFailure {
	return handshakeFailure{status: status, reason: reason, err: fmt.Errorf("%w: %s", ErrHandshake, reason)}
}

// readUpgradeRequest reads and checks a request in the order of RFC 6455
// section 4.2.1 (the order nats-server checks in).
func readUpgradeRequest(br *bufio.Reader) (upgradeRequest, handshakeFailure) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return upgradeRequest{}, readFailure(err)
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || target == "" {
		return upgradeRequest{}, reject(400, "malformed request line")
	}
	header, err := tp.ReadMIMEHeader()
	if err != nil {
		return upgradeRequest{}, readFailure(err)
	}
	if method != "GET" {
		return upgradeRequest{}, reject(405, "request method must be GET")
	}
	if !atLeastHTTP11(proto) {
		return upgradeRequest{}, reject(400, "HTTP/1.1 or later required")
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return upgradeRequest{}, reject(400, "invalid request target")
	}
	req := upgradeRequest{path: u.EscapedPath(), header: header}
	if req.path == "" {
		req.path = "/"
	}
	if header.Get("Host") == "" {
		return upgradeRequest{}, reject(400, "'Host' missing in request")
	}
	if !headerHasToken(header, "Upgrade", "websocket") {
		return upgradeRequest{}, reject(400, "invalid value for header 'Upgrade'")
	}
	if !headerHasToken(header, "Connection", "Upgrade") {
		return upgradeRequest{}, reject(400, "invalid value for header 'Connection'")
	}
	req.key = header.Get("Sec-Websocket-Key")
	if req.key == "" {
		return upgradeRequest{}, reject(400, "key missing")
	}
	if k, err := base64.StdEncoding.DecodeString(req.key); err != nil || len(k) != 16 {
		return upgradeRequest{}, reject(400, "invalid websocket key")
	}
	if !headerHasToken(header, "Sec-Websocket-Version", "13") {
		return upgradeRequest{}, reject(400, "invalid version")
	}
	return req, handshakeFailure{}
}

// readFailure classifies an error from reading the request head.
func readFailure(err error) handshakeFailure {
	var pe textproto.ProtocolError
	switch {
	case errors.Is(err, errRequestTooLarge):
		return reject(431, "request too large")
	case errors.As(err, &pe):
		return reject(400, "malformed request header")
	}
	return handshakeFailure{err: fmt.Errorf("%w: reading request: %w", ErrHandshake, err)}
}

// atLeastHTTP11 accepts "HTTP/1.1" and later 1.x versions.
func atLeastHTTP11(proto string) bool {
	minor, ok := strings.CutPrefix(proto, "HTTP/1.")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(minor)
	return err == nil && n >= 1
}

// headerHasToken reports whether any comma-separated value of header name
// equals token, ignoring case.
func headerHasToken(h textproto.MIMEHeader, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.Trim(t, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// acceptResponse is the 101 answer, byte for byte what nats-server sends
// when compression is off.
func acceptResponse(key string, noMasking bool) []byte {
	b := make([]byte, 0, 160)
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = append(b, acceptKey(key)...)
	b = append(b, "\r\n"...)
	if noMasking {
		b = append(b, noMaskingHeader+": true\r\n"...)
	}
	return append(b, "\r\n"...)
}

// httpError is the answer to a rejected request.
func httpError(status int, reason string) []byte {
	text := map[int]string{400: "Bad Request", 405: "Method Not Allowed", 431: "Request Header Fields Too Large"}[status]
	body := reason + "\n"
	b := make([]byte, 0, 200+len(body))
	b = fmt.Appendf(b, "HTTP/1.1 %d %s\r\n", status, text)
	if status == 405 {
		b = append(b, "Allow: GET\r\n"...)
	}
	b = append(b, "Sec-WebSocket-Version: 13\r\nContent-Type: text/plain; charset=utf-8\r\n"...)
	b = fmt.Appendf(b, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	return append(b, body...)
}

// Client performs the opening handshake on an established connection c
// (the soliciting side, e.g. a leaf): it asks for path (see LeafPath) on
// host (the Host header, "host:port"). The returned connection masks its
// frames unless the server agreed to ClientOptions.NoMasking. On error the
// caller closes c.
func Client(c net.Conn, host, path string, opts ClientOptions) (net.Conn, error) {
	if !validRequestToken(host) || !validRequestToken(path) || !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("%w: invalid host %q or path %q", ErrHandshake, host, path)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	key := base64.StdEncoding.EncodeToString(raw[:])
	timeout := opts.HandshakeTimeout
	if timeout == 0 {
		timeout = defaultHandshakeTimeout
	}
	if timeout > 0 {
		_ = c.SetDeadline(time.Now().Add(timeout))
	}
	if _, err := c.Write(upgradeRequestBytes(host, path, key, opts.NoMasking)); err != nil {
		return nil, fmt.Errorf("%w: writing request: %w", ErrHandshake, err)
	}
	br := bufio.NewReaderSize(&limitedReader{r: c, n: maxHandshakeBytes}, 4096)
	noMasking, err := readUpgradeResponse(br, key)
	if err != nil {
		return nil, err
	}
	noMasking = noMasking && opts.NoMasking
	if timeout > 0 {
		_ = c.SetDeadline(time.Time{})
	}
	conn := newConn(c, true, !noMasking, false, opts.MaxFrameSize, opts.CloseTimeout)
	conn.takeBuffered(br)
	return conn, nil
}

// upgradeRequestBytes is the request the client side sends.
func upgradeRequestBytes(host, path, key string, noMasking bool) []byte {
	b := make([]byte, 0, 200+len(host)+len(path))
	b = append(b, "GET "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	b = append(b, key...)
	b = append(b, "\r\nSec-WebSocket-Version: 13\r\n"...)
	if noMasking {
		b = append(b, noMaskingHeader+": true\r\n"...)
	}
	return append(b, "\r\n"...)
}

// readUpgradeResponse checks the server's answer the way nats.go and
// nats-server's leaf do, and reports whether the server agreed to
// no-masking.
func readUpgradeResponse(br *bufio.Reader, key string) (bool, error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return false, fmt.Errorf("%w: reading response: %w", ErrHandshake, err)
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	if !strings.HasPrefix(proto, "HTTP/1.") || code != "101" {
		if len(line) > 80 {
			line = line[:80]
		}
		return false, fmt.Errorf("%w: unexpected response %q", ErrHandshake, line)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return false, fmt.Errorf("%w: reading response: %w", ErrHandshake, err)
	}
	switch {
	case !headerHasToken(h, "Upgrade", "websocket"):
		return false, fmt.Errorf("%w: invalid value for header 'Upgrade'", ErrHandshake)
	case !headerHasToken(h, "Connection", "Upgrade"):
		return false, fmt.Errorf("%w: invalid value for header 'Connection'", ErrHandshake)
	case h.Get("Sec-Websocket-Accept") != acceptKey(key):
		return false, fmt.Errorf("%w: wrong Sec-WebSocket-Accept", ErrHandshake)
	case len(h.Values("Sec-Websocket-Extensions")) > 0:
		return false, fmt.Errorf("%w: server chose an extension that was not offered", ErrHandshake)
	}
	return h.Get(noMaskingHeader) == "true", nil
}

// validRequestToken rejects what could break the request line or a
// header: empty text, spaces and control characters.
func validRequestToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7F {
			return false
		}
	}
	return true
}

// limitedReader reads at most n bytes from r, then fails with
// errRequestTooLarge (io.LimitReader would report a plain EOF).
type limitedReader struct {
	r io.Reader
	n int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errRequestTooLarge
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= n
	return n, err
}
