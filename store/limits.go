package store

import (
	"errors"
	"fmt"
)

// This file holds the limit rules both stores apply, as pure functions of
// the store's totals, so that MemStore and FileStore cannot drift apart.
// The rules themselves are described in the package documentation
// ("Limits").

// Errors for malformed arguments (in addition to those in store.go).
var (
	// ErrInvalidPurge: a Purge with both Sequence and Keep set.
	ErrInvalidPurge = errors.New("store: invalid purge")
	// ErrInvalidLimits: Limits with an unknown DiscardPolicy.
	ErrInvalidLimits = errors.New("store: invalid limits")
)

// validate checks l. Zero or negative limits mean "no limit" and are fine.
func (l Limits) validate() error {
	if l.Discard != DiscardOld && l.Discard != DiscardNew {
		return fmt.Errorf("%w: discard policy %d", ErrInvalidLimits, l.Discard)
	}
	return nil
}

// admit decides, before anything is stored, whether a new message may be:
// msgs and bytes are the store's totals, subjMsgs the count already stored
// for the message's subject, size its MsgSize and payload len(hdr)+len(data).
//
// Checks, in order: MaxMsgSize (ErrMsgTooLarge); a message whose size alone
// is above MaxBytes is refused under either policy (ErrMaxBytes: it could
// never be kept, and storing it under DiscardOld would only empty the
// store); then, with DiscardNew only, MaxMsgsPerSubject
// (ErrMaxMsgsPerSubject, only with DiscardNewPerSubject), MaxMsgs
// (ErrMaxMsgs, not for a message that replaces its subject's oldest) and
// MaxBytes (ErrMaxBytes).
func (l Limits) admit(msgs, bytes, subjMsgs, size uint64, payload int) error {
	if l.MaxMsgSize > 0 && payload > int(l.MaxMsgSize) {
		return ErrMsgTooLarge
	}
	if l.MaxBytes > 0 && size > uint64(l.MaxBytes) {
		return ErrMaxBytes
	}
	if l.Discard != DiscardNew {
		return nil
	}
	replaces := l.MaxMsgsPerSubject > 0 && subjMsgs >= uint64(l.MaxMsgsPerSubject)
	switch {
	case replaces && l.DiscardNewPerSubject:
		return ErrMaxMsgsPerSubject
	case l.MaxMsgs > 0 && msgs >= uint64(l.MaxMsgs) && !replaces:
		return ErrMaxMsgs
	case l.MaxBytes > 0 && bytes+size > uint64(l.MaxBytes):
		return ErrMaxBytes
	}
	return nil
}

// subjectOver reports whether a subject holding n messages is above
// MaxMsgsPerSubject: the store then drops that subject's oldest message
// (and asks again). Applied after every store and by UpdateLimits,
// whatever the discard policy.
func (l Limits) subjectOver(n uint64) bool {
	return l.MaxMsgsPerSubject > 0 && n > uint64(l.MaxMsgsPerSubject)
}

// over reports whether totals of msgs and bytes break MaxMsgs or MaxBytes:
// the store then drops its oldest message (and asks again). Applied after
// every store (it can only hold under DiscardOld: DiscardNew refused the
// message in admit) and by UpdateLimits, whatever the discard policy.
func (l Limits) over(msgs, bytes uint64) bool {
	return (l.MaxMsgs > 0 && msgs > uint64(l.MaxMsgs)) ||
		(l.MaxBytes > 0 && bytes > uint64(l.MaxBytes))
}

// expired reports whether a message stored at ts (unix nanos) has reached
// MaxAge at now: ts + MaxAge <= now.
func (l Limits) expired(ts, now int64) bool {
	return l.MaxAge > 0 && ts <= now-int64(l.MaxAge)
}

// expiresAt is the time at which a message stored at ts expires; only
// meaningful when MaxAge > 0. The age timer is armed for the first
// (lowest-sequence) message's expiresAt.
func (l Limits) expiresAt(ts int64) int64 {
	return ts + int64(l.MaxAge)
}

// validate checks p: Sequence and Keep are exclusive (ErrInvalidPurge) and
// Subject must be a valid filter (ErrInvalidSubject).
func (p Purge) validate() error {
	if p.Sequence > 0 && p.Keep > 0 {
		return fmt.Errorf("%w: Sequence and Keep are exclusive", ErrInvalidPurge)
	}
	if !validFilter(p.Subject) {
		return fmt.Errorf("%w: purge filter %q", ErrInvalidSubject, p.Subject)
	}
	return nil
}
