// Command embed starts a Fern server inside a Go program, talks to it with
// nats.go, and shuts it down: the smallest complete embedding.
//
//	go run ./examples/embed
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/fernmq/fern"
	"github.com/nats-io/nats.go"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

func run() error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := fern.NewServer(&fern.Options{
		ServerName: "embedded",
		Port:       -1, // any free port
		Logger:     logger,
	})
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil { // the listener is bound when Start returns
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	}()

	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()

	// A service answering requests, and a plain subscriber.
	if _, err := nc.Subscribe("greet", func(m *nats.Msg) {
		_ = m.Respond([]byte("hello, " + string(m.Data)))
	}); err != nil {
		return err
	}
	reply, err := nc.Request("greet", []byte("factory"), time.Second)
	if err != nil {
		return err
	}
	fmt.Printf("request/reply via %s: %s\n", s.ClientURL(), reply.Data)
	return nil
}
