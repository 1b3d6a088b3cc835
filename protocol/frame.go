package protocol

// Frame is one parsed op. All slices alias the caller's buffer or the parser's
// internal buffer and are valid only during the HandleOp call; use Clone to
// keep one. Every slice's capacity ends where its contents end, so appending
// to one never overwrites the buffer it came from.
type Frame struct {
	Op         Op
	Subject    []byte // PUB, HPUB, SUB, MSG, HMSG
	Reply      []byte // PUB, HPUB, MSG, HMSG (nil if none)
	Queue      []byte // SUB queue group (nil if none)
	Sid        []byte // SUB, UNSUB, MSG, HMSG
	Max        int    // UNSUB max msgs (0 if absent or not a valid number, as the official server treats it)
	HeaderSize int    // HPUB/HMSG header bytes (0 for PUB/MSG)
	Size       int    // total message bytes (header + payload)
	Msg        []byte // exactly Size bytes: header block then payload (no trailing CRLF)
	Arg        []byte // INFO/CONNECT JSON (trimmed); -ERR text with the surrounding single quotes removed
}

// Header returns the header block of an HPUB/HMSG (Msg[:HeaderSize]).
func (f *Frame) Header() []byte { return f.Msg[:f.HeaderSize:f.HeaderSize] }

// Payload returns the message body (Msg[HeaderSize:]).
func (f *Frame) Payload() []byte { return f.Msg[f.HeaderSize:] }

// Clone returns a deep copy of f that stays valid after HandleOp returns. All
// of its slices share one new allocation. Nil slices stay nil.
func (f *Frame) Clone() *Frame {
	c := *f
	n := len(f.Subject) + len(f.Reply) + len(f.Queue) + len(f.Sid) + len(f.Msg) + len(f.Arg)
	buf := make([]byte, 0, n)
	clone := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	c.Subject = clone(f.Subject)
	c.Reply = clone(f.Reply)
	c.Queue = clone(f.Queue)
	c.Sid = clone(f.Sid)
	c.Msg = clone(f.Msg)
	c.Arg = clone(f.Arg)
	return &c
}
