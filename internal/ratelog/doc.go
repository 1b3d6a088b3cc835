// Package ratelog bounds the log lines that outside input can cause.
//
// A server logs a line for every connection it refuses (leaf admission,
// authorization, TLS handshake, connection limit). A peer that retries
// forever, or a scan of the port, would grow the log without bound. A
// Limiter logs the first event per key (a source address) as it comes;
// repeats, and events beyond MaxKeys distinct keys, are counted, and one
// summary line per message per Interval reports the count.
//
// The path of one event: Log(level, msg, key, attrs...) takes the
// limiter's lock; a key not yet seen (and room in the set) is remembered
// and the line is written at once; otherwise the message's count grows
// and, if no summary is due yet, a timer is set for the end of the
// interval. When the timer fires it writes, for each message counted,
// "<msg> (repeats suppressed)" with count and interval, and clears the
// counts. Close writes what is pending and stops the timer.
package ratelog
