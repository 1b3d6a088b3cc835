package store

import "time"

// Clock is the store's source of time: message timestamps and the max-age
// expiry timer. Tests pass a fake (storetest.FakeClock) to drive expiry
// without waiting.
type Clock interface {
	// Now is the current time in unix nanoseconds.
	Now() int64
	// AfterFunc calls f in its own goroutine once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop cancels the call; it reports whether it was still pending.
	Stop() bool
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() int64 { return time.Now().UnixNano() }

// AfterFunc implements Clock.
func (SystemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
