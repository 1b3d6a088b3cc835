package ratelog

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Options configures a Limiter. Zero fields take the defaults.
type Options struct {
	// Interval is how often a summary of suppressed lines is written.
	// Default 1 minute.
	Interval time.Duration
	// MaxKeys bounds the distinct keys remembered (memory). Default 10,000.
	MaxKeys int
}

// Defaults for Options.
const (
	DefaultInterval = time.Minute
	DefaultMaxKeys  = 10_000
)

// Limiter rate-limits log lines by key. Safe for concurrent use.
type Limiter struct {
	log  *slog.Logger
	opts Options

	mu     sync.Mutex
	seen   map[string]struct{}
	counts map[string]*suppressed // by message
	timer  *time.Timer
	closed bool
}

type suppressed struct {
	level slog.Level
	n     int
}

// New returns a Limiter writing to log.
func New(log *slog.Logger, opts Options) *Limiter {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	return &Limiter{log: log, opts: opts, seen: make(map[string]struct{}), counts: make(map[string]*suppressed)}
}

// Log writes msg at level the first time key is seen; later events for
// key are counted into the next summary.
func (l *Limiter) Log(level slog.Level, msg, key string, attrs ...any) {
	l.mu.Lock()
	if _, ok := l.seen[key]; !ok && len(l.seen) < l.opts.MaxKeys && !l.closed {
		l.seen[key] = struct{}{}
		l.mu.Unlock()
		l.log.Log(context.Background(), level, msg, attrs...)
		return
	}
	if l.closed {
		l.mu.Unlock()
		return
	}
	sp := l.counts[msg]
	if sp == nil {
		sp = &suppressed{level: level}
		l.counts[msg] = sp
	}
	sp.n++
	if l.timer == nil {
		l.timer = time.AfterFunc(l.opts.Interval, l.summarize)
	}
	l.mu.Unlock()
}

// Forget drops key, so that its next event is logged again (a peer that
// was refused and then admitted).
func (l *Limiter) Forget(key string) {
	l.mu.Lock()
	delete(l.seen, key)
	l.mu.Unlock()
}

// summarize writes one line per suppressed message.
func (l *Limiter) summarize() {
	l.mu.Lock()
	counts := l.counts
	l.counts = make(map[string]*suppressed)
	l.timer = nil
	l.mu.Unlock()
	msgs := make([]string, 0, len(counts))
	for m := range counts {
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	for _, m := range msgs {
		sp := counts[m]
		l.log.Log(context.Background(), sp.level, m+" (repeats suppressed)", "count", sp.n, "interval", l.opts.Interval)
	}
}

// Close writes the pending summary; later events are dropped.
func (l *Limiter) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	t := l.timer
	l.mu.Unlock()
	if t != nil && t.Stop() {
		l.summarize()
	}
}
