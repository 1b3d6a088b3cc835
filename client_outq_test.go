package fern

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// shortWriter accepts at most max bytes a call (like a socket with a
// small buffer) and records them.
type shortWriter struct {
	got bytes.Buffer
	rnd *rand.Rand
	max int
}

func (w *shortWriter) Write(p []byte) (int, error) {
	n := min(len(p), 1+w.rnd.IntN(w.max))
	w.got.Write(p[:n])
	if n < len(p) {
		return n, io.ErrShortWrite
	}
	return n, nil
}

// TestOutQueueModel checks the block queue against a plain byte slice:
// random messages queued through roomLocked, control lines appended
// without it, bytes put back at the head, and the queue taken and
// written in chunks by a writer that takes random short pieces. What is
// written must be exactly what the model holds, in order, and pooled
// blocks must be reused rather than made anew.
func TestOutQueueModel(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		rnd := rand.New(rand.NewPCG(seed, 0))
		c := &client{srv: &Server{}}
		var model, written []byte
		var msgBytes byte
		for step := 0; step < 400; step++ {
			switch op := rnd.IntN(10); {
			case op < 6: // a message through roomLocked
				n := rnd.IntN(3 * outBlockSize / 2)
				if rnd.IntN(4) > 0 {
					n = rnd.IntN(300)
				}
				msg := make([]byte, n)
				for i := range msg {
					msgBytes++
					msg[i] = msgBytes
				}
				c.roomLocked(len(msg))
				before := cap(c.out)
				c.out = append(c.out, msg...)
				if cap(c.out) != before {
					t.Fatalf("seed %d: the tail regrew after roomLocked(%d)", seed, n)
				}
				model = append(model, msg...)
			case op < 8: // a control line appended directly
				line := []byte("PING\r\n")
				c.out = append(c.out, line...)
				model = append(model, line...)
			case op < 9: // bytes put back at the head
				head := []byte("INFO {}\r\n")
				c.prependLocked(head)
				model = append(head, model...)
			default: // the writer takes and writes everything
				if got := c.queuedLocked(); got != len(model) {
					t.Fatalf("seed %d: queued %d, model %d", seed, got, len(model))
				}
				written = append(written, drainQueue(t, c, rnd)...)
				model = model[:0]
			}
			if got := c.queuedLocked(); got != len(model) {
				t.Fatalf("seed %d step %d: queued %d, model %d", seed, step, got, len(model))
			}
		}
		want := append([]byte(nil), written...)
		want = append(want, model...)
		written = append(written, drainQueue(t, c, rnd)...)
		if !bytes.Equal(written, want) {
			t.Fatalf("seed %d: %d bytes written differ from the %d queued", seed, len(written), len(want))
		}
	}
}

// drainQueue takes the queue and writes it through an outCursor onto a
// short writer, as writeQueued does, and returns what was written.
func drainQueue(t *testing.T, c *client, rnd *rand.Rand) []byte {
	t.Helper()
	taken, n := c.takeOutLocked(nil)
	w := &shortWriter{rnd: rnd, max: 3 * maxWriteChunk / 2}
	oc := &outCursor{bufs: taken}
	for !oc.done() {
		k, _ := oc.chunk().WriteTo(w)
		if k > maxWriteChunk {
			t.Fatalf("a chunk of %d bytes, more than %d", k, maxWriteChunk)
		}
		oc.advance(int(k))
	}
	oc.reset()
	c.srv.blocks.put(taken)
	if w.got.Len() != n {
		t.Fatalf("took %d bytes, wrote %d", n, w.got.Len())
	}
	return w.got.Bytes()
}

// TestBlockPoolTrim checks that the pool keeps what is in use and gives
// back what stayed unused for a whole period.
func TestBlockPoolTrim(t *testing.T) {
	var p blockPool
	blocks := make([][]byte, 8)
	for i := range blocks {
		blocks[i] = p.get()
	}
	p.put(blocks)
	if got := len(p.free); got != 8 {
		t.Fatalf("free %d, want 8", got)
	}
	p.trim() // starts a period: low was 0 after the gets
	b := p.get()
	b2 := p.get()
	p.putOne(b)
	p.putOne(b2)
	// Two blocks were in use during the period: six stayed unused.
	if dropped := p.trim(); dropped != 6*outBlockSize {
		t.Fatalf("dropped %d bytes, want %d", dropped, 6*outBlockSize)
	}
	if dropped := p.trim(); dropped != 2*outBlockSize {
		t.Fatalf("an idle period dropped %d bytes, want %d", dropped, 2*outBlockSize)
	}
	if len(p.free) != 0 {
		t.Fatalf("free %d after idle periods", len(p.free))
	}
	p.putOne(make([]byte, 10)) // not a pooled block: ignored
	if len(p.free) != 0 {
		t.Fatal("a foreign buffer entered the pool")
	}
}
