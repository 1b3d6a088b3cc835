package fern

import (
	"bufio"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Outside input must not grow the log without bound (issue 16 point 3).

// countingLogger is a text logger at level writing into a logCounter
// (transport_test.go); msgLine is the text that marks a record's message.
func countingLogger(level slog.Level) (*logCounter, *slog.Logger) {
	var c logCounter
	return &c, slog.New(slog.NewTextHandler(&c, &slog.HandlerOptions{Level: level}))
}

func msgLine(msg string) string { return "msg=\"" + msg + "\" " }

// 10,000 leaf connections refused by allowed_leaf_cidrs: the hub logs the
// first refusal and, at most, one summary line; nothing per attempt at
// info level or above.
func TestRefusedLeafAttemptsDoNotGrowTheLog(t *testing.T) {
	logs, logger := countingLogger(slog.LevelInfo)
	hub := startServer(t, &Options{ServerName: "hub", Host: "127.0.0.1", Port: -1, Logger: logger,
		LeafNode:      LeafNodeOptions{Host: "127.0.0.1", Port: -1},
		Authorization: Authorization{AllowedLeafCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}})
	before := logs.count("\n")
	const attempts = 10_000
	for i := 0; i < attempts; i++ {
		nc, err := net.Dial("tcp", hub.LeafAddr().String())
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(nc)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("attempt %d: no refusal: %v", i, err)
			}
			if strings.HasPrefix(line, "-ERR") {
				break
			}
		}
		nc.Close()
	}
	if got := logs.count(msgLine("leaf connection refused")); got != 1 {
		t.Fatalf("%d refusal lines for %d attempts from one address, want 1", got, attempts)
	}
	shutdownNow(t, hub)
	if got := logs.count(msgLine("leaf connection refused (repeats suppressed)")); got != 1 {
		t.Fatalf("%d summary lines, want 1", got)
	}
	// The hub's own start and shutdown lines aside, nothing more.
	if extra := logs.count("\n") - before - 2; extra > 10 {
		t.Fatalf("%d more log lines than the refusal and its summary", extra)
	}
}

// A Fern leaf refused by its hub backs off: each wait doubles up to the
// cap, so its 8th attempt comes no sooner than the sum of the waits, and
// it logs the refusal once.
func TestRefusedLeafBacksOff(t *testing.T) {
	hubLogs, hubLogger := countingLogger(slog.LevelDebug)
	hub := startServer(t, &Options{ServerName: "hub", Host: "127.0.0.1", Port: -1, Logger: hubLogger,
		LeafNode:      LeafNodeOptions{Host: "127.0.0.1", Port: -1},
		Authorization: Authorization{AllowedLeafCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}})
	leafLogs, leafLogger := countingLogger(slog.LevelInfo)
	start := time.Now()
	startServer(t, &Options{ServerName: "leaf", Host: "127.0.0.1", Port: -1, Logger: leafLogger,
		LeafNode: LeafNodeOptions{Remotes: []RemoteLeafOptions{{URLs: []string{"nats://" + hub.LeafAddr().String()}}},
			ReconnectInterval: 10 * time.Millisecond, MaxReconnectInterval: 200 * time.Millisecond}})
	const attempts = 8
	waitFor(t, "8 refused attempts", func() bool { return hubLogs.count(msgLine("client closed")) >= attempts })
	// Waits after refusals 1..7: 20, 40, 80, 160, then the 200 ms cap.
	if took, least := time.Since(start), (20+40+80+160+200+200+200)*time.Millisecond; took < least {
		t.Fatalf("%d attempts in %v: the leaf did not back off (at least %v)", attempts, took, least)
	}
	if got := leafLogs.count(msgLine("leaf: hub connection failed")); got != 1 {
		t.Fatalf("the leaf logged %d refusals, want 1 (then a summary a minute)", got)
	}
	if got := leafLogs.count(msgLine("leaf: connecting to hub")); got != 1 {
		t.Fatalf("the leaf logged %d connection attempts at info, want 1", got)
	}
}
