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
		"failover:", "after failover the leaf still receives", "store: all cores down", "the leaf acknowledged all 20,000 orders",
		"source: ", "source: FACTORY_ORDERS holds 20,001 of 20,001 orders", "caught up with all 20001 orders, in order, none twice", "refused: a leaf dialling from 127.0.3.1", "done"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
