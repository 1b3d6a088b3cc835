package route

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestInterestChanges(t *testing.T) {
	in := NewInterest()
	steps := []struct {
		op             string
		subject, queue string
		want           Change
	}{
		{"add", "foo", "", Change{Announce: true, Sub: true}},
		{"add", "foo", "", Change{}}, // second plain sub: nothing to say
		{"add", "bar", "q", Change{Announce: true, Sub: true, Weight: 1}},
		{"add", "bar", "q", Change{Announce: true, Sub: true, Weight: 2}}, // weight changes are announced
		{"remove", "bar", "q", Change{Announce: true, Sub: true, Weight: 1}},
		{"remove", "foo", "", Change{}},
		{"remove", "foo", "", Change{Announce: true}}, // last one: RS-
		{"remove", "bar", "q", Change{Announce: true}},
		{"remove", "bar", "q", Change{}}, // unknown: nothing
	}
	for i, s := range steps {
		var got Change
		if s.op == "add" {
			got = in.Add(s.subject, s.queue)
		} else {
			got = in.Remove(s.subject, s.queue)
		}
		if got != s.want {
			t.Fatalf("step %d %s %s %q: got %+v, want %+v", i, s.op, s.subject, s.queue, got, s.want)
		}
	}
	if in.Len() != 0 {
		t.Fatalf("%d entries left", in.Len())
	}
}

func TestInterestSnapshot(t *testing.T) {
	in := NewInterest()
	in.Add("a", "")
	in.Add("a", "")
	in.Add("b", "w")
	in.Add("b", "w")
	in.Add("b", "w")
	got := map[string]int32{}
	in.Each(func(s, q string, w int32) { got[s+"/"+q] = w })
	if diff := cmp.Diff(map[string]int32{"a/": 0, "b/w": 3}, got); diff != "" {
		t.Fatal(diff)
	}
}

func TestParseURL(t *testing.T) {
	cases := []struct {
		in   string
		want URL
		err  bool
	}{
		{"nats-route://127.0.0.1:6222", URL{Host: "127.0.0.1:6222"}, false},
		{"nats://ruser:pw@nats-2:6222", URL{Host: "nats-2:6222", User: "ruser", Pass: "pw"}, false},
		{"10.0.0.1:6222", URL{Host: "10.0.0.1:6222"}, false},
		{"nats-route://[::1]:6222", URL{Host: "[::1]:6222"}, false},
		{"http://h:1", URL{}, true},
		{"nats-route://host", URL{}, true},
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
			t.Errorf("%q: got %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	for n := 0; n < 10; n++ {
		d := Backoff(n, 100*time.Millisecond, time.Second)
		lo := 100 * time.Millisecond << n
		if lo > time.Second {
			lo = time.Second
		}
		if d < lo || d > lo+lo/5 {
			t.Fatalf("attempt %d: %v outside [%v, %v]", n, d, lo, lo+lo/5)
		}
	}
}
