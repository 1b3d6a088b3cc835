package fern

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A Fern server with JetStream runs in a child process; the test
// publishes with acknowledgements, kills the child with SIGKILL while
// publishes are in flight, and restarts on the same store directory:
// every acknowledged message is there, in order, with its sequence, and
// the dedupe window survived.

func TestJetStreamSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	url, cmd := startKillChild(t, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nc := natsConnURL(t, url)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "K", Subjects: []string{"k.>"}}); err != nil {
		t.Fatal(err)
	}
	// Synchronous publishes with message IDs, then concurrent ones that
	// are still in flight when the child dies.
	const nsync = 200
	for i := 1; i <= nsync; i++ {
		ack, err := js.Publish(ctx, fmt.Sprintf("k.%d", i), []byte(strconv.Itoa(i)), jetstream.WithMsgID(strconv.Itoa(i)))
		if err != nil || ack.Sequence != uint64(i) {
			t.Fatalf("publish %d: %v %+v", i, err, ack)
		}
	}
	var mu sync.Mutex
	acked := map[uint64]string{}
	var wg sync.WaitGroup
	var killed atomic.Bool
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				data := fmt.Sprintf("w%d-%d", w, i)
				ack, err := js.Publish(ctx, "k.async", []byte(data))
				if err != nil {
					return // the child is gone
				}
				mu.Lock()
				acked[ack.Sequence] = data
				n := len(acked)
				mu.Unlock()
				if n >= 300 && killed.CompareAndSwap(false, true) {
					_ = cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		}()
	}
	wg.Wait()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	nc.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 300 || len(acked) >= 2000 {
		t.Fatalf("%d of 2000 concurrent publishes acknowledged: the kill was not mid-stream", len(acked))
	}

	s := startJS(t, dir)
	_, js2 := jsClient(t, s)
	st, err := js2.Stream(ctx, "K")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= nsync; i++ {
		m, err := st.GetMsg(ctx, uint64(i))
		if err != nil || m.Subject != fmt.Sprintf("k.%d", i) || string(m.Data) != strconv.Itoa(i) {
			t.Fatalf("message %d after the kill: %v %+v", i, err, m)
		}
	}
	for seq, data := range acked {
		m, err := st.GetMsg(ctx, seq)
		if err != nil || string(m.Data) != data {
			t.Fatalf("acknowledged message %d (%q) lost: %v", seq, data, err)
		}
	}
	// The dedupe window survived: an old ID is a duplicate of its sequence.
	ack, err := js2.Publish(ctx, "k.7", []byte("7"), jetstream.WithMsgID("7"))
	if err != nil || !ack.Duplicate || ack.Sequence != 7 {
		t.Fatalf("dedupe after the kill: %v %+v", err, ack)
	}
}

// TestJetStreamKillChild is the child half of TestJetStreamSurvivesKill.
func TestJetStreamKillChild(t *testing.T) {
	dir := os.Getenv("FERN_JS_KILL_CHILD")
	if dir == "" {
		t.Skip("child process helper")
	}
	s, err := NewServer(&Options{Host: "127.0.0.1", Port: -1, JetStream: JetStreamOptions{Enabled: true, StoreDir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("URL %s\n", s.ClientURL())
	select {} // until killed
}

func natsConnURL(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}
