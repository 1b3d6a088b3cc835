package jetstream

import (
	"encoding/json"
	"testing"
)

// FuzzAPIRequest sends arbitrary bodies to every stream and consumer API
// endpoint (and, on the side, as pull requests and acks): the
// engine must not panic and must always answer with one JSON reply that
// has the right type.
func FuzzAPIRequest(f *testing.F) {
	seeds := []string{
		"", "{}", "null", "[]", `{"name":"F"}`, `{"name":"F","subjects":["f.>"],"max_msgs":10}`,
		`{"seq":1}`, `{"last_by_subj":"f.a"}`, `{"filter":"f.*","keep":1}`, `{"offset":1,"subject":"f.>"}`,
		`{"subjects_filter":">","deleted_details":true}`, `{"name":"F","mirror":{"name":"X"}}`, `{"seq":1,"no_erase":true}`,
		`{"name":"F","retention":7}`, `{"max_age":-1}`, "\x00\xff", `{"start_time":"bogus"}`,
		`{"stream_name":"F","config":{"durable_name":"C","ack_policy":"explicit"}}`,
		`{"stream_name":"F","config":{"name":"C","deliver_subject":"d","flow_control":true,"idle_heartbeat":1000000000}}`,
		`{"stream_name":"F","config":{"durable_name":"C","deliver_policy":"by_start_sequence","opt_start_seq":0}}`,
		`{"stream_name":"F","action":"update","config":{"durable_name":"C","max_deliver":-5,"backoff":[1,2]}}`,
		`{"batch":5,"expires":1000,"no_wait":true}`, `7`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	endpoints := []struct{ subj, typ string }{
		{"$JS.API.INFO", typeAccountInfo},
		{"$JS.API.STREAM.CREATE.F", typeStreamCreate},
		{"$JS.API.STREAM.UPDATE.F", typeStreamUpdate},
		{"$JS.API.STREAM.INFO.F", typeStreamInfo},
		{"$JS.API.STREAM.NAMES", typeStreamNames},
		{"$JS.API.STREAM.LIST", typeStreamList},
		{"$JS.API.STREAM.PURGE.F", typeStreamPurge},
		{"$JS.API.STREAM.MSG.GET.F", typeMsgGet},
		{"$JS.API.STREAM.MSG.DELETE.F", typeMsgDelete},
		{"$JS.API.STREAM.DELETE.F", typeStreamDelete},
		{"$JS.API.CONSUMER.CREATE.F.C", consumerCreateResponseType},
		{"$JS.API.CONSUMER.CREATE.F", consumerCreateResponseType},
		{"$JS.API.CONSUMER.DURABLE.CREATE.F.C", consumerCreateResponseType},
		{"$JS.API.CONSUMER.INFO.F.C", consumerInfoResponseType},
		{"$JS.API.CONSUMER.NAMES.F", consumerNamesResponseType},
		{"$JS.API.CONSUMER.LIST.F", consumerListResponseType},
		{"$JS.API.CONSUMER.DELETE.F.C", consumerDeleteResponseType},
	}
	dir := f.TempDir()
	te := &testEngine{host: newFakeHost(), dir: dir, cfg: Config{StoreDir: dir}}
	e, err := New(te.cfg, te.host)
	if err == nil {
		err = e.Start()
	}
	if err != nil {
		f.Fatal(err)
	}
	te.e = e
	f.Cleanup(func() { e.Stop() })
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		te.t = t
		ep := endpoints[int(which)%len(endpoints)]
		switch which % 3 {
		case 0:
			te.host.deliver("f.a", "", nil, []byte(body))
		case 1:
			te.host.deliver("$JS.API.CONSUMER.MSG.NEXT.F.C", "pull.inbox", nil, []byte(body))
		case 2:
			te.host.deliver("$JS.ACK.F.C.1.1.1.0.0", "", nil, []byte(body))
		}
		m := te.request(ep.subj, nil, body)
		var r map[string]any
		if err := json.Unmarshal(m.data, &r); err != nil {
			t.Fatalf("%s %q: reply not JSON: %q", ep.subj, body, m.data)
		}
		if r["type"] != ep.typ {
			t.Fatalf("%s %q: type %v", ep.subj, body, r["type"])
		}
		if r["error"] == nil && ep.typ == typeStreamCreate && r["config"] == nil {
			t.Fatalf("create without error or config: %q", m.data)
		}
	})
}
