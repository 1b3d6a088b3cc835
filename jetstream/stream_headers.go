package jetstream

import (
	"strconv"
	"time"
)

// This file reads and writes NATS header blocks:
//
//	NATS/1.0[ <status>[ <description>]]\r\n
//	Key: Value\r\n
//	...
//	\r\n
//
// The reader never allocates and never fails: a malformed block simply
// has fewer findable keys. Keys match case-sensitively, as the official
// server's lookups do (clients send the canonical spelling).

// Header names the engine reads or writes.
const (
	hdrMsgID               = "Nats-Msg-Id"
	hdrExpectedStream      = "Nats-Expected-Stream"
	hdrExpectedLastSeq     = "Nats-Expected-Last-Sequence"
	hdrExpectedLastSubjSeq = "Nats-Expected-Last-Subject-Sequence"
	hdrExpectedSubjSeqSubj = "Nats-Expected-Last-Subject-Sequence-Subject"
	hdrExpectedLastMsgID   = "Nats-Expected-Last-Msg-Id"
	hdrRollup              = "Nats-Rollup"
	hdrTTL                 = "Nats-TTL"
	hdrIncr                = "Nats-Incr"
	hdrBatchID             = "Nats-Batch-Id"
	hdrSchedule            = "Nats-Schedule"
	hdrStream              = "Nats-Stream"
	hdrSubject             = "Nats-Subject"
	hdrSequence            = "Nats-Sequence"
	hdrTimeStamp           = "Nats-Time-Stamp"
	hdrLine                = "NATS/1.0"
	crlf                   = "\r\n"
)

// headerValue returns the value of the first line "key: value" in hdr
// (leading spaces trimmed, up to CRLF) and whether the key is present. The
// first line (NATS/1.0 and status) is never a key.
func headerValue(hdr []byte, key string) ([]byte, bool) {
	i := lineEnd(hdr, 0)
	for i < len(hdr) {
		end := lineEnd(hdr, i)
		line := hdr[i:end]
		if len(line) > len(key) && line[len(key)] == ':' && string(line[:len(key)]) == key {
			v := line[len(key)+1:]
			for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
				v = v[1:]
			}
			for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
				v = v[:len(v)-1]
			}
			return v, true
		}
		i = end + 2
	}
	return nil, false
}

// lineEnd returns the index of the CRLF ending the line that starts at i,
// or len(b) when there is none.
func lineEnd(b []byte, i int) int {
	for j := i; j+1 < len(b); j++ {
		if b[j] == '\r' && b[j+1] == '\n' {
			return j
		}
	}
	return len(b)
}

// headerString is headerValue as a string ("" when absent).
func headerString(hdr []byte, key string) string {
	v, _ := headerValue(hdr, key)
	return string(v)
}

// headerUint parses the value of key as a decimal uint64. present is
// false when the key is absent or empty; ok is false when the value is not
// a number (callers treat that as a mismatch, like the official -1).
func headerUint(hdr []byte, key string) (n uint64, present, ok bool) {
	v, found := headerValue(hdr, key)
	if !found || len(v) == 0 {
		return 0, false, true
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, true, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, true, false
		}
		n = n*10 + d
	}
	return n, true, true
}

// appendDirectHeaders returns the header block of a direct-get reply: the
// stored block (or a bare NATS/1.0 line) followed by Nats-Stream,
// Nats-Subject, Nats-Sequence and Nats-Time-Stamp.
func appendDirectHeaders(dst, stored []byte, stream, subj string, seq uint64, ts int64) []byte {
	if len(stored) >= len(hdrLine)+4 && string(stored[:len(hdrLine)]) == hdrLine {
		// Drop the final empty line; keep the stored lines.
		end := len(stored)
		if string(stored[end-4:]) == crlf+crlf {
			end -= 2
		} else if string(stored[end-2:]) != crlf {
			stored = append(stored[:end:end], crlf...)
			end = len(stored)
		}
		dst = append(dst, stored[:end]...)
	} else {
		dst = append(dst, hdrLine+crlf...)
	}
	dst = appendHeader(dst, hdrStream, stream)
	dst = appendHeader(dst, hdrSubject, subj)
	dst = append(dst, hdrSequence+": "...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, crlf...)
	dst = append(dst, hdrTimeStamp+": "...)
	dst = time.Unix(0, ts).UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, crlf+crlf...)
	return dst
}

func appendHeader(dst []byte, key, value string) []byte {
	dst = append(dst, key...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, crlf...)
}

// statusHeader is a header-only status reply, e.g. "404 Message Not Found".
func statusHeader(status string) []byte {
	return []byte(hdrLine + " " + status + crlf + crlf)
}
