package jetstream

import (
	"strconv"
	"strings"
)

// This file writes and reads the headers of sourced messages.
//
//	Nats-Stream-Source: <name>[:<hash(api)>][:C=<hash(consumer)>] <sseq> <src> <dest> <subject> <identity>
//
// The first field and src/dest make the source's index name (sourceIName);
// <subject> is the upstream subject before any transform; <identity> the
// upstream stream's identity. Before the header is added, an existing
// Nats-Stream-Source (a chain of sources) and every Nats-Expected-* and
// Nats-Batch-* header are removed, as officially; a mirror gets no header
// and loses only the Nats-Expected-* and Nats-Batch-* ones.

const hdrStreamSource = "Nats-Stream-Source"

// sourcedHeader returns hdr without the headers a sourced copy drops,
// with Nats-Stream-Source added when source is non-empty (the header's
// value). It returns nil when nothing is left.
func sourcedHeader(hdr []byte, source string) []byte {
	if len(hdr) == 0 && source == "" {
		return nil
	}
	out := make([]byte, 0, len(hdr)+len(hdrStreamSource)+len(source)+16)
	status := hdrLine
	body := ""
	if len(hdr) > 0 {
		first := lineEnd(hdr, 0)
		status = string(hdr[:first])
		body = string(hdr[min(first+2, len(hdr)):])
	}
	out = append(out, status...)
	out = append(out, crlf...)
	kept := 0
	for line := range strings.SplitSeq(body, crlf) {
		if line == "" {
			continue
		}
		key, _, _ := strings.Cut(line, ":")
		if strings.HasPrefix(key, "Nats-Expected-") || strings.HasPrefix(key, "Nats-Batch-") ||
			(source != "" && key == hdrStreamSource) {
			continue
		}
		out = append(out, line...)
		out = append(out, crlf...)
		kept++
	}
	if source != "" {
		out = appendHeader(out, hdrStreamSource, source)
		kept++
	}
	if kept == 0 && status == hdrLine {
		return nil
	}
	return append(out, crlf...)
}

// streamSourceValue is the Nats-Stream-Source value for a message of the
// run's upstream.
func streamSourceValue(iname string, sseq uint64, subject, identity string) string {
	first, rest, _ := strings.Cut(iname, " ")
	var b strings.Builder
	b.Grow(len(iname) + len(subject) + len(identity) + 24)
	b.WriteString(first)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(sseq, 10))
	b.WriteByte(' ')
	b.WriteString(rest)
	b.WriteByte(' ')
	b.WriteString(subject)
	if identity != "" {
		b.WriteByte(' ')
		b.WriteString(identity)
	}
	return b.String()
}

// parseStreamSource reads a Nats-Stream-Source value: the index name, the
// upstream sequence and the identity (if any). The two-field form
// "<name> <sseq>" of older servers has index name "<name> > >".
func parseStreamSource(v string) (iname string, sseq uint64, identity string, ok bool) {
	f := strings.Split(v, " ")
	switch {
	case len(f) == 2:
		n, err := strconv.ParseUint(f[1], 10, 64)
		return f[0] + " > >", n, "", err == nil
	case len(f) >= 4:
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return "", 0, "", false
		}
		if len(f) >= 6 {
			identity = f[5]
		}
		return f[0] + " " + f[2] + " " + f[3], n, identity, true
	}
	return "", 0, "", false
}
