package protocol

// Encoders append one op to dst and return the extended slice; they allocate
// only when dst lacks capacity. They write exactly what the official server
// (server/client.go msgHeader, server/util.go generateInfoJSON) and nats.go
// write, with single spaces and CRLF. Arguments are not validated: a subject
// or sid containing whitespace produces a line that will not parse back.

// Fixed lines.
const (
	PingLine = "PING\r\n"
	PongLine = "PONG\r\n"
	OKLine   = "+OK\r\n"
	CRLF     = "\r\n"
)

// AppendInfo appends "INFO " + infoJSON + " \r\n". The space before CRLF is
// what the official server writes.
func AppendInfo(dst, infoJSON []byte) []byte {
	dst = append(dst, "INFO "...)
	dst = append(dst, infoJSON...)
	return append(dst, " \r\n"...)
}

// AppendMsgHeader appends "MSG <subject> <sid> [reply] <size>\r\n". The caller
// appends the size payload bytes and CRLF (or uses AppendMsg).
func AppendMsgHeader(dst, subject, sid, reply []byte, size int) []byte {
	dst = append(dst, "MSG "...)
	dst = appendSubjectSidReply(dst, subject, sid, reply)
	dst = appendInt(dst, size)
	return append(dst, CRLF...)
}

// AppendHMsgHeader appends "HMSG <subject> <sid> [reply] <hdrSize> <totalSize>\r\n".
func AppendHMsgHeader(dst, subject, sid, reply []byte, hdrSize, totalSize int) []byte {
	dst = append(dst, "HMSG "...)
	dst = appendSubjectSidReply(dst, subject, sid, reply)
	dst = appendInt(dst, hdrSize)
	dst = append(dst, ' ')
	dst = appendInt(dst, totalSize)
	return append(dst, CRLF...)
}

// AppendMsg appends a whole MSG: header line, payload, CRLF.
func AppendMsg(dst, subject, sid, reply, payload []byte) []byte {
	dst = AppendMsgHeader(dst, subject, sid, reply, len(payload))
	dst = append(dst, payload...)
	return append(dst, CRLF...)
}

// AppendHMsg appends a whole HMSG: header line, header block, payload, CRLF.
func AppendHMsg(dst, subject, sid, reply, header, payload []byte) []byte {
	dst = AppendHMsgHeader(dst, subject, sid, reply, len(header), len(header)+len(payload))
	dst = append(dst, header...)
	dst = append(dst, payload...)
	return append(dst, CRLF...)
}

// AppendPing appends PingLine.
func AppendPing(dst []byte) []byte { return append(dst, PingLine...) }

// AppendPong appends PongLine.
func AppendPong(dst []byte) []byte { return append(dst, PongLine...) }

// AppendOK appends OKLine.
func AppendOK(dst []byte) []byte { return append(dst, OKLine...) }

// AppendErr appends "-ERR '" + text + "'\r\n".
func AppendErr(dst []byte, text string) []byte {
	dst = append(dst, "-ERR '"...)
	dst = append(dst, text...)
	return append(dst, "'\r\n"...)
}

// AppendConnect appends "CONNECT " + json + "\r\n".
func AppendConnect(dst, json []byte) []byte {
	dst = append(dst, "CONNECT "...)
	dst = append(dst, json...)
	return append(dst, CRLF...)
}

// AppendPub appends "PUB <subject> [reply] <len(payload)>\r\n" + payload + "\r\n".
func AppendPub(dst, subject, reply, payload []byte) []byte {
	dst = append(dst, "PUB "...)
	dst = appendWithSpace(dst, subject)
	if len(reply) > 0 {
		dst = appendWithSpace(dst, reply)
	}
	dst = appendInt(dst, len(payload))
	dst = append(dst, CRLF...)
	dst = append(dst, payload...)
	return append(dst, CRLF...)
}

// AppendHPub appends "HPUB <subject> [reply] <len(header)> <total>\r\n" +
// header + payload + "\r\n".
func AppendHPub(dst, subject, reply, header, payload []byte) []byte {
	dst = append(dst, "HPUB "...)
	dst = appendWithSpace(dst, subject)
	if len(reply) > 0 {
		dst = appendWithSpace(dst, reply)
	}
	dst = appendInt(dst, len(header))
	dst = append(dst, ' ')
	dst = appendInt(dst, len(header)+len(payload))
	dst = append(dst, CRLF...)
	dst = append(dst, header...)
	dst = append(dst, payload...)
	return append(dst, CRLF...)
}

// AppendSub appends "SUB <subject> [queue] <sid>\r\n".
func AppendSub(dst, subject, queue, sid []byte) []byte {
	dst = append(dst, "SUB "...)
	dst = appendWithSpace(dst, subject)
	if len(queue) > 0 {
		dst = appendWithSpace(dst, queue)
	}
	dst = append(dst, sid...)
	return append(dst, CRLF...)
}

// AppendUnsub appends "UNSUB <sid> [max]\r\n"; max <= 0 is omitted.
func AppendUnsub(dst, sid []byte, max int) []byte {
	dst = append(dst, "UNSUB "...)
	dst = append(dst, sid...)
	if max > 0 {
		dst = append(dst, ' ')
		dst = appendInt(dst, max)
	}
	return append(dst, CRLF...)
}

// appendSubjectSidReply appends "<subject> <sid> [reply] " (trailing space).
func appendSubjectSidReply(dst, subject, sid, reply []byte) []byte {
	dst = appendWithSpace(dst, subject)
	dst = appendWithSpace(dst, sid)
	if len(reply) > 0 {
		dst = appendWithSpace(dst, reply)
	}
	return dst
}

func appendWithSpace(dst, b []byte) []byte {
	dst = append(dst, b...)
	return append(dst, ' ')
}

// appendInt appends n in decimal (no strconv, no allocation).
func appendInt(dst []byte, n int) []byte {
	u := uint64(n)
	if n < 0 {
		dst = append(dst, '-')
		u = -u
	}
	var b [20]byte
	i := len(b)
	for u >= 10 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	i--
	b[i] = byte('0' + u)
	return append(dst, b[i:]...)
}
