package ws

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
)

var key1 = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// handshakePair connects a Client and an Accept conn over c1/c2.
func handshakePair(t *testing.T, c1, c2 net.Conn, noMasking bool) (client, server net.Conn) {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, _, err := Accept(c2, AcceptOptions{AllowNoMasking: noMasking})
		ch <- res{c, err}
	}()
	client, err := Client(c1, "test", "/", ClientOptions{NoMasking: noMasking})
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return client, r.c
}

// writeChunks writes data through w in writes of random sizes.
func writeChunks(w io.Writer, data []byte, rng *rand.Rand, maxWrite int) error {
	for len(data) > 0 {
		n := min(len(data), 1+rng.IntN(maxWrite))
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// readN reads n bytes from r with buffers of random sizes.
func readN(r io.Reader, n int, rng *rand.Rand, maxBuf int) ([]byte, error) {
	got := make([]byte, 0, n)
	buf := make([]byte, maxBuf)
	for len(got) < n {
		k, err := r.Read(buf[:min(n-len(got), 1+rng.IntN(maxBuf))])
		got = append(got, buf[:k]...)
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

func randomBytes(rng *rand.Rand, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

// roundTrip sends random data both ways at once through a Client/Accept
// pair, in writes and reads of random sizes, then closes the client and
// checks the server sees a clean end of stream.
func roundTrip(t *testing.T, c1, c2 net.Conn, noMasking bool, seed uint64) {
	client, server := handshakePair(t, c1, c2, noMasking)
	rng := rand.New(rand.NewPCG(seed, 1))
	up, down := randomBytes(rng, 300_000), randomBytes(rng, 300_000)
	var wg sync.WaitGroup
	var gotUp, gotDown []byte
	var errs [4]error
	wg.Add(4)
	go func() {
		defer wg.Done()
		gotUp, errs[0] = readN(server, len(up), rand.New(rand.NewPCG(seed, 2)), 70_000)
	}()
	go func() {
		defer wg.Done()
		gotDown, errs[1] = readN(client, len(down), rand.New(rand.NewPCG(seed, 3)), 70_000)
	}()
	go func() {
		defer wg.Done()
		errs[2] = writeChunks(client, up, rand.New(rand.NewPCG(seed, 4)), 100_000)
	}()
	go func() {
		defer wg.Done()
		errs[3] = writeChunks(server, down, rand.New(rand.NewPCG(seed, 5)), 100_000)
	}()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	if !bytes.Equal(gotUp, up) {
		t.Errorf("client->server: got %d bytes, want %d", len(gotUp), len(up))
	}
	if !bytes.Equal(gotDown, down) {
		t.Errorf("server->client: got %d bytes, want %d", len(gotDown), len(down))
	}
	// Closing the client sends a close frame: the server reads a clean EOF.
	rest := make(chan error, 1)
	go func() {
		b, err := io.ReadAll(server)
		if len(b) > 0 {
			err = fmt.Errorf("%d unexpected bytes", len(b))
		}
		rest <- err
	}()
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-rest; err != nil {
		t.Fatalf("server after client close: %v", err)
	}
	server.Close()
}

func TestRoundTripPipe(t *testing.T) {
	for _, noMasking := range []bool{false, true} {
		t.Run(fmt.Sprint("noMasking=", noMasking), func(t *testing.T) {
			for seed := range uint64(3) {
				c1, c2 := net.Pipe()
				roundTrip(t, c1, c2, noMasking, seed)
			}
		})
	}
}

func TestRoundTripTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, noMasking := range []bool{false, true} {
		c1, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, c1, c2, noMasking, 7)
	}
}

// A stream of small frames of every kind, checked against the model at
// every split point and byte by byte.
func TestReadSplitEverywhere(t *testing.T) {
	k := [4]byte{9, 8, 7, 6}
	s := frames(
		masked(bin("hello"), k),
		masked(frameSpec{fin: true, op: opBinary}, k), // empty
		masked(frameSpec{op: opText, payload: []byte("frag-1 ")}, k),
		masked(frameSpec{fin: true, op: opPing, payload: []byte("p1")}, k),
		masked(frameSpec{op: opContinuation, payload: []byte("frag-2 ")}, k),
		masked(frameSpec{fin: true, op: opPong}, k),
		masked(frameSpec{fin: true, op: opContinuation, payload: []byte("frag-3")}, k),
		masked(frameSpec{fin: true, op: opBinary, payload: bytes.Repeat([]byte("a"), 125)}, k),
		masked(frameSpec{fin: true, op: opBinary, payload: bytes.Repeat([]byte("b"), 126)}, k),
		masked(frameSpec{fin: true, op: opBinary, payload: bytes.Repeat([]byte("c"), 300)}, k),
		masked(frameSpec{fin: true, op: opBinary, payload: []byte("long-coded"), lenCode: 127}, k),
		masked(frameSpec{fin: true, op: opBinary, payload: []byte("mid-coded"), lenCode: 126}, k),
		masked(frameSpec{fin: true, op: opPing, payload: bytes.Repeat([]byte("z"), 125)}, k),
		masked(bin("end"), [4]byte{}),
	)
	wantP, wantC, wantE := naiveDecode(s, true, false, DefaultMaxFrameSize)
	if wantE != errNone || len(wantC) != 3 || len(wantP) != 5+7+7+6+125+126+300+10+9+3 {
		t.Fatalf("model: %d payload bytes, %d control frames, err %d", len(wantP), len(wantC), wantE)
	}
	check := func(name string, sizes []int) {
		p, c, e := runReader(s, sizes, true, false, DefaultMaxFrameSize)
		if !bytes.Equal(p, wantP) || fmt.Sprint(c) != fmt.Sprint(wantC) || e != wantE {
			t.Fatalf("%s: got %d bytes %v err %d", name, len(p), c, e)
		}
	}
	check("whole", []int{len(s)})
	check("byte by byte", []int{1})
	for i := 1; i < len(s); i++ {
		check(fmt.Sprint("split at ", i), []int{i, len(s)})
	}
	// The same through conn.Read, with the split in the underlying reads.
	for i := 1; i < len(s); i++ {
		c := serverConn(newScript(s[:i], s[i:]), true)
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, wantP) {
			t.Fatalf("conn split at %d: %d bytes, %v", i, len(got), err)
		}
	}
}

// Long frames (16- and 64-bit lengths), masked and not, read through
// buffers of random sizes from reads of random sizes.
func TestReadLongFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var specs []frameSpec
	var want []byte
	for _, n := range []int{65535, 65536, 70000, 1 << 20} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		want = append(want, p...)
		specs = append(specs, masked(frameSpec{fin: true, op: opBinary, payload: p}, [4]byte{byte(n), 2, 3, 4}))
	}
	s := frames(specs...)
	var chunks [][]byte
	for rest := s; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(20000))
		chunks, rest = append(chunks, rest[:n]), rest[n:]
	}
	got, err := readAll(serverConn(newScript(chunks...), true), rng, 9000)
	if err != io.EOF || !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, %v; want %d", len(got), err, len(want))
	}
}

// Random streams, valid or not, against the model, with random splits.
func TestReadModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 3000 {
		s := randomStream(rng)
		requireMask, forbidMask := rng.IntN(2) == 0, rng.IntN(3) == 0
		if requireMask {
			forbidMask = false
		}
		max := uint64(1 + rng.IntN(400))
		wantP, wantC, wantE := naiveDecode(s, requireMask, forbidMask, max)
		sizes := []int{1 + rng.IntN(50), 1 + rng.IntN(5), 1 + rng.IntN(500)}
		p, c, e := runReader(s, sizes, requireMask, forbidMask, max)
		if !bytes.Equal(p, wantP) || fmt.Sprint(c) != fmt.Sprint(wantC) || e != wantE {
			t.Fatalf("iter %d: got %q %v %d; model %q %v %d\nstream % x", iter, p, c, e, wantP, wantC, wantE, s)
		}
	}
}

// randomStream builds mostly valid frames with occasional faults.
func randomStream(rng *rand.Rand) []byte {
	var s []byte
	inMsg := false
	for range 1 + rng.IntN(8) {
		f := frameSpec{fin: rng.IntN(3) > 0, masked: rng.IntN(4) > 0, key: [4]byte{byte(rng.Uint32()), byte(rng.Uint32()), 0, 0xff}}
		switch rng.IntN(4) {
		case 0:
			f.op = byte(opPing + rng.IntN(2))
			f.fin = true
		case 1:
			f.op = opClose
			f.fin = true
		default:
			f.op = opBinary
			if inMsg {
				f.op = opContinuation
			}
		}
		f.payload = make([]byte, rng.IntN(130))
		for i := range f.payload {
			f.payload[i] = byte(rng.Uint32())
		}
		if f.op < opClose && rng.IntN(4) == 0 {
			f.payload = make([]byte, rng.IntN(600))
		}
		if f.op < opClose {
			inMsg = !f.fin
		}
		if rng.IntN(3) == 0 {
			f.lenCode = []int{126, 127}[rng.IntN(2)]
		}
		if rng.IntN(12) == 0 { // fault: any opcode, reserved bits
			f.op = byte(rng.IntN(16))
			f.rsv = byte(rng.IntN(2))
		}
		s = append(s, encodeFrame(f)...)
	}
	if rng.IntN(4) == 0 { // truncated
		s = s[:rng.IntN(len(s)+1)]
	}
	if rng.IntN(20) == 0 && len(s) > 0 { // corrupt a byte
		s[rng.IntN(len(s))] ^= byte(1 + rng.IntN(255))
	}
	return s
}

func TestPingAnsweredWithPong(t *testing.T) {
	s := frames(
		masked(frameSpec{op: opBinary, payload: []byte("ab")}, key1),
		masked(frameSpec{fin: true, op: opPing, payload: []byte("hi")}, key1),
		masked(frameSpec{fin: true, op: opContinuation, payload: []byte("cd")}, key1),
		masked(frameSpec{fin: true, op: opPing}, key1),
	)
	sc := newScript(s)
	c := serverConn(sc, true)
	got, err := io.ReadAll(c)
	if string(got) != "abcd" || err != nil {
		t.Fatalf("read %q %v", got, err)
	}
	want := frames(frameSpec{fin: true, op: opPong, payload: []byte("hi")}, frameSpec{fin: true, op: opPong})
	if w := sc.written(); !bytes.Equal(w, want) {
		t.Fatalf("wrote % x, want % x", w, want)
	}
	// The client side masks its pong.
	sc = newScript(frames(frameSpec{fin: true, op: opPing, payload: []byte("xyz")}))
	if _, err := io.ReadAll(clientConn(sc, true)); err != nil {
		t.Fatal(err)
	}
	fs := decodeWritten(t, sc.written(), true)
	if len(fs) != 1 || fs[0].op != opPong || string(fs[0].payload) != "xyz" {
		t.Fatalf("client pong %+v", fs)
	}
}

func closeFrame(code int, reason string) frameSpec {
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	return frameSpec{fin: true, op: opClose, payload: append(p, reason...)}
}

func TestPeerClose(t *testing.T) {
	tests := []struct {
		name    string
		close   frameSpec
		reply   []byte // close payload we answer with
		wantErr error
	}{
		{"normal", closeFrame(1000, "bye"), []byte{0x03, 0xe8}, io.EOF},
		{"going away", closeFrame(1001, ""), []byte{0x03, 0xe9}, io.EOF},
		{"no status", frameSpec{fin: true, op: opClose}, []byte{}, io.EOF},
		{"bad utf8", closeFrame(1000, "\xff\xfe"), []byte{0x03, 0xef}, io.EOF},
		{"one byte", frameSpec{fin: true, op: opClose, payload: []byte{3}}, []byte{0x03, 0xea}, ErrProtocol},
		{"reserved code", closeFrame(1005, ""), []byte{0x03, 0xea}, ErrProtocol},
		{"code 999", closeFrame(999, ""), []byte{0x03, 0xea}, ErrProtocol},
		{"code 2000", closeFrame(2000, ""), []byte{0x03, 0xea}, ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := frames(masked(bin("data"), key1), masked(tc.close, key1), masked(bin("ignored"), key1))
			sc := newScript(s)
			c := serverConn(sc, true)
			buf := make([]byte, 100)
			n, err := c.Read(buf)
			if string(buf[:n]) != "data" || err != nil {
				t.Fatalf("first read %q %v", buf[:n], err)
			}
			for range 2 { // sticky
				if n, err = c.Read(buf); n != 0 || !errors.Is(err, tc.wantErr) {
					t.Fatalf("read after close: %d %v, want %v", n, err, tc.wantErr)
				}
			}
			want := encodeFrame(frameSpec{fin: true, op: opClose, payload: tc.reply})
			if w := sc.written(); !bytes.Equal(w, want) {
				t.Fatalf("wrote % x, want % x", w, want)
			}
			if _, err := c.Write([]byte("x")); !errors.Is(err, ErrCloseSent) {
				t.Fatalf("write after close: %v", err)
			}
			if err := c.Close(); err != nil || !sc.closed {
				t.Fatalf("Close: %v closed=%v", err, sc.closed)
			}
			if w := sc.written(); !bytes.Equal(w, want) {
				t.Fatalf("Close wrote more: % x", w)
			}
		})
	}
}

func TestCloseSendsNormalClosure(t *testing.T) {
	sc := newScript()
	c := serverConn(sc, true)
	if _, err := c.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	want := frames(bin("bye"), closeFrame(1000, ""))
	if w := sc.written(); !bytes.Equal(w, want) || !sc.closed {
		t.Fatalf("wrote % x closed=%v, want % x", w, sc.closed, want)
	}
	if sc.wdl.IsZero() {
		t.Fatal("close frame written without a deadline")
	}
	if err := c.Close(); err != nil { // second Close only closes again
		t.Fatal(err)
	}
	if w := sc.written(); !bytes.Equal(w, want) {
		t.Fatalf("second Close wrote: % x", w)
	}
}

func TestProtocolErrors(t *testing.T) {
	tests := []struct {
		name   string
		client bool // the conn under test is the client side
		frame  []byte
		want   error
		code   uint16
	}{
		{"unmasked from client", false, frames(bin("x")), ErrProtocol, 1002},
		{"masked from server", true, frames(masked(bin("x"), key1)), ErrProtocol, 1002},
		{"rsv1 (compressed)", false, frames(masked(frameSpec{fin: true, rsv: 4, op: opBinary, payload: []byte("x")}, key1)), ErrProtocol, 1002},
		{"rsv3", false, frames(masked(frameSpec{fin: true, rsv: 1, op: opBinary}, key1)), ErrProtocol, 1002},
		{"opcode 3", false, frames(masked(frameSpec{fin: true, op: 3}, key1)), ErrProtocol, 1002},
		{"opcode 11", false, frames(masked(frameSpec{fin: true, op: 11}, key1)), ErrProtocol, 1002},
		{"lone continuation", false, frames(masked(frameSpec{fin: true, op: opContinuation}, key1)), ErrProtocol, 1002},
		{"interrupted message", false, frames(masked(frameSpec{op: opBinary}, key1), masked(bin("y"), key1)), ErrProtocol, 1002},
		{"fragmented ping", false, frames(masked(frameSpec{op: opPing}, key1)), ErrProtocol, 1002},
		{"long ping", false, frames(masked(frameSpec{fin: true, op: opPing, payload: make([]byte, 126)}, key1)), ErrProtocol, 1002},
		{"64-bit msb", true, []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, ErrProtocol, 1002},
		{"too large", true, []byte{0x82, 127, 0, 0, 0, 0, 0x04, 0, 0, 1}, ErrFrameTooLarge, 1009},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(tc.frame)
			var c *conn
			if tc.client {
				c = clientConn(sc, false)
			} else {
				c = serverConn(sc, true)
			}
			_, err := io.ReadAll(c)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			want := encodeFrame(frameSpec{fin: true, op: opClose, payload: binary.BigEndian.AppendUint16(nil, tc.code)})
			if w := sc.written(); !bytes.Equal(w, want) {
				t.Fatalf("wrote % x, want % x", w, want)
			}
		})
	}
}

func TestReadTruncated(t *testing.T) {
	s := encodeFrame(masked(bin("hello"), key1))
	for i := 1; i < len(s); i++ {
		_, err := io.ReadAll(serverConn(newScript(s[:i]), true))
		if err != io.ErrUnexpectedEOF {
			t.Fatalf("cut at %d: %v", i, err)
		}
	}
	// Inside a fragmented message, between frames.
	s = encodeFrame(masked(frameSpec{op: opBinary, payload: []byte("a")}, key1))
	if _, err := io.ReadAll(serverConn(newScript(s), true)); err != io.ErrUnexpectedEOF {
		t.Fatalf("open message: %v", err)
	}
}

// A deadline error of the underlying read is returned once, after the data
// read with it, and does not end the stream.
func TestReadDeadlineNotSticky(t *testing.T) {
	sc := newScript(frames(masked(bin("ab"), key1))[:7])
	sc.readErr = os.ErrDeadlineExceeded
	c := serverConn(sc, true)
	buf := make([]byte, 10)
	if n, err := c.Read(buf); string(buf[:n]) != "a" || err != nil {
		t.Fatalf("%q %v", buf[:n], err)
	}
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%v", err)
	}
	rest := frames(masked(bin("ab"), key1))[7:]
	sc.mu.Lock()
	sc.chunks, sc.readErr = [][]byte{rest}, nil
	sc.mu.Unlock()
	if n, err := c.Read(buf); string(buf[:n]) != "b" || err != nil {
		t.Fatalf("%q %v", buf[:n], err)
	}
}

func TestWriteFraming(t *testing.T) {
	for _, mask := range []bool{false, true} {
		for _, n := range []int{1, 125, 126, 4092, 4093, 65535, 65536, 200_000} {
			sc := newScript()
			c := newConn(sc, mask, mask, false, 0, 0)
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(i * 7)
			}
			if k, err := c.Write(p); k != n || err != nil {
				t.Fatalf("Write(%d) = %d, %v", n, k, err)
			}
			var got []byte
			limit := maxWriteFrame
			if mask {
				limit = maskedBuf - 8
			}
			fs := decodeWritten(t, sc.written(), mask)
			for _, f := range fs {
				if !f.fin || f.op != opBinary || f.rsv != 0 || len(f.payload) > limit {
					t.Fatalf("bad frame fin=%v op=%d rsv=%d len=%d", f.fin, f.op, f.rsv, len(f.payload))
				}
				got = append(got, f.payload...)
			}
			if wantFrames := (n + limit - 1) / limit; len(fs) != wantFrames {
				t.Errorf("mask=%v n=%d: %d frames, want %d", mask, n, len(fs), wantFrames)
			}
			if !bytes.Equal(got, p) {
				t.Fatalf("mask=%v n=%d: payload differs", mask, n)
			}
		}
	}
	sc := newScript()
	if n, err := serverConn(sc, true).Write(nil); n != 0 || err != nil || len(sc.written()) != 0 {
		t.Fatalf("empty write: %d %v % x", n, err, sc.written())
	}
}

// A frame that fits the small buffer leaves in one Write of the underlying
// conn (one TLS record, one segment); a larger one in header+payload.
func TestWriteCallsPerFrame(t *testing.T) {
	for _, tc := range []struct {
		n, calls int
		mask     bool
	}{{100, 1, false}, {smallWrite - 4, 1, false}, {smallWrite - 3, 2, false}, {60_000, 2, false}, {60_000, 1, true}} {
		calls := 0
		sc := newScript()
		sc.failWrite = func(p []byte) (int, error) { calls++; return len(p), nil }
		c := newConn(sc, tc.mask, tc.mask, false, 0, 0)
		if _, err := c.Write(make([]byte, tc.n)); err != nil {
			t.Fatal(err)
		}
		if calls != tc.calls {
			t.Errorf("n=%d mask=%v: %d writes, want %d", tc.n, tc.mask, calls, tc.calls)
		}
	}
}

// The masking keys of successive frames differ.
func TestMaskKeysVary(t *testing.T) {
	sc := newScript()
	c := clientConn(sc, true)
	for range 8 {
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	keys := map[[4]byte]bool{}
	for _, f := range decodeWritten(t, sc.written(), true) {
		keys[f.key] = true
	}
	if len(keys) < 7 {
		t.Fatalf("only %d distinct keys in 8 frames", len(keys))
	}
}

// A pong that cannot go out because the write deadline has passed stays
// queued and leaves before the next Write's data; the deadline error is
// not sticky. A write cut inside a frame is.
func TestWriteErrors(t *testing.T) {
	sc := newScript(frames(masked(frameSpec{fin: true, op: opPing, payload: []byte("p")}, key1)))
	expired := true
	sc.failWrite = func(p []byte) (int, error) {
		if expired {
			return 0, os.ErrDeadlineExceeded
		}
		return len(p), nil
	}
	c := serverConn(sc, true)
	if _, err := io.ReadAll(c); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("data")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write with expired deadline: %v", err)
	}
	expired = false
	if n, err := c.Write([]byte("data")); n != 4 || err != nil {
		t.Fatalf("write after deadline reset: %d %v", n, err)
	}
	want := frames(frameSpec{fin: true, op: opPong, payload: []byte("p")}, bin("data"))
	if w := sc.written(); !bytes.Equal(w, want) {
		t.Fatalf("wrote % x, want % x", w, want)
	}
	// Cut inside a frame: sticky.
	sc = newScript()
	sc.failWrite = func(p []byte) (int, error) { return 1, os.ErrDeadlineExceeded }
	c = serverConn(sc, true)
	if _, err := c.Write([]byte("data")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal(err)
	}
	sc.failWrite = nil
	if _, err := c.Write([]byte("more")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write after a cut frame: %v", err)
	}
}

// Pings arriving while another goroutine writes frames: every frame the
// peer sees is whole, the data arrives intact, and the last ping is
// answered.
func TestPongsInterleaveWithWrites(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	srv := serverConn(b, true)
	const pings = 200
	data := bytes.Repeat([]byte("0123456789"), 30_000)
	var wg sync.WaitGroup
	pingsSent := make(chan struct{})
	wg.Add(3)
	go func() { // peer: sends pings
		defer wg.Done()
		defer close(pingsSent)
		for i := range pings {
			if _, err := a.Write(encodeFrame(masked(frameSpec{fin: true, op: opPing, payload: []byte(fmt.Sprint(i))}, key1))); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() { // server reader: answers pings until the close
		defer wg.Done()
		if _, err := io.Copy(io.Discard, srv); err != nil {
			t.Error(err)
		}
	}()
	go func() { // server writer
		defer wg.Done()
		for off := 0; off < len(data); off += 7000 {
			if _, err := srv.Write(data[off:min(off+7000, len(data))]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// The peer decodes everything the server sends; once it has all data
	// and the answer to the last ping, it sends a close and reads until
	// the server's close.
	var got []byte
	var lastPong string
	var r frameReader
	r.init(DefaultMaxFrameSize, false, true)
	buf := make([]byte, 5000)
	for closeSent, closed := false, false; !closed; {
		n, err := a.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		i, out := 0, 0
		for i < n && !closed {
			var ctl bool
			i, out, ctl, err = r.decode(buf[:n], i, out)
			if err != nil {
				t.Fatal(err)
			}
			if ctl {
				op, p := r.control()
				switch op {
				case opPong:
					lastPong = string(p)
				case opClose:
					closed = true
				}
			}
		}
		got = append(got, buf[:out]...)
		if !closeSent && len(got) == len(data) && lastPong == fmt.Sprint(pings-1) {
			closeSent = true
			<-pingsSent
			go func() { _, _ = a.Write(encodeFrame(masked(closeFrame(1000, ""), key1))) }()
		}
	}
	wg.Wait()
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want %d", len(got), len(data))
	}
}

func TestWriteAllocs(t *testing.T) {
	small, big := make([]byte, 100), make([]byte, 200_000)
	for _, mask := range []bool{false, true} {
		c := newConn(&discardConn{}, mask, mask, false, 0, 0)
		for _, p := range [][]byte{small, big} {
			if a := testing.AllocsPerRun(100, func() { _, _ = c.Write(p) }); a != 0 {
				t.Errorf("mask=%v len=%d: %v allocs per Write", mask, len(p), a)
			}
		}
	}
}

// The writev path on a real TCP connection allocates nothing either.
func TestWriteAllocsTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, s)
		s.Close()
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := serverConn(nc, false)
	p := make([]byte, 50_000)
	if a := testing.AllocsPerRun(50, func() { _, _ = c.Write(p) }); a != 0 {
		t.Errorf("%v allocs per Write", a)
	}
	nc.Close()
	<-done
}

func TestReadAllocs(t *testing.T) {
	s := frames(
		masked(bin("PUB foo 5\r\nhello\r\n"), key1),
		masked(frameSpec{op: opBinary, payload: make([]byte, 3000)}, key1),
		masked(frameSpec{fin: true, op: opPong}, key1),
		masked(frameSpec{fin: true, op: opContinuation, payload: make([]byte, 70_000)}, key1),
	)
	c := serverConn(&loopConn{stream: s}, true)
	buf := make([]byte, 4096)
	if a := testing.AllocsPerRun(1000, func() { _, _ = c.Read(buf) }); a != 0 {
		t.Errorf("%v allocs per Read", a)
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{64, 1024, 32 << 10, 256 << 10} {
		for _, mask := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%d/mask=%v", size, mask), func(b *testing.B) {
				c := newConn(&discardConn{}, mask, mask, false, 0, 0)
				p := make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					_, _ = c.Write(p)
				}
			})
		}
	}
}

func BenchmarkRead(b *testing.B) {
	for _, size := range []int{64, 1024, 32 << 10} {
		for _, mask := range []bool{false, true} {
			b.Run(fmt.Sprintf("frame=%d/mask=%v", size, mask), func(b *testing.B) {
				f := frameSpec{fin: true, op: opBinary, payload: make([]byte, size)}
				if mask {
					f = masked(f, key1)
				}
				var s []byte
				for len(s) < 1<<20 {
					s = append(s, encodeFrame(f)...)
				}
				c := serverConn(&loopConn{stream: s}, mask)
				buf := make([]byte, 32<<10)
				b.SetBytes(int64(len(buf)))
				b.ReportAllocs()
				for b.Loop() {
					_, _ = io.ReadFull(c, buf)
				}
			})
		}
	}
}
