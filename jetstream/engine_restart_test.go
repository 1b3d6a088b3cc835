package jetstream

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRestartKeepsStreams(t *testing.T) {
	te := startEngine(t, Config{})
	created := te.mustCreate(`{"name":"F","subjects":["f.>"],"max_msgs":100,"metadata":{"k":"v"},"allow_direct":true}`)
	te.mustCreate(`{"name":"M","subjects":["m"],"storage":"memory"}`)
	for i := 0; i < 10; i++ {
		te.publish("f.x", hdrs("Nats-Msg-Id", string(rune('a'+i))), "payload")
	}
	te.publish("m", nil, "gone after restart")
	te.api("$JS.API.STREAM.MSG.DELETE.F", `{"seq":3}`)
	before := te.api("$JS.API.STREAM.INFO.F", "")

	te.restart()

	after := te.api("$JS.API.STREAM.INFO.F", "")
	if after["error"] != nil {
		t.Fatal(after["error"])
	}
	if d := cmp.Diff(before["config"], after["config"]); d != "" {
		t.Fatalf("config changed:\n%s", d)
	}
	if d := cmp.Diff(before["state"], after["state"]); d != "" {
		t.Fatalf("state changed:\n%s", d)
	}
	if created["created"] != after["created"] {
		t.Fatalf("created %v -> %v", created["created"], after["created"])
	}
	if errCode(t, te.api("$JS.API.STREAM.INFO.M", "")) != 10059 {
		t.Fatal("memory stream survived a restart")
	}
	// Subscriptions are back: subjects, direct get; dedupe survived.
	if a := te.publish("f.x", hdrs("Nats-Msg-Id", "d"), "x"); !a.Duplicate || a.Seq != 4 {
		t.Fatalf("dedupe after restart: %+v", a)
	}
	if a := te.publish("f.y", nil, "x"); a.Seq != 11 {
		t.Fatalf("publish after restart: %+v", a)
	}
	if m := te.request("$JS.API.DIRECT.GET.F", nil, `{"seq":11}`); headerString(m.hdr, "Nats-Sequence") != "11" {
		t.Fatalf("direct get after restart: %q", m.hdr)
	}
	// Deleting removes the files; another restart does not bring it back.
	te.api("$JS.API.STREAM.DELETE.F", "")
	if _, err := os.Stat(filepath.Join(te.dir, "streams", "F")); !os.IsNotExist(err) {
		t.Fatalf("stream dir left: %v", err)
	}
	te.restart()
	if names := te.e.StreamNames(); len(names) != 0 {
		t.Fatalf("streams after delete+restart: %v", names)
	}
}

func TestRestartSkipsBrokenMeta(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"OK"}`)
	broken := filepath.Join(te.dir, "streams", "BROKEN")
	if err := os.MkdirAll(broken, 0o750); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(broken, metaName), []byte("{torn"), 0o640)
	os.MkdirAll(filepath.Join(te.dir, "streams", "NOMETA"), 0o750)
	te.restart()
	if d := cmp.Diff([]string{"OK"}, te.e.StreamNames()); d != "" {
		t.Fatal(d)
	}
}

func TestRestartWithStreamsUnderMemoryQueue(t *testing.T) {
	// Stop stores what is queued: publishes without a reply right before
	// Stop are not lost.
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"Q","subjects":["q"]}`)
	for i := 0; i < 200; i++ {
		te.host.deliver("q", "", nil, []byte("x"))
	}
	te.restart()
	if st := te.e.Stream("Q").Store().State(); st.Msgs != 200 {
		t.Fatalf("after restart %+v", st)
	}
}
