package jetstream

import (
	"fmt"
	"strings"
	"testing"
)

// fcAnswer is what a downstream sends to a flow-control request.
func fcAnswer(dseq, sseq uint64) []byte {
	return hdrs(hdrLastConsumer, fmt.Sprint(dseq), hdrLastStream, fmt.Sprint(sseq))
}

// nextData returns the next delivery, passing over status messages; fc
// gets the reply subject of the last flow-control request seen.
func nextData(d *testSub, fc *string) fakeMsg {
	for {
		m := d.next()
		switch status(m) {
		case "":
			return m
		case "100 " + statusFlowControl:
			*fc = m.reply
		}
	}
}

// nextFC waits for a flow-control request, checking that heartbeats on
// the way carry the last sequences.
func nextFC(t *testing.T, d *testSub, lastC, lastS uint64) string {
	t.Helper()
	for {
		m := d.next()
		switch status(m) {
		case "100 " + statusFlowControl:
			return m.reply
		case "100 " + statusIdleHeartbeat:
			if c, _, _ := headerUint(m.hdr, hdrLastConsumer); c != lastC {
				t.Fatalf("heartbeat %q", m.hdr)
			}
			if s, _, _ := headerUint(m.hdr, hdrLastStream); s != lastS {
				t.Fatalf("heartbeat %q", m.hdr)
			}
		case "":
			t.Fatalf("unexpected delivery %s", m.subject)
		}
	}
}

func TestSourcingWorkQueueKeepsUntilFlowControlAck(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"O","subjects":["o.>"],"retention":"workqueue"}`)
	for i := 1; i <= 3; i++ {
		te.publish(fmt.Sprintf("o.%d", i), nil, "x")
	}
	d := te.subscribe(t, "$JS.S.wq")
	_, ci := te.createConsumerHdr(t, "$JS.API.CONSUMER.CREATE.O.JS_SRC_wq", hdrs(hdrRequiredAPILevel, "5"),
		sourcingBody("O", "JS_SRC_wq", "$JS.S.wq"))
	if ci == nil || ci.Config.AckPolicy != AckFlowControl {
		t.Fatalf("create %+v", ci)
	}
	if n := te.host.subCount("$JS.ACK.O.JS_SRC_wq.>"); n != 0 {
		t.Fatalf("flow-control ack consumer subscribed to acks (%d)", n)
	}
	var fc string
	var last fakeMsg
	for i := 1; i <= 3; i++ {
		last = nextData(d, &fc)
		if last.subject != fmt.Sprintf("o.%d", i) {
			t.Fatalf("delivery %d: %s", i, last.subject)
		}
	}
	// A $JS.ACK ack is not an ack for this policy.
	te.ack(last, "", "+ACK")
	// Idle: a heartbeat, then a flow-control request since three are pending.
	if fc == "" {
		fc = nextFC(t, d, 3, 3)
	}
	if st := te.e.Stream("O").Store().State(); st.Msgs != 3 {
		t.Fatalf("removed before the flow-control ack: %+v", st)
	}
	// Stalled heartbeats name the outstanding request.
	for {
		m := d.next()
		if status(m) == "100 "+statusIdleHeartbeat {
			if !strings.Contains(string(m.hdr), hdrConsumerStalled+": "+fc) {
				t.Fatalf("heartbeat without stalled %q", m.hdr)
			}
			break
		}
	}
	// An answer without Nats-Last-Stream acks nothing; then the next
	// request is answered with the last sequences and releases all three.
	te.host.deliver(fc, "", nil, nil)
	fc = nextFC(t, d, 3, 3)
	if st := te.e.Stream("O").Store().State(); st.Msgs != 3 {
		t.Fatalf("removed by an empty answer: %+v", st)
	}
	te.host.deliver(fc, "", fcAnswer(3, 3), nil)
	eventually(t, "workqueue messages removed", func() bool {
		st := te.e.Stream("O").Store().State()
		return st.Msgs == 0 && st.FirstSeq == 4
	})
	info := te.consumerInfo(t, "O", "JS_SRC_wq")
	if info.AckFloor.Stream != 3 || info.AckFloor.Consumer != 3 || info.NumAckPending != 0 {
		t.Fatalf("after the ack %+v", info)
	}
}

func TestFlowControlAckAtMaxAckPending(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"O","subjects":["o.>"],"retention":"interest"}`)
	d := te.subscribe(t, "dsub")
	te.mustConsumer(t, "O", "DUR", `,"ack_policy":"flow_control","deliver_subject":"dsub","max_ack_pending":2`)
	for i := 1; i <= 5; i++ {
		te.publish(fmt.Sprintf("o.%d", i), nil, "x")
	}
	var fc string
	for i := 1; i <= 2; i++ {
		if m := nextData(d, &fc); m.subject != fmt.Sprintf("o.%d", i) {
			t.Fatalf("delivery %d: %s", i, m.subject)
		}
	}
	// At max_ack_pending the request goes out at once (no heartbeat wait).
	if fc == "" {
		m := d.next()
		if status(m) != "100 "+statusFlowControl {
			t.Fatalf("expected a flow-control request, got %q %s", m.hdr, m.subject)
		}
		fc = m.reply
	}
	te.host.deliver(fc, "", fcAnswer(1, 1), nil) // acks only the first
	fc = ""
	if m := nextData(d, &fc); m.subject != "o.3" {
		t.Fatalf("after the partial ack: %s", m.subject)
	}
	eventually(t, "interest message 1 removed", func() bool {
		return te.e.Stream("O").Store().State().FirstSeq == 2
	})
	if st := te.e.Stream("O").Store().State(); st.Msgs != 4 {
		t.Fatalf("interest stream %+v", st)
	}
}

// A downstream that went away with deliveries pending (delivered, never
// acknowledged by a flow-control answer) re-attaches with a new create:
// the durable starts again after its ack floor and sends them again,
// consumer sequence 1 first. Without the reset they would stay pending
// forever (flow-control acks have no ack wait), lost to the downstream.
func TestSourcingReattachRedeliversPending(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"O","subjects":["o.>"],"retention":"workqueue"}`)
	for i := 1; i <= 3; i++ {
		te.publish(fmt.Sprintf("o.%d", i), nil, "x")
	}
	subj := "$JS.API.CONSUMER.CREATE.O.JS_SRC_re"
	d := te.subscribe(t, "$JS.S.re")
	if _, ci := te.createConsumerHdr(t, subj, hdrs(hdrRequiredAPILevel, "5"), sourcingBody("O", "JS_SRC_re", "$JS.S.re")); ci == nil {
		t.Fatal("create failed")
	}
	var fc string
	for i := 1; i <= 3; i++ {
		nextData(d, &fc)
	}
	// Ack the first through a flow-control answer; 2 and 3 stay pending.
	if fc == "" {
		fc = nextFC(t, d, 3, 3)
	}
	te.host.deliver(fc, "", fcAnswer(1, 1), nil)
	eventually(t, "message 1 removed", func() bool { return te.e.Stream("O").Store().State().Msgs == 2 })

	_, ci := te.createConsumerHdr(t, subj, hdrs(hdrRequiredAPILevel, "5"), sourcingBody("O", "JS_SRC_re", "$JS.S.re"))
	if ci == nil || ci.NumAckPending != 0 || ci.Delivered.Stream != 1 {
		t.Fatalf("re-attach: %+v", ci)
	}
	for i := 2; i <= 3; i++ {
		m := nextData(d, &fc)
		info, ok := parseAckReply(m.reply)
		if m.subject != fmt.Sprintf("o.%d", i) || !ok || info.StreamSeq != uint64(i) || info.ConsumerSeq != uint64(i-1) {
			t.Fatalf("redelivery %d: %s %q", i, m.subject, m.reply)
		}
	}
}

// A downstream that stored more than this consumer delivered since its
// reset (it kept them across a restart and skips them when they come
// again) answers with a stream sequence ahead of the deliveries: that
// acks everything delivered. Ignoring it stalled the consumer at
// max_ack_pending forever (found by TestFaultSourceLeafToCore/Interest).
func TestFlowControlAnswerAheadOfDeliveries(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"O","subjects":["o.>"],"retention":"interest"}`)
	d := te.subscribe(t, "dsub")
	te.mustConsumer(t, "O", "DUR", `,"ack_policy":"flow_control","deliver_subject":"dsub","max_ack_pending":2`)
	for i := 1; i <= 3; i++ {
		te.publish(fmt.Sprintf("o.%d", i), nil, "x")
	}
	var fc string
	for i := 1; i <= 2; i++ {
		if m := nextData(d, &fc); m.subject != fmt.Sprintf("o.%d", i) {
			t.Fatalf("delivery %d: %s", i, m.subject)
		}
	}
	if fc == "" {
		fc = nextFC(t, d, 2, 2)
	}
	te.host.deliver(fc, "", fcAnswer(2, 7), nil) // holds up to 7: more than delivered
	fc = ""
	if m := nextData(d, &fc); m.subject != "o.3" {
		t.Fatalf("after the answer: %s", m.subject)
	}
	eventually(t, "messages 1 and 2 released", func() bool {
		return te.e.Stream("O").Store().State().FirstSeq == 3
	})
}
