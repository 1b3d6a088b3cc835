package jetstream

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestStreamPurgeVariants(t *testing.T) {
	for _, tc := range []struct {
		body   string
		purged float64
		left   uint64
		code   int
	}{
		{"", 6, 0, 0},
		{`{}`, 6, 0, 0},
		{`{"filter":"p.a"}`, 3, 3, 0},
		{`{"filter":"p.*"}`, 6, 0, 0},
		{`{"seq":4}`, 3, 3, 0},
		{`{"keep":2}`, 4, 2, 0},
		{`{"filter":"p.a","keep":1}`, 2, 4, 0},
		{`{"filter":"p.b","seq":6}`, 2, 4, 0},
		{`{"seq":2,"keep":1}`, 0, 6, 10003},
		{`{"filter":"p..x"}`, 0, 6, 10110},
		{`{"bogus":1}`, 0, 6, 10025},
	} {
		t.Run(tc.body, func(t *testing.T) {
			te := startEngine(t, Config{})
			te.mustCreate(`{"name":"P","subjects":["p.*"],"storage":"memory"}`)
			for _, s := range []string{"p.a", "p.b", "p.a", "p.b", "p.a", "p.b"} {
				te.publish(s, nil, "x")
			}
			r := te.api("$JS.API.STREAM.PURGE.P", tc.body)
			if got := errCode(t, r); got != tc.code {
				t.Fatalf("err_code %d want %d: %v", got, tc.code, r)
			}
			if r["type"] != typeStreamPurge {
				t.Fatalf("type %v", r["type"])
			}
			if tc.code == 0 && (r["success"] != true || r["purged"] != tc.purged) {
				t.Fatalf("reply %v", r)
			}
			if st := te.e.Stream("P").Store().State(); st.Msgs != tc.left {
				t.Fatalf("left %d want %d", st.Msgs, tc.left)
			}
		})
	}
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"DP","deny_purge":true,"storage":"memory"}`)
	r := te.api("$JS.API.STREAM.PURGE.DP", "")
	if errCode(t, r) != 10110 || r["error"].(map[string]any)["description"] != "stream purge not permitted" {
		t.Fatalf("deny_purge %v", r)
	}
	if errCode(t, te.api("$JS.API.STREAM.PURGE.NOPE", "")) != 10059 {
		t.Fatal("purge of a missing stream")
	}
}

func TestStreamMsgDelete(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"M","subjects":["m"]}`)
	te.mustCreate(`{"name":"DD","subjects":["dd"],"deny_delete":true}`)
	te.publish("m", nil, "1")
	te.publish("m", nil, "2")
	te.publish("dd", nil, "1")
	for _, tc := range []struct {
		subj, body string
		code       int
		desc       string
	}{
		{"$JS.API.STREAM.MSG.DELETE.M", `{"seq":1,"no_erase":true}`, 0, ""},
		{"$JS.API.STREAM.MSG.DELETE.M", `{"seq":1}`, 10057, "no message found"},
		{"$JS.API.STREAM.MSG.DELETE.M", `{"seq":99}`, 10057, "no message found"},
		{"$JS.API.STREAM.MSG.DELETE.M", ``, 10003, ""},
		{"$JS.API.STREAM.MSG.DELETE.M", `{"seq":2,"x":1}`, 10025, ""},
		{"$JS.API.STREAM.MSG.DELETE.DD", `{"seq":1}`, 10057, "message delete not permitted"},
		{"$JS.API.STREAM.MSG.DELETE.NOPE", `{"seq":1}`, 10059, ""},
	} {
		r := te.api(tc.subj, tc.body)
		if got := errCode(t, r); got != tc.code || r["type"] != typeMsgDelete {
			t.Errorf("%s %s: %d want %d: %v", tc.subj, tc.body, got, tc.code, r)
			continue
		}
		if tc.code == 0 && r["success"] != true {
			t.Errorf("%s: %v", tc.body, r)
		}
		if tc.desc != "" && r["error"].(map[string]any)["description"] != tc.desc {
			t.Errorf("%s: description %v", tc.body, r["error"])
		}
	}
}

func TestStreamMsgGet(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"G","subjects":["g.*"]}`)
	before := time.Now().UTC()
	te.publish("g.a", hdrs("K", "v"), "one")
	te.publish("g.b", nil, "two")
	te.publish("g.a", nil, "three")
	for _, tc := range []struct {
		body     string
		code     int
		seq      float64
		data     string
		withHdrs bool
	}{
		{`{"seq":1}`, 0, 1, "one", true},
		{`{"seq":1,"no_hdr":true}`, 0, 1, "one", false},
		{`{"last_by_subj":"g.a"}`, 0, 3, "three", false},
		{`{"last_by_subj":"g.*"}`, 0, 3, "three", false},
		{`{"next_by_subj":"g.b"}`, 0, 2, "two", false},
		{`{"next_by_subj":"g.a","seq":2}`, 0, 3, "three", false},
		{`{"start_time":"` + before.Format(time.RFC3339Nano) + `"}`, 0, 1, "one", true},
		{`{"seq":9}`, 10037, 0, "", false},
		{`{"last_by_subj":"g.zzz"}`, 10037, 0, "", false},
		{`{"next_by_subj":"g.b","seq":3}`, 10037, 0, "", false},
		{``, 10003, 0, "", false},
		{`{}`, 10003, 0, "", false},
		{`{"seq":1,"last_by_subj":"g.a"}`, 10003, 0, "", false},
		{`{"seq":1,"batch":2}`, 10003, 0, "", false},
		{`{"last_by_subj":"g.a","next_by_subj":"g.a"}`, 10003, 0, "", false},
		{`{"seq":1,"what":2}`, 10025, 0, "", false},
	} {
		r := te.api("$JS.API.STREAM.MSG.GET.G", tc.body)
		if got := errCode(t, r); got != tc.code || r["type"] != typeMsgGet {
			t.Errorf("%s: %d want %d: %v", tc.body, got, tc.code, r)
			continue
		}
		if tc.code != 0 {
			continue
		}
		msg := r["message"].(map[string]any)
		data, _ := base64.StdEncoding.DecodeString(msg["data"].(string))
		_, hasHdrs := msg["hdrs"]
		if msg["seq"] != tc.seq || string(data) != tc.data || hasHdrs != tc.withHdrs {
			t.Errorf("%s: %v", tc.body, msg)
		}
		if hasHdrs {
			h, _ := base64.StdEncoding.DecodeString(msg["hdrs"].(string))
			if string(h) != string(hdrs("K", "v")) {
				t.Errorf("hdrs %q", h)
			}
		}
		if ts, _ := msg["time"].(string); !strings.HasSuffix(ts, "Z") {
			t.Errorf("time %q", ts)
		}
	}
	if errCode(t, te.api("$JS.API.STREAM.MSG.GET.NOPE", `{"seq":1}`)) != 10059 {
		t.Error("get from a missing stream")
	}
}
