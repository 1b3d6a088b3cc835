package protocol

// Frame is one parsed op. All slices alias the caller's buffer or the parser's
// internal buffer and are valid only during the HandleOp call; use Clone to
// keep one. Every slice's capacity ends where its contents end, so appending
// to one never overwrites the buffer it came from.
type Frame struct {
	Op         Op
	Subject    []byte // PUB, HPUB, SUB, MSG, HMSG and every route and leaf op
	Reply      []byte // PUB, HPUB, MSG, HMSG, RMSG, LMSG (nil if none)
	Queue      []byte // SUB, RS+, RS-, LS+, LS- queue group (nil if none)
	Sid        []byte // SUB, UNSUB, MSG, HMSG
	Max        int    // UNSUB max msgs (0 if absent or not a valid number, as the official server treats it)
	HeaderSize int    // HPUB/HMSG/route LMSG header bytes (0 for PUB/MSG/RMSG/leaf LMSG)
	Size       int    // total message bytes (header + payload)
	Msg        []byte // exactly Size bytes: header block then payload (no trailing CRLF)
	Arg        []byte // INFO/CONNECT JSON (trimmed); -ERR text with the surrounding single quotes removed

	// Account is the account of a route op (nil on a pinned-account route,
	// see Config.NoAccount, and for all other ops).
	Account []byte
	// Origin is the origin cluster of a leaf-origin route op (LS+, LS-, LMSG
	// on a route). "_" is the official sentinel for leaf interest without an
	// origin cluster (negotiated by "ln").
	Origin []byte
	// Weight is the queue weight of an RS+/LS+ with a queue (the number of
	// queue members behind it): a weight that is not 1 to 9 decimal digits,
	// or is 0, counts as 1, as in the official server. 0 when Queue is nil.
	Weight int
	// QueueList is the raw list of queue groups of an RMSG/LMSG/HMSG in the
	// "+ reply q…" or "| q…" form: the bytes from the first queue name to the
	// end of the last one, so names are separated by runs of spaces, TABs or
	// CRs. nil when the message names no queue. Iterate it with NextQueue.
	QueueList []byte
}

// Header returns the header block of an HPUB/HMSG (Msg[:HeaderSize]).
func (f *Frame) Header() []byte { return f.Msg[:f.HeaderSize:f.HeaderSize] }

// Payload returns the message body (Msg[HeaderSize:]).
func (f *Frame) Payload() []byte { return f.Msg[f.HeaderSize:] }

// NextQueue returns the first queue name in list (a Frame.QueueList or a
// suffix of one) and the rest of the list after it; q is nil when the list
// holds no more names. It allocates nothing:
//
//	for q, rest := NextQueue(f.QueueList); q != nil; q, rest = NextQueue(rest) {
//		...
//	}
func NextQueue(list []byte) (q, rest []byte) {
	i := 0
	for i < len(list) && isArgSep(list[i], true) {
		i++
	}
	if i == len(list) {
		return nil, nil
	}
	j := i + 1
	for j < len(list) && !isArgSep(list[j], true) {
		j++
	}
	return list[i:j:j], list[j:]
}

// Clone returns a deep copy of f that stays valid after HandleOp returns. All
// of its slices share one new allocation. Nil slices stay nil.
func (f *Frame) Clone() *Frame {
	c := *f
	n := len(f.Subject) + len(f.Reply) + len(f.Queue) + len(f.Sid) + len(f.Msg) + len(f.Arg) +
		len(f.Account) + len(f.Origin) + len(f.QueueList)
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
	c.Account = clone(f.Account)
	c.Origin = clone(f.Origin)
	c.QueueList = clone(f.QueueList)
	return &c
}
