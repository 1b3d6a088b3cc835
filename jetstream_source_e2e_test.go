package fern

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Sources and mirrors between streams of one server: a mirror keeps the
// origin's sequences, a filtered source takes its subjects with the
// Nats-Stream-Source header, and after a restart both go on from where
// they were, without a duplicate.
func TestJetStreamSourceLocal(t *testing.T) {
	dir := t.TempDir()
	s := startJS(t, dir)
	_, js := jsClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mustStream := func(cfg jetstream.StreamConfig) {
		t.Helper()
		if _, err := js.CreateStream(ctx, cfg); err != nil {
			t.Fatalf("create %s: %v", cfg.Name, err)
		}
	}
	mustStream(jetstream.StreamConfig{Name: "ORIG", Subjects: []string{"o.>"}})
	mustStream(jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "ORIG"}})
	mustStream(jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "ORIG", FilterSubject: "o.a"}}})
	publish := func(from, to int) {
		t.Helper()
		for i := from; i <= to; i++ {
			subj := "o.b"
			if i%2 == 0 {
				subj = "o.a"
			}
			if _, err := js.Publish(ctx, subj, []byte(fmt.Sprint(i))); err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
		}
	}
	publish(1, 100)
	waitStreamMsgs(t, ctx, js, "M", 100)
	waitStreamMsgs(t, ctx, js, "S", 50)
	checkMirror(t, ctx, js, "ORIG", "M", 100)
	checkSourced(t, ctx, js, "S", 50)

	info, err := js.Stream(ctx, "M")
	if err != nil {
		t.Fatal(err)
	}
	mi := info.CachedInfo().Mirror
	if mi == nil || mi.Name != "ORIG" || mi.Lag != 0 || mi.Active < 0 || mi.Error != nil {
		t.Fatalf("mirror info: %+v", mi)
	}
	si, _ := js.Stream(ctx, "S")
	if src := si.CachedInfo().Sources; len(src) != 1 || src[0].Name != "ORIG" || src[0].FilterSubject != "o.a" {
		t.Fatalf("sources info: %+v", src)
	}

	// Restart: both resume after what they hold.
	shutdownNow(t, s)
	s = startJS(t, dir)
	_, js = jsClient(t, s)
	publish(101, 120)
	waitStreamMsgs(t, ctx, js, "M", 120)
	waitStreamMsgs(t, ctx, js, "S", 60)
	checkMirror(t, ctx, js, "ORIG", "M", 120)
	checkSourced(t, ctx, js, "S", 60)
}

// waitStreamMsgs waits until stream holds n messages (and fails if it
// ever holds more).
func waitStreamMsgs(t *testing.T, ctx context.Context, js jetstream.JetStream, stream string, n uint64) {
	t.Helper()
	var last uint64
	for ctx.Err() == nil {
		st, err := js.Stream(ctx, stream)
		if err == nil {
			last = st.CachedInfo().State.Msgs
			if last == n {
				return
			}
			if last > n {
				t.Fatalf("%s holds %d messages, want %d", stream, last, n)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s holds %d messages, want %d", stream, last, n)
}

// checkMirror compares the mirror message by message with its origin.
func checkMirror(t *testing.T, ctx context.Context, js jetstream.JetStream, orig, mirror string, n uint64) {
	t.Helper()
	o, _ := js.Stream(ctx, orig)
	m, _ := js.Stream(ctx, mirror)
	for seq := uint64(1); seq <= n; seq++ {
		a, err := o.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("%s seq %d: %v", orig, seq, err)
		}
		b, err := m.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("%s seq %d: %v", mirror, seq, err)
		}
		if a.Subject != b.Subject || string(a.Data) != string(b.Data) || !a.Time.Equal(b.Time) {
			t.Fatalf("seq %d: origin %s %q %v, mirror %s %q %v", seq, a.Subject, a.Data, a.Time, b.Subject, b.Data, b.Time)
		}
		if b.Header.Get("Nats-Stream-Source") != "" {
			t.Fatalf("mirrored message has a Nats-Stream-Source header")
		}
	}
}

// checkSourced checks a stream sourced from ORIG's even messages on o.a:
// in order, each once, with the official header.
func checkSourced(t *testing.T, ctx context.Context, js jetstream.JetStream, stream string, n uint64) {
	t.Helper()
	st, _ := js.Stream(ctx, stream)
	for seq := uint64(1); seq <= n; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("%s seq %d: %v", stream, seq, err)
		}
		want := fmt.Sprint(2 * seq)
		if string(m.Data) != want || m.Subject != "o.a" {
			t.Fatalf("%s seq %d: %s %q, want o.a %q", stream, seq, m.Subject, m.Data, want)
		}
		h := strings.Fields(m.Header.Get("Nats-Stream-Source"))
		if len(h) != 6 || h[0] != "ORIG" || h[1] != want || h[2] != "o.a" || h[3] != ">" || h[4] != "o.a" {
			t.Fatalf("%s seq %d: Nats-Stream-Source %q", stream, seq, m.Header.Get("Nats-Stream-Source"))
		}
	}
}
