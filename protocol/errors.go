package protocol

import (
	"errors"
	"strconv"
)

// Error is a protocol violation carrying the exact text the official server
// sends in -ERR before it closes the connection.
type Error struct{ Text string }

// Error returns "protocol: " + Text.
func (e *Error) Error() string { return "protocol: " + e.Text }

// The protocol violations a server answers with -ERR '<Text>' and then closes
// the connection. Parse returns them wrapped with detail; test with errors.Is.
var (
	ErrUnknownOp      = &Error{Text: "Unknown Protocol Operation"}
	ErrMaxControlLine = &Error{Text: "maximum control line exceeded"}
	ErrMaxPayload     = &Error{Text: "Maximum Payload Violation"}
)

// ErrInvalidArgs reports a known op with malformed arguments: a wrong number
// of arguments, a size that is not 1 to 9 decimal digits, or an HPUB/HMSG
// header size larger than the total size. The official server closes the
// connection without sending any -ERR in that case, so this is deliberately
// not an *Error and ErrText reports false for it.
var ErrInvalidArgs = errors.New("protocol: invalid arguments")

// ErrPause, returned (or wrapped) by a handler, makes ParsePausable stop
// after the current op and report how much of its buffer it consumed,
// leaving the parser usable. It is how a server switches the transport
// mid-stream: after an INFO that starts TLS or S2 compression, the bytes
// that follow must be read through the new layer.
var ErrPause = errors.New("protocol: parse paused")

// ErrText returns the -ERR text of err if it is (or wraps) an *Error.
func ErrText(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Text, true
	}
	return "", false
}

// detailError wraps a sentinel with what was wrong and where.
type detailError struct {
	err    error
	detail string
}

func (e *detailError) Error() string { return e.err.Error() + ": " + e.detail }
func (e *detailError) Unwrap() error { return e.err }

// snippetLen bounds how much of the offending input an error quotes.
const snippetLen = 32

// withDetail wraps err with why and a quoted snippet of the offending bytes.
// Error paths only: it allocates.
func withDetail(err error, why string, near []byte) error {
	if len(near) > snippetLen {
		near = near[:snippetLen]
	}
	d := why
	if d != "" {
		d += " "
	}
	return &detailError{err: err, detail: d + "near " + strconv.Quote(string(near))}
}
