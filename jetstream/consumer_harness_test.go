package jetstream

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern/subject"
)

// This file extends the fake host for consumer tests: the publisher's
// DeliverPublisher, subscriptions tests read from, and helpers.

// PublishTo routes by deliverSubject; receivers see msgSubject.
func (p fakePub) PublishTo(deliverSubject, msgSubject, reply string, hdr, data []byte) {
	p.f.deliverAs(deliverSubject, msgSubject, reply, hdr, data)
}

func (f *fakeHost) deliverAs(route, subj, reply string, hdr, data []byte) {
	f.mu.Lock()
	var hs []MsgHandler
	groups := map[string][]MsgHandler{}
	for _, s := range f.subs {
		if !subject.Matches(route, s.subject) {
			continue
		}
		if s.queue == "" {
			hs = append(hs, s.h)
		} else {
			groups[s.queue] = append(groups[s.queue], s.h)
		}
	}
	for _, g := range groups {
		f.rr++
		hs = append(hs, g[f.rr%len(g)])
	}
	f.mu.Unlock()
	for _, h := range hs {
		h(subj, reply, hdr, data)
	}
}

// testSub is a subscription a test reads from.
type testSub struct {
	sub Subscription
	ch  chan fakeMsg
	t   *testing.T
}

// subscribe subscribes a channel to subj (it counts as interest).
func (te *testEngine) subscribe(t *testing.T, subj string) *testSub {
	t.Helper()
	ts := &testSub{ch: make(chan fakeMsg, 4096), t: t}
	sub, err := te.host.Subscribe(subj, "", func(s, r string, h, d []byte) {
		ts.ch <- fakeMsg{subject: strings.Clone(s), reply: strings.Clone(r), hdr: clone(h), data: clone(d)}
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.sub = sub
	t.Cleanup(sub.Unsubscribe)
	return ts
}

// next waits for the next message.
func (ts *testSub) next() fakeMsg {
	ts.t.Helper()
	select {
	case m := <-ts.ch:
		return m
	case <-time.After(waitReply):
		ts.t.Fatal("no message")
	}
	return fakeMsg{}
}

// none checks that nothing arrives within d.
func (ts *testSub) none(d time.Duration) {
	ts.t.Helper()
	select {
	case m := <-ts.ch:
		ts.t.Fatalf("unexpected message %s %q %q", m.subject, m.hdr, m.data)
	case <-time.After(d):
	}
}

// status returns the status line of a status message ("" if not one).
func status(m fakeMsg) string {
	if len(m.data) != 0 || !strings.HasPrefix(string(m.hdr), statusLinePrefix) {
		return ""
	}
	line, _, _ := strings.Cut(string(m.hdr), "\r\n")
	return strings.TrimPrefix(line, statusLinePrefix)
}

// createConsumer sends a create request and decodes the reply.
func (te *testEngine) createConsumer(t *testing.T, subj, body string) (map[string]any, *ConsumerInfo) {
	t.Helper()
	m := te.request(subj, nil, body)
	var raw map[string]any
	if err := json.Unmarshal(m.data, &raw); err != nil {
		t.Fatalf("reply not JSON: %q", m.data)
	}
	if raw["type"] != consumerCreateResponseType {
		t.Fatalf("type %v", raw["type"])
	}
	if raw["error"] != nil {
		return raw, nil
	}
	var ci ConsumerInfo
	if err := json.Unmarshal(m.data, &ci); err != nil {
		t.Fatal(err)
	}
	return raw, &ci
}

// mustConsumer creates a consumer named name on stream with cfg (JSON
// object fields without the name).
func (te *testEngine) mustConsumer(t *testing.T, stream, name, cfg string) *ConsumerInfo {
	t.Helper()
	body := fmt.Sprintf(`{"stream_name":%q,"config":{"durable_name":%q%s}}`, stream, name, cfg)
	raw, ci := te.createConsumer(t, "$JS.API.CONSUMER.CREATE."+stream+"."+name, body)
	if ci == nil {
		t.Fatalf("create %s: %v", name, raw["error"])
	}
	return ci
}

// consumerInfo fetches CONSUMER.INFO.
func (te *testEngine) consumerInfo(t *testing.T, stream, name string) ConsumerInfo {
	t.Helper()
	var ci struct {
		ConsumerInfo
		Error *APIError `json:"error"`
	}
	te.apiInto("$JS.API.CONSUMER.INFO."+stream+"."+name, "", &ci)
	if ci.Error != nil {
		t.Fatalf("info: %v", ci.Error)
	}
	return ci.ConsumerInfo
}

// pull sends a MSG.NEXT request with reply inbox.
func (te *testEngine) pull(stream, name, inbox, body string) {
	te.host.deliver("$JS.API.CONSUMER.MSG.NEXT."+stream+"."+name, inbox, nil, []byte(body))
}

// ack publishes body to a delivery's ack subject (with reply when set).
func (te *testEngine) ack(m fakeMsg, reply, body string) {
	te.host.deliver(m.reply, reply, nil, []byte(body))
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitReply)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// manager returns the engine's consumer manager.
func (te *testEngine) manager() *consumerManager {
	return te.e.consumerSide().(*consumerManager)
}
