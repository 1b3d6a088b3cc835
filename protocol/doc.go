// Package protocol parses and encodes the NATS client protocol: INFO, CONNECT,
// PUB, HPUB, SUB, UNSUB, MSG, HMSG, PING, PONG, +OK and -ERR.
//
// The package does no I/O and knows nothing about servers or clients. A
// connection's read loop feeds whatever bytes it read to Parser.Parse, which
// calls a Handler once per complete op with a Frame; Append* functions write
// ops into a caller-owned buffer. Facts follow the official nats-server
// v2.15.2 (server/parser.go, server/client.go) and nats.go; see
// /work/shared/reference/protocol.md §1.
//
// # Grammar
//
// SP is one or more spaces or TABs. EOL is "\n" optionally preceded by "\r"
// (a bare "\n" is accepted). Op names are case-insensitive.
//
//	INFO    [SP] <json> EOL
//	CONNECT [SP] <json> EOL
//	PUB     SP <subject> [SP <reply>] SP <size> EOL <payload> "\r\n"
//	HPUB    SP <subject> [SP <reply>] SP <hdr size> SP <total size> EOL <header><payload> "\r\n"
//	SUB     SP <subject> [SP <queue>] SP <sid> EOL
//	UNSUB   SP <sid> [SP <max>] EOL
//	MSG     SP <subject> SP <sid> [SP <reply>] SP <size> EOL <payload> "\r\n"
//	HMSG    SP <subject> SP <sid> [SP <reply>] SP <hdr size> SP <total size> EOL <header><payload> "\r\n"
//	PING    <anything> EOL
//	PONG    <anything> EOL
//	+OK     <anything> EOL
//	-ERR    SP ['] <text> ['] EOL
//
// Sizes are 1 to 9 decimal digits; a header size may not exceed its total
// size. The payload is skipped by length and must be followed by exactly
// "\r\n". Like the official parser, PING, PONG and +OK ignore whatever follows
// the name up to '\n', and INFO and CONNECT need no separator before their
// argument.
//
// # Errors
//
// Parse returns ErrUnknownOp, ErrMaxControlLine or ErrMaxPayload (each an
// *Error whose Text is what the official server sends in -ERR before it
// closes the connection), or ErrInvalidArgs (malformed arguments of a known
// op, on which the official server closes the connection without an -ERR);
// all are wrapped with detail, so test with errors.Is or ErrText.
//
//   - An unknown op is reported as soon as the bytes seen cannot start an
//     accepted op: "M" on a client connection fails at once, "PUBX" at the X.
//   - The control line limit counts the bytes after the op name and the one
//     separator that follows it, excluding the line terminator: with the usual
//     single separator, exactly the arguments the official server counts. It
//     is enforced while a line is still incomplete, so a peer cannot make the
//     parser buffer more than the limit. (The official server skips any run
//     of separators uncounted and does not limit what follows PING/PONG/+OK;
//     this package counts extra separators and those bytes, so that what it
//     buffers is always bounded.)
//   - The payload limit is checked when the PUB/HPUB (or MSG/HMSG) control
//     line is complete, before any payload is read. For HPUB/HMSG it applies to
//     the total size, as in the official server.
//
// # Buffer lifetime
//
// A Frame and all of its slices are valid only during the HandleOp call that
// receives it (like bufio.Reader.ReadSlice: valid until the next parse). They
// alias the buffer passed to Parse when the op lay wholly inside it, or the
// parser's internal buffer when the op was split across Parse calls. Copy what
// must outlive the call (Frame.Clone copies everything in one allocation). The
// caller may reuse its buffer as soon as Parse returns: the parser keeps an
// incomplete op by copying it. That internal buffer is reused for the next split
// op; one bigger than 8 KiB (a large message that arrived in pieces) is
// released when its op completes. Once a control line announces the size, the
// buffer is allocated at the op's full size, unless that exceeds 4 MiB (only
// possible with a larger MaxPayload): then it grows with the bytes received,
// so announcing a size alone never makes the parser allocate it.
//
// # Allocation
//
// Parsing ops that lie wholly inside the buffer allocates nothing: the op name
// is matched with one word comparison per candidate (a first-byte table picks
// the candidates), the end of the line is found with bytes.IndexByte (bounded
// by the limit), arguments are split 8 bytes at a time into offsets on the
// stack, numbers are parsed by hand, the payload is skipped by length, and the
// Frame lives inside the Parser. Encoders allocate only when dst lacks
// capacity.
//
// # Adding route and leaf ops
//
// Everything op-specific is data plus one switch, so RS+, RS-, RMSG, LS+, LS-,
// LMSG (and A+/A-) are added without restructuring:
//
//  1. Append Op constants after OpErr (an Op must stay below 32) and the bits
//     to new sets, e.g. RouteOps = OpRSub|OpRUnsub|OpRMsg|OpRHMsg|OpInfo|
//     OpConnect|OpPing|OpPong|OpErr... .
//  2. Add a row to opTable (op.go): the wire name, the line kind (lineArgs for
//     all of these) and whether a payload follows (RMSG, LMSG). The first-byte
//     table and name matching pick the row up automatically.
//  3. Add a case to splitArgs (args.go) that fills the Frame, adding Frame
//     fields where needed (Account, Origin, Queues, Weight...). A payload op
//     sets Frame.Size (and HeaderSize); the generic code then checks the payload
//     limit, skips the payload and checks the CRLF.
//
// Where a route or leaf reuses a client op's name with different arguments
// (a route's "HMSG" carries an account; a leaf's "LS+" differs from a route's),
// add a separate Op with the same wire name: matching only considers ops in
// Config.Accept, so a route parser accepting OpRHMsg never confuses it with a
// client's OpHMsg. Routes and leafs use a control line limit 16 times the
// client's (Config.MaxControlLine).
package protocol
