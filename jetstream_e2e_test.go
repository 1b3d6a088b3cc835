package fern

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream end to end with nats.go's jetstream package: streams,
// publish acknowledgements, message get, direct get and KV put/get.

func startJS(t *testing.T, dir string) *Server {
	t.Helper()
	return startServer(t, &Options{ServerName: "js", JetStream: JetStreamOptions{Enabled: true, StoreDir: dir}})
}

func jsClient(t *testing.T, s *Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc := natsConn(t, s)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

func TestJetStreamStreamsE2E(t *testing.T) {
	dir := t.TempDir()
	s := startJS(t, dir)
	_, js := jsClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if _, err := js.AccountInfo(ctx); err != nil {
		t.Fatalf("account info: %v", err)
	}
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, MaxMsgsPerSubject: 10})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	// Idempotent create; a different config is refused.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, MaxMsgsPerSubject: 10}); err != nil {
		t.Fatalf("identical create: %v", err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"other.>"}}); !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		t.Fatalf("conflicting create: %v", err)
	}
	for i := 1; i <= 3; i++ {
		ack, err := js.Publish(ctx, "orders.new", []byte("order"), jetstream.WithMsgID("id-1"))
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if ack.Sequence != 1 || ack.Stream != "ORDERS" || ack.Duplicate != (i > 1) {
			t.Fatalf("publish %d: ack %+v", i, ack)
		}
	}
	if _, err := js.Publish(ctx, "orders.paid", []byte("p"), jetstream.WithExpectLastSequence(1)); err != nil {
		t.Fatalf("expected last sequence 1: %v", err)
	}
	var apiErr *jetstream.APIError
	if _, err := js.Publish(ctx, "orders.paid", []byte("p"), jetstream.WithExpectLastSequence(1)); !errors.As(err, &apiErr) || apiErr.ErrorCode != 10071 {
		t.Fatalf("wrong expected last sequence: %v", err)
	}
	m, err := st.GetMsg(ctx, 2)
	if err != nil || m.Subject != "orders.paid" || string(m.Data) != "p" {
		t.Fatalf("get 2: %v %+v", err, m)
	}
	if _, err := st.GetMsg(ctx, 99); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.State.Msgs != 2 || info.State.LastSeq != 2 {
		t.Fatalf("info: %v %+v", err, info)
	}
	names := js.StreamNames(ctx)
	var got []string
	for n := range names.Name() {
		got = append(got, n)
	}
	if len(got) != 1 || got[0] != "ORDERS" {
		t.Fatalf("names: %v", got)
	}
	if err := st.DeleteMsg(ctx, 1); err != nil {
		t.Fatalf("delete msg: %v", err)
	}
	if err := st.Purge(ctx); err != nil {
		t.Fatalf("purge: %v", err)
	}

	// Restart with the same directory: the stream and its sequence survive.
	if _, err := js.Publish(ctx, "orders.after", []byte("a")); err != nil {
		t.Fatal(err)
	}
	shutdownNow(t, s)
	s2 := startJS(t, dir)
	_, js2 := jsClient(t, s2)
	st2, err := js2.Stream(ctx, "ORDERS")
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	info, _ = st2.Info(ctx)
	if info.State.Msgs != 1 || info.State.LastSeq != 3 {
		t.Fatalf("after restart: %+v", info.State)
	}
	if err := js2.DeleteStream(ctx, "ORDERS"); err != nil {
		t.Fatalf("delete stream: %v", err)
	}
}

func TestJetStreamKVPutGetE2E(t *testing.T) {
	s := startJS(t, t.TempDir())
	_, js := jsClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "factory", History: 3})
	if err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	r1, err := kv.Put(ctx, "line1.temp", []byte("20"))
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, err := kv.Put(ctx, "line1.temp", []byte("21")); err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "line1.temp")
	if err != nil || string(e.Value()) != "21" || e.Revision() != r1+1 {
		t.Fatalf("get: %v %+v", err, e)
	}
	if _, err := kv.Update(ctx, "line1.temp", []byte("x"), r1); err == nil {
		t.Fatal("update with a stale revision succeeded")
	}
	if _, err := kv.Update(ctx, "line1.temp", []byte("22"), r1+1); err != nil {
		t.Fatalf("update: %v", err)
	}
	if _, err := kv.Create(ctx, "line1.temp", []byte("x")); err == nil {
		t.Fatal("create of an existing key succeeded")
	}
	if err := kv.Delete(ctx, "line1.temp"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := kv.Get(ctx, "line1.temp"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if _, err := kv.Create(ctx, "line1.temp", []byte("again")); err != nil {
		t.Fatalf("create after delete: %v", err)
	}
	if _, err := kv.Get(ctx, "missing"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	// Purge keeps only the purge marker of the key (a rollup).
	kv.Put(ctx, "line2.temp", []byte("1"))
	kv.Put(ctx, "line2.temp", []byte("2"))
	if err := kv.Purge(ctx, "line2.temp"); err != nil {
		t.Fatalf("purge: %v", err)
	}
	if _, err := kv.Get(ctx, "line2.temp"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("get purged: %v", err)
	}
	if h, err := kv.History(ctx, "line2.temp"); err != nil || len(h) != 1 || h[0].Operation() != jetstream.KeyValuePurge {
		t.Fatalf("history after purge: %v %d", err, len(h))
	}
	if err := kv.PurgeDeletes(ctx); err != nil {
		t.Fatalf("purge deletes: %v", err)
	}
}

// Malformed API requests get the official error, never a panic; an
// unknown API subject gets no reply.
func TestJetStreamMalformedRequests(t *testing.T) {
	s := startJS(t, t.TempDir())
	nc := natsConn(t, s)
	if _, err := nc.Request("$JS.API.STREAM.CREATE.S", []byte(`{"name":"S","subjects":["s.>"]}`), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		subject, body string
		code          int
	}{
		{"$JS.API.STREAM.CREATE.X", `{"name":"X","bogus":1}`, 10025},
		{"$JS.API.STREAM.CREATE.X", `{{{`, 10025},
		{"$JS.API.STREAM.CREATE.X", `{"name":"Y"}`, 10056},
		{"$JS.API.STREAM.CREATE.X", `{"name":"X","subjects":["s.x"]}`, 10065},
		{"$JS.API.STREAM.CREATE.X", `{"name":"X","max_age":1}`, 10052},
		{"$JS.API.STREAM.DELETE.S", `{"x":1}`, 10038},
		{"$JS.API.STREAM.INFO.NOPE", ``, 10059},
		{"$JS.API.STREAM.MSG.GET.S", `{"seq":1}`, 10037},
		{"$JS.API.STREAM.MSG.GET.S", ``, 10003},
		{"$JS.API.STREAM.PURGE.S", `{"seq":1,"keep":1}`, 10003},
	}
	for _, c := range cases {
		m, err := nc.Request(c.subject, []byte(c.body), 5*time.Second)
		if err != nil {
			t.Fatalf("%s %s: %v", c.subject, c.body, err)
		}
		var reply struct {
			Type  string `json:"type"`
			Error *struct {
				Code    int    `json:"code"`
				ErrCode int    `json:"err_code"`
				Desc    string `json:"description"`
			} `json:"error"`
		}
		if err := json.Unmarshal(m.Data, &reply); err != nil || reply.Error == nil || reply.Error.ErrCode != c.code || reply.Type == "" {
			t.Errorf("%s %s: got %s, want err_code %d", c.subject, c.body, m.Data, c.code)
		}
	}
	// The API answers in order: once INFO's reply is in, BOGUS was
	// handled, and its inbox must be empty.
	bogus, _ := nc.SubscribeSync("bogus.inbox")
	nc.PublishRequest("$JS.API.BOGUS", "bogus.inbox", nil)
	if _, err := nc.Request("$JS.API.INFO", nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	if n, _, _ := bogus.Pending(); n != 0 {
		t.Fatalf("unknown API subject answered %d times", n)
	}
}

// Discard new with a per-subject limit (the key-value shape): a new
// message on a full subject replaces its oldest, even at max_msgs; with
// discard_new_per_subject it is refused.
func TestJetStreamDiscardNewPerSubjectE2E(t *testing.T) {
	s := startJS(t, t.TempDir())
	_, js := jsClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "D", Subjects: []string{"d.>"},
		Discard: jetstream.DiscardNew, MaxMsgs: 2, MaxMsgsPerSubject: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, subj := range []string{"d.a", "d.b", "d.a"} {
		if _, err := js.Publish(ctx, subj, nil); err != nil {
			t.Fatalf("publish %s: %v", subj, err)
		}
	}
	var apiErr *jetstream.APIError
	if _, err := js.Publish(ctx, "d.c", nil); !errors.As(err, &apiErr) || apiErr.ErrorCode != 10077 {
		t.Fatalf("new subject at max_msgs: %v", err)
	}
	info, _ := st.Info(ctx)
	if info.State.Msgs != 2 || info.State.FirstSeq != 2 || info.State.LastSeq != 3 {
		t.Fatalf("state: %+v", info.State)
	}
	st2, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "E", Subjects: []string{"e.>"},
		Discard: jetstream.DiscardNew, MaxMsgsPerSubject: 1, DiscardNewPerSubject: true})
	if err != nil {
		t.Fatal(err)
	}
	js.Publish(ctx, "e.a", nil)
	if _, err := js.Publish(ctx, "e.a", nil); !errors.As(err, &apiErr) || apiErr.ErrorCode != 10077 {
		t.Fatalf("discard_new_per_subject: %v", err)
	}
	if info, _ := st2.Info(ctx); info.State.Msgs != 1 {
		t.Fatalf("E state: %+v", info.State)
	}
}
