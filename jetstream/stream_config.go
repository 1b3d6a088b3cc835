package jetstream

import (
	"reflect"
	"strings"
	"time"

	"github.com/fernmq/fern/subject"
)

// This file fills a stream config's defaults and validates it, in the
// official order (nats-server checkStreamCfg), refuses the features Fern
// does not implement, and checks what an update may change
// (configUpdateCheck). Subject collision (subjectsCollide) decides both
// overlap between streams and the STREAM.NAMES filter.

const (
	defaultDuplicateWindow = 2 * time.Minute
	minAgeOrWindow         = 100 * time.Millisecond
)

// normalizeConfig returns cfg with the server's defaults filled in, or the
// API error that refuses it. It does not look at other streams.
func normalizeConfig(in StreamConfig, pedantic bool) (StreamConfig, *APIError) {
	if !validStreamName(in.Name) {
		return StreamConfig{}, errStreamInvalidConfig("stream name is required and can not contain '.', '*', '>', '\\', '/'")
	}
	if len(in.Name) > maxNameLen {
		return StreamConfig{}, errStreamInvalidConfig("stream name is too long, maximum allowed is %d", maxNameLen)
	}
	if len(in.Description) > maxDescLen {
		return StreamConfig{}, errStreamInvalidConfig("stream description is too long, maximum allowed is %d", maxDescLen)
	}
	metaLen := 0
	for k, v := range in.Metadata {
		metaLen += len(k) + len(v)
	}
	if metaLen > maxMetadataLen {
		return StreamConfig{}, errStreamInvalidConfig("stream metadata exceeds maximum size of %d bytes", maxMetadataLen)
	}
	cfg := in
	cfg.Subjects = append([]string(nil), in.Subjects...)
	if len(cfg.Metadata) == 0 {
		cfg.Metadata = nil
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas > 5 {
		return StreamConfig{}, errStreamInvalidConfig("maximum replicas is 5")
	}
	if cfg.Replicas < 0 {
		return StreamConfig{}, errReplicasNegative()
	}
	if e := defaultLimits(&cfg, pedantic); e != nil {
		return StreamConfig{}, e
	}
	if cfg.MaxAge < 0 {
		return StreamConfig{}, errStreamInvalidConfig("max age can not be negative")
	}
	if cfg.MaxAge != 0 && cfg.MaxAge < minAgeOrWindow {
		return StreamConfig{}, errStreamInvalidConfig("max age needs to be >= 100ms")
	}
	if e := defaultWindow(&cfg, pedantic); e != nil {
		return StreamConfig{}, e
	}
	if cfg.DenyPurge && cfg.AllowRollup {
		return StreamConfig{}, errStreamInvalidConfig("roll-ups require the purge permission")
	}
	if cfg.DiscardNewPerSubject {
		if cfg.Discard != DiscardNew {
			return StreamConfig{}, errStreamInvalidConfig("discard new per subject requires discard new policy to be set")
		}
		if cfg.MaxMsgsPerSubject <= 0 {
			return StreamConfig{}, errStreamInvalidConfig("discard new per subject requires max msgs per subject > 0")
		}
	}
	if cfg.PersistMode == AsyncPersistMode && cfg.Storage != FileStorage {
		return StreamConfig{}, errStreamInvalidConfig("async persist mode is only supported on file storage")
	}
	// Before the refusals, so that a mirror with counters or schedules
	// gets the mirror error, as officially.
	if e := checkSourcing(&cfg, pedantic); e != nil {
		return StreamConfig{}, e
	}
	if e := refuseMissingFeatures(&cfg); e != nil {
		return StreamConfig{}, e
	}
	switch {
	case len(cfg.Subjects) > 0:
		if e := checkSubjects(&cfg); e != nil {
			return StreamConfig{}, e
		}
	case cfg.Mirror == nil && len(cfg.Sources) == 0:
		// A mirror or a sourcing stream may have no subject of its own.
		cfg.Subjects = []string{cfg.Name}
	}
	if cfg.Sealed {
		cfg.MaxAge, cfg.Discard = 0, DiscardNew
		cfg.DenyDelete, cfg.DenyPurge, cfg.AllowRollup = true, true, false
	}
	return cfg, nil
}

// defaultLimits turns 0 (and anything below -1) into -1 for the count and
// size limits.
func defaultLimits(cfg *StreamConfig, pedantic bool) *APIError {
	type lim struct {
		name string
		v    *int64
	}
	maxSize, maxCons := int64(cfg.MaxMsgSize), int64(cfg.MaxConsumers)
	for _, l := range []lim{
		{"max_msgs", &cfg.MaxMsgs},
		{"max_msgs_per_subject", &cfg.MaxMsgsPerSubject},
		{"max_bytes", &cfg.MaxBytes},
		{"max_msg_size", &maxSize},
		{"max_consumers", &maxCons},
	} {
		if *l.v == 0 || *l.v < -1 {
			if pedantic && *l.v < -1 {
				return errPedantic(l.name + " must be set to -1")
			}
			*l.v = -1
		}
	}
	cfg.MaxMsgSize, cfg.MaxConsumers = int32(maxSize), int(maxCons)
	return nil
}

// defaultWindow fills and checks duplicate_window.
func defaultWindow(cfg *StreamConfig, pedantic bool) *APIError {
	if cfg.DuplicateWindow == 0 && cfg.Mirror == nil && len(cfg.Sources) == 0 {
		cfg.DuplicateWindow = defaultDuplicateWindow
		if cfg.MaxAge != 0 && cfg.MaxAge < cfg.DuplicateWindow {
			if pedantic {
				return errPedantic("duplicate window cannot be bigger than max age")
			}
			cfg.DuplicateWindow = cfg.MaxAge
		}
	}
	switch {
	case cfg.DuplicateWindow < 0:
		return errStreamInvalidConfig("duplicates window can not be negative")
	case cfg.MaxAge != 0 && cfg.DuplicateWindow > cfg.MaxAge:
		return errStreamInvalidConfig("duplicates window can not be larger then max age")
	case cfg.DuplicateWindow != 0 && cfg.DuplicateWindow < minAgeOrWindow:
		return errStreamInvalidConfig("duplicates window needs to be >= 100ms")
	}
	return nil
}

// refuseMissingFeatures refuses, with 10052 (10074 for replicas), every
// configured feature Fern accepts in JSON but does not implement.
func refuseMissingFeatures(cfg *StreamConfig) *APIError {
	if cfg.Replicas > 1 {
		return errReplicasNotSupported()
	}
	var what string
	switch {
	case cfg.SubjectTransform != nil:
		what = "subject_transform"
	case cfg.RePublish != nil:
		what = "republish"
	case cfg.AllowMsgTTL:
		what = "allow_msg_ttl"
	case cfg.SubjectDeleteMarkerTTL != 0:
		what = "subject_delete_marker_ttl"
	case cfg.AllowMsgCounter:
		what = "allow_msg_counter"
	case cfg.AllowMsgSchedules:
		what = "allow_msg_schedules"
	default:
		return nil
	}
	return errStreamInvalidConfig("stream %s is %s", what, notImplemented)
}

// checkSubjects validates the configured subjects: valid, distinct, not
// overlapping each other, and clear of the API namespaces unless no_ack.
func checkSubjects(cfg *StreamConfig) *APIError {
	seen := make(map[string]struct{}, len(cfg.Subjects))
	for i, subj := range cfg.Subjects {
		if !subject.Valid(subj) {
			return errStreamInvalidConfig("invalid subject")
		}
		if _, dup := seen[subj]; dup {
			return errStreamInvalidConfig("duplicate subjects detected")
		}
		if subj == ">" && !cfg.NoAck {
			return errStreamInvalidConfig("capturing all subjects requires no-ack to be true")
		}
		if !cfg.NoAck {
			for _, ns := range []string{"$JS.>", "$JSC.>", "$NRG.>"} {
				if subjectsCollide(subj, ns) && !subsetMatch(subj, "$JS.EVENT.>") {
					return errStreamInvalidConfig("subjects that overlap with jetstream api require no-ack to be true")
				}
			}
			if subjectsCollide(subj, "$SYS.>") && !subsetMatch(subj, "$SYS.ACCOUNT.>") {
				return errStreamInvalidConfig("subjects that overlap with system api require no-ack to be true")
			}
		}
		for _, other := range cfg.Subjects[i+1:] {
			if subjectsCollide(other, subj) {
				return errStreamInvalidConfig("subject %q overlaps with %q", subj, other)
			}
		}
		seen[subj] = struct{}{}
	}
	return nil
}

// checkUpdate says whether a stream configured as old may become cfg
// (both normalized).
func checkUpdate(old, cfg *StreamConfig) *APIError {
	switch {
	case cfg.Name != old.Name:
		return errStreamInvalidConfig("stream configuration name must match original")
	case cfg.Storage != old.Storage:
		return errStreamInvalidConfig("stream configuration update can not change storage type")
	case cfg.Retention != old.Retention && (old.Retention == WorkQueuePolicy || cfg.Retention == WorkQueuePolicy):
		return errStreamInvalidConfig("stream configuration update can not change retention policy to/from workqueue")
	case !cfg.Sealed && old.Sealed:
		return errStreamInvalidConfig("stream configuration update can not unseal a sealed stream")
	case !cfg.DenyDelete && old.DenyDelete:
		return errStreamInvalidConfig("stream configuration update can not cancel deny message deletes")
	case !cfg.DenyPurge && old.DenyPurge:
		return errStreamInvalidConfig("stream configuration update can not cancel deny purge")
	}
	if e := checkSourcingUpdate(old, cfg); e != nil {
		return e
	}
	switch {
	case old.PersistMode != cfg.PersistMode:
		return errStreamInvalidConfig("stream configuration update can not change persist mode")
	case cfg.FirstSeq != old.FirstSeq:
		return errStreamInvalidConfig("stream configuration update can not change first sequence")
	}
	return nil
}

// sameConfig reports whether two normalized configs are equal (the
// idempotent-create test).
func sameConfig(a, b *StreamConfig) bool { return reflect.DeepEqual(a, b) }

func validStreamName(name string) bool {
	return name != "" && !strings.ContainsAny(name, " \t\r\n\f.*>\\/")
}

// subjectsCollide reports whether some literal subject matches both a and
// b (each may have wildcards).
func subjectsCollide(a, b string) bool {
	for {
		ta, ra, moreA := strings.Cut(a, ".")
		tb, rb, moreB := strings.Cut(b, ".")
		if ta == ">" || tb == ">" {
			return true
		}
		if ta != "*" && tb != "*" && ta != tb {
			return false
		}
		if !moreA || !moreB {
			return moreA == moreB
		}
		a, b = ra, rb
	}
}

// subsetMatch reports whether every subject matching sub also matches
// pattern.
func subsetMatch(sub, pattern string) bool {
	for {
		ts, rs, moreS := strings.Cut(sub, ".")
		tp, rp, moreP := strings.Cut(pattern, ".")
		switch {
		case tp == ">":
			return true
		case ts == ">":
			return false
		case tp == "*":
		case ts == "*" || ts != tp:
			return false
		}
		if !moreS || !moreP {
			return moreS == moreP
		}
		sub, pattern = rs, rp
	}
}
