package protocol

import (
	"errors"
	"fmt"
	"testing"
)

// pauser pauses after the op number pauseAt (1-based) and records all ops.
type pauser struct {
	recorder
	pauseAt int
	n       int
}

func (p *pauser) HandleOp(f *Frame) error {
	if err := p.recorder.HandleOp(f); err != nil {
		return err
	}
	p.n++
	if p.n == p.pauseAt {
		return fmt.Errorf("switch transport: %w", ErrPause)
	}
	return nil
}

// TestParsePausable splits a stream at every offset and pauses after each
// op in turn: ParsePausable must report exactly the bytes up to the end of
// the pausing op, and parsing the rest afterwards must yield the same ops
// as an unpaused parse.
func TestParsePausable(t *testing.T) {
	ops := []string{"INFO {\"a\":1}\r\n", "PUB foo 5\r\nhello\r\n", "PING\r\n", "INFO {}\r\n", "MSG bar 1 2\r\nhi\r\n"}
	var stream []byte
	var ends []int // offsets where each op ends
	for _, op := range ops {
		stream = append(stream, op...)
		ends = append(ends, len(stream))
	}
	want, err, _ := parseChunks(Config{Accept: ClientOps | ServerOps}, stream)
	if err != nil || len(want) != len(ends) {
		t.Fatalf("baseline: %v, %d ops", err, len(want))
	}
	for pauseAt := 1; pauseAt <= len(ends); pauseAt++ {
		for split := 0; split <= len(stream); split++ {
			p := NewParser(Config{Accept: ClientOps | ServerOps})
			h := &pauser{pauseAt: pauseAt}
			consumed, paused := 0, false
			for _, chunk := range [][]byte{stream[:split], stream[split:]} {
				for len(chunk) > 0 {
					n, err := p.ParsePausable(chunk, h)
					if err != nil && !errors.Is(err, ErrPause) {
						t.Fatalf("pause %d split %d: %v", pauseAt, split, err)
					}
					consumed += n
					if err != nil {
						if paused {
							t.Fatalf("pause %d split %d: paused twice", pauseAt, split)
						}
						paused = true
						if consumed != ends[pauseAt-1] {
							t.Fatalf("pause %d split %d: consumed %d, want %d", pauseAt, split, consumed, ends[pauseAt-1])
						}
						if p.Buffered() != 0 {
							t.Fatalf("pause %d split %d: %d bytes still buffered", pauseAt, split, p.Buffered())
						}
					}
					chunk = chunk[n:]
				}
			}
			if !paused {
				t.Fatalf("pause %d split %d: never paused", pauseAt, split)
			}
			if fmt.Sprint(h.got) != fmt.Sprint(want) {
				t.Fatalf("pause %d split %d: ops\n got %v\nwant %v", pauseAt, split, h.got, want)
			}
		}
	}
}

// TestParsePausableOtherErrorsPoison checks that a handler error other
// than ErrPause still fails the parser for good.
func TestParsePausableOtherErrorsPoison(t *testing.T) {
	p := NewParser(Config{})
	boom := errors.New("boom")
	r := &recorder{failAt: 1, failErr: boom}
	if _, err := p.ParsePausable([]byte("PING\r\n"), r); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	if _, err := p.ParsePausable([]byte("PING\r\n"), r); !errors.Is(err, boom) {
		t.Fatalf("parser usable after a failure: %v", err)
	}
}
