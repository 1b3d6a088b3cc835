package ws

import (
	"bufio"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

const (
	// maxWriteFrame caps the payload of an unmasked frame we write; frames
	// under 64 KiB carry a 16-bit length, which nats.go never size-checks.
	maxWriteFrame = 0xFFFF
	// smallWrite is the size of the buffer an unmasked frame is copied
	// into when it fits, so header and payload leave in one write.
	smallWrite = 4096
	// maskedBuf is the size of the buffer masked frames are built in;
	// a masked frame's payload is at most maskedBuf-8 (header and key).
	maskedBuf = 64 << 10
)

// conn is a WebSocket connection seen as a byte stream. Reads come from one
// goroutine at a time and writes from one goroutine at a time, as for any
// net.Conn; Read and Write may run concurrently with each other and with
// Close.
type conn struct {
	nc           net.Conn
	closeTimeout time.Duration
	closing      atomic.Bool

	// Read side: owned by the reading goroutine.
	fr      frameReader
	pre     []byte // bytes read past the handshake, decoded first
	rerr    error  // sticky: protocol error or peer's close
	pendErr error  // error of the underlying read, returned once after data

	// Write side: guarded by wmu.
	wmu       sync.Mutex
	mask      bool
	rng       *mrand.ChaCha8 // masking keys; nil when not masking
	whdr      [maxHeaderLen]byte
	wbuf      []byte // smallWrite (unmasked) or maskedBuf (masked) bytes, made on first use
	wvec      [2][]byte
	wbufs     net.Buffers
	wctl      [maxControlPayload]byte
	werr      error // sticky: the stream was cut inside a frame
	closeSent bool

	// Control frames queued by the reader, guarded by ctlMu. ctlPending is
	// set while either is queued, so a writer can check without the lock.
	ctlMu      sync.Mutex
	ctlPending atomic.Bool
	pongQueued bool
	pongLen    int
	pong       [maxControlPayload]byte
	closeQd    bool
	closeLen   int
	closeMsg   [maxControlPayload]byte
}

func newConn(nc net.Conn, client, mask, requireMask bool, maxFrame int64, closeTimeout time.Duration) *conn {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrameSize
	}
	if closeTimeout <= 0 {
		closeTimeout = defaultCloseTimeout
	}
	c := &conn{nc: nc, closeTimeout: closeTimeout, mask: mask}
	c.fr.init(uint64(maxFrame), requireMask, client)
	if mask {
		var seed [32]byte
		_, _ = crand.Read(seed[:]) // crypto/rand.Read never fails (Go 1.24+)
		c.rng = mrand.NewChaCha8(seed)
	}
	return c
}

// takeBuffered keeps what the handshake reader read past the handshake.
func (c *conn) takeBuffered(br *bufio.Reader) {
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		c.pre = append([]byte(nil), b...)
	}
}

// Read returns payload bytes of data frames. It reads raw bytes into p and
// decodes them there, so it never returns more than the stream carried.
func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.rerr != nil {
			return 0, c.rerr
		}
		if err := c.pendErr; err != nil {
			c.pendErr = nil
			return 0, err
		}
		var n int
		var err error
		if len(c.pre) > 0 {
			n = copy(p, c.pre)
			if c.pre = c.pre[n:]; len(c.pre) == 0 {
				c.pre = nil
			}
		} else {
			n, err = c.nc.Read(p)
		}
		out, derr := c.decode(p[:n])
		if derr != nil {
			c.rerr = derr
		} else if err != nil {
			if err == io.EOF && (c.fr.state != stateHeader || c.fr.hlen > 0 || c.fr.inMsg) {
				err = io.ErrUnexpectedEOF
			}
			c.pendErr = err
		}
		if out > 0 {
			return out, nil
		}
	}
}

// decode runs the frame reader over raw bytes, handling control frames as
// they complete, and returns the number of payload bytes left at buf[:out].
func (c *conn) decode(buf []byte) (int, error) {
	i, out := 0, 0
	for i < len(buf) {
		var ctl bool
		var err error
		i, out, ctl, err = c.fr.decode(buf, i, out)
		if err != nil {
			code := closeProtocolError
			if errors.Is(err, ErrFrameTooLarge) {
				code = closeMessageTooBig
			}
			c.queueClose(code)
			return out, err
		}
		if ctl {
			if err := c.handleControl(); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// handleControl acts on the control frame the reader just completed.
func (c *conn) handleControl() error {
	op, payload := c.fr.control()
	switch op {
	case opPing:
		c.ctlMu.Lock()
		c.pongLen = copy(c.pong[:], payload)
		c.pongQueued = true
		c.ctlPending.Store(true)
		c.ctlMu.Unlock()
		c.kickControl()
	case opClose:
		switch {
		case len(payload) == 0:
			c.queueCloseMsg(nil)
		case len(payload) == 1:
			c.queueClose(closeProtocolError)
			return protocolError("close frame with a 1-byte payload")
		case !validCloseCode(int(binary.BigEndian.Uint16(payload))):
			c.queueClose(closeProtocolError)
			return protocolError("invalid close status %d", binary.BigEndian.Uint16(payload))
		case !utf8.Valid(payload[2:]):
			c.queueClose(closeInvalidPayload)
		default:
			c.queueCloseMsg(payload[:2]) // echo the status code
		}
		return io.EOF
	}
	return nil
}

// queueClose queues a close frame with a status code.
func (c *conn) queueClose(code int) {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], uint16(code))
	c.queueCloseMsg(b[:])
}

func (c *conn) queueCloseMsg(payload []byte) {
	c.ctlMu.Lock()
	if !c.closeQd {
		c.closeLen = copy(c.closeMsg[:], payload)
		c.closeQd = true
		c.ctlPending.Store(true)
	}
	c.ctlMu.Unlock()
	c.kickControl()
}

// kickControl writes queued control frames if no Write holds the lock; a
// Write that holds it sends them itself, and calls kickControl after
// releasing it in case more were queued meanwhile.
func (c *conn) kickControl() {
	for c.ctlPending.Load() && c.wmu.TryLock() {
		err := c.flushControlLocked()
		c.wmu.Unlock()
		if err != nil {
			return
		}
	}
}

// flushControlLocked writes the queued control frames, PONG first. It
// returns the write error when one stays queued because the write deadline
// had already passed (to be retried by the next Write).
func (c *conn) flushControlLocked() error {
	for {
		c.ctlMu.Lock()
		var op byte
		var n int
		switch {
		case c.pongQueued:
			op, n, c.pongQueued = opPong, copy(c.wctl[:], c.pong[:c.pongLen]), false
		case c.closeQd:
			op, n, c.closeQd = opClose, copy(c.wctl[:], c.closeMsg[:c.closeLen]), false
		default:
			c.ctlPending.Store(false)
			c.ctlMu.Unlock()
			return nil
		}
		c.ctlMu.Unlock()
		if c.werr != nil || c.closeSent {
			continue // dropped: the stream is over
		}
		started, err := c.writeFrameLocked(op, c.wctl[:n])
		if err == nil {
			c.closeSent = op == opClose
			continue
		}
		if !started && c.werr == nil {
			c.requeue(op, c.wctl[:n])
			return err
		}
	}
}

// requeue puts back a control frame that could not be written, unless a
// newer one of its kind was queued meanwhile.
func (c *conn) requeue(op byte, payload []byte) {
	c.ctlMu.Lock()
	switch {
	case op == opPong && !c.pongQueued:
		c.pongLen, c.pongQueued = copy(c.pong[:], payload), true
	case op == opClose && !c.closeQd:
		c.closeLen, c.closeQd = copy(c.closeMsg[:], payload), true
	}
	c.ctlPending.Store(true)
	c.ctlMu.Unlock()
}

// Write sends p as binary frames (one, unless p is longer than a frame may
// be). It returns len(p) or an error; after an error inside a frame every
// later Write fails, since the stream can no longer be framed.
func (c *conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	n, err := c.writeLocked(p)
	c.wmu.Unlock()
	if c.ctlPending.Load() {
		c.kickControl()
	}
	return n, err
}

func (c *conn) writeLocked(p []byte) (int, error) {
	if c.ctlPending.Load() {
		if err := c.flushControlLocked(); err != nil {
			return 0, err
		}
	}
	if c.werr != nil {
		return 0, c.werr
	}
	if c.closeSent {
		return 0, ErrCloseSent
	}
	limit := maxWriteFrame
	if c.mask {
		limit = maskedBuf - 8
	}
	written := 0
	for written < len(p) {
		chunk := p[written:]
		if len(chunk) > limit {
			chunk = chunk[:limit]
		}
		if _, err := c.writeFrameLocked(opBinary, chunk); err != nil {
			return written, err
		}
		written += len(chunk)
	}
	return written, nil
}

// writeFrameLocked writes one frame. It reports whether any byte of it
// reached the connection; if some did and the write failed, the stream is
// broken and werr is set. A write that fails before sending anything
// because of a deadline leaves the stream intact.
func (c *conn) writeFrameLocked(op byte, payload []byte) (bool, error) {
	var n int64
	var err error
	switch {
	case c.mask:
		if c.wbuf == nil {
			c.wbuf = make([]byte, maskedBuf)
		}
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], uint32(c.rng.Uint64()))
		h := putHeader(c.wbuf, op, true, key, len(payload))
		maskCopy(c.wbuf[h:], payload, key)
		var k int
		k, err = c.nc.Write(c.wbuf[:h+len(payload)])
		n = int64(k)
	case len(payload)+4 <= smallWrite:
		if c.wbuf == nil {
			c.wbuf = make([]byte, smallWrite)
		}
		h := putHeader(c.wbuf, op, false, [4]byte{}, len(payload))
		copy(c.wbuf[h:], payload)
		var k int
		k, err = c.nc.Write(c.wbuf[:h+len(payload)])
		n = int64(k)
	default:
		h := putHeader(c.whdr[:], op, false, [4]byte{}, len(payload))
		c.wvec = [2][]byte{c.whdr[:h], payload}
		c.wbufs = c.wvec[:]
		n, err = c.wbufs.WriteTo(c.nc)
		c.wvec, c.wbufs = [2][]byte{}, nil
	}
	if err == nil {
		return true, nil
	}
	if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		c.werr = err
	}
	return n > 0, err
}

// Close sends a close frame (status 1000, or the answer to the peer's close
// or protocol error) unless a Write is in progress, waiting at most
// CloseTimeout, then closes the underlying connection.
func (c *conn) Close() error {
	if c.closing.Swap(true) {
		return c.nc.Close()
	}
	if c.wmu.TryLock() {
		if c.werr == nil && !c.closeSent {
			c.queueCloseIfNone(closeNormal)
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.closeTimeout))
			_ = c.flushControlLocked()
		}
		c.wmu.Unlock()
	}
	return c.nc.Close()
}

// queueCloseIfNone queues a close frame without trying to send it.
func (c *conn) queueCloseIfNone(code int) {
	c.ctlMu.Lock()
	if !c.closeQd {
		binary.BigEndian.PutUint16(c.closeMsg[:], uint16(code))
		c.closeLen, c.closeQd = 2, true
		c.ctlPending.Store(true)
	}
	c.ctlMu.Unlock()
}

func (c *conn) LocalAddr() net.Addr                { return c.nc.LocalAddr() }
func (c *conn) RemoteAddr() net.Addr               { return c.nc.RemoteAddr() }
func (c *conn) SetDeadline(t time.Time) error      { return c.nc.SetDeadline(t) }
func (c *conn) SetReadDeadline(t time.Time) error  { return c.nc.SetReadDeadline(t) }
func (c *conn) SetWriteDeadline(t time.Time) error { return c.nc.SetWriteDeadline(t) }
