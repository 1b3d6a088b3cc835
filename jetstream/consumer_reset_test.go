package jetstream

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

type resetReplyT struct {
	ConsumerInfo
	Type     string    `json:"type"`
	Error    *APIError `json:"error"`
	ResetSeq uint64    `json:"reset_seq"`
}

func (te *testEngine) reset(t *testing.T, stream, name string, hdr []byte, body string) (resetReplyT, fakeMsg) {
	t.Helper()
	m := te.request("$JS.API.CONSUMER.RESET."+stream+"."+name, hdr, body)
	var r resetReplyT
	if err := json.Unmarshal(m.data, &r); err != nil {
		t.Fatalf("reset reply %q: %v", m.data, err)
	}
	if r.Type != consumerResetResponseType {
		t.Fatalf("type %q", r.Type)
	}
	return r, m
}

func TestConsumerResetErrors(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	for i := 1; i <= 5; i++ {
		te.publish(fmt.Sprintf("s.%d", i), nil, "x")
	}
	te.mustConsumer(t, "S", "ALL", `,"ack_policy":"explicit"`)
	te.mustConsumer(t, "S", "SEQ", `,"ack_policy":"explicit","deliver_policy":"by_start_sequence","opt_start_seq":3`)
	te.mustConsumer(t, "S", "NEW", `,"ack_policy":"explicit","deliver_policy":"new"`)
	te.mustConsumer(t, "S", "TIME", `,"ack_policy":"explicit","deliver_policy":"by_start_time","opt_start_time":"`+
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)+`"`)
	for _, tc := range []struct {
		name, consumer, body string
		code                 uint16
		desc                 string
		seq                  uint64
	}{
		{"all any seq", "ALL", `{"seq":4}`, 0, "", 4},
		{"all floor", "ALL", ``, 0, "", 4}, // the ack floor is 3 after the reset to 4
		{"start seq ok", "SEQ", `{"seq":3}`, 0, "", 3},
		{"below start seq", "SEQ", `{"seq":2}`, 10204, "invalid reset: below start seq", 0},
		{"below start time", "TIME", `{"seq":2}`, 10204, "invalid reset: below start time", 0},
		{"not allowed", "NEW", `{"seq":2}`, 10204, "invalid reset: not allowed", 0},
		{"new to floor", "NEW", `{}`, 0, "", 6},
		{"bad json", "ALL", `{"seq":`, 10025, "", 0},
		{"no consumer", "X", ``, 10014, "", 0},
	} {
		r, _ := te.reset(t, "S", tc.consumer, nil, tc.body)
		var code uint16
		if r.Error != nil {
			code = r.Error.ErrCode
		}
		if code != tc.code || (tc.desc != "" && r.Error.Description != tc.desc) || (tc.code == 10204 && r.Error.Code != 400) {
			t.Errorf("%s: %+v", tc.name, r.Error)
			continue
		}
		if tc.code == 0 && (r.ResetSeq != tc.seq || r.Name != tc.consumer) {
			t.Errorf("%s: reset_seq %d name %q", tc.name, r.ResetSeq, r.Name)
		}
	}
	if r, _ := te.reset(t, "T", "ALL", nil, ""); r.Error == nil || r.Error.ErrCode != 10059 {
		t.Fatalf("stream missing: %+v", r.Error)
	}
}

func TestConsumerResetSemantics(t *testing.T) {
	te := startEngine(t, Config{})
	r := te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	created, _ := time.Parse(time.RFC3339Nano, r["created"].(string))
	for i := 1; i <= 6; i++ {
		te.publish(fmt.Sprintf("s.%d", i), nil, "x")
	}
	d := te.subscribe(t, "d.r")
	te.mustConsumer(t, "S", "C", `,"ack_policy":"explicit","deliver_subject":"d.r"`)
	var got []fakeMsg
	for len(got) < 6 {
		if m := d.next(); status(m) == "" {
			got = append(got, m)
		}
	}
	te.ack(got[0], "", "+ACK")
	te.ack(got[1], "", "+ACK")
	eventually(t, "ack floor 2", func() bool { return te.consumerInfo(t, "S", "C").AckFloor.Stream == 2 })

	// Empty body: back to the ack floor + 1, nothing pending, dseq from 1.
	res, m := te.reset(t, "S", "C", hdrs(hdrStreamIdentity, "ignored"), "")
	if res.Error != nil || res.ResetSeq != 3 || res.NumAckPending != 0 || res.NumRedelivered != 0 {
		t.Fatalf("reset %+v", res)
	}
	if headerString(m.hdr, hdrStreamIdentity) != streamIdentity(created) {
		t.Fatalf("identity not echoed: %q", m.hdr)
	}
	for i := 3; i <= 6; i++ {
		m := d.next()
		for status(m) != "" {
			m = d.next()
		}
		info, ok := parseAckReply(m.reply)
		if !ok || info.StreamSeq != uint64(i) || info.ConsumerSeq != uint64(i-2) || info.Delivered != 1 {
			t.Fatalf("after reset %s: %+v", m.reply, info)
		}
	}
	// Without the header, none is sent back.
	res, m = te.reset(t, "S", "C", nil, `{"seq":5}`)
	if res.Error != nil || res.ResetSeq != 5 || res.Delivered.Consumer != 0 || res.Delivered.Stream != 4 ||
		res.AckFloor.Stream != 4 || res.NumPending != 2 {
		t.Fatalf("reset to 5: %+v", res)
	}
	if _, ok := headerValue(m.hdr, hdrStreamIdentity); ok {
		t.Fatalf("identity without request header: %q", m.hdr)
	}
}

func TestConsumerResetPersisted(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	for i := 1; i <= 4; i++ {
		te.publish(fmt.Sprintf("s.%d", i), nil, "x")
	}
	te.mustConsumer(t, "S", "C", `,"ack_policy":"explicit"`)
	if res, _ := te.reset(t, "S", "C", nil, `{"seq":3}`); res.Error != nil {
		t.Fatal(res.Error)
	}
	// The reply came after the state was written: read it from disk.
	c := te.manager().lookup("S", "C")
	p := readConsumerDirs(c.s)
	if len(p) != 1 || p[0].state == nil {
		t.Fatalf("no state on disk: %+v", p)
	}
	var snap consumerStateSnapshot
	if err := json.Unmarshal(p[0].state, &snap); err != nil || snap.Next != 3 || snap.Delivered.Stream != 2 {
		t.Fatalf("persisted %+v %v", snap, err)
	}
	te.restart()
	if ci := te.consumerInfo(t, "S", "C"); ci.Delivered.Stream != 2 || ci.NumPending != 2 {
		t.Fatalf("after restart %+v", ci)
	}
}
