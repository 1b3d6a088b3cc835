package jetstream

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPullFetchAndStatuses(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	for i := 1; i <= 3; i++ {
		te.publish(fmt.Sprintf("s.%d", i), hdrs("K", "v"), fmt.Sprintf("m%d", i))
	}
	te.mustConsumer(t, "S", "C", `,"ack_policy":"explicit"`)
	in := te.subscribe(t, "_INBOX.fetch")

	te.pull("S", "C", "_INBOX.fetch", `{"batch":2,"expires":5000000000}`)
	for i := 1; i <= 2; i++ {
		m := in.next()
		if m.subject != fmt.Sprintf("s.%d", i) || string(m.data) != fmt.Sprintf("m%d", i) || !strings.Contains(string(m.hdr), "K: v") {
			t.Fatalf("delivery %d: %s %q %q", i, m.subject, m.hdr, m.data)
		}
		info, ok := parseAckReply(m.reply)
		if !ok || info.StreamSeq != uint64(i) || info.ConsumerSeq != uint64(i) || info.Delivered != 1 || info.Pending != uint64(3-i) {
			t.Fatalf("ack reply %q: %+v", m.reply, info)
		}
	}
	ci := te.consumerInfo(t, "S", "C")
	if ci.NumPending != 1 || ci.NumAckPending != 2 || ci.Delivered.Stream != 2 || ci.AckFloor.Stream != 0 || ci.NumWaiting != 0 {
		t.Fatalf("info %+v", ci)
	}

	// Batch 1 after the rest: one message; then no_wait finds nothing.
	te.pull("S", "C", "_INBOX.fetch", "")
	if m := in.next(); m.subject != "s.3" {
		t.Fatalf("third: %s", m.subject)
	}
	te.pull("S", "C", "_INBOX.fetch", `{"batch":5,"no_wait":true}`)
	if st := status(in.next()); st != "404 No Messages" {
		t.Fatalf("no_wait: %q", st)
	}
	// Expiry: 408 with what was left.
	te.pull("S", "C", "_INBOX.fetch", `{"batch":4,"expires":50000000}`)
	m := in.next()
	if st := status(m); st != "408 Request Timeout" || !strings.Contains(string(m.hdr), "Nats-Pending-Messages: 4") {
		t.Fatalf("expiry: %q", m.hdr)
	}
	// Bad request and limits.
	te.pull("S", "C", "_INBOX.fetch", `{"batch":1,"expires":100,"idle_heartbeat":1000}`)
	if st := status(in.next()); !strings.HasPrefix(st, "400 Bad Request") {
		t.Fatalf("bad request: %q", st)
	}
	// A waiting request gets the next stored message.
	te.pull("S", "C", "_INBOX.fetch", `{"batch":1,"expires":5000000000}`)
	eventually(t, "waiting request", func() bool { return te.consumerInfo(t, "S", "C").NumWaiting == 1 })
	te.publish("s.4", nil, "m4")
	if m := in.next(); m.subject != "s.4" {
		t.Fatalf("woken: %s", m.subject)
	}
	// Heartbeats while waiting.
	te.pull("S", "C", "_INBOX.fetch", `{"batch":1,"expires":1000000000,"idle_heartbeat":20000000}`)
	m = in.next()
	if st := status(m); st != "100 Idle Heartbeat" || !strings.Contains(string(m.hdr), "Nats-Last-Consumer: 4") {
		t.Fatalf("heartbeat: %q", m.hdr)
	}
	// Delete: waiting requests get 409.
	te.api("$JS.API.CONSUMER.DELETE.S.C", "")
	for {
		m := in.next()
		if st := status(m); st == "409 Consumer Deleted" {
			break
		} else if st != "100 Idle Heartbeat" {
			t.Fatalf("after delete: %q", st)
		}
	}
}

func TestPullMaxBytesAndPushBased(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	te.publish("s.1", nil, strings.Repeat("x", 100))
	te.mustConsumer(t, "S", "C", `,"ack_policy":"explicit"`)
	in := te.subscribe(t, "_INBOX.b")
	te.pull("S", "C", "_INBOX.b", `{"batch":1,"max_bytes":10,"expires":1000000000}`)
	if st := status(in.next()); st != "409 Message Size Exceeds MaxBytes" {
		t.Fatalf("max bytes: %q", st)
	}
	te.mustConsumer(t, "S", "P", `,"deliver_subject":"d.p"`)
	te.pull("S", "P", "_INBOX.b", "")
	if st := status(in.next()); st != "409 Consumer is push based" {
		t.Fatalf("push: %q", st)
	}
}

func TestAckNakTermRedelivery(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	for i := 1; i <= 3; i++ {
		te.publish(fmt.Sprintf("s.%d", i), nil, "x")
	}
	// ack_wait 50ms, max_deliver 3.
	te.mustConsumer(t, "S", "C", `,"ack_policy":"explicit","ack_wait":50000000,"max_deliver":3`)
	in := te.subscribe(t, "_INBOX.a")
	acks := te.subscribe(t, "_INBOX.acks")
	te.pull("S", "C", "_INBOX.a", `{"batch":3,"expires":5000000000}`)
	m1, m2, m3 := in.next(), in.next(), in.next()
	if m2.subject != "s.2" {
		t.Fatalf("second: %s", m2.subject)
	}

	te.ack(m1, "_INBOX.acks", "+ACK") // double ack: empty reply once applied
	if r := acks.next(); len(r.data) != 0 {
		t.Fatalf("double ack reply %q", r.data)
	}
	te.ack(m3, "_INBOX.acks", "+TERM bad")
	acks.next()
	ci := te.consumerInfo(t, "S", "C")
	if ci.NumAckPending != 1 || ci.AckFloor.Stream != 1 || ci.AckFloor.Consumer != 1 {
		t.Fatalf("after ack/term %+v", ci)
	}
	// m2 is redelivered after ack_wait with count 2 and a new consumer seq.
	te.pull("S", "C", "_INBOX.a", `{"batch":1,"expires":5000000000}`)
	r := in.next()
	info, _ := parseAckReply(r.reply)
	if r.subject != "s.2" || info.Delivered != 2 || info.ConsumerSeq != 4 || info.StreamSeq != 2 {
		t.Fatalf("redelivery %s %+v", r.subject, info)
	}
	// NAK: at once.
	te.ack(r, "_INBOX.acks", "-NAK")
	acks.next()
	te.pull("S", "C", "_INBOX.a", `{"batch":1,"expires":5000000000}`)
	r = in.next()
	info, _ = parseAckReply(r.reply)
	if info.Delivered != 3 || info.ConsumerSeq != 5 {
		t.Fatalf("after nak %+v", info)
	}
	if ci := te.consumerInfo(t, "S", "C"); ci.NumRedelivered != 1 {
		t.Fatalf("num_redelivered %+v", ci)
	}
	// max_deliver 3 reached: after the next ack_wait it leaves pending.
	te.pull("S", "C", "_INBOX.a", `{"batch":1,"expires":300000000}`)
	if st := status(in.next()); st != "408 Request Timeout" {
		t.Fatalf("after max deliver: %q", st)
	}
	ci = te.consumerInfo(t, "S", "C")
	if ci.NumAckPending != 0 || ci.AckFloor.Stream != 3 {
		t.Fatalf("after max deliver %+v", ci)
	}
	// Acks beyond what was delivered and junk bodies are ignored.
	te.ack(fakeMsg{reply: "$JS.ACK.S.C.1.99.99.0.0"}, "_INBOX.acks", "+ACK")
	acks.next()
}

func TestAckProgressAndNakDelay(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	te.publish("s.1", nil, "x")
	te.mustConsumer(t, "S", "C", `,"ack_policy":"explicit","ack_wait":200000000`)
	in := te.subscribe(t, "_INBOX.a")
	acks := te.subscribe(t, "_INBOX.acks")
	te.pull("S", "C", "_INBOX.a", `{"batch":5,"expires":5000000000}`)
	m := in.next()
	te.ack(m, "_INBOX.acks", `-NAK {"delay":30000000}`)
	acks.next()
	r := in.next() // redelivered after the delay, to the same waiting request
	if info, _ := parseAckReply(r.reply); info.Delivered != 2 {
		t.Fatalf("nak delay %+v", info)
	}
	te.ack(r, "_INBOX.acks", "+WPI")
	acks.next()
	te.ack(r, "_INBOX.acks", "")
	acks.next()
	if ci := te.consumerInfo(t, "S", "C"); ci.NumAckPending != 0 || ci.AckFloor.Consumer != 2 {
		t.Fatalf("after ack %+v", ci)
	}
}

func TestAckAllAndMaxAckPending(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	for i := 1; i <= 4; i++ {
		te.publish("s.x", nil, "x")
	}
	te.mustConsumer(t, "S", "C", `,"ack_policy":"all","max_ack_pending":2`)
	in := te.subscribe(t, "_INBOX.a")
	acks := te.subscribe(t, "_INBOX.acks")
	te.pull("S", "C", "_INBOX.a", `{"batch":4,"expires":5000000000}`)
	in.next()
	m2 := in.next()
	in.none(20 * time.Millisecond)
	te.ack(m2, "_INBOX.acks", "+ACK")
	acks.next()
	in.next()
	in.next()
	if ci := te.consumerInfo(t, "S", "C"); ci.NumAckPending != 2 || ci.AckFloor.Stream != 2 {
		t.Fatalf("ack all %+v", ci)
	}
}

func TestWorkQueueAndInterestRetention(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"W","subjects":["w.>"],"retention":"workqueue"}`)
	te.publish("w.1", nil, "x")
	te.publish("w.2", nil, "x")
	te.mustConsumer(t, "W", "C", `,"ack_policy":"explicit"`)
	raw, _ := te.createConsumer(t, "$JS.API.CONSUMER.CREATE.W.D", `{"stream_name":"W","config":{"durable_name":"D","ack_policy":"explicit"}}`)
	if errCode(t, raw) != 10099 {
		t.Fatalf("second unfiltered: %v", raw["error"])
	}
	in := te.subscribe(t, "_INBOX.a")
	te.pull("S", "C", "_INBOX.x", "")
	te.pull("W", "C", "_INBOX.a", `{"batch":2}`)
	m := in.next()
	in.next()
	te.ack(m, "", "+ACK")
	eventually(t, "workqueue removal", func() bool {
		return te.e.Stream("W").Store().State().Msgs == 1
	})

	te.mustCreate(`{"name":"I","subjects":["i.>"],"retention":"interest"}`)
	te.mustConsumer(t, "I", "A", `,"ack_policy":"explicit"`)
	te.mustConsumer(t, "I", "B", `,"ack_policy":"explicit","filter_subject":"i.b"`)
	te.publish("i.a", nil, "x")
	te.publish("i.b", nil, "x")
	te.pull("I", "A", "_INBOX.a", `{"batch":2}`)
	a1, a2 := in.next(), in.next()
	te.ack(a1, "", "+ACK")
	te.ack(a2, "", "+ACK")
	eventually(t, "interest removal of i.a", func() bool { return te.e.Stream("I").Store().State().Msgs == 1 })
	te.pull("I", "B", "_INBOX.a", "")
	b := in.next()
	te.ack(b, "", "+ACK")
	eventually(t, "interest removal of i.b", func() bool { return te.e.Stream("I").Store().State().Msgs == 0 })
}

func TestEphemeralPullInactive(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	raw, ci := te.createConsumer(t, "$JS.API.CONSUMER.CREATE.S.E",
		`{"stream_name":"S","config":{"name":"E","inactive_threshold":50000000}}`)
	if ci == nil {
		t.Fatal(raw)
	}
	eventually(t, "ephemeral expiry", func() bool { return te.manager().Count("S") == 0 })
}
