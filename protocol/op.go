package protocol

import (
	"encoding/binary"
	"math/bits"
	"strconv"
)

// Op identifies a protocol operation.
type Op uint8

// The operations. Several share a wire name but take different arguments
// (HMSG, LS+, LS- and LMSG); Config.Accept decides which one a parser matches,
// and an OpSet must not hold two ops with the same name. An Op must stay below
// 32 so that it fits in an OpSet.
const (
	OpInfo    Op = iota + 1 // INFO {json}
	OpConnect               // CONNECT {json}
	OpPub                   // PUB <subject> [reply] <size>
	OpHPub                  // HPUB <subject> [reply] <hdr size> <total size>
	OpSub                   // SUB <subject> [queue] <sid>
	OpUnsub                 // UNSUB <sid> [max]
	OpMsg                   // MSG <subject> <sid> [reply] <size>
	OpHMsg                  // HMSG <subject> <sid> [reply] <hdr size> <total size>
	OpPing                  // PING
	OpPong                  // PONG
	OpOK                    // +OK
	OpErr                   // -ERR '<text>'

	// Route (cluster) ops. The account is absent on a pinned-account route
	// (Config.NoAccount).
	OpRSub   // RS+ [account] <subject> [<queue> <weight>]
	OpRUnsub // RS- [account] <subject> [queue]
	OpRMsg   // RMSG [account] <subject> [reply | + reply q… | | q…] <size>
	OpRHMsg  // HMSG [account] <subject> [reply | + reply q… | | q…] <hdr size> <total size>
	// Leaf-origin route ops, sent by a route peer that saw our INFO/CONNECT
	// announce lnoc+lnocu or ln.
	OpRLSub   // LS+ <origin> [account] <subject> [<queue> <weight>]
	OpRLUnsub // LS- <origin> [account] <subject> [queue]
	OpRLMsg   // LMSG <origin> [account] <subject> [reply | + reply q… | | q…] <hdr size> <total size>

	// Leaf-node ops: no account (the connection is bound to one).
	OpLSub   // LS+ <subject> [<queue> <weight>]
	OpLUnsub // LS- <subject> [queue]
	OpLMsg   // LMSG <subject> [reply | + reply q… | | q…] <size>
	OpLHMsg  // HMSG <subject> [reply | + reply q… | | q…] <hdr size> <total size>

	numOps // one past the last valid Op
)

// String returns the op's name as written on the wire ("PUB", "+OK", ...).
func (o Op) String() string {
	if o == 0 || o >= numOps {
		return "Op(" + strconv.Itoa(int(o)) + ")"
	}
	return opTable[o].name
}

// OpSet is a bit set of accepted ops (bit 1<<op).
type OpSet uint32

// Has reports whether o is in s.
func (s OpSet) Has(o Op) bool { return o < 32 && s&(1<<o) != 0 }

const (
	// ClientOps is what a server accepts from a client connection. Besides
	// CONNECT, PUB, HPUB, SUB, UNSUB, PING and PONG the official server's
	// parser also accepts, on a client connection:
	//   - INFO: JSON-decoded and otherwise ignored (invalid JSON closes the
	//     connection without an -ERR);
	//   - +OK: skipped;
	//   - -ERR: logged, then the connection is closed (no -ERR is sent back).
	// They are in the set so that a server can reproduce that behaviour; MSG
	// and HMSG are not (the official server answers 'Unknown Protocol
	// Operation').
	ClientOps OpSet = 1<<OpConnect | 1<<OpPub | 1<<OpHPub | 1<<OpSub | 1<<OpUnsub |
		1<<OpPing | 1<<OpPong | 1<<OpInfo | 1<<OpOK | 1<<OpErr

	// ServerOps is what a client accepts from a server.
	ServerOps OpSet = 1<<OpInfo | 1<<OpMsg | 1<<OpHMsg | 1<<OpPing | 1<<OpPong |
		1<<OpOK | 1<<OpErr

	// RouteOps is what a server accepts on a route connection, soliciting or
	// accepted: the handshake and keepalive ops, RS+/RS-/RMSG and the route
	// HMSG, and the leaf-origin LS+/LS-/LMSG that a peer sends once we
	// announced lnoc+lnocu or ln (a server that does not announce them never
	// receives those).
	RouteOps OpSet = 1<<OpInfo | 1<<OpConnect | 1<<OpPing | 1<<OpPong | 1<<OpOK | 1<<OpErr |
		1<<OpRSub | 1<<OpRUnsub | 1<<OpRMsg | 1<<OpRHMsg |
		1<<OpRLSub | 1<<OpRLUnsub | 1<<OpRLMsg

	// LeafOps is what a server accepts on a leaf-node connection, as hub or
	// as spoke: both sides send LS+, LS-, LMSG and the leaf HMSG, PING, PONG
	// and -ERR; the hub sends INFO, the spoke sends CONNECT (and an INFO
	// first only to negotiate compression).
	LeafOps OpSet = 1<<OpInfo | 1<<OpConnect | 1<<OpPing | 1<<OpPong | 1<<OpOK | 1<<OpErr |
		1<<OpLSub | 1<<OpLUnsub | 1<<OpLMsg | 1<<OpLHMsg
)

// lineKind says how the bytes between an op's name and the end of its control
// line are treated.
type lineKind uint8

const (
	// lineArgs: at least one space or TAB must follow the name; the rest of
	// the line is handed to the op's argument splitter (see args.go).
	lineArgs lineKind = iota
	// lineRaw: optional separators, then one raw argument (INFO, CONNECT).
	lineRaw
	// lineBare: anything after the name up to '\n' is ignored (PING, PONG,
	// +OK), as the official parser does.
	lineBare
)

// opDef describes one op for the generic parts of the parser.
type opDef struct {
	name    string   // wire name, upper case; matched case-insensitively
	kind    lineKind // how the rest of the control line is read
	payload bool     // a payload of Frame.Size bytes plus CRLF follows the line
}

// opTable is indexed by Op. Adding an op means adding a row here, a case in
// splitArgs (args.go) if its kind is lineArgs, and a bit in the OpSets that
// accept it.
var opTable = [numOps]opDef{
	OpInfo:    {name: "INFO", kind: lineRaw},
	OpConnect: {name: "CONNECT", kind: lineRaw},
	OpPub:     {name: "PUB", kind: lineArgs, payload: true},
	OpHPub:    {name: "HPUB", kind: lineArgs, payload: true},
	OpSub:     {name: "SUB", kind: lineArgs},
	OpUnsub:   {name: "UNSUB", kind: lineArgs},
	OpMsg:     {name: "MSG", kind: lineArgs, payload: true},
	OpHMsg:    {name: "HMSG", kind: lineArgs, payload: true},
	OpPing:    {name: "PING", kind: lineBare},
	OpPong:    {name: "PONG", kind: lineBare},
	OpOK:      {name: "+OK", kind: lineBare},
	OpErr:     {name: "-ERR", kind: lineArgs},
	OpRSub:    {name: "RS+", kind: lineArgs},
	OpRUnsub:  {name: "RS-", kind: lineArgs},
	OpRMsg:    {name: "RMSG", kind: lineArgs, payload: true},
	OpRHMsg:   {name: "HMSG", kind: lineArgs, payload: true},
	OpRLSub:   {name: "LS+", kind: lineArgs},
	OpRLUnsub: {name: "LS-", kind: lineArgs},
	OpRLMsg:   {name: "LMSG", kind: lineArgs, payload: true},
	OpLSub:    {name: "LS+", kind: lineArgs},
	OpLUnsub:  {name: "LS-", kind: lineArgs},
	OpLMsg:    {name: "LMSG", kind: lineArgs, payload: true},
	OpLHMsg:   {name: "HMSG", kind: lineArgs, payload: true},
}

// opByFirst maps a first byte (either case) to the set of ops whose name
// starts with it. It is computed once from opTable and never written again.
var opByFirst = func() (t [256]OpSet) {
	for o := Op(1); o < numOps; o++ {
		c := opTable[o].name[0]
		t[c] |= 1 << o
		if 'A' <= c && c <= 'Z' {
			t[c+'a'-'A'] |= 1 << o
		}
	}
	return t
}()

// opWord is an op name as one little-endian word, for matching all of a name
// with a single comparison: (load(data) | fold) & mask == word. fold has 0x20
// (the ASCII case bit) in the bytes that hold letters and mask covers the
// name's bytes. Only 'A'-'Z' and 'a'-'z' become 'a'-'z' when 0x20 is set, so
// the comparison is exact.
type opWord struct{ word, fold, mask uint64 }

// opWords is computed once from opTable and never written again. Names must
// be shorter than 8 bytes (so that name and separator fit in a word).
var opWords = func() (t [numOps]opWord) {
	for o := Op(1); o < numOps; o++ {
		for i, c := range []byte(opTable[o].name) {
			shift := 8 * uint(i)
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
				t[o].fold |= 0x20 << shift
			}
			t[o].word |= uint64(c) << shift
			t[o].mask |= 0xFF << shift
		}
	}
	return t
}()

// matchState is the outcome of matching an op name.
type matchState uint8

const (
	matchNone    matchState = iota // no accepted op can start with these bytes
	matchPartial                   // too few bytes to decide
	matchFound                     // an accepted op; its name (and required separator) is present
)

// matchOp identifies the accepted op at the start of data (len(data) > 0).
// For lineArgs ops the byte after the name must be a space or TAB, so "PUBX"
// is rejected as soon as the X is seen.
func matchOp(data []byte, accept OpSet) (Op, matchState) {
	cands := opByFirst[data[0]] & accept
	// Load up to 8 bytes; avail masks the bytes actually present.
	var w, avail uint64
	if len(data) >= 8 {
		w, avail = binary.LittleEndian.Uint64(data), ^uint64(0)
	} else {
		for i := len(data) - 1; i >= 0; i-- {
			w = w<<8 | uint64(data[i])
		}
		avail = 1<<(8*uint(len(data))) - 1
	}
	state := matchNone
	for cands != 0 {
		o := Op(bits.TrailingZeros32(uint32(cands)))
		cands &= cands - 1
		ow := &opWords[o]
		if (w|ow.fold)&ow.mask&avail != ow.word&avail {
			continue
		}
		d := &opTable[o]
		n := len(d.name)
		if d.kind == lineArgs {
			if len(data) <= n {
				state = matchPartial
				continue
			}
			if !isSep(data[n]) {
				continue
			}
		} else if len(data) < n {
			state = matchPartial
			continue
		}
		return o, matchFound
	}
	return 0, state
}

// isSep reports whether c separates an op from its arguments or two arguments.
func isSep(c byte) bool { return c == ' ' || c == '\t' }
