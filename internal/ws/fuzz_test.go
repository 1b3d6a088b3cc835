package ws

import (
	"bytes"
	"fmt"
	"testing"
)

// FuzzFrameReader feeds arbitrary bytes to the frame reader, split into
// reads of sizes drawn from the input, in each masking mode, and checks it
// against the model: same payload, same control frames, same error class.
// It also checks that a clean decode allocates nothing, so the reader's
// memory stays fixed whatever the peer sends.
func FuzzFrameReader(f *testing.F) {
	k := [4]byte{1, 2, 3, 4}
	seeds := [][]byte{
		frames(masked(bin("PUB foo 5\r\nhello\r\n"), k)),
		frames(bin("INFO {}\r\n"), frameSpec{fin: true, op: opPing, payload: []byte("x")}),
		frames(
			masked(frameSpec{op: opText, payload: []byte("a")}, k),
			masked(frameSpec{fin: true, op: opPing}, k),
			masked(frameSpec{fin: true, op: opContinuation, payload: []byte("b")}, k),
		),
		frames(masked(frameSpec{fin: true, op: opBinary, payload: bytes.Repeat([]byte("z"), 300)}, k)),
		frames(masked(frameSpec{fin: true, op: opBinary, payload: []byte("q"), lenCode: 127}, k)),
		frames(masked(closeFrame(1000, "bye"), k)),
		{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0},
		{0x82, 127, 0, 0, 0, 0, 0, 0, 0x10, 0},
		{0xC2, 0x81, 1, 2, 3, 4, 5},
		{0x09, 0x80, 1, 2, 3, 4},
		{},
	}
	for i, s := range seeds {
		f.Add(s, uint8(i), uint8(3*i+1))
	}
	f.Fuzz(func(t *testing.T, s []byte, mode, split uint8) {
		requireMask, forbidMask := mode&1 != 0, mode&2 != 0 && mode&1 == 0
		max := uint64(1024)
		if mode&4 != 0 {
			max = DefaultMaxFrameSize
		}
		sizes := []int{1 + int(split%17), 1 + int(split/17), 1 + int(split)}
		wantP, wantC, wantE := naiveDecode(s, requireMask, forbidMask, max)
		p, c, e := runReader(s, sizes, requireMask, forbidMask, max)
		if !bytes.Equal(p, wantP) || fmt.Sprint(c) != fmt.Sprint(wantC) || e != wantE {
			t.Fatalf("got %q %v %d; model %q %v %d", p, c, e, wantP, wantC, wantE)
		}
		if e != errNone {
			return
		}
		buf := make([]byte, len(s))
		var r frameReader
		allocs := testing.AllocsPerRun(1, func() {
			r.init(max, requireMask, forbidMask)
			copy(buf, s)
			for i, out := 0, 0; i < len(buf); {
				i, out, _, _ = r.decode(buf, i, out)
			}
		})
		if allocs != 0 {
			t.Fatalf("%v allocs decoding %d bytes", allocs, len(s))
		}
	})
}
