package fern_test

import (
	"context"
	"testing"
	"time"

	"github.com/fernmq/fern"
	"github.com/nats-io/nats.go"
)

func TestSmoke(t *testing.T) {
	s, err := fern.NewServer(&fern.Options{Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, _ := nc.SubscribeSync("foo")
	nc.Publish("foo", []byte("hi"))
	m, err := sub.NextMsg(2 * time.Second)
	if err != nil || string(m.Data) != "hi" {
		t.Fatal(err)
	}
	nc.Subscribe("svc", func(m *nats.Msg) { m.Respond([]byte("pong")) })
	r, err := nc.Request("svc", []byte("x"), time.Second)
	if err != nil || string(r.Data) != "pong" {
		t.Fatal(err)
	}
	_, err = nc.Request("nobody", []byte("x"), time.Second)
	if err != nats.ErrNoResponders {
		t.Fatal(err)
	}
}
