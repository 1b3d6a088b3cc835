package jetstream

import (
	"encoding/json"
	"testing"
)

func TestMsgQueueBounds(t *testing.T) {
	q := newMsgQueue()
	m := copyMsg("s", "", nil, make([]byte, 10)) // 11 bytes
	for i := 0; i < 3; i++ {
		if ok, full := q.pushBounded(m, 3, 1000); !ok || full {
			t.Fatalf("push %d refused", i)
		}
	}
	if ok, full := q.pushBounded(m, 3, 1000); ok || !full {
		t.Fatal("fourth message accepted past maxMsgs")
	}
	q.take(nil, 10)
	if ok, _ := q.pushBounded(m, 3, 15); !ok {
		t.Fatal("an empty queue must take one message whatever its size")
	}
	if ok, full := q.pushBounded(m, 3, 15); ok || !full {
		t.Fatal("message accepted past maxBytes")
	}
}

// A stream whose ingest queue is full answers 429 with error 10167, as
// the official server does.
func TestStreamIngestQueueFull(t *testing.T) {
	te := startEngine(t, Config{MaxBufferedMsgs: 1})
	te.mustCreate(`{"name":"Q","subjects":["q.>"]}`)
	inbox := te.subscribe(t, "full.reply")
	te.e.Stream("Q").tooManyRequests("full.reply")
	m := inbox.next()
	if string(m.hdr) != "NATS/1.0 429 Too Many Requests\r\n\r\n" {
		t.Fatalf("header %q", m.hdr)
	}
	var ack struct {
		Error  *APIError `json:"error"`
		Stream string    `json:"stream"`
	}
	if err := json.Unmarshal(m.data, &ack); err != nil || ack.Error == nil || ack.Error.ErrCode != 10167 || ack.Error.Code != 429 || ack.Stream != "Q" {
		t.Fatalf("reply %s", m.data)
	}
}
