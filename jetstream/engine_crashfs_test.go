package jetstream

import (
	"testing"

	"github.com/fernmq/fern/store"
)

// TestCrashFSKeepsAcknowledged runs the engine on a CrashFS, abandons it
// without Stop (a power loss: only synced data survives) and starts a new
// engine on the crash clone: streams, their acknowledged messages and
// durable consumers' configs are back.
func TestCrashFSKeepsAcknowledged(t *testing.T) {
	fsys := store.NewCrashFS()
	te := startEngine(t, Config{StoreDir: "/js", FS: fsys})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	te.mustConsumer(t, "S", "C", `,"ack_policy":"explicit"`)
	for i := 0; i < 20; i++ {
		if a := te.publish("s.x", nil, "m"); a.Error != nil || a.Seq != uint64(i+1) {
			t.Fatalf("publish %d: %+v", i, a)
		}
	}
	clone := fsys.CrashClone(store.CrashOptions{})
	old := te.e // stopped by the cleanup, after the clone was taken

	te2 := &testEngine{t: t, host: newFakeHost(), dir: "/js", cfg: Config{StoreDir: "/js", FS: clone}}
	te2.start()
	t.Cleanup(func() { te2.e.Stop() })
	var info struct {
		State struct {
			Msgs     uint64 `json:"messages"`
			LastSeq  uint64 `json:"last_seq"`
			Consumer int    `json:"consumer_count"`
		} `json:"state"`
	}
	te2.apiInto("$JS.API.STREAM.INFO.S", "", &info)
	if info.State.Msgs != 20 || info.State.LastSeq != 20 || info.State.Consumer != 1 {
		t.Fatalf("after crash: %+v", info.State)
	}
	if old == te2.e {
		t.Fatal("same engine")
	}

	// A stream deleted before the crash stays deleted.
	te2.api("$JS.API.STREAM.DELETE.S", "")
	clone2 := clone.CrashClone(store.CrashOptions{})
	te3 := &testEngine{t: t, host: newFakeHost(), dir: "/js", cfg: Config{StoreDir: "/js", FS: clone2}}
	te3.start()
	t.Cleanup(func() { te3.e.Stop() })
	if names := te3.e.StreamNames(); len(names) != 0 {
		t.Fatalf("deleted stream back after crash: %v", names)
	}
}
