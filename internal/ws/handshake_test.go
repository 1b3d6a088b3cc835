package ws

import (
	"bufio"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
)

func TestAcceptKeyRFC6455Vector(t *testing.T) {
	// RFC 6455 section 1.3 (checked independently with Python hashlib).
	if got := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("acceptKey = %q", got)
	}
}

const rfcKey = "dGhlIHNhbXBsZSBub25jZQ=="

func upgradeReq(line string, headers ...string) string {
	return line + "\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n"
}

var goodHeaders = []string{
	"Host: server.example.com",
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Key: " + rfcKey,
	"Sec-WebSocket-Version: 13",
}

func without(name string, extra ...string) []string {
	var h []string
	for _, l := range goodHeaders {
		if !strings.HasPrefix(l, name+":") {
			h = append(h, l)
		}
	}
	return append(h, extra...)
}

func errorResponse(status, body string, extra string) string {
	return "HTTP/1.1 " + status + "\r\n" + extra +
		"Sec-WebSocket-Version: 13\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: " + itoa(len(body)+1) + "\r\nConnection: close\r\n\r\n" + body + "\n"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

const okResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"

const okNoMaskResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nNats-No-Masking: true\r\n\r\n"

func TestAccept(t *testing.T) {
	bad400 := func(reason string) string { return errorResponse("400 Bad Request", reason, "") }
	tests := []struct {
		name      string
		req       string
		opts      AcceptOptions
		wantResp  string
		wantPath  string
		wantErr   bool
		noMasking bool // frames from the client may be unmasked
	}{
		{name: "valid", req: upgradeReq("GET / HTTP/1.1", goodHeaders...), wantResp: okResponse, wantPath: "/"},
		{name: "leaf path", req: upgradeReq("GET /some/path/leafnode HTTP/1.1", goodHeaders...), wantResp: okResponse, wantPath: "/some/path/leafnode"},
		{name: "query dropped", req: upgradeReq("GET /x?a=b HTTP/1.1", goodHeaders...), wantResp: okResponse, wantPath: "/x"},
		{name: "absolute form", req: upgradeReq("GET http://h:1/a/leafnode HTTP/1.1", goodHeaders...), wantResp: okResponse, wantPath: "/a/leafnode"},
		{name: "tokens and case", req: upgradeReq("GET / HTTP/1.1", without("Connection", "Connection: keep-alive, UPGRADE")...), wantResp: okResponse, wantPath: "/"},
		{name: "upgrade case", req: upgradeReq("GET / HTTP/1.1", without("Upgrade", "Upgrade: WebSocket")...), wantResp: okResponse, wantPath: "/"},
		{name: "HTTP/1.2", req: upgradeReq("GET / HTTP/1.2", goodHeaders...), wantResp: okResponse, wantPath: "/"},
		{name: "compression declined", req: upgradeReq("GET / HTTP/1.1", append(goodHeaders, "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover")...), wantResp: okResponse, wantPath: "/"},
		{name: "no masking agreed", req: upgradeReq("GET /leafnode HTTP/1.1", append(goodHeaders, "Nats-No-Masking: true")...), opts: AcceptOptions{AllowNoMasking: true}, wantResp: okNoMaskResponse, wantPath: "/leafnode", noMasking: true},
		{name: "no masking refused", req: upgradeReq("GET /leafnode HTTP/1.1", append(goodHeaders, "Nats-No-Masking: true")...), wantResp: okResponse, wantPath: "/leafnode"},
		{name: "no masking not asked", req: upgradeReq("GET / HTTP/1.1", goodHeaders...), opts: AcceptOptions{AllowNoMasking: true}, wantResp: okResponse, wantPath: "/"},
		{name: "POST", req: upgradeReq("POST / HTTP/1.1", goodHeaders...), wantResp: errorResponse("405 Method Not Allowed", "request method must be GET", "Allow: GET\r\n"), wantErr: true},
		{name: "HTTP/1.0", req: upgradeReq("GET / HTTP/1.0", goodHeaders...), wantResp: bad400("HTTP/1.1 or later required"), wantErr: true},
		{name: "malformed line", req: upgradeReq("GET/HTTP/1.1", goodHeaders...), wantResp: bad400("malformed request line"), wantErr: true},
		{name: "bad target", req: upgradeReq("GET foo HTTP/1.1", goodHeaders...), wantResp: bad400("invalid request target"), wantErr: true},
		{name: "malformed header", req: upgradeReq("GET / HTTP/1.1", append(goodHeaders, "no colon here")...), wantResp: bad400("malformed request header"), wantErr: true},
		{name: "no host", req: upgradeReq("GET / HTTP/1.1", without("Host")...), wantResp: bad400("'Host' missing in request"), wantErr: true},
		{name: "no upgrade", req: upgradeReq("GET / HTTP/1.1", without("Upgrade")...), wantResp: bad400("invalid value for header 'Upgrade'"), wantErr: true},
		{name: "upgrade h2c", req: upgradeReq("GET / HTTP/1.1", without("Upgrade", "Upgrade: h2c")...), wantResp: bad400("invalid value for header 'Upgrade'"), wantErr: true},
		{name: "connection close", req: upgradeReq("GET / HTTP/1.1", without("Connection", "Connection: close")...), wantResp: bad400("invalid value for header 'Connection'"), wantErr: true},
		{name: "no key", req: upgradeReq("GET / HTTP/1.1", without("Sec-WebSocket-Key")...), wantResp: bad400("key missing"), wantErr: true},
		{name: "short key", req: upgradeReq("GET / HTTP/1.1", without("Sec-WebSocket-Key", "Sec-WebSocket-Key: c2hvcnQ=")...), wantResp: bad400("invalid websocket key"), wantErr: true},
		{name: "key not base64", req: upgradeReq("GET / HTTP/1.1", without("Sec-WebSocket-Key", "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!!!")...), wantResp: bad400("invalid websocket key"), wantErr: true},
		{name: "no version", req: upgradeReq("GET / HTTP/1.1", without("Sec-WebSocket-Version")...), wantResp: bad400("invalid version"), wantErr: true},
		{name: "version 8", req: upgradeReq("GET / HTTP/1.1", without("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8")...), wantResp: bad400("invalid version"), wantErr: true},
		{name: "too large", req: upgradeReq("GET / HTTP/1.1", append(goodHeaders, "Cookie: "+strings.Repeat("x", maxHandshakeBytes))...), wantResp: errorResponse("431 Request Header Fields Too Large", "request too large", ""), wantErr: true},
		{name: "truncated", req: "GET / HTTP/1.1\r\nHost: x\r\n", wantResp: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript([]byte(tc.req))
			c, path, err := Accept(sc, tc.opts)
			if got := string(sc.written()); got != tc.wantResp {
				t.Errorf("response:\n%q\nwant\n%q", got, tc.wantResp)
			}
			if tc.wantErr {
				if err == nil || !errors.Is(err, ErrHandshake) {
					t.Fatalf("err = %v, want ErrHandshake", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if path != tc.wantPath {
				t.Errorf("path = %q, want %q", path, tc.wantPath)
			}
			if got := c.(*conn).fr.requireMask; got == tc.noMasking {
				t.Errorf("requireMask = %v", got)
			}
			if !sc.wdl.IsZero() {
				t.Errorf("handshake deadline not cleared")
			}
		})
	}
}

// Bytes a client sends right behind its request are not lost.
func TestAcceptKeepsBytesAfterRequest(t *testing.T) {
	f := encodeFrame(masked(bin("PING\r\n"), [4]byte{1, 2, 3, 4}))
	sc := newScript(append([]byte(upgradeReq("GET / HTTP/1.1", goodHeaders...)), f...))
	c, _, err := Accept(sc, AcceptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if string(got) != "PING\r\n" || err != nil {
		t.Fatalf("read %q, %v", got, err)
	}
	if c.RemoteAddr().String() != "10.1.2.3:5555" || c.LocalAddr().String() != "127.0.0.1:4443" {
		t.Fatalf("addresses not delegated: %v %v", c.RemoteAddr(), c.LocalAddr())
	}
}

func TestLeafPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "/leafnode",
		"/":                 "/leafnode",
		"/some/path":        "/some/path/leafnode",
		"/some/path/":       "/some/path/leafnode",
		"some/path":         "/some/path/leafnode",
		"/a%20b":            "/a%20b/leafnode",
		"/already/leafnode": "/already/leafnode/leafnode",
	} {
		if got := LeafPath(in); got != want {
			t.Errorf("LeafPath(%q) = %q, want %q", in, got, want)
		}
		if !IsLeafPath(LeafPath(in)) {
			t.Errorf("IsLeafPath(LeafPath(%q)) = false", in)
		}
	}
	for p, want := range map[string]bool{"/": false, "/leafnode": true, "/x/leafnode": true, "/leafnode/": false, "/xleafnode": false} {
		if IsLeafPath(p) != want {
			t.Errorf("IsLeafPath(%q) != %v", p, want)
		}
	}
}

var requestRE = regexp.MustCompile(`^GET /some/path/leafnode HTTP/1\.1\r\nHost: hub:8080\r\nUpgrade: websocket\r\n` +
	`Connection: Upgrade\r\nSec-WebSocket-Key: ([A-Za-z0-9+/]{22}==)\r\nSec-WebSocket-Version: 13\r\n(Nats-No-Masking: true\r\n)?\r\n$`)

// The client's request, checked byte for byte, is accepted by Accept, and
// no-masking is in force only when both sides agree.
func TestClientAgainstAccept(t *testing.T) {
	for _, tc := range []struct {
		ask, allow, want bool
	}{{false, false, false}, {true, false, false}, {false, true, false}, {true, true, true}} {
		a, b := net.Pipe()
		rec := &recordConn{Conn: a}
		type result struct {
			c    net.Conn
			path string
			err  error
		}
		done := make(chan result, 1)
		go func() {
			c, p, err := Accept(b, AcceptOptions{AllowNoMasking: tc.allow})
			done <- result{c, p, err}
		}()
		cc, err := Client(rec, "hub:8080", LeafPath("/some/path"), ClientOptions{NoMasking: tc.ask})
		if err != nil {
			t.Fatal(err)
		}
		res := <-done
		if res.err != nil || res.path != "/some/path/leafnode" {
			t.Fatalf("Accept: %q %v", res.path, res.err)
		}
		m := requestRE.FindStringSubmatch(rec.String())
		if m == nil || (m[2] != "") != tc.ask {
			t.Fatalf("request %q", rec.String())
		}
		if got := !cc.(*conn).mask; got != tc.want {
			t.Errorf("ask=%v allow=%v: client unmasked=%v, want %v", tc.ask, tc.allow, got, tc.want)
		}
		if got := !res.c.(*conn).fr.requireMask; got != tc.want {
			t.Errorf("ask=%v allow=%v: server accepts unmasked=%v, want %v", tc.ask, tc.allow, got, tc.want)
		}
		a.Close()
		b.Close()
	}
}

// recordConn records what is written through it.
type recordConn struct {
	net.Conn
	strings.Builder
}

func (r *recordConn) Write(p []byte) (int, error) {
	r.Builder.Write(p)
	return r.Conn.Write(p)
}

func TestClientRejectsBadResponses(t *testing.T) {
	tests := []struct {
		name   string
		answer func(key string) string
	}{
		{"status 400", func(string) string { return "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" }},
		{"status 200", func(string) string { return "HTTP/1.1 200 OK\r\n\r\n" }},
		{"not http", func(string) string { return "INFO {}\r\n\r\n" }},
		{"wrong accept", func(string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey("x") + "\r\n\r\n"
		}},
		{"no upgrade", func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(k) + "\r\n\r\n"
		}},
		{"no connection", func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + acceptKey(k) + "\r\n\r\n"
		}},
		{"extension not offered", func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(k) +
				"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
		}},
		{"closed early", func(string) string { return "HTTP/1.1 101 Switching" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			go func() {
				defer b.Close()
				br := bufio.NewReader(b)
				var key string
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if k, ok := strings.CutPrefix(line, "Sec-WebSocket-Key: "); ok {
						key = strings.TrimSpace(k)
					}
					if line == "\r\n" {
						break
					}
				}
				_, _ = b.Write([]byte(tc.answer(key)))
			}()
			_, err := Client(a, "h:1", "/", ClientOptions{})
			if !errors.Is(err, ErrHandshake) {
				t.Fatalf("err = %v, want ErrHandshake", err)
			}
		})
	}
	for _, bad := range [][2]string{{"h 1", "/"}, {"h:1", "/a b"}, {"h:1", "x"}, {"h:1\r\nX: y", "/"}, {"", "/"}} {
		if _, err := Client(newScript(), bad[0], bad[1], ClientOptions{}); !errors.Is(err, ErrHandshake) {
			t.Errorf("Client(%q, %q) = %v", bad[0], bad[1], err)
		}
	}
}
