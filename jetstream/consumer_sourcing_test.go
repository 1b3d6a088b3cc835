package jetstream

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// sourcingBody is the create body an official downstream sends for a
// source named name (A.5 of the sourcing reference).
func sourcingBody(stream, name, deliver string) string {
	return `{"stream_name":"` + stream + `","action":"","config":{"name":"` + name + `","deliver_policy":"all",` +
		`"ack_policy":"none","ack_wait":79200000000000,"max_deliver":1,"flow_control":true,` +
		`"idle_heartbeat":1000000000,"inactive_threshold":10000000000,"direct":true,"sourcing":true,` +
		`"num_replicas":0,"deliver_subject":"` + deliver + `"}}`
}

func TestShortHashAndStreamIdentity(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-Za-z]{8}$`)
	if h := shortHash("x"); !re.MatchString(h) || h != shortHash("x") || h == shortHash("y") {
		t.Fatalf("shortHash %q", h)
	}
	// SHA-256("abc") starts ba 78 16 bf 8f 01 cf ea: each byte % 62.
	if got := shortHash("abc"); got != "0wM5J1Lm" {
		t.Fatalf("shortHash(abc) = %q", got)
	}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	if streamIdentity(ts) != shortHash("2026-01-02T02:04:05.000000006Z") {
		t.Fatal("identity is not the hash of the UTC RFC 3339 nano time")
	}
}

func TestSourcingCreateErrors(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"O","subjects":["o.>"]}`)
	subj := "$JS.API.CONSUMER.CREATE.O.JS_SRC_abc"
	body := sourcingBody("O", "JS_SRC_abc", "$JS.S.x1")
	for _, tc := range []struct {
		name string
		hdr  []byte
		code int
	}{
		{"level too high", hdrs(hdrRequiredAPILevel, "6"), 10185},
		{"level not a number", hdrs(hdrRequiredAPILevel, "five"), 10185},
		{"identity mismatch", hdrs(hdrRequiredAPILevel, "5", hdrStreamIdentity, "nope1234"), 10225},
		{"level 5 ok", hdrs(hdrRequiredAPILevel, "5", hdrStreamIdentity, ""), 0},
		{"level 4 ok", hdrs(hdrRequiredAPILevel, "4"), 0},
	} {
		m := te.request(subj, tc.hdr, body)
		var raw map[string]any
		if err := json.Unmarshal(m.data, &raw); err != nil {
			t.Fatal(err)
		}
		if got := errCode(t, raw); got != tc.code {
			t.Errorf("%s: err_code %d, want %d (%v)", tc.name, got, tc.code, raw["error"])
		}
		if raw["type"] != consumerCreateResponseType {
			t.Errorf("%s: type %v", tc.name, raw["type"])
		}
		if e, _ := raw["error"].(map[string]any); e != nil {
			want := map[int]float64{10185: 412, 10225: 400}[tc.code]
			if e["code"] != want {
				t.Errorf("%s: code %v", tc.name, e["code"])
			}
		}
	}
	// The level check covers the whole consumer API and the stream API too.
	for subj, typ := range map[string]string{
		"$JS.API.CONSUMER.INFO.O.X":  consumerInfoResponseType,
		"$JS.API.CONSUMER.RESET.O.X": consumerResetResponseType,
		"$JS.API.STREAM.INFO.O":      typeStreamInfo,
	} {
		m := te.request(subj, hdrs(hdrRequiredAPILevel, "99"), "")
		var raw map[string]any
		json.Unmarshal(m.data, &raw)
		if errCode(t, raw) != 10185 || raw["type"] != typ {
			t.Errorf("%s: %s", subj, m.data)
		}
	}
	// $JS.API.INFO reports the level the check uses.
	var info struct {
		API struct{ Level int } `json:"api"`
	}
	te.apiInto("$JS.API.INFO", "", &info)
	if info.API.Level != apiLevel || apiLevel != 5 {
		t.Fatalf("api level %d", info.API.Level)
	}
}

func TestSourcingCreateLimitsStream(t *testing.T) {
	te := startEngine(t, Config{})
	r := te.mustCreate(`{"name":"O","subjects":["o.>"]}`)
	created, _ := time.Parse(time.RFC3339Nano, r["created"].(string))
	te.publish("o.1", nil, "one")
	d := te.subscribe(t, "$JS.S.d1")
	m := te.request("$JS.API.CONSUMER.CREATE.O.JS_SRC_abc", hdrs(hdrRequiredAPILevel, "5", hdrStreamIdentity, ""),
		sourcingBody("O", "JS_SRC_abc", "$JS.S.d1"))
	var ci struct {
		ConsumerInfo
		Error *APIError `json:"error"`
	}
	if err := json.Unmarshal(m.data, &ci); err != nil || ci.Error != nil {
		t.Fatalf("create: %v %s", err, m.data)
	}
	if !regexp.MustCompile(`^JS_SRC_abc-[0-9A-Za-z]{8}$`).MatchString(ci.Name) || !ci.Config.Direct ||
		ci.Config.Durable != "" || ci.Config.AckPolicy != AckNone {
		t.Fatalf("limits sourcing consumer %+v", ci.Config)
	}
	if id := headerString(m.hdr, hdrStreamIdentity); id == "" || id != streamIdentity(created) {
		t.Fatalf("identity header %q, want %q", m.hdr, streamIdentity(created))
	}
	got := d.next()
	if got.subject != "o.1" || !strings.HasPrefix(got.reply, "$JS.ACK.O."+ci.Name+".1.1.1.") {
		t.Fatalf("delivery %s %s", got.subject, got.reply)
	}
	// Direct consumers are not listed, but they count for the stream.
	var names struct{ Consumers []string }
	te.apiInto("$JS.API.CONSUMER.NAMES.O", "", &names)
	var list struct{ Consumers []ConsumerInfo }
	te.apiInto("$JS.API.CONSUMER.LIST.O", "", &list)
	if len(names.Consumers) != 0 || len(list.Consumers) != 0 {
		t.Fatalf("listed: %v %v", names.Consumers, list.Consumers)
	}
	if n := te.e.consumerCount("O"); n != 1 {
		t.Fatalf("count %d", n)
	}
	// A plain consumer create has no identity header.
	m = te.request("$JS.API.CONSUMER.CREATE.O.P", hdrs(hdrStreamIdentity, "whatever"),
		`{"stream_name":"O","config":{"name":"P"}}`)
	if _, ok := headerValue(m.hdr, hdrStreamIdentity); ok || strings.Contains(string(m.data), `"error"`) {
		t.Fatalf("plain create: %q %s", m.hdr, m.data)
	}
}

func TestSourcingCreateWorkQueueUpgrade(t *testing.T) {
	for _, ret := range []string{"workqueue", "interest"} {
		t.Run(ret, func(t *testing.T) {
			te := startEngine(t, Config{})
			te.mustCreate(`{"name":"O","subjects":["o.>"],"retention":"` + ret + `"}`)
			// A workqueue stream's plain consumer does not block a sourcing one.
			te.mustConsumer(t, "O", "W", `,"ack_policy":"explicit"`)
			hdr := hdrs(hdrRequiredAPILevel, "5")
			subj := "$JS.API.CONSUMER.CREATE.O.JS_SRC_abc"
			raw, ci := te.createConsumerHdr(t, subj, hdr, sourcingBody("O", "JS_SRC_abc", "$JS.S.d1"))
			if ci == nil {
				t.Fatalf("create: %v", raw["error"])
			}
			c := ci.Config
			if ci.Name != "JS_SRC_abc" || c.Durable != "JS_SRC_abc" || c.Direct || !c.Sourcing ||
				c.AckPolicy != AckFlowControl || c.AckWait != 0 || c.MaxDeliver != -1 || c.InactiveThreshold != 0 ||
				!c.FlowControl || c.Heartbeat != time.Second || c.MaxAckPending != 1000 {
				t.Fatalf("upgraded config %+v", c)
			}
			var names struct{ Consumers []string }
			te.apiInto("$JS.API.CONSUMER.NAMES.O", "", &names)
			if !slices.Equal(names.Consumers, []string{"JS_SRC_abc", "W"}) {
				t.Fatalf("names %v", names.Consumers)
			}
			// Re-attach: a create from another start keeps the consumer's start.
			body := strings.Replace(sourcingBody("O", "JS_SRC_abc", "$JS.S.d1"), `"deliver_policy":"all"`,
				`"deliver_policy":"by_start_sequence","opt_start_seq":7`, 1)
			raw, again := te.createConsumerHdr(t, subj, hdr, body)
			if again == nil || again.Config.DeliverPolicy != DeliverAll || again.Config.OptStartSeq != 0 {
				t.Fatalf("re-attach: %v %+v", raw["error"], again)
			}
		})
	}
}

// createConsumerHdr is createConsumer with request headers; it also
// checks the identity header of a successful reply.
func (te *testEngine) createConsumerHdr(t *testing.T, subj string, hdr []byte, body string) (map[string]any, *ConsumerInfo) {
	t.Helper()
	m := te.request(subj, hdr, body)
	var raw map[string]any
	if err := json.Unmarshal(m.data, &raw); err != nil {
		t.Fatalf("reply not JSON: %q", m.data)
	}
	if raw["error"] != nil {
		return raw, nil
	}
	if headerString(m.hdr, hdrStreamIdentity) == "" {
		t.Fatalf("no identity header: %q", m.hdr)
	}
	var ci ConsumerInfo
	if err := json.Unmarshal(m.data, &ci); err != nil {
		t.Fatal(err)
	}
	return raw, &ci
}
