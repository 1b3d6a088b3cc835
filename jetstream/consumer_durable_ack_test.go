package jetstream

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// readPersistedPending reads a consumer's state file: its pending stream
// sequences.
func readPersistedPending(t *testing.T, c *consumer) []uint64 {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(c.dir, consumerStateName))
	if err != nil {
		t.Fatal(err)
	}
	var snap consumerStateSnapshot
	if err := json.Unmarshal(body, &snap); err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for _, p := range snap.Pending {
		out = append(out, p.Seq)
	}
	slices.Sort(out)
	return out
}

func TestAckReplyAfterStateOnDisk(t *testing.T) {
	te := startEngine(t, Config{})
	te.mustCreate(`{"name":"S","subjects":["s.>"]}`)
	for i := 1; i <= 5; i++ {
		te.publish(fmt.Sprintf("s.%d", i), nil, "x")
	}
	te.mustConsumer(t, "S", "C", `,"ack_policy":"explicit"`)
	c := te.manager().lookup("S", "C")
	// The create reply came after the initial state was written.
	if got := readPersistedPending(t, c); len(got) != 0 {
		t.Fatalf("initial state %v", got)
	}
	inbox := te.subscribe(t, "inbox.1")
	te.pull("S", "C", "inbox.1", `{"batch":5}`)
	var msgs []fakeMsg
	for len(msgs) < 5 {
		msgs = append(msgs, inbox.next())
	}
	want := []uint64{1, 2, 3, 4, 5}
	for _, i := range []int{1, 3, 0} {
		// Each reply means the ack is in the state file already, however
		// soon after the previous write it comes.
		reply, ch := te.host.newInbox()
		te.ack(msgs[i], reply, "+ACK")
		select {
		case <-ch:
		case <-time.After(waitReply):
			t.Fatal("no ack reply")
		}
		want = slices.DeleteFunc(want, func(q uint64) bool { return q == uint64(i+1) })
		if got := readPersistedPending(t, c); !slices.Equal(got, want) {
			t.Fatalf("after acking %d: on disk %v, want %v", i+1, got, want)
		}
	}
}
