package ws

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// frameSpec describes one frame for the naive encoder; the encoder is
// written independently of putHeader so tests do not check the code
// against itself.
type frameSpec struct {
	fin     bool
	rsv     byte // 3 bits
	op      byte
	masked  bool
	key     [4]byte
	payload []byte
	lenCode int // 0: minimal; 126 or 127 force that length encoding
}

func encodeFrame(f frameSpec) []byte {
	var b []byte
	b0 := f.op | f.rsv<<4
	if f.fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	var m byte
	if f.masked {
		m = 0x80
	}
	n := len(f.payload)
	code := f.lenCode
	if code == 0 {
		switch {
		case n < 126:
			code = n
		case n < 65536:
			code = 126
		default:
			code = 127
		}
	}
	b = append(b, m|byte(code))
	switch code {
	case 126:
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	case 127:
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if f.masked {
		b = append(b, f.key[:]...)
	}
	for i, c := range f.payload {
		if f.masked {
			c ^= f.key[i%4]
		}
		b = append(b, c)
	}
	return b
}

func frames(specs ...frameSpec) []byte {
	var b []byte
	for _, f := range specs {
		b = append(b, encodeFrame(f)...)
	}
	return b
}

func bin(p string) frameSpec { return frameSpec{fin: true, op: opBinary, payload: []byte(p)} }

func masked(f frameSpec, key [4]byte) frameSpec {
	f.masked, f.key = true, key
	return f
}

// ctlFrame is a control frame seen by a decoder.
type ctlFrame struct {
	op      byte
	payload string
}

const (
	errNone = iota
	errKindProtocol
	errKindTooLarge
)

// naiveDecode is the model of frameReader: it decodes a whole stream in
// one pass, frame by frame, with none of the resumable state. A truncated
// last data frame contributes the payload bytes present, as a streaming
// reader passes them on.
func naiveDecode(s []byte, requireMask, forbidMask bool, max uint64) (payload []byte, ctls []ctlFrame, errKind int) {
	inMsg := false
	for len(s) >= 2 {
		fin, rsv, op := s[0]>>7 == 1, (s[0]>>4)&7, s[0]&15
		isMasked, l7 := s[1]>>7 == 1, uint64(s[1]&127)
		if rsv != 0 {
			return payload, ctls, errKindProtocol
		}
		switch op {
		case 0:
			if !inMsg {
				return payload, ctls, errKindProtocol
			}
		case 1, 2:
			if inMsg {
				return payload, ctls, errKindProtocol
			}
		case 8, 9, 10:
			if !fin || l7 > 125 {
				return payload, ctls, errKindProtocol
			}
		default:
			return payload, ctls, errKindProtocol
		}
		if (isMasked && forbidMask) || (!isMasked && requireMask) {
			return payload, ctls, errKindProtocol
		}
		hl := 2
		switch l7 {
		case 126:
			hl += 2
		case 127:
			hl += 8
		}
		if isMasked {
			hl += 4
		}
		if len(s) < hl {
			return payload, ctls, errNone
		}
		n := l7
		switch l7 {
		case 126:
			n = uint64(binary.BigEndian.Uint16(s[2:]))
		case 127:
			n = binary.BigEndian.Uint64(s[2:])
			if n >= 1<<63 {
				return payload, ctls, errKindProtocol
			}
		}
		if n > max {
			return payload, ctls, errKindTooLarge
		}
		body := s[hl:]
		complete := uint64(len(body)) >= n
		if complete {
			body = body[:n]
		}
		plain := make([]byte, len(body))
		for i := range body {
			plain[i] = body[i]
			if isMasked {
				plain[i] ^= s[hl-4+i%4]
			}
		}
		if op >= 8 {
			if !complete {
				return payload, ctls, errNone
			}
			ctls = append(ctls, ctlFrame{op, string(plain)})
		} else {
			payload = append(payload, plain...)
			if !complete {
				return payload, ctls, errNone
			}
			inMsg = !fin
		}
		s = s[hl+int(n):]
	}
	return payload, ctls, errNone
}

// runReader feeds s to a fresh frameReader in chunks of the given sizes
// (cycled), and returns what it produced, like naiveDecode.
func runReader(s []byte, sizes []int, requireMask, forbidMask bool, max uint64) (payload []byte, ctls []ctlFrame, errKind int) {
	var r frameReader
	r.init(max, requireMask, forbidMask)
	for k := 0; len(s) > 0; k++ {
		n := sizes[k%len(sizes)]
		if n > len(s) {
			n = len(s)
		}
		buf := append([]byte(nil), s[:n]...)
		s = s[n:]
		i, out := 0, 0
		for i < len(buf) {
			var ctl bool
			var err error
			i, out, ctl, err = r.decode(buf, i, out)
			if err != nil {
				payload = append(payload, buf[:out]...)
				if errors.Is(err, ErrFrameTooLarge) {
					return payload, ctls, errKindTooLarge
				}
				if !errors.Is(err, ErrProtocol) {
					panic("unclassified error: " + err.Error())
				}
				return payload, ctls, errKindProtocol
			}
			if ctl {
				op, p := r.control()
				ctls = append(ctls, ctlFrame{op, string(p)})
			}
		}
		if out > i {
			panic("payload overtook input")
		}
		payload = append(payload, buf[:out]...)
	}
	return payload, ctls, errNone
}

// scriptConn is a net.Conn whose reads return the scripted chunks (a read
// with a smaller buffer takes part of a chunk) and then io.EOF, and whose
// writes are recorded. failWrite, when set, decides a write's outcome.
type scriptConn struct {
	mu        sync.Mutex
	chunks    [][]byte
	readErr   error // returned when the chunks run out; io.EOF if nil
	wrote     bytes.Buffer
	failWrite func(p []byte) (int, error)
	closed    bool
	wdl       time.Time
}

func newScript(chunks ...[]byte) *scriptConn { return &scriptConn{chunks: chunks} }

func (s *scriptConn) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.chunks) > 0 && len(s.chunks[0]) == 0 {
		s.chunks = s.chunks[1:]
	}
	if len(s.chunks) == 0 {
		if s.readErr != nil {
			return 0, s.readErr
		}
		return 0, io.EOF
	}
	n := copy(p, s.chunks[0])
	s.chunks[0] = s.chunks[0][n:]
	return n, nil
}

func (s *scriptConn) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, net.ErrClosed
	}
	if s.failWrite != nil {
		n, err := s.failWrite(p)
		s.wrote.Write(p[:n])
		return n, err
	}
	return s.wrote.Write(p)
}

func (s *scriptConn) written() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.wrote.Bytes()...)
}

func (s *scriptConn) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *scriptConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4443}
}
func (s *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 5555}
}
func (s *scriptConn) SetDeadline(t time.Time) error {
	return s.SetWriteDeadline(t)
}
func (s *scriptConn) SetReadDeadline(time.Time) error { return nil }
func (s *scriptConn) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wdl = t
	return nil
}

// discardConn accepts and drops every write, without allocating.
type discardConn struct{ scriptConn }

func (d *discardConn) Write(p []byte) (int, error) { return len(p), nil }

// loopConn returns stream over and over, for read benchmarks.
type loopConn struct {
	scriptConn
	stream []byte
	off    int
}

func (l *loopConn) Read(p []byte) (int, error) {
	n := copy(p, l.stream[l.off:])
	l.off = (l.off + n) % len(l.stream)
	return n, nil
}

// serverConn and clientConn wrap a net.Conn without a handshake.
func serverConn(nc net.Conn, requireMask bool) *conn {
	return newConn(nc, false, false, requireMask, 0, 0)
}

func clientConn(nc net.Conn, mask bool) *conn {
	return newConn(nc, true, mask, false, 0, 0)
}

// readAll reads from r with buffers of random sizes until EOF or an error.
func readAll(r io.Reader, rng *rand.Rand, maxBuf int) ([]byte, error) {
	var got []byte
	buf := make([]byte, maxBuf)
	for {
		n, err := r.Read(buf[:1+rng.IntN(maxBuf)])
		got = append(got, buf[:n]...)
		if err != nil {
			return got, err
		}
	}
}

// decodeWritten decodes frames written by a conn, failing the test on any
// malformed or truncated frame.
func decodeWritten(t *testing.T, b []byte, wantMasked bool) []frameSpec {
	t.Helper()
	var out []frameSpec
	for len(b) > 0 {
		if len(b) < 2 {
			t.Fatalf("truncated header")
		}
		f := frameSpec{fin: b[0]&0x80 != 0, rsv: (b[0] >> 4) & 7, op: b[0] & 15, masked: b[1]&0x80 != 0}
		n := int(b[1] & 127)
		h := 2
		switch n {
		case 126:
			n, h = int(binary.BigEndian.Uint16(b[2:])), 4
			if n < 126 {
				t.Fatalf("non-minimal 16-bit length %d", n)
			}
		case 127:
			n, h = int(binary.BigEndian.Uint64(b[2:])), 10
			if n < 65536 {
				t.Fatalf("non-minimal 64-bit length %d", n)
			}
		}
		if f.masked != wantMasked {
			t.Fatalf("frame masked=%v, want %v", f.masked, wantMasked)
		}
		if f.masked {
			copy(f.key[:], b[h:h+4])
			h += 4
		}
		if len(b) < h+n {
			t.Fatalf("truncated frame: need %d bytes, have %d", h+n, len(b))
		}
		f.payload = append([]byte(nil), b[h:h+n]...)
		if f.masked {
			for i := range f.payload {
				f.payload[i] ^= f.key[i%4]
			}
		}
		out = append(out, f)
		b = b[h+n:]
	}
	return out
}
