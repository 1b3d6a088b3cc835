package fern

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzClientInput feeds arbitrary bytes to a live client connection. The
// server must never panic (a panic in any of its goroutines fails the
// run) and must either answer the trailing PING or close the connection.
func FuzzClientInput(f *testing.F) {
	for _, seed := range []string{
		"CONNECT {}\r\nSUB foo 1\r\nPUB foo 2\r\nhi\r\n",
		"CONNECT {\"headers\":true,\"verbose\":false}\r\nHPUB foo r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
		"CONNECT {\"protocol\":1,\"no_responders\":true,\"headers\":true}\r\nSUB r 9\r\nPUB x r 0\r\n\r\n",
		"SUB a.* q 1\r\nUNSUB 1 3\r\nPUB a.b 0\r\n\r\n",
		"INFO {}\r\n+OK\r\n-ERR 'x'\r\n",
		"CONNECT {\"verbose\":tru",
		"PUB foo -1\r\n",
		"SUB foo..bar 1\r\n",
		"PONG\r\nPING\r\n",
	} {
		f.Add([]byte(seed))
	}
	s, err := NewServer(&Options{Port: -1, MaxPayload: 1024, MaxControlLine: 256})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	f.Fuzz(func(t *testing.T, input []byte) {
		serverSide, clientSide := net.Pipe()
		defer clientSide.Close()
		s.createClient(serverSide)
		done := make(chan struct{})
		go func() { // read everything until PONG or close
			defer close(done)
			br := bufio.NewReader(clientSide)
			_ = clientSide.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				line, err := br.ReadString('\n')
				if err != nil || strings.HasPrefix(line, "PONG") {
					return
				}
			}
		}()
		_ = clientSide.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := clientSide.Write(input); err == nil {
			_, _ = clientSide.Write([]byte("\r\nPING\r\n"))
		}
		<-done
	})
}
