package ws

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors returned by the frame reader and the connection.
var (
	// ErrProtocol wraps every violation of RFC 6455 framing by the peer.
	ErrProtocol = errors.New("ws: protocol error")
	// ErrFrameTooLarge is returned when a frame announces a payload over
	// the configured maximum frame size.
	ErrFrameTooLarge = errors.New("ws: frame too large")
	// ErrCloseSent is returned by Write once a close frame has been sent.
	ErrCloseSent = errors.New("ws: close frame already sent")
)

// Opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

const (
	finBit  = 0x80
	rsvBits = 0x70
	maskBit = 0x80

	maxHeaderLen      = 14  // 2 + 8 (64-bit length) + 4 (masking key)
	maxControlPayload = 125 // RFC 6455 section 5.5

	// DefaultMaxFrameSize is the largest frame payload accepted when the
	// options leave MaxFrameSize at zero.
	DefaultMaxFrameSize = 64 << 20
)

// Close status codes (RFC 6455 section 7.4.1).
const (
	closeNormal          = 1000
	closeProtocolError   = 1002
	closeNoStatus        = 1005
	closeInvalidPayload  = 1007
	closeMessageTooBig   = 1009
	closeTLSHandshake    = 1015
	closeFirstReserved   = 1016
	closeLastReserved    = 2999
	closeLastRegistrable = 4999
)

// putHeader writes a frame header with FIN set for a payload of n bytes
// into dst (at least maxHeaderLen long) and returns its length. The
// masking key is written only when masked.
func putHeader(dst []byte, op byte, masked bool, key [4]byte, n int) int {
	dst[0] = finBit | op
	var m byte
	if masked {
		m = maskBit
	}
	h := 2
	switch {
	case n <= 125:
		dst[1] = m | byte(n)
	case n <= 0xFFFF:
		dst[1] = m | 126
		binary.BigEndian.PutUint16(dst[2:], uint16(n))
		h = 4
	default:
		dst[1] = m | 127
		binary.BigEndian.PutUint64(dst[2:], uint64(n))
		h = 10
	}
	if masked {
		copy(dst[h:h+4], key[:])
		h += 4
	}
	return h
}

// maskBytes XORs b in place with key, starting at key offset pos (0..3),
// and returns the key offset after b.
func maskBytes(key [4]byte, pos int, b []byte) int {
	next := (pos + len(b)) & 3
	var rk [4]byte
	for i := range rk {
		rk[i] = key[(pos+i)&3]
	}
	w32 := uint64(binary.LittleEndian.Uint32(rk[:]))
	w := w32 | w32<<32
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^w)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= rk[i&3]
	}
	return next
}

// maskCopy writes src XOR key (from key offset 0) into dst, which must be
// at least as long as src.
func maskCopy(dst, src []byte, key [4]byte) {
	w32 := uint64(binary.LittleEndian.Uint32(key[:]))
	w := w32 | w32<<32
	dst = dst[:len(src)]
	for len(src) >= 8 {
		binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(src)^w)
		src, dst = src[8:], dst[8:]
	}
	for i := range src {
		dst[i] = src[i] ^ key[i&3]
	}
}

// readState says what the next bytes of the stream are.
type readState uint8

const (
	stateHeader  readState = iota // frame header bytes, collected in hdr
	stateData                     // payload of a data frame, passed through
	stateControl                  // payload of a control frame, collected in ctl
)

// frameReader is the pure, resumable frame decoder behind conn.Read. It
// never allocates and owns no buffer that grows: a header split across
// reads waits in hdr, a control payload in ctl.
type frameReader struct {
	maxFrame    uint64
	requireMask bool // server side: client frames must be masked
	forbidMask  bool // client side: server frames must not be masked

	state readState
	hdr   [maxHeaderLen]byte
	hlen  int // bytes collected in hdr
	hneed int // header length, known once hdr[0:2] are in

	op     byte // opcode of the current frame
	fin    bool
	masked bool
	key    [4]byte
	mpos   int    // masking key offset for the next payload byte
	rem    uint64 // payload bytes left in the current data frame
	inMsg  bool   // a fragmented data message awaits continuation frames

	ctl   [maxControlPayload]byte
	clen  int // control payload bytes collected
	cneed int // control payload length
}

func (r *frameReader) init(maxFrame uint64, requireMask, forbidMask bool) {
	*r = frameReader{maxFrame: maxFrame, requireMask: requireMask, forbidMask: forbidMask, hneed: 2}
}

// control returns the opcode and unmasked payload of the control frame that
// decode just reported; the payload is valid until the next decode.
func (r *frameReader) control() (byte, []byte) {
	return r.op, r.ctl[:r.clen]
}

// decode consumes the raw stream bytes p[i:] and moves the payload bytes of
// data frames, unmasked, to p[out:]. It returns the new i and out. It stops
// early, with ctl set, right after a complete control frame (see control),
// so the caller can act on it before going on. Since out <= i always, the
// payload never overwrites bytes not yet decoded. After an error the reader
// must not be used again.
func (r *frameReader) decode(p []byte, i, out int) (int, int, bool, error) {
	for i < len(p) {
		switch r.state {
		case stateHeader:
			k := copy(r.hdr[r.hlen:r.hneed], p[i:])
			r.hlen += k
			i += k
			if r.hlen < r.hneed {
				continue
			}
			if r.hlen == 2 {
				if err := r.parseFirst(); err != nil {
					return i, out, false, err
				}
				if r.hneed > 2 {
					continue
				}
			}
			ctl, err := r.parseRest()
			if err != nil {
				return i, out, false, err
			}
			if ctl {
				return i, out, true, nil
			}
		case stateData:
			k := len(p) - i
			if uint64(k) > r.rem {
				k = int(r.rem)
			}
			seg := p[i : i+k]
			if r.masked {
				r.mpos = maskBytes(r.key, r.mpos, seg)
			}
			if out != i {
				copy(p[out:], seg)
			}
			out += k
			i += k
			r.rem -= uint64(k)
			if r.rem == 0 {
				r.nextFrame()
			}
		case stateControl:
			k := copy(r.ctl[r.clen:r.cneed], p[i:])
			r.clen += k
			i += k
			if r.clen == r.cneed {
				if r.masked {
					maskBytes(r.key, 0, r.ctl[:r.clen])
				}
				r.nextFrame()
				return i, out, true, nil
			}
		}
	}
	return i, out, false, nil
}

func (r *frameReader) nextFrame() {
	r.state, r.hlen, r.hneed = stateHeader, 0, 2
}

func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// parseFirst checks the first two header bytes and works out the header
// length. Everything that can be rejected from them is rejected here.
func (r *frameReader) parseFirst() error {
	b0, b1 := r.hdr[0], r.hdr[1]
	r.op, r.fin, r.masked = b0&0x0F, b0&finBit != 0, b1&maskBit != 0
	if b0&rsvBits != 0 {
		return protocolError("reserved bits set without a negotiated extension (compression is not supported)")
	}
	len7 := b1 &^ maskBit
	switch r.op {
	case opContinuation:
		if !r.inMsg {
			return protocolError("continuation frame without a message in progress")
		}
	case opText, opBinary:
		if r.inMsg {
			return protocolError("new message started before the previous one was finished")
		}
	case opClose, opPing, opPong:
		if !r.fin {
			return protocolError("fragmented control frame")
		}
		if len7 > maxControlPayload {
			return protocolError("control frame payload longer than %d bytes", maxControlPayload)
		}
	default:
		return protocolError("unknown opcode %#x", r.op)
	}
	if r.masked && r.forbidMask {
		return protocolError("masked frame from a server")
	}
	if !r.masked && r.requireMask {
		return protocolError("unmasked frame from a client")
	}
	r.hneed = 2
	switch len7 {
	case 126:
		r.hneed += 2
	case 127:
		r.hneed += 8
	}
	if r.masked {
		r.hneed += 4
	}
	return nil
}

// parseRest reads the payload length and masking key of a complete header
// and enters the payload state. It reports whether a (zero-length) control
// frame is already complete.
func (r *frameReader) parseRest() (bool, error) {
	n := uint64(r.hdr[1] &^ maskBit)
	k := 2
	switch n {
	case 126:
		n = uint64(binary.BigEndian.Uint16(r.hdr[2:4]))
		k = 4
	case 127:
		n = binary.BigEndian.Uint64(r.hdr[2:10])
		k = 10
		if n>>63 != 0 {
			return false, protocolError("64-bit payload length with the most significant bit set")
		}
	}
	if n > r.maxFrame {
		return false, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, r.maxFrame)
	}
	if r.masked {
		copy(r.key[:], r.hdr[k:k+4])
	}
	r.mpos = 0
	if r.op >= opClose {
		r.clen, r.cneed = 0, int(n)
		if n == 0 {
			r.nextFrame()
			return true, nil
		}
		r.state = stateControl
		return false, nil
	}
	r.inMsg = !r.fin
	r.rem = n
	if n == 0 {
		r.nextFrame()
		return false, nil
	}
	r.state = stateData
	return false, nil
}

// validCloseCode reports whether a peer may send code in a close frame.
func validCloseCode(code int) bool {
	switch {
	case code < closeNormal || code > closeLastRegistrable:
		return false
	case code >= closeFirstReserved && code <= closeLastReserved:
		return false
	case code == 1004 || code == closeNoStatus || code == 1006 || code == closeTLSHandshake:
		return false
	}
	return true
}
