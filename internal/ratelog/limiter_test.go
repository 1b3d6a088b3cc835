package ratelog

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuf) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := strings.TrimSpace(w.b.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestLimiter(t *testing.T) {
	cases := []struct {
		name      string
		keys      []string
		maxKeys   int
		wantFirst int // lines written at once
		wantCount string
	}{
		{"one key many times", repeat("10.0.0.1", 10_000), 0, 1, "count=9999"},
		{"distinct keys each once", []string{"a", "b", "c"}, 0, 3, ""},
		{"more keys than MaxKeys", []string{"a", "b", "c", "d", "a"}, 2, 2, "count=3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w lockedBuf
			l := New(slog.New(slog.NewTextHandler(&w, nil)), Options{Interval: time.Hour, MaxKeys: c.maxKeys})
			for _, k := range c.keys {
				l.Log(slog.LevelWarn, "leaf connection refused", k, "addr", k)
			}
			if got := len(w.lines()); got != c.wantFirst {
				t.Fatalf("%d lines before the summary, want %d: %q", got, c.wantFirst, w.lines())
			}
			l.Close()
			lines := w.lines()
			if c.wantCount == "" {
				if len(lines) != c.wantFirst {
					t.Fatalf("a summary with nothing suppressed: %q", lines)
				}
				return
			}
			if len(lines) != c.wantFirst+1 || !strings.Contains(lines[len(lines)-1], c.wantCount) ||
				!strings.Contains(lines[len(lines)-1], "repeats suppressed") {
				t.Fatalf("summary: %q, want one line with %s", lines, c.wantCount)
			}
		})
	}
}

// The summary comes by itself at the end of the interval.
func TestLimiterSummaryTimer(t *testing.T) {
	var w lockedBuf
	l := New(slog.New(slog.NewTextHandler(&w, nil)), Options{Interval: 20 * time.Millisecond})
	defer l.Close()
	for i := 0; i < 5; i++ {
		l.Log(slog.LevelInfo, "refused", "k")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(w.lines()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no summary: %q", w.lines())
		}
		time.Sleep(5 * time.Millisecond) // polling a log; nothing to wait on
	}
	if l := w.lines(); !strings.Contains(l[1], "count=4") {
		t.Fatalf("summary %q, want count=4", l[1])
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
