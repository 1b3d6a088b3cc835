package jetstream

import (
	"encoding/json"
	"testing"
)

// FuzzAPIRequest sends arbitrary bodies to every stream API endpoint: the
// engine must not panic and must always answer with one JSON reply that
// has the right type.
func FuzzAPIRequest(f *testing.F) {
	seeds := []string{
		"", "{}", "null", "[]", `{"name":"F"}`, `{"name":"F","subjects":["f.>"],"max_msgs":10}`,
		`{"seq":1}`, `{"last_by_subj":"f.a"}`, `{"filter":"f.*","keep":1}`, `{"offset":1,"subject":"f.>"}`,
		`{"subjects_filter":">","deleted_details":true}`, `{"name":"F","mirror":{"name":"X"}}`, `{"seq":1,"no_erase":true}`,
		`{"name":"F","retention":7}`, `{"max_age":-1}`, "\x00\xff", `{"start_time":"bogus"}`,
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
		if which%3 == 0 {
			te.host.deliver("f.a", "", nil, []byte(body))
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
