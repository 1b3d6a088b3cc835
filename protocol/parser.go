package protocol

import (
	"bytes"
	"errors"
)

// Defaults used when a Config field is zero (server/const.go).
const (
	DefaultMaxControlLine = 4096
	DefaultMaxPayload     = 1 << 20
)

// retainMax is the largest split-op buffer a Parser keeps between ops. A
// bigger one (a large message that arrived in pieces) is dropped once its op
// is done, so an idle connection holds at most this much.
const retainMax = 8 << 10

// Config sets a Parser's limits and accepted ops. The zero value is usable.
type Config struct {
	// MaxControlLine bounds the bytes of a control line after the op name
	// and the separator that follows it, not counting the line terminator:
	// 0 -> DefaultMaxControlLine (4096); < 0 -> unlimited, for trusted peers
	// only (the parser then buffers and rescans a line of any length). The
	// official server allows route and leaf connections 16 times its
	// configured max_control_line (server/parser.go overMaxControlLineLimit),
	// because their lines carry an origin, an account and queue lists: a
	// route or leaf parser should be given 16 * the client value, e.g.
	// 16 * DefaultMaxControlLine.
	MaxControlLine int
	// MaxPayload bounds Frame.Size of every op with a payload (PUB, HPUB,
	// MSG, HMSG, RMSG, LMSG): 0 -> DefaultMaxPayload (1 MiB); < 0 ->
	// unlimited (sizes still have at most 9 digits). A client parsing MSG
	// should use the INFO max_payload or -1. The official server does not
	// limit what arrives on a route (use -1) but does limit LMSG and HMSG
	// from a leaf connection to its max_payload.
	MaxPayload int
	// Accept is the set of ops the parser recognizes; anything else is
	// ErrUnknownOp. 0 -> ClientOps. Use ClientOps, ServerOps, RouteOps or
	// LeafOps. Ops that share a wire name (OpHMsg, OpRHMsg, OpLHMsg; OpRLSub,
	// OpLSub; ...) must not be combined: the lowest-numbered one would win.
	Accept OpSet
	// NoAccount parses route ops (RS+, RS-, RMSG, route HMSG and the
	// leaf-origin LS+, LS-, LMSG) without their account argument, as sent on a
	// pinned-account route (one whose INFO carried route_account); the
	// handler then knows the account from the connection and Frame.Account
	// is nil. Leaf ops never carry an account and ignore this flag.
	NoAccount bool
}

// Handler receives parsed ops.
type Handler interface {
	// HandleOp is called once per complete op, in order. f and all its
	// slices are valid only until HandleOp returns. A non-nil error stops
	// Parse, which returns it unchanged. HandleOp may call SetMaxPayload
	// (the next control line sees the new value) but must not call Parse or
	// Reset.
	HandleOp(f *Frame) error
}

// Parser is a resumable parser for one connection's inbound byte stream. It is
// not safe for concurrent use. The zero value behaves like NewParser(Config{}).
type Parser struct {
	frame  Frame
	mcl    int   // as configured: 0 default, < 0 unlimited
	mpay   int   // as configured: 0 default, < 0 unlimited
	accept OpSet // as configured: 0 means ClientOps
	noAcc  bool  // route ops omit the account (pinned-account route)

	// pend holds an op that is incomplete at the end of a Parse call, from
	// its first byte. need is the total length of that op once its control
	// line is complete (line + payload + CRLF), 0 while it is not.
	pend []byte
	need int
	err  error // sticky: the error that ended parsing
}

// NewParser returns a parser with the given configuration.
func NewParser(c Config) *Parser {
	return &Parser{mcl: c.MaxControlLine, mpay: c.MaxPayload, accept: c.Accept, noAcc: c.NoAccount}
}

// SetMaxPayload changes the payload limit, with Config.MaxPayload's meaning
// (0 -> default, < 0 -> unlimited). It applies from the next control line on;
// an op whose control line has already been accepted is not checked again.
func (p *Parser) SetMaxPayload(n int) { p.mpay = n }

// SetAccept changes the accepted op set from the next op on: a connection
// on the client port that turns out, from its CONNECT, to be a leaf node
// switches to LeafOps. HandleOp may call it.
func (p *Parser) SetAccept(s OpSet) { p.accept = s }

// SetMaxControlLine changes the control-line limit (Config.MaxControlLine's
// meaning) from the next op on.
func (p *Parser) SetMaxControlLine(n int) { p.mcl = n }

// Buffered returns how many bytes of an incomplete op the parser holds
// (0 when the last Parse call ended on an op boundary).
func (p *Parser) Buffered() int { return len(p.pend) }

// Reset discards any partial op and a previous error, keeping the
// configuration (and a small internal buffer for reuse).
func (p *Parser) Reset() {
	p.release()
	p.err = nil
	p.frame = Frame{}
}

// Parse consumes all of buf, calling h.HandleOp for each complete op in order.
// An op split across calls (at any byte, including inside the payload or the
// trailing CRLF) is copied into an internal reusable buffer and completed by
// the next call; ops that lie wholly inside buf are handed over in place.
// A handler error stops parsing and is returned as is. A protocol violation
// returns ErrUnknownOp, ErrMaxControlLine, ErrMaxPayload or ErrInvalidArgs,
// wrapped with detail. After an error the parser must not be used again
// (until Reset): further calls return the same error.
func (p *Parser) Parse(buf []byte, h Handler) error {
	_, err := p.ParsePausable(buf, h)
	return err
}

// ParsePausable is Parse, except that a handler may stop it after its op
// without failing the parser by returning an error that wraps ErrPause.
// ParsePausable then returns how many bytes of buf were consumed (through
// the end of that op) with the handler's error, and the parser stays
// usable: the caller feeds it the rest of the stream, typically after
// changing the transport under it (TLS, compression). For any other
// result n is len(buf) on success and unspecified on error.
func (p *Parser) ParsePausable(buf []byte, h Handler) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	total := len(buf)
	if len(p.pend) > 0 {
		n, err := p.resume(buf, h)
		if err != nil {
			if errors.Is(err, ErrPause) {
				p.release()
				return n, err
			}
			p.err = err
			return 0, err
		}
		if len(p.pend) > 0 {
			return total, nil // the op is still incomplete; all of buf is in pend
		}
		buf = buf[n:]
	}
	for len(buf) > 0 {
		n, need, err := p.parseOp(buf, h, false)
		if err != nil {
			if errors.Is(err, ErrPause) {
				return total - len(buf) + n, err
			}
			p.err = err
			return 0, err
		}
		if n == 0 {
			p.stash(buf, need)
			return total, nil
		}
		buf = buf[n:]
	}
	return total, nil
}

// parseOp parses the op at the start of data. It returns:
//   - n > 0: the op was complete, h was called, n bytes were consumed;
//   - n == 0, need > 0: the control line is complete and valid but the op
//     needs need bytes in total;
//   - n == 0, need == 0: the control line is incomplete (so far valid).
//
// resumed reports that the control line was already validated by an earlier
// call (its payload limit is not checked again).
func (p *Parser) parseOp(data []byte, h Handler, resumed bool) (n, need int, err error) {
	accept := p.accept
	if accept == 0 {
		accept = ClientOps
	}
	op, st := matchOp(data, accept)
	if st != matchFound {
		if st == matchPartial {
			return 0, 0, nil
		}
		return 0, 0, withDetail(ErrUnknownOp, "", data)
	}
	def := &opTable[op]
	start := len(def.name)

	// Find the end of the control line, looking no further than the limit
	// allows: rest (<= mcl bytes) + '\r' + '\n'.
	mcl := p.mcl
	if mcl == 0 {
		mcl = DefaultMaxControlLine
	}
	// The separator after the name is not counted, so for the usual single
	// separator the limit applies to the arguments, as in the official server.
	window := data[start:]
	sep := 0
	if len(window) > 0 && isSep(window[0]) {
		sep = 1
	}
	if mcl > 0 && len(window) > sep+mcl+2 {
		window = window[:sep+mcl+2]
	}
	nl := bytes.IndexByte(window, '\n')
	if nl < 0 {
		k := len(window) - sep
		if k > 0 && window[len(window)-1] == '\r' {
			k-- // may be the first half of the terminator
		}
		if mcl > 0 && k > mcl {
			return 0, 0, withDetail(ErrMaxControlLine, "", data)
		}
		return 0, 0, nil
	}
	lineEnd := start + nl + 1
	rest := window[:nl]
	if len(rest) > 0 && rest[len(rest)-1] == '\r' {
		rest = rest[:len(rest)-1]
	}
	if mcl > 0 && len(rest)-sep > mcl {
		return 0, 0, withDetail(ErrMaxControlLine, "", data)
	}

	f := &p.frame
	*f = Frame{Op: op}
	switch def.kind {
	case lineArgs:
		if err := splitArgs(op, rest, f, p.noAcc); err != nil {
			return 0, 0, err
		}
	case lineRaw:
		f.Arg = trimSeps(rest)
	}
	if !def.payload {
		if err := h.HandleOp(f); err != nil {
			return lineEnd, 0, err
		}
		return lineEnd, 0, nil
	}

	size := f.Size
	if !resumed {
		mp := p.mpay
		if mp == 0 {
			mp = DefaultMaxPayload
		}
		if mp > 0 && size > mp {
			return 0, 0, withDetail(ErrMaxPayload, "", data[:lineEnd])
		}
	}
	end := lineEnd + size // index of the '\r' that must follow the payload
	if len(data) < end+2 {
		if len(data) > end && data[end] != '\r' {
			return 0, 0, withDetail(ErrUnknownOp, "payload not followed by CRLF", data[end:])
		}
		return 0, end + 2, nil
	}
	if data[end] != '\r' || data[end+1] != '\n' {
		return 0, 0, withDetail(ErrUnknownOp, "payload not followed by CRLF", data[end:])
	}
	f.Msg = data[lineEnd:end:end]
	if err := h.HandleOp(f); err != nil {
		return end + 2, 0, err
	}
	return end + 2, 0, nil
}

// stash keeps the incomplete op at the end of a Parse call's buffer.
func (p *Parser) stash(b []byte, need int) {
	p.need = need
	p.pend = p.pend[:0]
	p.reserve(len(b))
	p.pend = append(p.pend, b...)
}

// preallocMax is the largest op (line + payload + CRLF) whose buffer is
// allocated at its full size as soon as the control line is known. A bigger
// one (only possible with a MaxPayload above it) grows by doubling with the
// bytes actually received, so a peer cannot make the parser allocate memory
// just by announcing a large size.
const preallocMax = 4 << 20

// reserve makes room in pend for k more bytes, growing it straight to the
// op's full size when that is known and small enough.
func (p *Parser) reserve(k int) {
	n := len(p.pend) + k
	if n <= cap(p.pend) {
		return
	}
	c := max(n, 2*cap(p.pend))
	if p.need > 0 && (p.need <= preallocMax || c > p.need) {
		c = max(p.need, n)
	}
	grown := make([]byte, len(p.pend), c)
	copy(grown, p.pend)
	p.pend = grown
}

// resume continues the op in pend with bytes from buf. It returns how many
// bytes of buf it used; pend is empty afterwards iff the op was completed.
func (p *Parser) resume(buf []byte, h Handler) (int, error) {
	used := 0
	for p.need == 0 {
		// The control line is incomplete: take bytes up to '\n', but never
		// more than can be valid (a longer line fails in parseOp anyway).
		chunk := buf[used:]
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			chunk = chunk[:i+1]
		}
		if bound := p.lineBound(); bound > 0 && len(p.pend)+len(chunk) > bound {
			chunk = chunk[:max(bound-len(p.pend), 0)]
		}
		p.pend = append(p.pend, chunk...)
		used += len(chunk)
		n, need, err := p.parseOp(p.pend, h, false)
		if err != nil {
			return used, err
		}
		if n > 0 {
			p.release()
			return used, nil
		}
		if need == 0 {
			return used, nil // no '\n' in buf: everything is in pend
		}
		p.need = need
	}
	// The control line is complete: copy what is missing of payload + CRLF.
	k := min(p.need-len(p.pend), len(buf)-used)
	p.reserve(k)
	p.pend = append(p.pend, buf[used:used+k]...)
	used += k
	if len(p.pend) < p.need {
		if cr := p.need - 2; len(p.pend) > cr && p.pend[cr] != '\r' {
			return used, withDetail(ErrUnknownOp, "payload not followed by CRLF", p.pend[cr:])
		}
		return used, nil
	}
	_, _, err := p.parseOp(p.pend, h, true)
	p.release()
	return used, err
}

// lineBound is the most bytes an incomplete control line may need in pend
// before it is known to be too long (name, separator, limit, CRLF); 0 means
// unlimited.
func (p *Parser) lineBound() int {
	switch {
	case p.mcl < 0:
		return 0
	case p.mcl == 0:
		return maxNameLen + 1 + DefaultMaxControlLine + 2
	default:
		return maxNameLen + 1 + p.mcl + 2
	}
}

// maxNameLen is the longest op name ("CONNECT").
const maxNameLen = 7

// release forgets the pending op, keeping a small buffer for reuse.
func (p *Parser) release() {
	p.need = 0
	if cap(p.pend) > retainMax {
		p.pend = nil
		p.frame = Frame{} // it may point into the dropped buffer
		return
	}
	p.pend = p.pend[:0]
}
