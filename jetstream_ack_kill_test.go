package fern

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// An ack the client waited for (AckSync, "double ack") is durable: the
// child server is killed with SIGKILL right after the last reply, and the
// restarted server has exactly the acknowledged state: the ack floor, and
// the pending set, which the restarted consumer redelivers. Create
// replies of durables come after their config and initial state are on
// disk too (the consumer exists after the kill without any later write).

// startKillChild runs TestJetStreamKillChild on dir and returns its URL
// and the command (killed at cleanup).
func startKillChild(t *testing.T, dir string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestJetStreamKillChild$")
	cmd.Env = append(os.Environ(), "FERN_JS_KILL_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "URL "); ok {
			return u, cmd
		}
	}
	t.Fatalf("child did not start: %s", stderr.String())
	return "", nil
}

func TestJetStreamAckSyncSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	url, cmd := startKillChild(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc := natsConnURL(t, url)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "A", Subjects: []string{"a.>"}}); err != nil {
		t.Fatal(err)
	}
	const n = 60
	for i := 1; i <= n; i++ {
		if _, err := js.Publish(ctx, fmt.Sprintf("a.%d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := js.CreateConsumer(ctx, "A", jetstream.ConsumerConfig{
		Durable: "D", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	// A second durable whose create reply is the last thing before the kill.
	if _, err := js.CreateConsumer(ctx, "A", jetstream.ConsumerConfig{
		Durable: "NEW", AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverNewPolicy,
	}); err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != n {
		t.Fatalf("fetched %d", len(msgs))
	}
	// Acknowledge 1..45 except 5 and 17, one synchronous ack at a time.
	unacked := []uint64{5, 17}
	for i, m := range msgs[:45] {
		if slices.Contains(unacked, uint64(i+1)) {
			continue
		}
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("ack %d: %v", i+1, err)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	nc.Close()
	for i := 46; i <= n; i++ {
		unacked = append(unacked, uint64(i))
	}

	s := startJS(t, dir)
	_, js2 := jsClient(t, s)
	c2, err := js2.Consumer(ctx, "A", "D")
	if err != nil {
		t.Fatal(err)
	}
	ci := c2.CachedInfo()
	if ci.AckFloor.Stream != 4 || ci.NumAckPending != len(unacked) || ci.Delivered.Stream != n {
		t.Fatalf("after the kill: ack floor %+v, %d pending (want 4, %d), delivered %+v",
			ci.AckFloor, ci.NumAckPending, len(unacked), ci.Delivered)
	}
	if _, err := js2.Consumer(ctx, "A", "NEW"); err != nil {
		t.Fatalf("durable created before the kill: %v", err)
	}
	// The pending set is exactly the unacknowledged messages: once their
	// ack wait is over they are redelivered, and nothing else is.
	var got []uint64
	redo, err := c2.Fetch(len(unacked), jetstream.FetchMaxWait(15*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range redo.Messages() {
		md, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, md.Sequence.Stream)
	}
	slices.Sort(got)
	if !slices.Equal(got, unacked) {
		t.Fatalf("redelivered %v, want %v", got, unacked)
	}
	more, err := c2.FetchNoWait(n)
	if err != nil {
		t.Fatal(err)
	}
	for m := range more.Messages() {
		md, _ := m.Metadata()
		t.Fatalf("acknowledged message redelivered: %+v", md.Sequence)
	}
}
