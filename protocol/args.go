package protocol

// This file holds the argument splitters: each turns the rest of a control
// line (after the op name, without the line terminator) into Frame fields.
// The rules, like the official server's (server/client.go processPub,
// processHeaderPub, parseSub, processUnsub; nats.go processMsgArgs):
//   - arguments are separated by runs of spaces and TABs; SUB, UNSUB, MSG and
//     HMSG also split on a stray '\r', PUB and HPUB do not;
//   - a size is 1 to 9 decimal digits, nothing else (so at most 999999999);
//   - an UNSUB max that is not a valid size counts as absent (Max 0), which is
//     what the official server does with it (unsubscribe now).
//
// The route and leaf splitters are in args_remote.go.

// maxArgs is the most arguments a splitter must tell apart by count: six for
// a route LMSG with a reply (origin account subject reply hdr size); from
// seven on it uses the queue-group form. fields reports up to maxArgs+1.
const maxArgs = 6

// parseSize parses 1 to 9 decimal digits; anything else yields -1.
func parseSize(d []byte) int {
	if len(d) == 0 || len(d) > 9 {
		return -1
	}
	n := 0
	for _, c := range d {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// splitArgs fills f from the arguments of a lineArgs op. rest starts with
// the separator(s) that follow the op name. noAcc: route ops omit the account.
func splitArgs(op Op, rest []byte, f *Frame, noAcc bool) error {
	var a spans
	switch op {
	case OpRSub, OpRLSub, OpLSub:
		return splitRemoteSub(op, rest, f, noAcc)
	case OpRUnsub, OpRLUnsub, OpLUnsub:
		return splitRemoteUnsub(op, rest, f, noAcc)
	case OpRMsg, OpRHMsg, OpRLMsg, OpLMsg, OpLHMsg:
		return splitRemoteMsg(op, rest, f, noAcc)
	case OpPub:
		switch fields(rest, &a, false) {
		case 2:
			f.Subject = a.arg(rest, 0)
			return setSizes(f, nil, a.arg(rest, 1), rest)
		case 3:
			f.Subject, f.Reply = a.arg(rest, 0), a.arg(rest, 1)
			return setSizes(f, nil, a.arg(rest, 2), rest)
		}
	case OpHPub:
		switch fields(rest, &a, false) {
		case 3:
			f.Subject = a.arg(rest, 0)
			return setSizes(f, a.arg(rest, 1), a.arg(rest, 2), rest)
		case 4:
			f.Subject, f.Reply = a.arg(rest, 0), a.arg(rest, 1)
			return setSizes(f, a.arg(rest, 2), a.arg(rest, 3), rest)
		}
	case OpMsg:
		switch fields(rest, &a, true) {
		case 3:
			f.Subject, f.Sid = a.arg(rest, 0), a.arg(rest, 1)
			return setSizes(f, nil, a.arg(rest, 2), rest)
		case 4:
			f.Subject, f.Sid, f.Reply = a.arg(rest, 0), a.arg(rest, 1), a.arg(rest, 2)
			return setSizes(f, nil, a.arg(rest, 3), rest)
		}
	case OpHMsg:
		switch fields(rest, &a, true) {
		case 4:
			f.Subject, f.Sid = a.arg(rest, 0), a.arg(rest, 1)
			return setSizes(f, a.arg(rest, 2), a.arg(rest, 3), rest)
		case 5:
			f.Subject, f.Sid, f.Reply = a.arg(rest, 0), a.arg(rest, 1), a.arg(rest, 2)
			return setSizes(f, a.arg(rest, 3), a.arg(rest, 4), rest)
		}
	case OpSub:
		switch fields(rest, &a, true) {
		case 2:
			f.Subject, f.Sid = a.arg(rest, 0), a.arg(rest, 1)
			return nil
		case 3:
			f.Subject, f.Queue, f.Sid = a.arg(rest, 0), a.arg(rest, 1), a.arg(rest, 2)
			return nil
		}
	case OpUnsub:
		switch fields(rest, &a, true) {
		case 1:
			f.Sid = a.arg(rest, 0)
			return nil
		case 2:
			f.Sid = a.arg(rest, 0)
			f.Max = max(parseSize(a.arg(rest, 1)), 0)
			return nil
		}
	case OpErr:
		f.Arg = errText(rest)
		return nil
	}
	return withDetail(ErrInvalidArgs, op.String()+": wrong number of arguments", rest)
}

// setSizes parses the header size (hdr, nil for PUB/MSG) and the total size.
func setSizes(f *Frame, hdr, total, rest []byte) error {
	f.Size = parseSize(total)
	if f.Size < 0 {
		return withDetail(ErrInvalidArgs, f.Op.String()+": bad or missing size", rest)
	}
	if hdr != nil {
		f.HeaderSize = parseSize(hdr)
		if f.HeaderSize < 0 {
			return withDetail(ErrInvalidArgs, f.Op.String()+": bad or missing header size", rest)
		}
		if f.HeaderSize > f.Size {
			return withDetail(ErrInvalidArgs, f.Op.String()+": header size larger than total size", rest)
		}
	}
	return nil
}

// trimSeps removes leading and trailing spaces and TABs.
func trimSeps(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSep(b[i]) {
		i++
	}
	for j > i && isSep(b[j-1]) {
		j--
	}
	return b[i:j:j]
}

// errText returns the text of an -ERR line without its single quotes.
func errText(rest []byte) []byte {
	t := trimSeps(rest)
	if n := len(t); n >= 2 && t[0] == '\'' && t[n-1] == '\'' {
		t = t[1 : n-1 : n-1]
	}
	return t
}
