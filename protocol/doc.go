// Package protocol parses and encodes the NATS client protocol (INFO, CONNECT,
// PUB, HPUB, SUB, UNSUB, MSG, HMSG, PING, PONG, +OK, -ERR) and the ops servers
// exchange over route (cluster) and leaf-node connections (RS+, RS-, RMSG,
// LS+, LS-, LMSG and their HMSG).
//
// The package does no I/O and knows nothing about servers or clients. A
// connection's read loop feeds whatever bytes it read to Parser.Parse, which
// calls a Handler once per complete op with a Frame; Append* functions write
// ops into a caller-owned buffer. Facts follow the official nats-server
// v2.15.2 (server/parser.go, server/client.go, server/route.go,
// server/leafnode.go) and nats.go; see /work/shared/reference/protocol.md
// §1, §2.3 and §3.5.
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
// # Route and leaf ops
//
// Between the arguments of route and leaf ops, SP may also hold CRs, as in
// the official server (the byte right after the op name must still be a
// space or TAB).
// <target> is how a message names its reply and the queue groups it is
// meant for, as the official server writes it (server/client.go
// msgHeaderForRouteOrLeaf):
//
//	<target> = [<reply>] | "+" SP <reply> SP <queue> {SP <queue>} | "|" SP <queue> {SP <queue>}
//
// A message that names queue groups is to be delivered to one member of each
// (and to all plain subscribers); Frame.QueueList holds the names, NextQueue
// iterates them. An RS+/LS+ with a queue carries its weight, the number of
// members behind it; a weight that is not a valid size, or 0, counts as 1.
//
// On a route connection (Accept: RouteOps):
//
//	RS+  SP [<account> SP] <subject> [SP <queue> SP <weight>] EOL
//	RS-  SP [<account> SP] <subject> [SP <queue>] EOL
//	RMSG SP [<account> SP] <subject> SP [<target> SP] <size> EOL <payload> "\r\n"
//	HMSG SP [<account> SP] <subject> SP [<target> SP] <hdr size> SP <total size> EOL <header><payload> "\r\n"
//	LS+  SP <origin> SP [<account> SP] <subject> [SP <queue> SP <weight>] EOL
//	LS-  SP <origin> SP [<account> SP] <subject> [SP <queue>] EOL
//	LMSG SP <origin> SP [<account> SP] <subject> SP [<target> SP] <hdr size> SP <total size> EOL <header><payload> "\r\n"
//
// (OpRSub, OpRUnsub, OpRMsg, OpRHMsg, OpRLSub, OpRLUnsub, OpRLMsg). The
// account is present unless the route is pinned to one account (its INFO
// carried route_account); the parser is told with Config.NoAccount. The LS
// and LMSG forms carry subscriptions and messages that came from a leaf
// connection, with the leaf's cluster as origin ("_" = a leaf without
// one); a peer sends them only to a server that announced "lnoc" (LS+,
// LMSG) and "lnocu" (origin in LS-), or "ln" (both, plus the "_" origin),
// in its route INFO or CONNECT, and sends RS+/RS-/RMSG instead otherwise.
// A server announcing lnoc must announce lnocu too: an LS- without an
// origin (sent to peers that announced lnoc alone) is not supported, as it
// cannot be told from one with an origin. The route LMSG always has a
// header size (0 without headers). HMSG replaces RMSG for a message with
// headers when the peer announced headers.
//
// On a leaf-node connection (Accept: LeafOps), in both directions (hub to
// spoke and spoke to hub alike) and never with an account, since the
// connection is bound to one:
//
//	LS+  SP <subject> [SP <queue> SP <weight>] EOL
//	LS-  SP <subject> [SP <queue>] EOL
//	LMSG SP <subject> SP [<target> SP] <size> EOL <payload> "\r\n"
//	HMSG SP <subject> SP [<target> SP] <hdr size> SP <total size> EOL <header><payload> "\r\n"
//
// (OpLSub, OpLUnsub, OpLMsg, OpLHMsg). A message with headers travels as
// HMSG (to a peer that announced headers; else as LMSG without them), one
// without as LMSG. Besides these both sides send PING, PONG and
// -ERR; the hub sends INFO (at accept, after CONNECT with connect_info, and
// on cluster changes); the spoke sends CONNECT, preceded by an INFO only to
// negotiate compression. Official servers do not send +OK there (they
// connect with verbose off), but their parser accepts it, so the sets do too.
//
// Which ops a connection accepts: ClientOps on a client connection,
// ServerOps in a client, RouteOps on a route, LeafOps on a leaf connection
// (hub or spoke). HMSG, LS+, LS- and LMSG mean different things on
// different connections, so each set holds one op of a given name and
// Config.Accept selects it. The official parser is laxer: on a leaf
// connection it also takes RS+/RS-/RMSG as LS+/LS-/LMSG and SUB, UNSUB, PUB
// and HPUB; on a route PUB, HPUB and UNSUB (as RS-) and it ignores SUB; and
// A+/A- on both (no-ops except on gateways). Official servers send none of
// these there, so these sets reject them as unknown ops.
//
// Differences from the official server: a leaf LS- is split into subject and
// queue, where the official server looks the raw argument up as a key
// ("subject queue", single space) and silently ignores an LS- with more
// arguments or other spacing; here more than two arguments are
// ErrInvalidArgs. Limits: the official server allows route and leaf control
// lines of 16 times max_control_line (give the parser MaxControlLine:
// 16 * DefaultMaxControlLine or 16x the configured value) and does not limit
// route payloads (MaxPayload: -1), while leaf LMSG/HMSG are limited by
// max_payload.
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
//   - The payload limit is checked when the control line of a payload op
//     (PUB, HPUB, MSG, HMSG, RMSG, LMSG) is complete, before any payload is
//     read. For ops with headers it applies to the total size, as in the
//     official server.
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
// # Adding ops
//
// Everything op-specific is data plus one switch, so more ops (the gateway
// A+/A-, say) are added without restructuring:
//
//  1. Append Op constants before numOps (an Op must stay below 32) and the
//     bits to the sets that accept them.
//  2. Add a row to opTable (op.go): the wire name, the line kind (lineArgs for
//     most) and whether a payload follows. The first-byte table and name
//     matching pick the row up automatically.
//  3. Add a case to splitArgs (args.go) that fills the Frame, adding Frame
//     fields where needed. A payload op sets Frame.Size (and HeaderSize); the
//     generic code then checks the payload limit, skips the payload and
//     checks the CRLF.
//
// Where an op reuses another's name with different arguments (as the route
// and leaf HMSG, LS+, LS-, LMSG do), it is a separate Op with the same wire
// name: matching only considers ops in Config.Accept.
package protocol
