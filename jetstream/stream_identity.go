package jetstream

import (
	"crypto/sha256"
	"time"
)

// This file is the stream identity of sourcing (nats-server 2.15, "stream
// identity"): a short hash of a stream's creation time. An upstream puts
// it in the Nats-Stream-Identity header of its replies to direct and
// sourcing consumer creates (and resets); a downstream sends back the last
// one it saw, and a mismatch means the upstream stream was deleted and
// created again (error 10225). The downstream side uses the same
// functions for the identity token of Nats-Stream-Source.

// Headers of the sourcing protocol on API requests and replies.
const (
	hdrRequiredAPILevel = "Nats-Required-Api-Level"
	hdrStreamIdentity   = "Nats-Stream-Identity"
)

// shortHashLen is the length of shortHash's result (officially sysHashLen).
const shortHashLen = 8

// shortHashDigits is the alphabet of shortHash: digits, then upper, then
// lower case letters (base 62).
const shortHashDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// shortHash is the official getHash: SHA-256 of s, each of the first 8
// bytes mapped to shortHashDigits[b % 62].
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	var out [shortHashLen]byte
	for i := range out {
		out[i] = shortHashDigits[int(sum[i]%byte(len(shortHashDigits)))]
	}
	return string(out[:])
}

// streamIdentity is the identity of a stream created at created: the short
// hash of the UTC creation time in RFC 3339 with nanoseconds.
func streamIdentity(created time.Time) string {
	return shortHash(created.UTC().Format(time.RFC3339Nano))
}
