package fern_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern"
)

// Raw-socket checks of the exact bytes the server sends, including every
// -ERR that closes a connection. Facts: shared/reference/protocol.md §1.

func TestProtoInfoFields(t *testing.T) {
	s := runServer(t, &fern.Options{ServerName: "edge-1", MaxPayload: 2048})
	rc := dialRawNoInfo(t, s)
	line := rc.readLine()
	if !strings.HasPrefix(line, "INFO ") || !strings.HasSuffix(line, " \r\n") {
		t.Fatalf("INFO framing: %q", line)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(line, "INFO "), " \r\n")), &info); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"server_id", "server_name", "version", "proto", "go", "host", "port", "headers", "max_payload", "client_id", "client_ip"} {
		if _, ok := info[k]; !ok {
			t.Errorf("INFO lacks %q: %s", k, line)
		}
	}
	if info["server_name"] != "edge-1" || info["max_payload"] != float64(2048) || info["proto"] != float64(1) ||
		info["headers"] != true || info["client_ip"] != "127.0.0.1" || info["server_id"] != s.ID() {
		t.Errorf("INFO values: %s", line)
	}
}

func TestProtoVerboseDefaults(t *testing.T) {
	s := runServer(t, nil)
	// Without CONNECT the official defaults apply: verbose and pedantic on.
	rc := dialRaw(t, s)
	rc.send("SUB foo 1\r\n")
	rc.expect("+OK\r\n")
	rc.send("PUB foo 2\r\nhi\r\n")
	rc.expect("+OK\r\n") // +OK for PUB comes before the MSG it triggers
	rc.expect("MSG foo 1 2\r\n")
	rc.expect("hi\r\n")
	rc.send("PUB foo.* 0\r\n\r\n")
	rc.expect("+OK\r\n")
	rc.expect("-ERR 'Invalid Publish Subject'\r\n")
	rc.send("PING\r\n")
	rc.expect("PONG\r\n")
}

func TestProtoConnectHandshake(t *testing.T) {
	s := runServer(t, nil)
	rc := dialRaw(t, s)
	rc.send(`CONNECT {"verbose":false,"pedantic":false,"protocol":1,"headers":true,"no_responders":true}` + "\r\nPING\r\n")
	rc.expect("PONG\r\n")
	// The second INFO with connect_info follows the first PONG.
	if line := rc.readLine(); !strings.Contains(line, `"connect_info":true`) {
		t.Fatalf("want INFO with connect_info, got %q", line)
	}
	rc.send("SUB foo q1 1\r\nsub foo 2\r\nUNSUB 2\r\nPUB foo reply 5\r\nhello\r\nping\r\n")
	rc.expect("MSG foo 1 reply 5\r\n")
	rc.expect("hello\r\n")
	rc.expect("PONG\r\n")
	// Header publish to a header-capable subscriber.
	rc.send("HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n")
	rc.expect("HMSG foo 1 12 14\r\n")
	rc.expect("NATS/1.0\r\n")
	rc.expect("\r\n")
	rc.expect("hi\r\n")
	rc.expect("PONG\r\n")
}

func TestProtoHeadersStrippedForOldClients(t *testing.T) {
	s := runServer(t, nil)
	sub := dialRaw(t, s)
	sub.send("CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPING\r\n")
	sub.expect("PONG\r\n")
	pub := dialRaw(t, s)
	pub.send("CONNECT {\"verbose\":false,\"headers\":true}\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n")
	sub.expect("MSG foo 1 2\r\n")
	sub.expect("hi\r\n")
}

func TestProtoNoResponders(t *testing.T) {
	s := runServer(t, nil)
	rc := dialRaw(t, s)
	rc.send(`CONNECT {"verbose":false,"headers":true,"no_responders":true}` + "\r\nSUB _INBOX.x 7\r\nPUB svc.none _INBOX.x 0\r\n\r\n")
	rc.expect("HMSG _INBOX.x 7 40 40\r\n") // 32 + len("svc.none")
	rc.expect("NATS/1.0 503\r\n")
	rc.expect("Nats-Subject: svc.none\r\n")
	rc.expect("\r\n")
	rc.expect("\r\n")
}

func TestProtoAutoUnsubscribe(t *testing.T) {
	s := runServer(t, nil)
	rc := dialRaw(t, s)
	rc.send("CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nUNSUB 1 2\r\n" + strings.Repeat("PUB foo 1\r\nx\r\n", 5) + "PING\r\n")
	for i := 0; i < 2; i++ {
		rc.expect("MSG foo 1 1\r\n")
		rc.expect("x\r\n")
	}
	rc.expect("PONG\r\n")
	waitFor(t, "auto-unsubscribe", func() bool { return s.NumSubscriptions() == 0 })
}

func TestProtoEchoOff(t *testing.T) {
	s := runServer(t, nil)
	rc := dialRaw(t, s)
	rc.send("CONNECT {\"verbose\":false,\"echo\":false,\"protocol\":1}\r\nSUB foo 1\r\nPUB foo 1\r\nx\r\nPING\r\n")
	rc.expect("PONG\r\n") // no MSG before it
}

func TestProtoErrorsThatClose(t *testing.T) {
	cases := []struct {
		name string
		opts fern.Options
		send string
		want string // -ERR line, or "" for a close without one
	}{
		{"unknown op", fern.Options{}, "FOO bar\r\n", "-ERR 'Unknown Protocol Operation'\r\n"},
		{"route op on client port", fern.Options{}, "RS+ $G foo\r\n", "-ERR 'Unknown Protocol Operation'\r\n"},
		{"payload too big", fern.Options{MaxPayload: 16}, "PUB foo 17\r\n", "-ERR 'Maximum Payload Violation'\r\n"},
		{"hpub total too big", fern.Options{MaxPayload: 16}, "CONNECT {\"headers\":true,\"verbose\":false}\r\nHPUB foo 10 17\r\n", "-ERR 'Maximum Payload Violation'\r\n"},
		{"control line", fern.Options{MaxControlLine: 64}, "SUB " + strings.Repeat("a", 100) + " 1\r\n", "-ERR 'maximum control line exceeded'\r\n"},
		{"control line without newline", fern.Options{MaxControlLine: 64}, "SUB " + strings.Repeat("a", 100), "-ERR 'maximum control line exceeded'\r\n"},
		{"payload not followed by CRLF", fern.Options{}, "CONNECT {\"verbose\":false}\r\nPUB foo 2\r\nhiX\r\n", "-ERR 'Unknown Protocol Operation'\r\n"},
		{"bad protocol", fern.Options{}, "CONNECT {\"protocol\":2}\r\n", "-ERR 'invalid client protocol'\r\n"},
		{"no responders without headers", fern.Options{}, "CONNECT {\"no_responders\":true}\r\n", "-ERR 'no responders requires headers support'\r\n"},
		{"hpub without headers", fern.Options{}, "CONNECT {\"verbose\":false}\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", ""},
		{"auth: op before connect", fern.Options{Authorization: fern.Authorization{Token: "s3cret"}}, "PING\r\n", "-ERR 'Authorization Violation'\r\n"},
		{"auth: wrong token", fern.Options{Authorization: fern.Authorization{Token: "s3cret"}}, "CONNECT {\"auth_token\":\"nope\"}\r\n", "-ERR 'Authorization Violation'\r\n"},
		{"auth: wrong password", fern.Options{Authorization: fern.Authorization{User: "u", Password: "p"}}, "CONNECT {\"user\":\"u\",\"pass\":\"x\"}\r\n", "-ERR 'Authorization Violation'\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := runServer(t, &tc.opts)
			rc := dialRaw(t, s)
			rc.send(tc.send)
			if tc.want != "" {
				rc.expect(tc.want)
			}
			rc.expectClosed()
		})
	}
}

func TestProtoErrorsThatKeepTheConnection(t *testing.T) {
	s := runServer(t, nil)
	rc := dialRaw(t, s)
	rc.send("CONNECT {\"verbose\":false}\r\nSUB foo..bar 1\r\nSUB foo.>.bar 2\r\nPING\r\n")
	rc.expect("-ERR 'Invalid Subject'\r\n")
	rc.expect("-ERR 'Invalid Subject'\r\n")
	rc.expect("PONG\r\n")
	if n := s.NumSubscriptions(); n != 0 {
		t.Fatalf("%d subscriptions stored from invalid SUBs", n)
	}
}

func TestProtoSplitAcrossWrites(t *testing.T) {
	s := runServer(t, nil)
	rc := dialRaw(t, s)
	msg := "CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPUB foo reply 11\r\nhello world\r\nPING\r\n"
	for i := 0; i < len(msg); i++ {
		rc.send(msg[i : i+1]) // one byte per write: the parser keeps its place
	}
	rc.expect("MSG foo 1 reply 11\r\n")
	rc.expect("hello world\r\n")
	rc.expect("PONG\r\n")
}

func TestProtoStaleConnection(t *testing.T) {
	s := runServer(t, &fern.Options{PingInterval: 20 * time.Millisecond, FirstPingDelay: 10 * time.Millisecond, PingMax: 2})
	rc := dialRaw(t, s)
	rc.send("CONNECT {\"verbose\":false}\r\n")
	// The client never answers: two PINGs, then the connection is stale.
	rc.expect("PING\r\n")
	rc.expect("PING\r\n")
	rc.expect("-ERR 'Stale Connection'\r\n")
	rc.expectClosed()
}

func TestProtoPongKeepsConnectionAlive(t *testing.T) {
	s := runServer(t, &fern.Options{PingInterval: 10 * time.Millisecond, FirstPingDelay: 5 * time.Millisecond, PingMax: 1})
	rc := dialRaw(t, s)
	rc.send("CONNECT {\"verbose\":false}\r\n")
	for i := 0; i < 5; i++ { // with ping_max 1, a missed PONG would close it
		rc.expect("PING\r\n")
		rc.send("PONG\r\n")
	}
}

func TestProtoAuthTimeout(t *testing.T) {
	s := runServer(t, &fern.Options{Authorization: fern.Authorization{Token: "t", Timeout: 50 * time.Millisecond}})
	rc := dialRaw(t, s)
	rc.expect("-ERR 'Authentication Timeout'\r\n")
	rc.expectClosed()
}

func TestProtoMaxConnections(t *testing.T) {
	s := runServer(t, &fern.Options{MaxConnections: 1})
	first := dialRaw(t, s)
	first.send("PING\r\n")
	first.expect("PONG\r\n")
	second := dialRaw(t, s) // gets INFO, then the error
	second.expect("-ERR 'maximum connections exceeded'\r\n")
	second.expectClosed()
}
