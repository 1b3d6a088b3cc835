package fern

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
)

func startWSHub(t *testing.T) *Server {
	t.Helper()
	s, err := NewServer(&Options{ServerName: "hub", Host: "127.0.0.1", Port: -1,
		Websocket: WebsocketOptions{Host: "127.0.0.1", Port: -1, NoTLS: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdownNow(t, s) })
	return s
}

// nats.go connects with ws:// and talks to TCP clients as usual.
func TestWebsocketClient(t *testing.T) {
	s := startWSHub(t)
	wsc, err := nats.Connect("ws://" + s.WebsocketAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer wsc.Close()
	sub, _ := wsc.SubscribeSync("over.ws")
	wsc.Flush()
	tcp := natsConn(t, s)
	tcp.Publish("over.ws", []byte("hello"))
	tcp.Flush()
	m, err := sub.NextMsg(clusterWait)
	if err != nil || string(m.Data) != "hello" {
		t.Fatalf("%v %v", m, err)
	}
	// And the other way, with a request.
	tcp.Subscribe("svc", func(m *nats.Msg) { m.Respond([]byte("pong")) })
	tcp.Flush()
	if r, err := wsc.Request("svc", nil, clusterWait); err != nil || string(r.Data) != "pong" {
		t.Fatalf("request over websocket: %v", err)
	}
}

// A leaf with a ws:// remote joins the hub's interest graph over WebSocket
// with the same semantics as over TCP.
func TestWebsocketLeaf(t *testing.T) {
	hub := startWSHub(t)
	lf := startLeaf(t, "ws-leaf", "ws://"+hub.WebsocketAddr().String()+"/some/path")
	waitFor(t, "leaf over websocket", func() bool { return hub.NumLeafs() == 1 && lf.NumLeafs() == 1 })

	var down, up atomic.Int64
	ls := natsConn(t, lf)
	ls.Subscribe("factory.alerts.critical", func(*nats.Msg) { down.Add(1) })
	ls.Flush()
	hs := natsConn(t, hub)
	hs.Subscribe("factory.orders.new", func(*nats.Msg) { up.Add(1) })
	hs.Flush()
	waitInterest(t, hub, "factory.alerts.critical", 1)
	waitInterest(t, lf, "factory.orders.new", 1)
	hs.Publish("factory.alerts.critical", []byte("a"))
	hs.Flush()
	ls.Publish("factory.orders.new", []byte("o"))
	ls.Flush()
	waitFor(t, "both directions over websocket", func() bool { return down.Load() == 1 && up.Load() == 1 })
}

// Like the official server, a websocket listener needs TLS or no_tls.
func TestWebsocketNeedsTLSOrNoTLS(t *testing.T) {
	_, err := NewServer(&Options{Websocket: WebsocketOptions{Port: 8080}})
	if !errors.Is(err, ErrTLSConfig) || !strings.Contains(err.Error(), "websocket requires TLS") {
		t.Fatalf("websocket without TLS or no_tls: got %v", err)
	}
}
