package jetstream

import (
	"regexp"
	"slices"
	"testing"
	"time"
)

func TestConsumerCreateInfoDeleteList(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	te.publish("s.1", nil, "a")
	te.publish("s.2", nil, "b")

	ci := te.mustConsumer(t, "S", "C", `,"ack_policy":"explicit"`)
	if ci.Name != "C" || ci.Stream != "S" || ci.NumPending != 2 || ci.Config.MaxDeliver != -1 ||
		ci.Config.AckWait != 30*time.Second || ci.Config.MaxWaiting != 512 || ci.Config.MaxAckPending != 1000 {
		t.Fatalf("create info %+v config %+v", ci, ci.Config)
	}

	for _, tc := range []struct {
		name, subj, body string
		code             int
	}{
		{"create differs", "$JS.API.CONSUMER.CREATE.S.C",
			`{"stream_name":"S","action":"create","config":{"durable_name":"C","ack_policy":"all"}}`, 10148},
		{"update missing", "$JS.API.CONSUMER.CREATE.S.X",
			`{"stream_name":"S","action":"update","config":{"durable_name":"X"}}`, 10149},
		{"ack policy change", "$JS.API.CONSUMER.CREATE.S.C",
			`{"stream_name":"S","config":{"durable_name":"C","ack_policy":"none"}}`, 10012},
		{"stream missing", "$JS.API.CONSUMER.CREATE.T.C",
			`{"stream_name":"T","config":{"durable_name":"C"}}`, 10059},
		{"stream mismatch", "$JS.API.CONSUMER.CREATE.S.C",
			`{"stream_name":"T","config":{"durable_name":"C"}}`, 10056},
		{"filter mismatch", "$JS.API.CONSUMER.CREATE.S.F.s.1",
			`{"stream_name":"S","config":{"name":"F","filter_subject":"s.2"}}`, 10131},
		{"legacy with durable", "$JS.API.CONSUMER.CREATE.S",
			`{"stream_name":"S","config":{"durable_name":"D"}}`, 10020},
		{"unknown field", "$JS.API.CONSUMER.CREATE.S.C", `{"stream_name":"S","bogus":1}`, 10025},
	} {
		raw, _ := te.createConsumer(t, tc.subj, tc.body)
		if got := errCode(t, raw); got != tc.code {
			t.Errorf("%s: err_code %d, want %d (%v)", tc.name, got, tc.code, raw["error"])
		}
	}

	// Same config with action create: the existing consumer.
	raw, same := te.createConsumer(t, "$JS.API.CONSUMER.CREATE.S.C",
		`{"stream_name":"S","action":"create","config":{"durable_name":"C","ack_policy":"explicit"}}`)
	if same == nil || same.Name != "C" {
		t.Fatalf("identical create: %v", raw)
	}

	// Legacy ephemeral: generated name, inactive threshold stamped.
	_, eph := te.createConsumer(t, "$JS.API.CONSUMER.CREATE.S", `{"stream_name":"S","config":{"ack_policy":"explicit"}}`)
	if eph == nil || !regexp.MustCompile(`^[0-9A-Za-z]{8}$`).MatchString(eph.Name) || eph.Config.InactiveThreshold != 5*time.Second {
		t.Fatalf("legacy ephemeral %+v", eph)
	}
	// Legacy durable.
	_, dur := te.createConsumer(t, "$JS.API.CONSUMER.DURABLE.CREATE.S.D", `{"stream_name":"S","config":{"durable_name":"D"}}`)
	if dur == nil || dur.Name != "D" {
		t.Fatalf("legacy durable %+v", dur)
	}
	// Filter in the subject.
	_, f := te.createConsumer(t, "$JS.API.CONSUMER.CREATE.S.F.s.1", `{"stream_name":"S","config":{"name":"F","filter_subject":"s.1"}}`)
	if f == nil || f.NumPending != 1 {
		t.Fatalf("filtered %+v", f)
	}

	var names struct {
		Type      string
		Total     int
		Limit     int
		Consumers []string
	}
	te.apiInto("$JS.API.CONSUMER.NAMES.S", `{"offset":0}`, &names)
	want := []string{"C", "D", "F", eph.Name}
	slices.Sort(want)
	if names.Type != consumerNamesResponseType || names.Total != 4 || names.Limit != 1024 ||
		!slices.Equal(names.Consumers, want) {
		t.Fatalf("names %+v", names)
	}
	var list struct {
		Type      string
		Total     int
		Offset    int
		Consumers []ConsumerInfo
	}
	te.apiInto("$JS.API.CONSUMER.LIST.S", `{"offset":2}`, &list)
	if list.Type != consumerListResponseType || list.Total != 4 || list.Offset != 2 || len(list.Consumers) != 2 {
		t.Fatalf("list %+v", list)
	}
	if n := te.api("$JS.API.STREAM.INFO.S", "")["state"].(map[string]any)["consumer_count"]; n != 4.0 {
		t.Fatalf("consumer_count %v", n)
	}
	if n := te.api("$JS.API.INFO", "")["consumers"]; n != 4.0 {
		t.Fatalf("account consumers %v", n)
	}

	info := te.api("$JS.API.CONSUMER.INFO.S.C", "")
	if info["type"] != consumerInfoResponseType || info["name"] != "C" {
		t.Fatalf("info %v", info)
	}
	del := te.api("$JS.API.CONSUMER.DELETE.S.C", "")
	if del["type"] != consumerDeleteResponseType || del["success"] != true {
		t.Fatalf("delete %v", del)
	}
	if c := errCode(t, te.api("$JS.API.CONSUMER.INFO.S.C", "")); c != 10014 {
		t.Fatalf("info after delete: %d", c)
	}
	if c := errCode(t, te.api("$JS.API.CONSUMER.DELETE.S.C", "")); c != 10014 {
		t.Fatalf("second delete: %d", c)
	}
	if c := errCode(t, te.api("$JS.API.CONSUMER.INFO.T.C", "")); c != 10059 {
		t.Fatalf("info on missing stream: %d", c)
	}
	// Deleting the stream takes its consumers.
	te.api("$JS.API.STREAM.DELETE.S", "")
	if n := te.api("$JS.API.INFO", "")["consumers"]; n != 0.0 {
		t.Fatalf("consumers after stream delete %v", n)
	}
}

func TestConsumerStartPositions(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	for _, s := range []string{"s.a", "s.b", "s.a", "s.c", "s.b"} {
		te.publish(s, nil, "x")
	}
	for _, tc := range []struct {
		cfg       string
		pending   uint64
		delivered uint64
	}{
		{`,"deliver_policy":"all"`, 5, 0},
		{`,"deliver_policy":"new"`, 0, 5},
		{`,"deliver_policy":"last"`, 1, 4},
		{`,"deliver_policy":"by_start_sequence","opt_start_seq":3`, 3, 2},
		{`,"deliver_policy":"by_start_sequence","opt_start_seq":99`, 0, 5},
		{`,"deliver_policy":"last_per_subject","filter_subject":"s.*"`, 3, 5},
		{`,"deliver_policy":"all","filter_subject":"s.b"`, 2, 0},
	} {
		ci := te.mustConsumer(t, "S", "P", tc.cfg)
		if ci.NumPending != tc.pending || ci.Delivered.Stream != tc.delivered {
			t.Errorf("%s: pending %d delivered %d", tc.cfg, ci.NumPending, ci.Delivered.Stream)
		}
		te.api("$JS.API.CONSUMER.DELETE.S.P", "")
	}
}

func TestConsumerNotEmptyBodies(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	te.mustConsumer(t, "S", "C", "")
	var r map[string]any
	te.apiInto("$JS.API.CONSUMER.DELETE.S.C", `{"x":1}`, &r)
	if errCode(t, r) != 10038 {
		t.Fatalf("delete with body: %v", r)
	}
}
