package main

import (
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatalf("%v\noutput so far:\n%s", err, out.String())
	}
	for _, want := range []string{"up:   leaf published factory.orders.new", "down: nats-3 published factory.alerts.critical",
		"failover:", "after failover the leaf still receives", "store: all cores down", "sync: nats-1 is back; the core read the leaf's orders in order: order #1101 (while cut off); order #1102 (while cut off); order #1103 (while cut off)", "refused: a leaf dialling from 127.0.3.1", "done"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
