package cli_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestRequestToGoResponder runs `nats request` against a nats.go responder
// and checks both directions: what the responder received (payload,
// headers) and what the CLI printed (the reply payload and reply headers).
func TestRequestToGoResponder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		flags     []string
		wantReq   nats.Header // headers the responder must see
		replyHdr  nats.Header // headers the responder sends back
		wantLines []string    // expected on the CLI's stderr (its log)
	}{
		{name: "plain", body: "ping-plain"},
		{
			name: "headers both ways", body: "ping-headers",
			flags:     []string{"-H", "X-Req:42"},
			wantReq:   nats.Header{"X-Req": {"42"}},
			replyHdr:  nats.Header{"X-Resp": {"yes"}},
			wantLines: []string{"X-Resp: yes"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			nc := e.connect()
			got := make(chan *nats.Msg, 1)
			_, err := nc.Subscribe("svc.echo", func(m *nats.Msg) {
				// Record before responding: once the CLI has the reply,
				// the request is already in got.
				select {
				case got <- m:
				default:
					t.Errorf("responder got a second request: %q", m.Data)
				}
				resp := &nats.Msg{Data: []byte("reply:" + string(m.Data)), Header: tc.replyHdr}
				if err := m.RespondMsg(resp); err != nil {
					t.Errorf("respond: %v", err)
				}
			})
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatalf("flush: %v", err)
			}

			r := e.run(append([]string{"request", "svc.echo", tc.body}, tc.flags...)...)
			if r.err != nil {
				t.Fatalf("nats request failed:\n%s", r)
			}
			if !strings.Contains(r.stdout, "reply:"+tc.body) {
				t.Errorf("stdout lacks the reply %q\n%s", "reply:"+tc.body, r)
			}
			for _, line := range append([]string{"Received with rtt"}, tc.wantLines...) {
				if !strings.Contains(r.stderr, line) {
					t.Errorf("stderr lacks %q\n%s", line, r)
				}
			}

			var m *nats.Msg
			select {
			case m = <-got:
			default:
				// The CLI printed the reply, so the responder has run.
				t.Fatalf("responder saw no request\n%s", r)
			}
			if string(m.Data) != tc.body || !strings.HasPrefix(m.Reply, "_INBOX.") {
				t.Errorf("responder got payload %q reply %q, want %q and an _INBOX. reply",
					m.Data, m.Reply, tc.body)
			}
			if len(tc.wantReq) == 0 && len(m.Header) != 0 || len(tc.wantReq) != 0 && !reflect.DeepEqual(m.Header, tc.wantReq) {
				t.Errorf("responder got headers %v, want %v", m.Header, tc.wantReq)
			}
		})
	}
}

// TestReplyAnswersGoRequest runs `nats reply ... --count 1`, waits until
// Fern holds its (queue) subscription, sends one nats.go request and checks
// the answer. natscli v0.5.0 ends `reply --count` through log.Fatalf
// ("Exiting"), so its exit status is 1 by design.
func TestReplyAnswersGoRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		req      *nats.Msg
		wantData string
		wantHdr  nats.Header
	}{
		{
			name:     "fixed body",
			args:     []string{"reply", "svc", "--count", "1", "the answer"},
			req:      &nats.Msg{Subject: "svc", Data: []byte("the question")},
			wantData: "the answer",
		},
		{
			// --echo returns the request's payload and headers, plus a
			// counter header: HMSG to the CLI and HPUB back.
			name:     "echo with headers",
			args:     []string{"reply", "svc.echo", "--echo", "--count", "1"},
			req:      &nats.Msg{Subject: "svc.echo", Data: []byte("echo me"), Header: nats.Header{"X-Req": {"1"}}},
			wantData: "echo me",
			wantHdr:  nats.Header{"X-Req": {"1"}, "NATS-Reply-Counter": {"0"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			nc := e.connect()
			p := e.start(tc.args...)
			e.waitSubscriptions(p, 1)

			resp, err := nc.RequestMsg(tc.req, waitTimeout)
			if err != nil {
				p.cancel()
				<-p.done
				t.Fatalf("nats.go request: %v\n%s", err, p.result())
			}
			if string(resp.Data) != tc.wantData {
				t.Errorf("reply payload %q, want %q", resp.Data, tc.wantData)
			}
			if len(tc.wantHdr) == 0 && len(resp.Header) != 0 || len(tc.wantHdr) != 0 && !reflect.DeepEqual(resp.Header, tc.wantHdr) {
				t.Errorf("reply headers %v, want %v", resp.Header, tc.wantHdr)
			}

			r := p.wait(t)
			if r.exit != 1 || !strings.Contains(r.stderr, "Exiting") {
				t.Errorf("want natscli's log.Fatalf exit (status 1, \"Exiting\")\n%s", r)
			}
			if !strings.Contains(r.stdout, string(tc.req.Data)) {
				t.Errorf("stdout lacks the request payload %q\n%s", tc.req.Data, r)
			}
			if !strings.Contains(r.stderr, `Received on subject "`+tc.req.Subject+`"`) {
				t.Errorf("stderr lacks the received subject %q\n%s", tc.req.Subject, r)
			}
		})
	}
}

// TestRequestNoResponders checks that a request on a subject nobody listens
// to is answered at once by Fern's no-responders status (HMSG with
// "NATS/1.0 503"). natscli v0.5.0 logs it and exits 0; without the status
// it would time out (--timeout, 5 s) silently, also with status 0, so the
// log line is what tells the two apart.
func TestRequestNoResponders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run("request", "nobody", "anyone there?")
	if r.err != nil {
		t.Fatalf("nats request failed:\n%s", r)
	}
	if !strings.Contains(r.stderr, "No responders are available") {
		t.Errorf("no no-responders report\n%s", r)
	}
	if strings.Contains(r.stderr, "Received with rtt") || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("a reply was printed for a subject with no responders\n%s", r)
	}
}
