package ws

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// miniNATS is just enough of a NATS server to prove that nats.go speaks
// through Accept: INFO, CONNECT, PING/PONG, SUB and PUB with exact-subject
// delivery. It serves one connection and reports the request path and how
// the connection ended (io.EOF only after the peer's close frame).
type miniNATS struct {
	ln   net.Listener
	path chan string
	done chan error
}

func startMiniNATS(t *testing.T) *miniNATS {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &miniNATS{ln: ln, path: make(chan string, 1), done: make(chan error, 1)}
	go m.serve()
	t.Cleanup(func() { ln.Close() })
	return m
}

func (m *miniNATS) serve() {
	nc, err := m.ln.Accept()
	if err != nil {
		m.done <- err
		return
	}
	c, path, err := Accept(nc, AcceptOptions{})
	if err != nil {
		nc.Close()
		m.done <- err
		return
	}
	defer c.Close()
	m.path <- path
	err = speakNATS(c)
	if errors.Is(err, io.EOF) && c.(*conn).rerr != io.EOF {
		err = errors.New("stream ended without a close frame")
	}
	m.done <- err
}

// speakNATS runs the client protocol subset until the stream ends.
func speakNATS(c net.Conn) error {
	const info = `INFO {"server_id":"ws-test","version":"2.10.0","proto":1,"max_payload":1048576,"headers":true}` + "\r\n"
	if _, err := c.Write([]byte(info)); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	subs := map[string]string{} // subject -> sid
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			return fmt.Errorf("empty line")
		}
		switch strings.ToUpper(f[0]) {
		case "CONNECT", "UNSUB", "PONG":
		case "PING":
			if _, err := c.Write([]byte("PONG\r\n")); err != nil {
				return err
			}
		case "SUB":
			subs[f[1]] = f[len(f)-1]
		case "PUB":
			n, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				return err
			}
			payload := make([]byte, n+2)
			if _, err := io.ReadFull(br, payload); err != nil {
				return err
			}
			if sid, ok := subs[f[1]]; ok {
				msg := fmt.Appendf(nil, "MSG %s %s %d\r\n", f[1], sid, n)
				if _, err := c.Write(append(msg, payload...)); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("unexpected %q", line)
		}
	}
}

func TestNATSClientOverWebSocket(t *testing.T) {
	for _, urlPath := range []string{"", "/some/path"} {
		t.Run("path="+urlPath, func(t *testing.T) {
			m := startMiniNATS(t)
			url := "ws://" + m.ln.Addr().String() + urlPath
			nc, err := nats.Connect(url, nats.Timeout(5*time.Second), nats.NoReconnect())
			if err != nil {
				t.Fatal(err)
			}
			wantPath := urlPath
			if wantPath == "" {
				wantPath = "/"
			}
			if p := <-m.path; p != wantPath {
				t.Errorf("request path %q, want %q", p, wantPath)
			}
			sub, err := nc.SubscribeSync("foo")
			if err != nil {
				t.Fatal(err)
			}
			// A small message, and one spanning several frames each way.
			big := bytes.Repeat([]byte("0123456789abcdef"), 20_000)
			for _, payload := range [][]byte{[]byte("hello"), big} {
				if err := nc.Publish("foo", payload); err != nil {
					t.Fatal(err)
				}
				msg, err := sub.NextMsg(5 * time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(msg.Data, payload) {
					t.Fatalf("got %d bytes back, want %d", len(msg.Data), len(payload))
				}
			}
			if err := nc.FlushTimeout(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			// nats.go sends a close frame on Close: the server sees a clean EOF.
			nc.Close()
			if err := <-m.done; !errors.Is(err, io.EOF) {
				t.Fatalf("server ended with %v, want io.EOF", err)
			}
		})
	}
}
