package jetstream

import (
	"strings"
	"testing"
	"time"
)

func TestDirectGet(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"KV_b","subjects":["$KV.b.>"],"allow_direct":true,"max_msgs_per_subject":5}`)
	te.publish("$KV.b.x", hdrs("KV-Operation", "PUT"), "v1")
	te.publish("$KV.b.y", nil, "v2")
	te.publish("$KV.b.x", nil, "v3")
	for _, tc := range []struct {
		subj, body string
		status     string // "" for a message
		seq, data  string
		subject    string
		stored     string
	}{
		{"$JS.API.DIRECT.GET.KV_b", `{"seq":1}`, "", "1", "v1", "$KV.b.x", "KV-Operation: PUT"},
		{"$JS.API.DIRECT.GET.KV_b", `{"last_by_subj":"$KV.b.x"}`, "", "3", "v3", "$KV.b.x", ""},
		{"$JS.API.DIRECT.GET.KV_b", `{"next_by_subj":"$KV.b.y","seq":1}`, "", "2", "v2", "$KV.b.y", ""},
		{"$JS.API.DIRECT.GET.KV_b", `{"seq":1,"unknown_is_fine":1}`, "", "1", "v1", "$KV.b.x", ""},
		{"$JS.API.DIRECT.GET.KV_b.$KV.b.x", ``, "", "3", "v3", "$KV.b.x", ""},
		{"$JS.API.DIRECT.GET.KV_b.$KV.b.*", ``, "", "3", "v3", "$KV.b.x", ""},
		{"$JS.API.DIRECT.GET.KV_b.$KV.b.y", ``, "", "2", "v2", "$KV.b.y", ""},
		{"$JS.API.DIRECT.GET.KV_b.$KV.b.nope", ``, "404 Message Not Found", "", "", "", ""},
		{"$JS.API.DIRECT.GET.KV_b", `{"seq":99}`, "404 Message Not Found", "", "", "", ""},
		{"$JS.API.DIRECT.GET.KV_b", ``, "408 Empty Request", "", "", "", ""},
		{"$JS.API.DIRECT.GET.KV_b", `{}`, "408 Empty Request", "", "", "", ""},
		{"$JS.API.DIRECT.GET.KV_b", `{bad`, "408 Malformed Request", "", "", "", ""},
		{"$JS.API.DIRECT.GET.KV_b", `{"seq":1,"last_by_subj":"x"}`, "408 Bad Request", "", "", "", ""},
		{"$JS.API.DIRECT.GET.KV_b.$KV.b.x", `{"seq":1}`, "408 Bad Request", "", "", "", ""},
	} {
		m := te.request(tc.subj, nil, tc.body)
		if tc.status != "" {
			if string(m.hdr) != "NATS/1.0 "+tc.status+"\r\n\r\n" || len(m.data) != 0 {
				t.Errorf("%s %s: hdr %q data %q, want %s", tc.subj, tc.body, m.hdr, m.data, tc.status)
			}
			continue
		}
		h := m.hdr
		get := func(k string) string { return headerString(h, k) }
		if string(m.data) != tc.data || get("Nats-Stream") != "KV_b" || get("Nats-Sequence") != tc.seq || get("Nats-Subject") != tc.subject {
			t.Errorf("%s %s: %q %q", tc.subj, tc.body, h, m.data)
		}
		if ts, err := time.Parse(time.RFC3339Nano, get("Nats-Time-Stamp")); err != nil || ts.Location() != time.UTC {
			t.Errorf("timestamp %q", get("Nats-Time-Stamp"))
		}
		if tc.stored != "" && !strings.Contains(string(h), tc.stored+"\r\n") {
			t.Errorf("stored header missing: %q", h)
		}
		if !strings.HasPrefix(string(h), "NATS/1.0\r\n") || !strings.HasSuffix(string(h), "\r\n\r\n") {
			t.Errorf("header block %q", h)
		}
	}
	// Without allow_direct nobody answers: no subscription at all.
	te.api("$JS.API.STREAM.UPDATE.KV_b", `{"name":"KV_b","subjects":["$KV.b.>"],"max_msgs_per_subject":5}`)
	if te.host.HasInterest("$JS.API.DIRECT.GET.KV_b") && te.host.subCount("$JS.API.DIRECT.GET.KV_b") != 0 {
		t.Fatal("direct get still subscribed")
	}
}
