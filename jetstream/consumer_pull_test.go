package jetstream

import (
	"strings"
	"testing"
	"time"
)

func TestParsePullRequest(t *testing.T) {
	cases := []struct {
		body string
		want pullRequest
		err  string
	}{
		{"", pullRequest{Batch: 1}, ""},
		{"  \r\n", pullRequest{Batch: 1}, ""},
		{"10", pullRequest{Batch: 10}, ""},
		{"abc", pullRequest{Batch: 1}, ""},
		{"0", pullRequest{Batch: 1}, ""},
		{`{"expires":30000000000,"batch":5,"idle_heartbeat":5000000000}`, pullRequest{Batch: 5, Expires: 30 * time.Second, Heartbeat: 5 * time.Second}, ""},
		{`{"batch":3,"no_wait":true}`, pullRequest{Batch: 3, NoWait: true}, ""},
		{`{"batch":2,"max_bytes":100,"expires":1000,"group":"g","min_pending":3,"priority":2,"id":"x","unknown":1}`,
			pullRequest{Batch: 2, MaxBytes: 100, Expires: 1000, Group: "g", MinPending: 3, Priority: 2, ID: "x"}, ""},
		{`{"expires":1000}`, pullRequest{Batch: 1, Expires: 1000}, ""},
		{`{"idle_heartbeat":1000}`, pullRequest{}, "heartbeat value too large"},
		{`{"idle_heartbeat":1000,"expires":1999}`, pullRequest{}, "heartbeat value too large"},
		{`{"idle_heartbeat":1000,"expires":2000}`, pullRequest{Batch: 1, Heartbeat: 1000, Expires: 2000}, ""},
		{`{"batch":"x"}`, pullRequest{}, "cannot unmarshal"},
		{`{`, pullRequest{}, "unexpected end"},
	}
	for _, c := range cases {
		got, err := parsePullRequest([]byte(c.body))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v", c.body, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %+v %v", c.body, got, err)
		}
	}
	_, err := parsePullRequest([]byte(`{"idle_heartbeat":1000}`))
	if got := string(badRequestStatus(err.Error()).appendTo(nil)); got != "NATS/1.0 400 Bad Request - heartbeat value too large\r\n\r\n" {
		t.Errorf("bad request: %q", got)
	}
}

func FuzzParsePullRequest(f *testing.F) {
	for _, s := range []string{"", "5", "-3", `{"batch":5}`, `{"expires":1,"idle_heartbeat":1}`,
		`{"batch":1,"max_bytes":-5,"expires":-1}`, "{", `{"no_wait":true}`, "  12  "} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parsePullRequest(b)
		if err != nil {
			return
		}
		if req.Batch < 1 || req.Expires < 0 || req.MaxBytes < 0 || req.Heartbeat < 0 {
			t.Fatalf("%q: %+v", b, req)
		}
		if req.Heartbeat > 0 && req.Heartbeat*2 > req.Expires {
			t.Fatalf("%q: heartbeat accepted %+v", b, req)
		}
	})
}

func TestStatusBlocks(t *testing.T) {
	cases := []struct {
		st   pullStatus
		want string
	}{
		{requestTimeoutStatus(1, 0), "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\nNats-Pending-Bytes: 0\r\n\r\n"},
		{noMessagesStatus(), "NATS/1.0 404 No Messages\r\n\r\n"},
		{requestsPendingStatus(), "NATS/1.0 408 Requests Pending\r\n\r\n"},
		{maxBytesStatus(3, 10), "NATS/1.0 409 Message Size Exceeds MaxBytes\r\nNats-Pending-Messages: 3\r\nNats-Pending-Bytes: 10\r\n\r\n"},
		{batchCompletedStatus(0, 7), "NATS/1.0 409 Batch Completed\r\nNats-Pending-Messages: 0\r\nNats-Pending-Bytes: 7\r\n\r\n"},
		{maxWaitingStatus(), "NATS/1.0 409 Exceeded MaxWaiting\r\n\r\n"},
		{consumerDeletedStatus(), "NATS/1.0 409 Consumer Deleted\r\n\r\n"},
		{pushBasedStatus(), "NATS/1.0 409 Consumer is push based\r\n\r\n"},
		{leadershipStatus(), "NATS/1.0 409 Leadership Change\r\n\r\n"},
		{exceededBatchStatus(10), "NATS/1.0 409 Exceeded MaxRequestBatch of 10\r\n\r\n"},
		{exceededExpiresStatus(time.Second), "NATS/1.0 409 Exceeded MaxRequestExpires of 1s\r\n\r\n"},
		{exceededMaxBytesStatus(512), "NATS/1.0 409 Exceeded MaxRequestMaxBytes of 512\r\n\r\n"},
	}
	for _, c := range cases {
		if got := string(c.st.appendTo(nil)); got != c.want {
			t.Errorf("got %q want %q", got, c.want)
		}
	}
	if got := string(appendIdleHeartbeat(nil, 4, 9, "")); got != "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 4\r\nNats-Last-Stream: 9\r\n\r\n" {
		t.Errorf("heartbeat %q", got)
	}
	if got := string(appendIdleHeartbeat(nil, 0, 0, "$JS.FC.S.C.abcd")); got != "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 0\r\nNats-Last-Stream: 0\r\nNats-Consumer-Stalled: $JS.FC.S.C.abcd\r\n\r\n" {
		t.Errorf("stalled heartbeat %q", got)
	}
	if got := string(appendFlowControlRequest(nil)); got != "NATS/1.0 100 FlowControl Request\r\n\r\n" {
		t.Errorf("fc %q", got)
	}
	if flowControlReply("S", "C", "ab12") != "$JS.FC.S.C.ab12" {
		t.Error("fc reply")
	}
	buf := make([]byte, 0, 256)
	st := requestTimeoutStatus(5, 100)
	if n := testing.AllocsPerRun(100, func() {
		buf = st.appendTo(buf[:0])
		buf = appendIdleHeartbeat(buf[:0], 1, 2, "")
	}); n != 0 {
		t.Errorf("status allocs %v", n)
	}
}

func TestPullQueueRoundRobinAndBatch(t *testing.T) {
	q := newPullQueue(pullLimits{MaxWaiting: 4})
	q.add("a", pullRequest{Batch: 2}, t0, 0)
	q.add("b", pullRequest{Batch: 1}, t0, 0)
	var got []string
	var done []bool
	for {
		p, ok, out := q.next(10, t0, nil, nil)
		if len(out) != 0 {
			t.Fatalf("unexpected statuses %v", out)
		}
		if !ok {
			break
		}
		got = append(got, p.Reply)
		done = append(done, p.Done)
		if p.SendAfter {
			t.Fatal("batch completed without max_bytes")
		}
	}
	if strings.Join(got, "") != "aba" || done[0] || !done[1] || !done[2] || q.len() != 0 {
		t.Fatalf("order %v done %v", got, done)
	}
}

func TestPullQueueMaxBytes(t *testing.T) {
	q := newPullQueue(pullLimits{})
	q.add("a", pullRequest{Batch: 5, MaxBytes: 25}, t0, 0)
	p, ok, _ := q.next(10, t0, nil, nil)
	if !ok || p.Done {
		t.Fatal("first")
	}
	p, ok, _ = q.next(15, t0, nil, nil) // exactly uses the bytes: last one
	if !ok || !p.Done || p.SendAfter {
		t.Fatalf("exact fit %+v", p)
	}
	q.add("b", pullRequest{Batch: 5, MaxBytes: 25}, t0, 0)
	_, ok, out := q.next(30, t0, nil, nil)
	if ok || len(out) != 1 || string(out[0].Status.appendTo(nil)) != "NATS/1.0 409 Message Size Exceeds MaxBytes\r\nNats-Pending-Messages: 5\r\nNats-Pending-Bytes: 25\r\n\r\n" {
		t.Fatalf("too big: %v %+v", ok, out)
	}
	q.add("c", pullRequest{Batch: 1, MaxBytes: 100}, t0, 0)
	p, ok, _ = q.next(10, t0, nil, nil)
	if !ok || !p.Done || !p.SendAfter || string(p.After.appendTo(nil)) != "NATS/1.0 409 Batch Completed\r\nNats-Pending-Messages: 0\r\nNats-Pending-Bytes: 90\r\n\r\n" {
		t.Fatalf("batch completed %+v", p)
	}
}

func TestPullQueueLimitsAndNoWait(t *testing.T) {
	q := newPullQueue(pullLimits{MaxWaiting: 1, MaxBatch: 10, MaxExpires: time.Minute, MaxMaxBytes: 100})
	check := func(req pullRequest, avail uint64, want string) {
		t.Helper()
		st, send := q.add("r", req, t0, avail)
		got := ""
		if send {
			got = string(st.appendTo(nil))
		}
		if got != want {
			t.Errorf("%+v: %q want %q", req, got, want)
		}
	}
	check(pullRequest{Batch: 11}, 0, "NATS/1.0 409 Exceeded MaxRequestBatch of 10\r\n\r\n")
	check(pullRequest{Batch: 1, Expires: time.Hour}, 0, "NATS/1.0 409 Exceeded MaxRequestExpires of 1m0s\r\n\r\n")
	check(pullRequest{Batch: 1, MaxBytes: 101}, 0, "NATS/1.0 409 Exceeded MaxRequestMaxBytes of 100\r\n\r\n")
	check(pullRequest{Batch: 1, NoWait: true}, 0, "NATS/1.0 404 No Messages\r\n\r\n")
	check(pullRequest{Batch: 5}, 0, "")
	check(pullRequest{Batch: 1, NoWait: true}, 2, "NATS/1.0 408 Requests Pending\r\n\r\n")
	check(pullRequest{Batch: 1}, 0, "NATS/1.0 409 Exceeded MaxWaiting\r\n\r\n")
	check(pullRequest{Batch: 1, Heartbeat: time.Second, Expires: 5 * time.Second}, 0, "") // silent drop
	if q.len() != 1 || q.batchPending() != 5 {
		t.Fatalf("len %d pending %d", q.len(), q.batchPending())
	}
	out := q.drain(consumerDeletedStatus(), nil)
	if len(out) != 1 || out[0].Reply != "r" || q.len() != 0 {
		t.Fatalf("drain %+v", out)
	}
}

func TestPullQueueSweep(t *testing.T) {
	q := newPullQueue(pullLimits{})
	q.add("exp", pullRequest{Batch: 3, Expires: time.Second, MaxBytes: 50}, t0, 0)
	q.add("nw", pullRequest{Batch: 2, NoWait: true, Expires: 10 * time.Second}, t0, 5)
	q.add("nw0", pullRequest{Batch: 2, NoWait: true}, t0, 5)
	q.add("gone", pullRequest{Batch: 1}, t0, 0)
	q.add("hb", pullRequest{Batch: 1, Expires: 10 * time.Second, Heartbeat: 2 * time.Second}, t0, 0)
	interest := func(r string) bool { return r != "gone" }

	out, hbs, wake := q.sweep(t0.Add(time.Second), false, interest, nil, nil)
	if len(out) != 1 || out[0].Reply != "exp" || string(out[0].Status.appendTo(nil)) != "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 3\r\nNats-Pending-Bytes: 50\r\n\r\n" {
		t.Fatalf("expiry %+v", out)
	}
	if len(hbs) != 0 || !wake.Equal(t0.Add(2*time.Second)) || q.len() != 3 {
		t.Fatalf("hbs %v wake %v len %d", hbs, wake, q.len())
	}
	// End of stream: the no_wait request without expiry gets 404; the one
	// with expiry waits (nothing delivered yet).
	out, hbs, _ = q.sweep(t0.Add(2*time.Second), true, interest, nil, nil)
	if len(out) != 1 || out[0].Reply != "nw0" || out[0].Status != noMessagesStatus() {
		t.Fatalf("eos %+v", out)
	}
	if len(hbs) != 1 || hbs[0] != "hb" {
		t.Fatalf("heartbeat due %v", hbs)
	}
	// Deliver one to "nw": now end of stream answers it with 404.
	p, ok, _ := q.next(1, t0.Add(2*time.Second), interest, nil)
	if !ok || p.Reply != "nw" {
		t.Fatalf("pick %+v", p)
	}
	out, _, _ = q.sweep(t0.Add(2*time.Second), true, interest, nil, nil)
	if len(out) != 1 || out[0].Reply != "nw" {
		t.Fatalf("nw after delivery %+v", out)
	}
	// A delivery pushes the heartbeat back.
	q.add("hb2", pullRequest{Batch: 3, Expires: 20 * time.Second, Heartbeat: 4 * time.Second}, t0.Add(2*time.Second), 0)
	q.next(1, t0.Add(2*time.Second), interest, nil) // goes to "hb" (done)
	q.next(1, t0.Add(5*time.Second), interest, nil) // goes to "hb2"
	_, hbs, wake = q.sweep(t0.Add(6*time.Second), false, interest, nil, nil)
	if len(hbs) != 0 || !wake.Equal(t0.Add(9*time.Second)) {
		t.Fatalf("hb reset: %v %v", hbs, wake)
	}
	// Expired requests met by next are answered too.
	q.credit("hb2")
	_, ok, out = q.next(1, t0.Add(30*time.Second), interest, nil)
	if ok || len(out) != 1 || string(out[0].Status.appendTo(nil)) != "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 3\r\nNats-Pending-Bytes: 0\r\n\r\n" {
		t.Fatalf("expired at next: %v %+v", ok, out)
	}
	if !q.lastActive().Equal(t0.Add(22 * time.Second)) {
		t.Fatalf("last active %v", q.lastActive())
	}
}
