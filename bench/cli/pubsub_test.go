package cli_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestPublishReachesGoSubscriber runs `nats pub` (plain, and with headers)
// and checks what a nats.go subscriber receives: subject, payload and every
// header value, byte for byte.
func TestPublishReachesGoSubscriber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		subject string
		body    string
		flags   []string
		want    nats.Header // nil: a plain PUB, no headers
	}{
		{name: "plain", subject: "greet.plain", body: "hello from the cli"},
		{name: "token subject", subject: "a.b.c.d.e", body: "deep"},
		{
			name: "one header", subject: "greet.header", body: "with header",
			flags: []string{"-H", "X-Trace:abc-123"},
			want:  nats.Header{"X-Trace": {"abc-123"}},
		},
		{
			// The key keeps its case: NATS headers are not canonicalised.
			name: "headers multi-value and lower case", subject: "greet.multi", body: "multi",
			flags: []string{"--header", "X-Multi:one", "--header", "X-Multi:two", "-H", "lower-key:v"},
			want:  nats.Header{"X-Multi": {"one", "two"}, "lower-key": {"v"}},
		},
		{
			// HPUB with a zero-length payload after the header block.
			name: "header empty body", subject: "greet.empty", body: "",
			flags: []string{"-H", "X-Only:header"},
			want:  nats.Header{"X-Only": {"header"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			nc := e.connect()
			sub, err := nc.SubscribeSync(tc.subject)
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatalf("flush: %v", err)
			}

			args := append([]string{"pub", tc.subject, tc.body}, tc.flags...)
			if r := e.run(args...); r.err != nil {
				t.Fatalf("nats pub failed:\n%s", r)
			}

			m := nextMsg(t, sub)
			if m.Subject != tc.subject || string(m.Data) != tc.body {
				t.Errorf("got subject %q payload %q, want %q %q", m.Subject, m.Data, tc.subject, tc.body)
			}
			if len(tc.want) == 0 && len(m.Header) != 0 {
				t.Errorf("got headers %v, want none", m.Header)
			}
			if len(tc.want) != 0 && !reflect.DeepEqual(m.Header, tc.want) {
				t.Errorf("got headers %v, want %v", m.Header, tc.want)
			}
		})
	}
}

// TestSubscribeReceivesGoPublishes runs `nats sub 'factory.>' --count 2`,
// waits until Fern holds its subscription, then publishes from nats.go.
// Messages that must not match the wildcard are published first: if Fern
// delivered either of them the CLI would stop after the wrong two messages.
func TestSubscribeReceivesGoPublishes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nc := e.connect()
	p := e.start("sub", "factory.>", "--count", "2")
	e.waitSubscriptions(p, 1)

	hdr := nats.Header{"X-Line": {"7"}}
	msgs := []*nats.Msg{
		{Subject: "factory", Data: []byte("no-token-after-prefix")},
		{Subject: "other.a", Data: []byte("other-subject")},
		{Subject: "factory.a", Data: []byte("payload-a")},
		{Subject: "factory.b.c", Data: []byte("payload-b"), Header: hdr},
	}
	for _, m := range msgs {
		if err := nc.PublishMsg(m); err != nil {
			t.Fatalf("publish %s: %v", m.Subject, err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}

	r := p.wait(t)
	if r.err != nil {
		t.Fatalf("nats sub failed:\n%s", r)
	}
	wantInOrder := []string{
		`[#1] Received on "factory.a"`, "payload-a",
		`[#2] Received on "factory.b.c"`, "X-Line: 7", "payload-b",
	}
	if err := containsInOrder(r.stdout, wantInOrder); err != "" {
		t.Errorf("nats sub output %s\n%s", err, r)
	}
	for _, unwanted := range []string{"no-token-after-prefix", "other-subject"} {
		if strings.Contains(r.stdout, unwanted) {
			t.Errorf("nats sub printed %q, which must not match factory.>\n%s", unwanted, r)
		}
	}
}

// containsInOrder reports the first of want that does not follow the
// previous one in s, or "" if all of them appear in order.
func containsInOrder(s string, want []string) string {
	rest := s
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			return "lacks " + `"` + w + `"` + " (in order)"
		}
		rest = rest[i+len(w):]
	}
	return ""
}
