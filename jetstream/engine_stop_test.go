package jetstream

import (
	"testing"
	"time"

	"github.com/fernmq/fern/store"
)

// Stop holds the engine's lock while it waits for each stream's ingest
// goroutine; an interest stream's ingest asks for the consumer side at
// the end of every batch, so that must not need the lock (it did: a
// deadlock when a batch was finishing as Stop began).
func TestStopWhileAnInterestBatchFinishes(t *testing.T) {
	gfs := newGateFS(store.NewCrashFS(), "/streams/I/msgs/")
	// Not startEngine: its cleanup's Stop would hang on the deadlock.
	te := &testEngine{t: t, host: newFakeHost(), dir: "/js", cfg: Config{StoreDir: "/js", FS: gfs}}
	te.start()
	te.mustCreate(`{"name":"I","subjects":["i.>"],"retention":"interest"}`)
	gfs.shut()
	te.host.deliver("i.x", "", nil, []byte("held in its fsync"))

	stopped := make(chan error, 1)
	go func() { stopped <- te.e.Stop() }()
	// Release the fsync once Stop holds the lock, waiting for ingest.
	deadline := time.Now().Add(10 * time.Second)
	for te.e.mu.TryRLock() {
		te.e.mu.RUnlock()
		if time.Now().After(deadline) {
			t.Fatal("Stop never took the engine's lock")
		}
		time.Sleep(time.Millisecond) // polling a lock; nothing to wait on
	}
	gfs.release()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return: deadlocked with the ingest goroutine")
	}
}
