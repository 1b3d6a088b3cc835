package jetstream

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStreamCreateDefaults(t *testing.T) {
	te := startEngine(t, Config{})
	var resp struct {
		Type      string          `json:"type"`
		Config    json.RawMessage `json:"config"`
		Created   string          `json:"created"`
		State     map[string]any  `json:"state"`
		DidCreate bool            `json:"did_create"`
	}
	te.apiInto("$JS.API.STREAM.CREATE.ORDERS",
		`{"name":"ORDERS","subjects":[],"retention":"limits","max_consumers":0,"max_msgs":0,"max_bytes":0,"max_age":0,"max_msgs_per_subject":0,"max_msg_size":0,"discard":"old","storage":"file","num_replicas":0}`, &resp)
	if resp.Type != typeStreamCreate || !resp.DidCreate {
		t.Fatalf("resp %+v", resp)
	}
	var cfg map[string]any
	json.Unmarshal(resp.Config, &cfg)
	want := map[string]any{
		"name": "ORDERS", "subjects": []any{"ORDERS"}, "retention": "limits",
		"max_consumers": -1.0, "max_msgs": -1.0, "max_bytes": -1.0, "max_age": 0.0,
		"max_msgs_per_subject": -1.0, "max_msg_size": -1.0, "discard": "old",
		"storage": "file", "num_replicas": 1.0, "duplicate_window": 120e9,
		"compression": "none", "allow_direct": false, "mirror_direct": false,
		"sealed": false, "deny_delete": false, "deny_purge": false,
		"allow_rollup_hdrs": false, "consumer_limits": map[string]any{}, "allow_msg_ttl": false,
	}
	if d := cmp.Diff(want, cfg); d != "" {
		t.Fatalf("config (-want +got):\n%s", d)
	}
	wantState := map[string]any{
		"messages": 0.0, "bytes": 0.0, "first_seq": 0.0, "first_ts": "0001-01-01T00:00:00Z",
		"last_seq": 0.0, "last_ts": "0001-01-01T00:00:00Z", "consumer_count": 0.0,
	}
	if d := cmp.Diff(wantState, resp.State); d != "" {
		t.Fatalf("state (-want +got):\n%s", d)
	}
	if _, err := time.Parse(time.RFC3339Nano, resp.Created); err != nil || !strings.HasSuffix(resp.Created, "Z") {
		t.Fatalf("created %q", resp.Created)
	}
}

func TestStreamCreateIdempotentAndConflicts(t *testing.T) {
	te := startEngine(t, Config{})
	first := te.mustCreate(`{"name":"A","subjects":["a.>"]}`)
	again := te.mustCreate(`{"name":"A","subjects":["a.>"],"max_msgs":0,"num_replicas":1,"duplicate_window":120000000000}`)
	if first["created"] != again["created"] {
		t.Fatalf("created changed: %v vs %v", first["created"], again["created"])
	}
	for _, tc := range []struct {
		subj, body string
		code       int
	}{
		{"$JS.API.STREAM.CREATE.A", `{"name":"A","subjects":["a.>"],"max_msgs":5}`, 10058},
		{"$JS.API.STREAM.CREATE.B", `{"name":"A"}`, 10056},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","subjects":["a.x"]}`, 10065},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","subjects":["a.*"]}`, 10065},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","foo":1}`, 10025},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","retention":"bogus"}`, 10025},
		{"$JS.API.STREAM.CREATE.B", `not json`, 10025},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","num_replicas":3}`, 10074},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","num_replicas":-1}`, 10133},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","max_age":1000}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","duplicate_window":1000}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","max_age":1000000000,"duplicate_window":2000000000}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","deny_purge":true,"allow_rollup_hdrs":true}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","discard_new_per_subject":true}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","subjects":["b.*","b.x"]}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","subjects":["b","b"]}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","subjects":["b..x"]}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","subjects":[">"]}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","subjects":["$JS.API.>"]}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","sealed":true}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","mirror":{"name":"A"},"subjects":["b"]}`, 10034},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","sources":[{"name":"A"},{"name":"A"}]}`, 10140},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","subject_transform":{"src":"b","dest":"c"}}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","republish":{"src":"b","dest":"c"}}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","allow_msg_ttl":true}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","allow_msg_counter":true}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","allow_msg_schedules":true}`, 10052},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","max_msgs":-5,"pedantic":true}`, 10157},
		{"$JS.API.STREAM.CREATE.B", `{"name":"B","storage":"memory","persist_mode":"async"}`, 10052},
		{"$JS.API.STREAM.CREATE.B.C", `{"name":"B"}`, 0},
	} {
		if tc.code == 0 {
			te.noReply(tc.subj, tc.body)
			continue
		}
		r := te.api(tc.subj, tc.body)
		if got := errCode(t, r); got != tc.code {
			t.Errorf("%s %s: err_code %d, want %d (%v)", tc.subj, tc.body, got, tc.code, r["error"])
		}
		if r["type"] != typeStreamCreate {
			t.Errorf("%s: type %v", tc.body, r["type"])
		}
	}
	r := te.api("$JS.API.STREAM.CREATE.B", `{"name":"B","republish":{"src":"b","dest":"c"}}`)
	if desc := r["error"].(map[string]any)["description"].(string); !strings.Contains(desc, notImplemented) {
		t.Errorf("republish refusal %q does not say %q", desc, notImplemented)
	}
	r = te.api("$JS.API.STREAM.CREATE.B", `{"name":"B","foo":1}`)
	if desc := r["error"].(map[string]any)["description"]; desc != `invalid JSON: json: unknown field "foo"` {
		t.Errorf("unknown field: %q", desc)
	}
}

// TestStreamCreateAcceptsAllOfficialFields sends a config with every field
// the official server knows: strict decoding must accept it.
func TestStreamCreateAcceptsAllOfficialFields(t *testing.T) {
	te := startEngine(t, Config{})
	body := `{"name":"ALL","description":"d","subjects":["all.>"],"retention":"limits","max_consumers":-1,
	"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old",
	"storage":"file","num_replicas":1,"no_ack":false,"duplicate_window":60000000000,
	"placement":{"cluster":"c","tags":["t"]},"compression":"s2","first_seq":10,
	"allow_direct":true,"mirror_direct":false,"discard_new_per_subject":false,"sealed":false,
	"deny_delete":true,"deny_purge":false,"allow_rollup_hdrs":true,
	"consumer_limits":{"inactive_threshold":1000000000,"max_ack_pending":10},"allow_msg_ttl":false,
	"subject_delete_marker_ttl":0,"allow_msg_counter":false,"allow_atomic":true,"allow_msg_schedules":false,
	"persist_mode":"default","allow_batched":true,"metadata":{"k":"v"},"pedantic":false}`
	te.mustCreate(body)
	a := te.publish("all.x", nil, "1")
	if a.Error != nil || a.Seq != 10 {
		t.Fatalf("first_seq 10: puback %+v", a)
	}
}

func TestStreamInfoAndDelete(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	for i := 0; i < 3; i++ {
		te.publish("s.a", nil, "x")
	}
	te.publish("s.b", nil, "y")
	te.api("$JS.API.STREAM.MSG.DELETE.S", `{"seq":2}`)

	var info struct {
		Type string `json:"type"`
		apiPaged
		State StreamState `json:"state"`
	}
	te.apiInto("$JS.API.STREAM.INFO.S", `{"subjects_filter":">","deleted_details":true}`, &info)
	if info.State.Msgs != 3 || info.State.FirstSeq != 1 || info.State.LastSeq != 4 || info.State.NumDeleted != 1 {
		t.Fatalf("state %+v", info.State)
	}
	if d := cmp.Diff(map[string]uint64{"s.a": 2, "s.b": 1}, info.State.Subjects); d != "" {
		t.Fatalf("subjects: %s", d)
	}
	if d := cmp.Diff([]uint64{2}, info.State.Deleted); d != "" || info.Total != 2 || info.Limit != subjectsLimit {
		t.Fatalf("deleted %v paged %+v", info.State.Deleted, info.apiPaged)
	}
	info.State = StreamState{}
	te.apiInto("$JS.API.STREAM.INFO.S", `{"subjects_filter":">","offset":1}`, &info)
	if d := cmp.Diff(map[string]uint64{"s.b": 1}, info.State.Subjects); d != "" {
		t.Fatalf("offset page: %s", d)
	}
	// The store's record size: subject + headers + payload + 16.
	if info.State.Bytes != 3*(3+1+16) {
		t.Fatalf("bytes %d", info.State.Bytes)
	}

	for _, tc := range []struct {
		subj, body string
		code       int
	}{
		{"$JS.API.STREAM.INFO.NOPE", "", 10059},
		{"$JS.API.STREAM.INFO.S", `{"bogus":true}`, 10025},
		{"$JS.API.STREAM.DELETE.S", `{"x":1}`, 10038},
		{"$JS.API.STREAM.DELETE.NOPE", "", 10059},
	} {
		if got := errCode(t, te.api(tc.subj, tc.body)); got != tc.code {
			t.Errorf("%s %s: %d want %d", tc.subj, tc.body, got, tc.code)
		}
	}
	r := te.api("$JS.API.STREAM.DELETE.S", `{}`)
	if r["success"] != true || r["type"] != typeStreamDelete {
		t.Fatalf("delete: %v", r)
	}
	if te.host.subCount("s.>") != 0 {
		t.Fatal("stream subscription left after delete")
	}
	if errCode(t, te.api("$JS.API.STREAM.INFO.S", "")) != 10059 {
		t.Fatal("stream still there")
	}
}

func TestStreamEmptyAfterPurgeState(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","storage":"memory"}`)
	te.publish("S", nil, "x")
	te.publish("S", nil, "x")
	te.api("$JS.API.STREAM.PURGE.S", "")
	var info struct{ State StreamState }
	te.apiInto("$JS.API.STREAM.INFO.S", "", &info)
	if info.State.FirstSeq != 3 || info.State.LastSeq != 2 || info.State.Msgs != 0 || !info.State.FirstTime.IsZero() {
		t.Fatalf("state %+v", info.State)
	}
}

func TestStreamNamesAndList(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"KV_a","subjects":["$KV.a.>"],"storage":"memory"}`)
	te.mustCreate(`{"name":"KV_b","subjects":["$KV.b.>"],"storage":"memory"}`)
	te.mustCreate(`{"name":"OBJ_c","subjects":["$O.c.C.>","$O.c.M.>"],"storage":"memory"}`)
	te.mustCreate(`{"name":"plain","storage":"memory"}`)
	for _, tc := range []struct {
		body  string
		want  []string
		total int
	}{
		{"", []string{"KV_a", "KV_b", "OBJ_c", "plain"}, 4},
		{`{"subject":"$KV.*.>"}`, []string{"KV_a", "KV_b"}, 2},
		{`{"subject":"$O.*.C.>"}`, []string{"OBJ_c"}, 1},
		{`{"subject":"plain"}`, []string{"plain"}, 1},
		{`{"subject":"nothing"}`, []string{}, 0},
		{`{"offset":3}`, []string{"plain"}, 4},
		{`{"offset":10}`, []string{}, 4},
	} {
		var names struct {
			Type string `json:"type"`
			apiPaged
			Streams []string `json:"streams"`
		}
		te.apiInto("$JS.API.STREAM.NAMES", tc.body, &names)
		if d := cmp.Diff(tc.want, names.Streams); d != "" || names.Total != tc.total || names.Limit != namesLimit || names.Type != typeStreamNames {
			t.Errorf("names %s: %s %+v", tc.body, d, names)
		}
		var list struct {
			Type string `json:"type"`
			apiPaged
			Streams []StreamInfo `json:"streams"`
		}
		te.apiInto("$JS.API.STREAM.LIST", tc.body, &list)
		got := []string{}
		for _, s := range list.Streams {
			got = append(got, s.Config.Name)
		}
		if d := cmp.Diff(tc.want, got); d != "" || list.Total != tc.total || list.Limit != listLimit || list.Type != typeStreamList {
			t.Errorf("list %s: %s", tc.body, d)
		}
	}
	if errCode(t, te.api("$JS.API.STREAM.NAMES", `{"x":1}`)) != 10025 {
		t.Error("names accepted an unknown field")
	}
}

func TestStreamUpdate(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"U","subjects":["u.a"],"deny_delete":true}`)
	te.mustCreate(`{"name":"V","subjects":["v"]}`)
	for i := 0; i < 5; i++ {
		te.publish("u.a", nil, "x")
	}
	for _, tc := range []struct {
		subj, body string
		code       int
	}{
		{"$JS.API.STREAM.UPDATE.NOPE", `{"name":"NOPE"}`, 10059},
		{"$JS.API.STREAM.UPDATE.U", `{"name":"V"}`, 10056},
		{"$JS.API.STREAM.UPDATE.U", `{"name":"U","subjects":["u.a"],"storage":"memory","deny_delete":true}`, 10052},
		{"$JS.API.STREAM.UPDATE.U", `{"name":"U","subjects":["u.a"],"retention":"workqueue","deny_delete":true}`, 10052},
		{"$JS.API.STREAM.UPDATE.U", `{"name":"U","subjects":["u.a"]}`, 10052},
		{"$JS.API.STREAM.UPDATE.U", `{"name":"U","subjects":["v"],"deny_delete":true}`, 10065},
		{"$JS.API.STREAM.UPDATE.U", `{"name":"U","zzz":1}`, 10025},
	} {
		r := te.api(tc.subj, tc.body)
		if got := errCode(t, r); got != tc.code || r["type"] != typeStreamUpdate {
			t.Errorf("%s %s: %d want %d (%v)", tc.subj, tc.body, got, tc.code, r)
		}
	}
	r := te.api("$JS.API.STREAM.UPDATE.U", `{"name":"U","subjects":["u.a","u.b"],"deny_delete":true,"max_msgs":2,"allow_direct":true}`)
	if r["error"] != nil {
		t.Fatal(r["error"])
	}
	state := r["state"].(map[string]any)
	if state["messages"] != 2.0 || state["first_seq"] != 4.0 {
		t.Fatalf("limits not applied at once: %v", state)
	}
	if a := te.publish("u.b", nil, "x"); a.Seq != 6 {
		t.Fatalf("new subject not captured: %+v", a)
	}
	if te.host.subCount("$JS.API.DIRECT.GET.U") != 1 {
		t.Fatal("allow_direct not applied")
	}
	te.api("$JS.API.STREAM.UPDATE.U", `{"name":"U","subjects":["u.b"],"deny_delete":true}`)
	if te.host.subCount("u.a") != 0 || te.host.subCount("$JS.API.DIRECT.GET.U") != 0 {
		t.Fatal("old subscriptions kept")
	}
}

func TestAccountInfo(t *testing.T) {
	te := startEngine(t, Config{})
	r := te.api("$JS.API.INFO", "")
	if r["type"] != typeAccountInfo || r["streams"] != 0.0 {
		t.Fatalf("info %v", r)
	}
	lim := r["limits"].(map[string]any)
	for _, k := range []string{"max_memory", "max_storage", "max_streams", "max_consumers"} {
		if lim[k] != -1.0 {
			t.Errorf("limit %s = %v", k, lim[k])
		}
	}
	te.mustCreate(`{"name":"M","storage":"memory","max_bytes":1000}`)
	te.mustCreate(`{"name":"F"}`)
	te.publish("M", nil, "12345")
	te.api("$JS.API.STREAM.INFO.NOPE", "")
	r = te.api("$JS.API.INFO", "")
	api := r["api"].(map[string]any)
	if r["streams"] != 2.0 || r["memory"] != float64(1+5+16) || r["reserved_memory"] != 1000.0 {
		t.Fatalf("usage %v", r)
	}
	// INFO, CREATE x2, INFO.NOPE (error) and this INFO.
	if api["total"] != 5.0 || api["errors"] != 1.0 || api["level"] != float64(apiLevel) {
		t.Fatalf("api %v", api)
	}
	if errCode(t, te.api("$JS.API.INFO", `{"x":1}`)) != 10025 {
		t.Fatal("INFO accepted an unknown field")
	}
}

func TestReservationLimits(t *testing.T) {
	te := startEngine(t, Config{MaxMemory: 1000, MaxStore: 1000})
	te.mustCreate(`{"name":"A","storage":"memory","max_bytes":600}`)
	if got := errCode(t, te.api("$JS.API.STREAM.CREATE.B", `{"name":"B","storage":"memory","max_bytes":600}`)); got != 10028 {
		t.Fatalf("memory reservation: %d", got)
	}
	if got := errCode(t, te.api("$JS.API.STREAM.CREATE.C", `{"name":"C","max_bytes":2000}`)); got != 10047 {
		t.Fatalf("storage reservation: %d", got)
	}
}

func TestUnknownAndConsumerSubjects(t *testing.T) {
	te := startEngine(t, Config{})
	te.e.SetConsumers(nil) // detach Fern's consumer side: the fallback answers
	te.noReply("$JS.API.BOGUS", "")
	te.noReply("$JS.API.STREAM.INFO", "")
	te.noReply("$JS.API.CONSUMER.MSG.NEXT.S.C", "")
	te.noReply("$JS.API.DIRECT.GET.S", `{"seq":1}`)
	// No reply subject: nothing, and the engine keeps working.
	te.host.deliver("$JS.API.INFO", "", nil, nil)
	for subj, typ := range map[string]string{
		"$JS.API.CONSUMER.CREATE.S.C":         "consumer_create_response",
		"$JS.API.CONSUMER.DURABLE.CREATE.S.C": "consumer_create_response",
		"$JS.API.CONSUMER.INFO.S.C":           "consumer_info_response",
		"$JS.API.CONSUMER.DELETE.S.C":         "consumer_delete_response",
		"$JS.API.CONSUMER.NAMES.S":            "consumer_names_response",
		"$JS.API.CONSUMER.LIST.S":             "consumer_list_response",
	} {
		r := te.api(subj, "")
		e, _ := r["error"].(map[string]any)
		if r["type"] != "io.nats.jetstream.api.v1."+typ || e == nil || !strings.Contains(e["description"].(string), notImplemented) {
			t.Errorf("%s: %v", subj, r)
		}
	}
}

type recordingConsumers struct {
	subjects chan string
	removed  chan string
}

func (c *recordingConsumers) HandleAPI(subject, reply string, hdr, data []byte) {
	c.subjects <- subject
}
func (c *recordingConsumers) Count(stream string) int        { return 7 }
func (c *recordingConsumers) StreamRemoved(stream string)    { c.removed <- stream }
func (c *recordingConsumers) Interested(string, string) bool { return true }

func TestConsumersHook(t *testing.T) {
	te := startEngine(t, Config{})
	c := &recordingConsumers{subjects: make(chan string, 4), removed: make(chan string, 4)}
	te.e.SetConsumers(c)
	te.host.deliver("$JS.API.CONSUMER.INFO.S.C", "_INBOX.x", nil, nil)
	if got := <-c.subjects; got != "$JS.API.CONSUMER.INFO.S.C" {
		t.Fatalf("hook got %q", got)
	}
	r := te.mustCreate(`{"name":"S","storage":"memory"}`)
	if r["state"].(map[string]any)["consumer_count"] != 7.0 {
		t.Fatalf("consumer_count %v", r["state"])
	}
	te.api("$JS.API.STREAM.DELETE.S", "")
	if got := <-c.removed; got != "S" {
		t.Fatalf("removed %q", got)
	}
}
