package protocol

// This file holds the argument splitters of the route and leaf ops, following
// the official server: server/route.go processRemoteSub (RS+, route LS+),
// parseUnsubProto (RS-, route LS-), processRoutedMsgArgs (RMSG),
// processRoutedHeaderMsgArgs (route HMSG), processRoutedOriginClusterMsgArgs
// (route LMSG); server/leafnode.go processLeafSub (leaf LS+), processLeafUnsub
// (leaf LS-), processLeafMsgArgs (leaf LMSG), processLeafHeaderMsgArgs (leaf
// HMSG). As there:
//   - arguments are separated by runs of spaces, TABs and CRs;
//   - a line starts with "lead" arguments that depend on the op and on
//     Config.NoAccount (origin, account); what follows is laid out alike for
//     all ops of a kind;
//   - an LS+/RS+ has a subject, or a subject, a queue and a weight (a subject
//     and a queue alone is an error); a weight that is not a valid size, or
//     is 0, counts as 1;
//   - a message is told apart by its argument count m after the lead, with k
//     sizes (1, or 2 with a header size): m == 1+k subject and sizes,
//     m == 2+k subject, reply and sizes, m >= 3+k subject, a reply indicator
//     that must be exactly "+" (a reply and then queues follow) or "|"
//     (queues follow), and the sizes last. So "RMSG acc subj | 5" has the
//     reply "|", like in the official server.

// leadArgs reports whether op's arguments start with an origin and with an
// account.
func leadArgs(op Op, noAcc bool) (origin, account bool) {
	switch op {
	case OpRSub, OpRUnsub, OpRMsg, OpRHMsg:
		return false, !noAcc
	case OpRLSub, OpRLUnsub, OpRLMsg:
		return true, !noAcc
	}
	return false, false
}

// setLead sets Origin and Account from the first arguments of a line that is
// known to hold them, and returns how many arguments they take.
func setLead(op Op, rest []byte, a *spans, f *Frame, noAcc bool) int {
	origin, account := leadArgs(op, noAcc)
	i := 0
	if origin {
		f.Origin = a.arg(rest, i)
		i++
	}
	if account {
		f.Account = a.arg(rest, i)
		i++
	}
	return i
}

// leadCount is the number of lead arguments of op.
func leadCount(op Op, noAcc bool) int {
	origin, account := leadArgs(op, noAcc)
	n := 0
	if origin {
		n++
	}
	if account {
		n++
	}
	return n
}

func wrongArgCount(op Op, rest []byte) error {
	return withDetail(ErrInvalidArgs, op.String()+": wrong number of arguments", rest)
}

// splitRemoteSub splits RS+, route LS+ and leaf LS+:
// [origin] [account] <subject> [<queue> <weight>].
func splitRemoteSub(op Op, rest []byte, f *Frame, noAcc bool) error {
	var a spans
	n := fields(rest, &a, true)
	lead := leadCount(op, noAcc)
	switch n - lead {
	case 1:
	case 3:
		f.Queue = a.arg(rest, lead+1)
		f.Weight = max(parseSize(a.arg(rest, lead+2)), 1)
	default:
		return wrongArgCount(op, rest)
	}
	setLead(op, rest, &a, f, noAcc)
	f.Subject = a.arg(rest, lead)
	return nil
}

// splitRemoteUnsub splits RS-, route LS- and leaf LS-:
// [origin] [account] <subject> [queue].
func splitRemoteUnsub(op Op, rest []byte, f *Frame, noAcc bool) error {
	var a spans
	n := fields(rest, &a, true)
	lead := leadCount(op, noAcc)
	switch n - lead {
	case 1:
	case 2:
		f.Queue = a.arg(rest, lead+1)
	default:
		return wrongArgCount(op, rest)
	}
	setLead(op, rest, &a, f, noAcc)
	f.Subject = a.arg(rest, lead)
	return nil
}

// splitRemoteMsg splits RMSG, route HMSG, route LMSG, leaf LMSG and leaf HMSG:
// [origin] [account] <subject> [reply | + reply q… | | q…] [hdr size] <size>.
func splitRemoteMsg(op Op, rest []byte, f *Frame, noAcc bool) error {
	var a spans
	n := fields(rest, &a, true)
	lead := leadCount(op, noAcc)
	k := 1 // number of sizes
	if op != OpRMsg && op != OpLMsg {
		k = 2
	}
	// sz[1] is the total size, sz[0] the header size when k == 2.
	var sz [2]span
	switch m := n - lead; {
	case m < 1+k:
		return wrongArgCount(op, rest)
	case m <= 2+k && n < len(a): // (n == len(a) means m > 2+k anyway)
		if m == 2+k {
			f.Reply = a.arg(rest, lead+1)
		}
		sz[0], sz[1] = a[n-2], a[n-1]
	default:
		// The queue form. fields stopped at len(a) arguments, which is past
		// the reply and the first queue; the sizes are found from the end.
		ind := a.arg(rest, lead+1)
		if len(ind) != 1 || ind[0] != '+' && ind[0] != '|' {
			return withDetail(ErrInvalidArgs, op.String()+": bad or missing reply indicator", rest)
		}
		q := lead + 2
		if ind[0] == '+' {
			f.Reply = a.arg(rest, q)
			q++
		}
		var qEnd int
		sz, qEnd = lastFields(rest, k)
		if qs := a[q].start; qs < qEnd {
			f.QueueList = rest[qs:qEnd:qEnd]
		}
	}
	var hdr []byte
	if k == 2 {
		hdr = rest[sz[0].start:sz[0].end:sz[0].end]
	}
	if err := setSizes(f, hdr, rest[sz[1].start:sz[1].end:sz[1].end], rest); err != nil {
		return err
	}
	setLead(op, rest, &a, f, noAcc)
	f.Subject = a.arg(rest, lead)
	return nil
}

// lastFields returns the last k (1 or 2) arguments of s, the last one in
// t[1], and the end of the argument before them (0 if there is none).
func lastFields(s []byte, k int) (t [2]span, before int) {
	j := len(s)
	for x := 1; x >= 2-k; x-- {
		for j > 0 && isArgSep(s[j-1], true) {
			j--
		}
		end := j
		for j > 0 && !isArgSep(s[j-1], true) {
			j--
		}
		t[x] = span{j, end}
	}
	for j > 0 && isArgSep(s[j-1], true) {
		j--
	}
	return t, j
}
