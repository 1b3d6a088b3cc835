package leaf

import (
	"errors"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		in   string
		want URL
		err  bool
	}{
		{"nats://nats-1:4222", URL{Scheme: "nats", Host: "nats-1:4222"}, false},
		{"nats-leaf://u:p@hub:7422", URL{Scheme: "nats-leaf", Host: "hub:7422", User: "u", Pass: "p"}, false},
		{"nats://hub", URL{Scheme: "nats", Host: "hub:7422"}, false},
		{"ws://hub:8080/some/path", URL{Scheme: "ws", Host: "hub:8080", Path: "/some/path"}, false},
		{"nats://[::1]:4222", URL{Scheme: "nats", Host: "[::1]:4222"}, false},
		{"http://hub:1", URL{}, true},
		{"nats://", URL{}, true},
	}
	for _, c := range cases {
		got, err := ParseURL(c.in)
		if c.err {
			if !errors.Is(err, ErrBadURL) {
				t.Errorf("%q: got %v, want ErrBadURL", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %+v %v, want %+v", c.in, got, err, c.want)
		}
	}
}

func TestDialerOrderAndDelay(t *testing.T) {
	d := &Dialer{URLs: []URL{{Host: "a:1"}, {Host: "b:1"}, {Host: "c:1"}}, Interval: 100 * time.Millisecond}
	var got []string
	for i := 0; i < 5; i++ {
		got = append(got, d.Next().Host)
	}
	want := []string{"a:1", "b:1", "c:1", "a:1", "b:1"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
	for i := 0; i < 100; i++ {
		if dl := d.Delay(); dl < 100*time.Millisecond || dl >= 200*time.Millisecond {
			t.Fatalf("delay %v outside [interval, 2*interval)", dl)
		}
	}
}

// Refusals in a row double the wait, up to the cap; a link that comes up
// forgets them.
func TestDialerBacksOffOnRefusals(t *testing.T) {
	d := &Dialer{URLs: []URL{{Host: "a:1"}}, Interval: 100 * time.Millisecond, MaxInterval: time.Second}
	cases := []struct {
		refusals int
		min, max time.Duration // [min, max]
	}{
		{0, 100 * time.Millisecond, 200 * time.Millisecond},
		{1, 200 * time.Millisecond, 400 * time.Millisecond},
		{2, 400 * time.Millisecond, 800 * time.Millisecond},
		{3, 800 * time.Millisecond, time.Second},
		{10, time.Second, time.Second},
	}
	for _, c := range cases {
		d.Connected()
		for i := 0; i < c.refusals; i++ {
			d.Refused()
		}
		for i := 0; i < 100; i++ {
			if dl := d.Delay(); dl < c.min || dl > c.max {
				t.Fatalf("%d refusals: delay %v outside [%v, %v]", c.refusals, dl, c.min, c.max)
			}
		}
	}
}
