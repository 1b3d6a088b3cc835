package protocol

// Route and leaf encoders. They write what the official server writes
// (server/route.go addRouteSubOrUnsubProtoToBuf, server/leafnode.go
// writeLeafSub, server/client.go msgHeaderForRouteOrLeaf): single spaces,
// CRLF, and for messages sent to queue groups "+ <reply> <queues> " or
// "| <queues> " before the sizes. Like the client encoders they do not
// validate arguments.
//
// An empty account is omitted, which is the pinned-account route form
// (Config.NoAccount on the receiving side). queues is a list of queue group
// names separated by spaces (a Frame.QueueList can be passed on as is); an
// empty list selects the plain "[reply]" form. A message header line is
// followed by the caller's Size bytes and CRLF.

// maxWeight is the largest queue weight the official server sends
// (server/util.go maxQueueWeight): it must fit in 9 digits.
const maxWeight = 999_999_999

// AppendRSub appends "RS+ [account] <subject>[ <queue> <weight>]\r\n". The
// weight is written only with a queue, clamped to 1..999999999.
func AppendRSub(dst, account, subject, queue []byte, weight int) []byte {
	dst = append(dst, "RS+ "...)
	dst = appendOptional(dst, account)
	return appendSubQueueWeight(dst, subject, queue, weight)
}

// AppendRUnsub appends "RS- [account] <subject>[ <queue>]\r\n".
func AppendRUnsub(dst, account, subject, queue []byte) []byte {
	dst = append(dst, "RS- "...)
	dst = appendOptional(dst, account)
	return appendSubQueue(dst, subject, queue)
}

// AppendRMsgHeader appends
// "RMSG [account] <subject> [reply | + reply queues | | queues] <size>\r\n".
func AppendRMsgHeader(dst, account, subject, reply, queues []byte, size int) []byte {
	dst = append(dst, "RMSG "...)
	dst = appendOptional(dst, account)
	dst = appendMsgTarget(dst, subject, reply, queues)
	dst = appendInt(dst, size)
	return append(dst, CRLF...)
}

// AppendRHMsgHeader appends the route HMSG line
// "HMSG [account] <subject> [reply | + reply queues | | queues] <hdrSize> <totalSize>\r\n".
func AppendRHMsgHeader(dst, account, subject, reply, queues []byte, hdrSize, totalSize int) []byte {
	dst = append(dst, "HMSG "...)
	dst = appendOptional(dst, account)
	dst = appendMsgTarget(dst, subject, reply, queues)
	return appendSizes(dst, hdrSize, totalSize)
}

// AppendRLSub appends the leaf-origin route subscription
// "LS+ <origin> [account] <subject>[ <queue> <weight>]\r\n" (origin "_" is
// leaf interest without an origin cluster).
func AppendRLSub(dst, origin, account, subject, queue []byte, weight int) []byte {
	dst = append(dst, "LS+ "...)
	dst = appendWithSpace(dst, origin)
	dst = appendOptional(dst, account)
	return appendSubQueueWeight(dst, subject, queue, weight)
}

// AppendRLUnsub appends "LS- <origin> [account] <subject>[ <queue>]\r\n", the
// form a peer that announced lnocu or ln expects.
func AppendRLUnsub(dst, origin, account, subject, queue []byte) []byte {
	dst = append(dst, "LS- "...)
	dst = appendWithSpace(dst, origin)
	dst = appendOptional(dst, account)
	return appendSubQueue(dst, subject, queue)
}

// AppendRLMsgHeader appends the leaf-origin route message line
// "LMSG <origin> [account] <subject> [reply | + reply queues | | queues] <hdrSize> <totalSize>\r\n".
// It always carries the header size (0 for a message without headers).
func AppendRLMsgHeader(dst, origin, account, subject, reply, queues []byte, hdrSize, totalSize int) []byte {
	dst = append(dst, "LMSG "...)
	dst = appendWithSpace(dst, origin)
	dst = appendOptional(dst, account)
	dst = appendMsgTarget(dst, subject, reply, queues)
	return appendSizes(dst, hdrSize, totalSize)
}

// AppendLSub appends "LS+ <subject>[ <queue> <weight>]\r\n" for a leaf
// connection. The weight is written only with a queue, clamped to 1..999999999.
func AppendLSub(dst, subject, queue []byte, weight int) []byte {
	dst = append(dst, "LS+ "...)
	return appendSubQueueWeight(dst, subject, queue, weight)
}

// AppendLUnsub appends "LS- <subject>[ <queue>]\r\n" for a leaf connection.
func AppendLUnsub(dst, subject, queue []byte) []byte {
	dst = append(dst, "LS- "...)
	return appendSubQueue(dst, subject, queue)
}

// AppendLMsgHeader appends "LMSG <subject> [reply | + reply queues | | queues] <size>\r\n"
// for a leaf connection.
func AppendLMsgHeader(dst, subject, reply, queues []byte, size int) []byte {
	dst = append(dst, "LMSG "...)
	dst = appendMsgTarget(dst, subject, reply, queues)
	dst = appendInt(dst, size)
	return append(dst, CRLF...)
}

// AppendLHMsgHeader appends the leaf HMSG line
// "HMSG <subject> [reply | + reply queues | | queues] <hdrSize> <totalSize>\r\n".
func AppendLHMsgHeader(dst, subject, reply, queues []byte, hdrSize, totalSize int) []byte {
	dst = append(dst, "HMSG "...)
	dst = appendMsgTarget(dst, subject, reply, queues)
	return appendSizes(dst, hdrSize, totalSize)
}

// appendOptional appends b and a space if b is not empty.
func appendOptional(dst, b []byte) []byte {
	if len(b) == 0 {
		return dst
	}
	return appendWithSpace(dst, b)
}

// appendSubQueue appends "<subject>[ <queue>]\r\n".
func appendSubQueue(dst, subject, queue []byte) []byte {
	dst = append(dst, subject...)
	if len(queue) > 0 {
		dst = append(dst, ' ')
		dst = append(dst, queue...)
	}
	return append(dst, CRLF...)
}

// appendSubQueueWeight appends "<subject>[ <queue> <weight>]\r\n".
func appendSubQueueWeight(dst, subject, queue []byte, weight int) []byte {
	dst = append(dst, subject...)
	if len(queue) > 0 {
		dst = append(dst, ' ')
		dst = append(dst, queue...)
		dst = append(dst, ' ')
		dst = appendInt(dst, min(max(weight, 1), maxWeight))
	}
	return append(dst, CRLF...)
}

// appendMsgTarget appends "<subject> [reply | + reply queues | | queues] "
// (trailing space).
func appendMsgTarget(dst, subject, reply, queues []byte) []byte {
	dst = appendWithSpace(dst, subject)
	switch {
	case len(queues) > 0 && len(reply) > 0:
		dst = append(dst, "+ "...)
		dst = appendWithSpace(dst, reply)
		dst = appendWithSpace(dst, queues)
	case len(queues) > 0:
		dst = append(dst, "| "...)
		dst = appendWithSpace(dst, queues)
	case len(reply) > 0:
		dst = appendWithSpace(dst, reply)
	}
	return dst
}

// appendSizes appends "<hdrSize> <totalSize>\r\n".
func appendSizes(dst []byte, hdrSize, totalSize int) []byte {
	dst = appendInt(dst, hdrSize)
	dst = append(dst, ' ')
	dst = appendInt(dst, totalSize)
	return append(dst, CRLF...)
}
