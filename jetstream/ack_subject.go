package jetstream

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// Ack reply subjects. Every delivery carries one as its reply:
//
//	v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
//	v2: $JS.ACK.<domain|_>.<account hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>[.<more>...]
//
// delivered is the delivery count (1 the first time), sseq and cseq the
// stream and consumer sequences, ts the message's store time in unix
// nanoseconds and pending the consumer's num_pending after this delivery.
// Fern emits v1 (what the reference server emits by default) and accepts
// both on input: 9 tokens, or 11 and more. Stream and consumer names hold
// no '.', so the layout is positional.
const (
	ackSubjectPrefix = "$JS.ACK."
	ackTokensV1      = 9
	ackTokensV2      = 11
)

// ackReplyPrefix returns "$JS.ACK.<stream>.<consumer>." for a consumer;
// compute it once and pass it to appendAckReply.
func ackReplyPrefix(stream, consumer string) string {
	return ackSubjectPrefix + stream + "." + consumer + "."
}

// ackReplyPrefixV2 returns the v2 prefix
// "$JS.ACK.<domain or _>.<account hash>.<stream>.<consumer>.".
func ackReplyPrefixV2(domain, accountHash, stream, consumer string) string {
	if domain == "" {
		domain = "_"
	}
	return ackSubjectPrefix + domain + "." + accountHash + "." + stream + "." + consumer + "."
}

// ackReplyInfo is what an ack reply subject carries.
type ackReplyInfo struct {
	Domain      string // v2 only; "_" for none
	AccountHash string // v2 only
	Stream      string
	Consumer    string
	Delivered   uint64 // delivery count
	StreamSeq   uint64
	ConsumerSeq uint64
	Timestamp   int64 // store time, unix nanoseconds
	Pending     uint64
	V2          bool
}

// appendAckReply appends prefix (from ackReplyPrefix) and the five numbers.
// It allocates nothing when dst has room.
func appendAckReply(dst []byte, prefix string, delivered, sseq, cseq uint64, ts int64, pending uint64) []byte {
	dst = append(dst, prefix...)
	dst = strconv.AppendUint(dst, delivered, 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, sseq, 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, cseq, 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, '.')
	return strconv.AppendUint(dst, pending, 10)
}

// parseAckReply parses a v1 or v2 ack reply subject. ok is false when the
// subject does not start with "$JS.ACK.", has a token count other than 9
// or 11+, or a number token that is empty, not decimal or out of range. It
// allocates nothing: the strings alias subj.
func parseAckReply(subj string) (info ackReplyInfo, ok bool) {
	if len(subj) < len(ackSubjectPrefix) || subj[:len(ackSubjectPrefix)] != ackSubjectPrefix {
		return info, false
	}
	var toks [ackTokensV2]string
	n := 0
	start := len(ackSubjectPrefix)
	for i := start; i <= len(subj); i++ {
		if i == len(subj) || subj[i] == '.' {
			if n < len(toks) {
				toks[n] = subj[start:i]
			}
			n++
			start = i + 1
		}
	}
	n += 2 // "$JS" and "ACK"
	var t []string
	switch {
	case n == ackTokensV1:
		t = toks[:7]
		info.Stream, info.Consumer = t[0], t[1]
		t = t[2:]
	case n >= ackTokensV2:
		info.V2 = true
		info.Domain, info.AccountHash, info.Stream, info.Consumer = toks[0], toks[1], toks[2], toks[3]
		t = toks[4:9]
	default:
		return ackReplyInfo{}, false
	}
	if info.Stream == "" || info.Consumer == "" {
		return ackReplyInfo{}, false
	}
	var nums [5]uint64
	for i := range nums {
		v, good := parseAckNum(t[i])
		if !good {
			return ackReplyInfo{}, false
		}
		nums[i] = v
	}
	if nums[3] > 1<<63-1 {
		return ackReplyInfo{}, false
	}
	info.Delivered, info.StreamSeq, info.ConsumerSeq = nums[0], nums[1], nums[2]
	info.Timestamp, info.Pending = int64(nums[3]), nums[4]
	return info, true
}

// parseAckNum parses a non-empty unsigned decimal that fits 64 bits.
func parseAckNum(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// ackKind is what an ack body asks for.
type ackKind int

const (
	ackUnknown  ackKind = iota // not an ack body: ignored
	ackAck                     // empty, "+ACK" or "+OK"
	ackNak                     // "-NAK" with optional delay
	ackProgress                // "+WPI": reset the ack wait
	ackNext                    // "+NXT": ack, then a pull request
	ackTerm                    // "+TERM" with optional reason
)

func (k ackKind) String() string {
	switch k {
	case ackAck:
		return "ack"
	case ackNak:
		return "nak"
	case ackProgress:
		return "progress"
	case ackNext:
		return "next"
	case ackTerm:
		return "term"
	}
	return "unknown"
}

// ackBody is a parsed ack payload.
type ackBody struct {
	Kind ackKind
	// Delay is a NAK's redelivery delay when HasDelay; a NAK without a
	// valid delay redelivers at once.
	Delay    time.Duration
	HasDelay bool
	// Reason is the text after "+TERM", trimmed.
	Reason string
	// Next is the pull request body after "+NXT" (may be empty), aliasing
	// the payload.
	Next []byte
}

// parseAckBody classifies an ack payload as the reference server does:
// empty, "+ACK" and "+OK" exactly; "+WPI" exactly; "+NXT", "-NAK" and
// "+TERM" as prefixes. A NAK's argument is {"delay": <ns>} or a Go
// duration ("5s"); an unparsable one makes a plain NAK. Anything else is
// ackUnknown and must be ignored.
func parseAckBody(b []byte) ackBody {
	switch {
	case len(b) == 0, string(b) == "+ACK", string(b) == "+OK":
		return ackBody{Kind: ackAck}
	case bytes.HasPrefix(b, []byte("+NXT")):
		return ackBody{Kind: ackNext, Next: b[len("+NXT"):]}
	case bytes.HasPrefix(b, []byte("-NAK")):
		return parseNak(bytes.TrimSpace(b[len("-NAK"):]))
	case string(b) == "+WPI":
		return ackBody{Kind: ackProgress}
	case bytes.HasPrefix(b, []byte("+TERM")):
		return ackBody{Kind: ackTerm, Reason: string(bytes.TrimSpace(b[len("+TERM"):]))}
	}
	return ackBody{Kind: ackUnknown}
}

func parseNak(arg []byte) ackBody {
	nak := ackBody{Kind: ackNak}
	if len(arg) == 0 {
		return nak
	}
	if arg[0] == '{' {
		var o struct {
			Delay time.Duration `json:"delay"`
		}
		if err := json.Unmarshal(arg, &o); err == nil {
			nak.Delay, nak.HasDelay = o.Delay, true
		}
		return nak
	}
	if d, err := time.ParseDuration(string(arg)); err == nil {
		nak.Delay, nak.HasDelay = d, true
	}
	return nak
}

// ackWantsReply reports whether an ack published with a reply subject (a
// "double ack") gets an empty message back once applied: every kind does,
// except +NXT (its reply is the pull request's inbox) and an ack whose
// subject did not parse.
func ackWantsReply(reply string, k ackKind, subjectOK bool) bool {
	return reply != "" && subjectOK && k != ackNext
}
