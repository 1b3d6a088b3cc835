package fern

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/fernmq/fern/internal/compress"
	"github.com/fernmq/fern/protocol"
)

// Transport changes mid-connection. A connection starts in the clear; its
// handshake can then switch it to TLS (after the INFO that says
// tls_required) and to an S2 stream (after the INFOs that negotiate
// compression). c.nc stays the raw connection (close, deadlines); c.rd and
// c.wr are the layers reads and writes go through.
//
// The switch happens between two ops: the handler of the op that starts
// it sets c.upgrade and returns errSwitch, which pauses the parser; the
// read loop then runs the upgrade with the bytes that followed the op
// (for S2 they are already compressed). An upgrade holds the writer,
// writes what was queued before the switch on the old layer, installs the
// new layers and releases the writer.

const reasonTLSHandshake closeReason = "TLS handshake error"

// errSwitch is returned by a handler that set c.upgrade.
var errSwitch = fmt.Errorf("fern: switching transport: %w", protocol.ErrPause)

// runUpgrade runs the pending upgrade (and any it chains), then flushes
// what the pass queued. It reports false when the connection is closing.
func (c *client) runUpgrade(rest []byte) bool {
	for c.upgrade != nil {
		up := c.upgrade
		c.upgrade = nil
		err := up(rest)
		rest = nil
		switch {
		case err == nil, errors.Is(err, protocol.ErrPause):
		case errors.Is(err, errStop):
			c.flushQueued()
			return false
		default:
			c.srv.refusals.Log(slog.LevelWarn, "connection upgrade failed", "upgrade "+c.ip, "cid", c.cid, "addr", c.ip, "err", err)
			c.closeNow(reasonTLSHandshake)
			return false
		}
	}
	c.flushQueued()
	return true
}

// holdOutput waits for the writer to finish its current write and keeps
// it from starting another until resumeOutput. It returns what was queued
// (taken out of c.out) and the current write layer. Read goroutine only.
func (c *client) holdOutput() ([]byte, io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holdOut = true
	for c.inflight > 0 {
		c.outIdle.Wait()
	}
	var out []byte
	for _, b := range c.outFull {
		out = append(out, b...)
	}
	out = append(out, c.out...)
	c.dropOutLocked()
	return out, c.wr
}

// resumeOutput ends a hold, making w (when not nil) the write layer.
func (c *client) resumeOutput(w io.Writer) {
	c.mu.Lock()
	if w != nil {
		c.wr = w
	}
	c.holdOut = false
	c.mu.Unlock()
	c.signalFlush()
}

// writeHeld writes b on w while the writer is held.
func (c *client) writeHeld(w io.Writer, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteDeadline))
	_, err := w.Write(b)
	return err
}

// startTLS sends what is queued in the clear and runs the TLS handshake,
// as the client (we dialled) or the server. Nothing may have arrived
// after the op that started it: the peer waits for the handshake.
func (c *client) startTLS(rest []byte, cfg *tls.Config, isClient bool, timeout time.Duration) error {
	return c.handshakeTLS(rest, cfg, isClient, timeout, true)
}

// startTLSFirst runs the handshake before anything is sent (routes): what
// is queued goes out encrypted once it is done.
func (c *client) startTLSFirst(cfg *tls.Config, isClient bool, timeout time.Duration) error {
	return c.handshakeTLS(nil, cfg, isClient, timeout, false)
}

func (c *client) handshakeTLS(rest []byte, cfg *tls.Config, isClient bool, timeout time.Duration, clearFirst bool) error {
	if len(rest) > 0 {
		return errors.New("fern: data received before the TLS handshake")
	}
	pending, w := c.holdOutput()
	if clearFirst {
		if err := c.writeHeld(w, pending); err != nil {
			return err // the writer stays held: the connection closes
		}
		pending = nil
	}
	var tc *tls.Conn
	if isClient {
		tc = tls.Client(c.nc, cfg)
	} else {
		tc = tls.Server(c.nc, cfg)
	}
	ctx, cancel := context.WithTimeout(c.srv.ctx, timeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		// The writer stays held, so nothing queued leaks in the clear;
		// the caller closes the connection.
		return fmt.Errorf("TLS handshake: %w", err)
	}
	c.rd = tc
	if len(pending) > 0 {
		// What was queued before the handshake goes first, encrypted,
		// ahead of anything queued meanwhile (the writer is still held).
		c.mu.Lock()
		c.prependLocked(pending)
		c.mu.Unlock()
	}
	c.resumeOutput(tc)
	return nil
}

// startS2 sends what is queued on the current layer, then makes both
// directions an S2 stream, writing at level. rest is what was read after
// the op that started it: already part of the peer's S2 stream. When our
// configured mode (co) is s2_auto, the level follows the round-trip time
// measured by later PINGs (retuneS2).
func (c *client) startS2(rest []byte, level string, co *CompressionOptions) error {
	pending, w := c.holdOutput()
	if err := c.writeHeld(w, pending); err != nil {
		return err // the writer stays held: the connection closes
	}
	r := c.rd
	if len(rest) > 0 {
		r = io.MultiReader(bytes.NewReader(bytes.Clone(rest)), r)
	}
	c.rd = compress.NewReader(r)
	if co.Mode == compress.S2Auto {
		c.mu.Lock()
		c.s2auto = &s2Auto{thresholds: co.RTTThresholds, level: level, base: w}
		c.mu.Unlock()
	}
	c.resumeOutput(compress.NewWriter(w, level))
	c.log.Debug("S2 compression on", "level", level)
	return nil
}

// s2Auto is the state of an s2_auto link: the level it writes at follows
// the measured round-trip time.
type s2Auto struct {
	thresholds []time.Duration
	level      string
	base       io.Writer // the layer under the S2 writer
}

// retuneS2 applies a measured round-trip time to an s2_auto link: a new
// level gets a new S2 writer (a stream may restart with a new identifier
// chunk; the reader takes it). The writer goroutine picks it up at its
// next write. c.mu is held.
func (c *client) retuneS2Locked(rtt time.Duration) {
	a := c.s2auto
	if a == nil || c.holdOut {
		return
	}
	if lvl := compress.AutoLevel(rtt, a.thresholds); lvl != a.level {
		a.level = lvl
		c.wr = compress.NewWriter(a.base, lvl)
		c.log.Debug("S2 level follows the round-trip time", "rtt", rtt, "level", lvl)
	}
}

// negotiateCompression picks the mode this side writes with, from ours
// and the peer's INFO value; s2_auto resolves by the time the handshake
// took so far (about one round trip).
func negotiateCompression(co *CompressionOptions, peer string, since time.Time) (string, error) {
	cm, err := compress.Select(co.Mode, peer)
	if err != nil {
		return "", err
	}
	if cm == compress.S2Auto {
		cm = compress.AutoLevel(time.Since(since), co.RTTThresholds)
	}
	return cm, nil
}

// infoCompression is the mode this side announces after negotiating: its
// configured s2_auto stays s2_auto, otherwise the chosen mode.
func infoCompression(co *CompressionOptions, chosen string) string {
	if co.Mode == compress.S2Auto {
		return compress.S2Auto
	}
	return chosen
}
