package cli_test

import (
	"strings"
	"testing"
)

// Sources and mirrors through natscli: `nats stream add --mirror X`,
// `--source X --source Y`, a source in another JetStream domain given as
// JSON (what the interactive prompt writes), stream info's mirror and
// source sections, and `nats stream report`'s replication report.
func TestJSStreamSourcesAndMirrors(t *testing.T) {
	t.Parallel()
	e := newJSEnv(t)
	js, ctx := e.jsContext()
	e.mustRun(streamAddArgs("ORDERS", "orders.>")...)
	e.mustRun(streamAddArgs("RETURNS", "returns.>")...)
	e.mustRun("pub", "orders.new", "order {{Count}}", "--count=5")
	e.mustRun("pub", "returns.new", "return {{Count}}", "--count=3")

	// A mirror has no subjects of its own.
	var mirror struct {
		Config struct {
			Mirror *struct {
				Name string `json:"name"`
			} `json:"mirror"`
			Subjects []string `json:"subjects"`
		} `json:"config"`
	}
	decodeJSON(t, e.mustRun(append(streamAddArgs("ORDERS_M"), "--mirror=ORDERS")...), &mirror)
	if mirror.Config.Mirror == nil || mirror.Config.Mirror.Name != "ORDERS" || len(mirror.Config.Subjects) != 0 {
		t.Errorf("stream add --mirror printed %+v", mirror.Config)
	}
	var agg struct {
		Config struct {
			Sources []struct {
				Name string `json:"name"`
			} `json:"sources"`
		} `json:"config"`
	}
	decodeJSON(t, e.mustRun(append(streamAddArgs("ALL"), "--source=ORDERS", "--source=RETURNS")...), &agg)
	if len(agg.Config.Sources) != 2 || agg.Config.Sources[0].Name != "ORDERS" || agg.Config.Sources[1].Name != "RETURNS" {
		t.Errorf("stream add --source --source printed %+v", agg.Config)
	}
	waitStreamMsgs(t, js, ctx, "ORDERS_M", 5)
	waitStreamMsgs(t, js, ctx, "ALL", 8)

	// A source in another domain: accepted though nothing answers there;
	// the failure shows in stream info, not as a create error.
	e.mustRun(append(streamAddArgs("REMOTE"), `--source={"name":"ORDERS","external":{"api":"$JS.factory.API"}}`)...)

	r := e.mustRun("stream", "info", "ORDERS_M")
	for _, want := range []string{"Mirror Information", "Stream Name: ORDERS"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stream info of the mirror lacks %q\n%s", want, r)
		}
	}
	r = e.mustRun("stream", "info", "ALL")
	for _, want := range []string{"Source Information", "Stream Name: ORDERS", "Stream Name: RETURNS"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stream info of the sourcing stream lacks %q\n%s", want, r)
		}
	}
	r = e.mustRun("stream", "report")
	for _, want := range []string{"Replication Report", "ORDERS_M", "Mirror", "ALL", "Source", "$JS.factory.API"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stream report lacks %q\n%s", want, r)
		}
	}
}
