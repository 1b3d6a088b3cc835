// Package compress holds the S2 compression modes of route and leaf
// connections and the rules that negotiate them, as the official server
// has them:
//
//   - Each side has a configured mode. "off" and "not supported" never
//     compress; "accept" compresses only when the peer asks; "s2_auto"
//     picks a level from the connection's round-trip time; the others are
//     fixed levels (uncompressed framing, fast, better, best).
//   - The mode travels in INFO "compression". Select combines ours with
//     the peer's: off or absent on either side means none, accept on both
//     means none, accept against a level adopts it (s2_auto becomes
//     s2_fast), otherwise each side writes at its own level (compression
//     is asymmetric: the reader does not care which level made a block).
//   - Once both sides agree, each switches its writer and reader to an S2
//     framed stream (github.com/klauspost/compress/s2). Where in the
//     handshake that happens is the host's business (route and leaf
//     differ); this package only answers which mode and builds the
//     writer.
package compress

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
)

// The normalized modes, as spelled on the wire.
const (
	Off            = "off"
	NotSupported   = "not supported"
	Accept         = "accept"
	S2Auto         = "s2_auto"
	S2Uncompressed = "s2_uncompressed"
	S2Fast         = "s2_fast"
	S2Better       = "s2_better"
	S2Best         = "s2_best"
)

// DefaultRTTThresholds returns the s2_auto boundaries: up to 10 ms
// uncompressed, up to 50 ms fast, up to 100 ms better, beyond best.
func DefaultRTTThresholds() []time.Duration {
	return []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond}
}

// ErrMode reports an unknown mode or bad thresholds.
var ErrMode = errors.New("compress: invalid compression mode")

// Normalize maps a configured mode (any official spelling, any case) to
// its wire name; onMode is what "on"/"enabled"/"true" mean for the block
// (s2_fast for clusters, s2_auto for leafs) and empty means def. For
// s2_auto it also checks the thresholds (at most 4, ascending, zeros
// disable a level) and returns them, defaulted.
func Normalize(mode, def, onMode string, rtts []time.Duration) (string, []time.Duration, error) {
	m := strings.ToLower(mode)
	switch m {
	case "":
		m = def
	case "on", "enabled", "true":
		m = onMode
	}
	switch m {
	case "not supported", "not_supported":
		return NotSupported, nil, nil
	case "off", "disabled", "false":
		return Off, nil, nil
	case "accept":
		return Accept, nil, nil
	case "fast", "s2_fast":
		return S2Fast, nil, nil
	case "better", "s2_better":
		return S2Better, nil, nil
	case "best", "s2_best":
		return S2Best, nil, nil
	case "uncompressed", "s2_uncompressed":
		return S2Uncompressed, nil, nil
	case "auto", "s2_auto":
		t, err := thresholds(rtts)
		if err != nil {
			return "", nil, err
		}
		return S2Auto, t, nil
	}
	return "", nil, fmt.Errorf("%w %q", ErrMode, mode)
}

func thresholds(rtts []time.Duration) ([]time.Duration, error) {
	if len(rtts) == 0 {
		return DefaultRTTThresholds(), nil
	}
	out := make([]time.Duration, 0, len(rtts))
	var last time.Duration
	for _, d := range rtts {
		d = max(d, 0)
		if d != 0 && d < last {
			return nil, fmt.Errorf("%w: RTT thresholds %v must ascend", ErrMode, rtts)
		}
		if d != 0 {
			last = d
		}
		out = append(out, d)
	}
	for len(out) > 0 && out[len(out)-1] == 0 {
		out = out[:len(out)-1]
	}
	switch {
	case len(out) == 0:
		return nil, fmt.Errorf("%w: s2_auto needs at least one non-zero RTT threshold", ErrMode)
	case len(out) > 4:
		return nil, fmt.Errorf("%w: at most 4 RTT thresholds, got %v", ErrMode, rtts)
	}
	return out, nil
}

// Wants reports whether a normalized mode takes part in negotiation.
func Wants(mode string) bool { return mode != "" && mode != Off && mode != NotSupported }

// Select combines our mode (which Wants) with the peer's INFO value. The
// result is NotSupported or Off (no compression), or the mode this side
// writes with (possibly S2Auto: resolve it with AutoLevel).
func Select(ours, peer string) (string, error) {
	switch peer {
	case "", NotSupported:
		return NotSupported, nil
	case Off:
		return Off, nil
	case Accept:
		if ours == Accept {
			return Off, nil
		}
		return ours, nil
	case S2Auto, S2Uncompressed, S2Fast, S2Better, S2Best:
		if ours != Accept {
			return ours, nil
		}
		if peer == S2Auto {
			return S2Fast, nil
		}
		return peer, nil
	}
	return "", fmt.Errorf("%w %q from peer", ErrMode, peer)
}

// AutoLevel is the s2_auto level for a round-trip time: the first
// threshold the RTT does not exceed picks uncompressed, fast, better or
// best in that order (a zero threshold is never picked); beyond all of
// them, best (or the last level listed when fewer than 3 are given).
func AutoLevel(rtt time.Duration, rtts []time.Duration) string {
	idx := -1
	for i, d := range rtts {
		if d != 0 && rtt <= d {
			idx = i
			break
		}
	}
	if idx < 0 {
		idx = len(rtts) - 1
		if len(rtts) >= 3 {
			idx = 3
		}
	}
	return [...]string{S2Uncompressed, S2Fast, S2Better, S2Best}[max(idx, 0)]
}

// Compresses reports whether a selected mode means an S2 stream.
func Compresses(mode string) bool { return Wants(mode) && mode != Accept }

// Writer is an S2 stream writer that frames and flushes every Write, so a
// batch handed to it reaches the connection at once. It is not safe for
// concurrent use (a connection has one writer goroutine).
type Writer struct{ w *s2.Writer }

// NewWriter returns a Writer at a level (S2Uncompressed, S2Fast,
// S2Better or S2Best) over w.
func NewWriter(w io.Writer, level string) *Writer {
	opts := []s2.WriterOption{s2.WriterConcurrency(1)}
	switch level {
	case S2Uncompressed:
		opts = append(opts, s2.WriterUncompressed())
	case S2Better:
		opts = append(opts, s2.WriterBetterCompression())
	case S2Best:
		opts = append(opts, s2.WriterBestCompression())
	}
	return &Writer{w: s2.NewWriter(w, opts...)}
}

// Write compresses p and flushes it to the underlying writer.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		return n, err
	}
	return n, w.w.Flush()
}

// NewReader returns a reader of an S2 stream from r.
func NewReader(r io.Reader) io.Reader { return s2.NewReader(r) }
