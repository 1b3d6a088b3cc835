package jetstream

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPushFlowControlAndHeartbeat(t *testing.T) {
	te := startEngine(t, Config{})
	te.manager().fcWindow = 400
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	for i := 0; i < 10; i++ {
		te.publish(fmt.Sprintf("s.%d", i), nil, strings.Repeat("x", 50))
	}
	d := te.subscribe(t, "d.1")
	te.mustConsumer(t, "S", "P", `,"deliver_subject":"d.1","flow_control":true,"idle_heartbeat":100000000,"ack_policy":"none"`)
	got, fc := 0, ""
	for fc == "" {
		m := d.next()
		switch st := status(m); st {
		case "":
			if m.subject != fmt.Sprintf("s.%d", got) {
				t.Fatalf("push %d: %s", got, m.subject)
			}
			got++
		case "100 FlowControl Request":
			fc = m.reply
		}
	}
	if !strings.HasPrefix(fc, "$JS.FC.S.P.") || got == 10 {
		t.Fatalf("fc %q after %d", fc, got)
	}
	// Stalled: no more deliveries until the answer; heartbeats name the request.
	for {
		m := d.next()
		if st := status(m); st == "100 Idle Heartbeat" {
			if !strings.Contains(string(m.hdr), "Nats-Consumer-Stalled: "+fc) {
				t.Fatalf("heartbeat %q", m.hdr)
			}
			break
		} else if st == "" {
			got++
		}
	}
	if got >= 10 {
		t.Fatalf("not stalled: %d", got)
	}
	te.host.deliver(fc, "", nil, nil)
	for got < 10 {
		m := d.next()
		if status(m) == "" {
			got++
		} else if status(m) == "100 FlowControl Request" {
			te.host.deliver(m.reply, "", nil, nil)
		}
	}
	m := d.next()
	for status(m) != "100 Idle Heartbeat" {
		m = d.next()
	}
	if !strings.Contains(string(m.hdr), "Nats-Last-Consumer: 10") || !strings.Contains(string(m.hdr), "Nats-Last-Stream: 10") {
		t.Fatalf("heartbeat %q", m.hdr)
	}
	if ci := te.consumerInfo(t, "S", "P"); !ci.PushBound || ci.Delivered.Consumer != 10 {
		t.Fatalf("info %+v", ci)
	}
}

// The KV Keys/Watch pattern: ephemeral push, ack none, last_per_subject,
// headers only, deleted after losing interest.
func TestPushLastPerSubjectHeadersOnly(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"KV_b","subjects":["$KV.b.>"],"max_msgs_per_subject":1,"discard":"new","allow_rollup_hdrs":true}`)
	te.publish("$KV.b.x", nil, "1")
	te.publish("$KV.b.y", nil, "22")
	te.publish("$KV.b.x", nil, "333")
	d := te.subscribe(t, "_INBOX.w")
	raw, ci := te.createConsumer(t, "$JS.API.CONSUMER.CREATE.KV_b.w1.$KV.b.>",
		`{"stream_name":"KV_b","config":{"name":"w1","deliver_subject":"_INBOX.w","deliver_policy":"last_per_subject",`+
			`"ack_policy":"none","max_deliver":1,"ack_wait":79200000000000,"flow_control":true,"idle_heartbeat":5000000000,`+
			`"mem_storage":true,"num_replicas":1,"headers_only":true,"filter_subject":"$KV.b.>","inactive_threshold":50000000}}`)
	if ci == nil {
		t.Fatal(raw)
	}
	if ci.NumPending+ci.Delivered.Consumer != 2 {
		t.Fatalf("initial pending %+v", ci)
	}
	a, b := d.next(), d.next()
	if a.subject != "$KV.b.y" || b.subject != "$KV.b.x" || len(b.data) != 0 || !strings.Contains(string(b.hdr), "Nats-Msg-Size: 3") {
		t.Fatalf("lps %s %s %q", a.subject, b.subject, b.hdr)
	}
	if info, _ := parseAckReply(b.reply); info.Pending != 0 || info.ConsumerSeq != 2 || info.StreamSeq != 3 {
		t.Fatalf("ack reply %+v", info)
	}
	te.publish("$KV.b.z", nil, "4444")
	if m := d.next(); m.subject != "$KV.b.z" {
		t.Fatalf("update %s", m.subject)
	}
	d.sub.Unsubscribe()
	eventually(t, "ephemeral push expiry", func() bool { return te.manager().Count("KV_b") == 0 })
}

func TestConsumerRestartKeepsState(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	for i := 1; i <= 4; i++ {
		te.publish(fmt.Sprintf("s.%d", i), nil, "x")
	}
	te.mustConsumer(t, "S", "C", `,"ack_policy":"explicit","ack_wait":60000000000`)
	te.createConsumer(t, "$JS.API.CONSUMER.CREATE.S.E", `{"stream_name":"S","config":{"name":"E"}}`)
	in := te.subscribe(t, "_INBOX.a")
	te.pull("S", "C", "_INBOX.a", `{"batch":2}`)
	m1 := in.next()
	in.next()
	acks := te.subscribe(t, "_INBOX.acks")
	te.ack(m1, "_INBOX.acks", "+ACK")
	acks.next()

	te.restart()
	ci := te.consumerInfo(t, "S", "C")
	if ci.Delivered.Consumer != 2 || ci.Delivered.Stream != 2 || ci.AckFloor.Stream != 1 || ci.NumAckPending != 1 || ci.NumPending != 2 {
		t.Fatalf("restored %+v", ci)
	}
	if ci.Config.AckWait != time.Minute {
		t.Fatalf("config %+v", ci.Config)
	}
	if n := te.manager().Count("S"); n != 1 {
		t.Fatalf("ephemeral survived: %d consumers", n)
	}
	in = te.subscribe(t, "_INBOX.b")
	te.pull("S", "C", "_INBOX.b", "")
	if m := in.next(); m.subject != "s.3" {
		t.Fatalf("next after restart %s", m.subject)
	}
	te.api("$JS.API.CONSUMER.DELETE.S.C", "")
	te.restart()
	if n := te.manager().Count("S"); n != 0 {
		t.Fatalf("deleted consumer came back: %d", n)
	}
}
