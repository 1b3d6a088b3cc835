package jetstream

import (
	"fmt"
	"time"
)

// This file reports a stream's mirror and sources in STREAM.INFO, as the
// official server does (StreamSourceInfo), and holds the errors a run
// reports there.

// StreamSourceInfo is the state of a mirror or a source: lag is the
// upstream consumer's pending count at the last delivery, active the time
// since anything arrived from the upstream (-1 before anything did), error
// the last failure to set up or keep the upstream consumer.
type StreamSourceInfo struct {
	Name              string             `json:"name"`
	External          *ExternalStream    `json:"external,omitempty"`
	Lag               uint64             `json:"lag"`
	Active            time.Duration      `json:"active"`
	Error             *APIError          `json:"error,omitempty"`
	FilterSubject     string             `json:"filter_subject,omitempty"`
	SubjectTransforms []SubjectTransform `json:"subject_transforms,omitempty"`
}

// sourceInfo reports the stream's mirror and sources; a stream whose runs
// have not started (or stopped) reports its configured ones as inactive.
func (s *Stream) sourceInfo(cfg *StreamConfig) (mirror *StreamSourceInfo, sources []*StreamSourceInfo) {
	if cfg.Mirror == nil && len(cfg.Sources) == 0 {
		return nil, nil
	}
	runs := map[string]*sourceRun{}
	if sg := s.src.Load(); sg != nil {
		for _, r := range sg.runs {
			runs[r.iname] = r
		}
	}
	one := func(src *StreamSource) *StreamSourceInfo {
		si := &StreamSourceInfo{
			Name:              src.Name,
			External:          src.External,
			Active:            -1,
			FilterSubject:     src.FilterSubject,
			SubjectTransforms: src.SubjectTransforms,
		}
		if r := runs[sourceIName(src)]; r != nil {
			r.mu.Lock()
			si.Lag, si.Error = r.lag, r.err
			if !r.lastActive.IsZero() {
				si.Active = time.Since(r.lastActive)
			}
			r.mu.Unlock()
		}
		return si
	}
	if cfg.Mirror != nil {
		mirror = one(cfg.Mirror)
	}
	for _, src := range cfg.Sources {
		if src != nil {
			sources = append(sources, one(src))
		}
	}
	return mirror, sources
}

// errSourceConsumer wraps the upstream's refusal of the consumer create
// (10045 for a source, 10029 for a mirror, as officially: the text is the
// upstream's).
func errSourceConsumer(mirror bool, e *APIError) *APIError {
	return apiErr(500, sourceErrCode(mirror), e.Description)
}

// sourceErrCode is 10029 for a mirror, 10045 for a source.
func sourceErrCode(mirror bool) uint16 {
	if mirror {
		return 10029
	}
	return 10045
}

// errSourceNoUpstream: nothing answers the upstream's API yet (the leaf
// link is down, or the upstream server has no JetStream).
func errSourceNoUpstream(mirror bool, api string) *APIError {
	return apiErr(503, sourceErrCode(mirror), fmt.Sprintf("no responders for %s: upstream JetStream not reachable", api))
}

// errSourceTimeout: the create request went unanswered.
func errSourceTimeout(mirror bool, name string) *APIError {
	return apiErr(504, sourceErrCode(mirror), fmt.Sprintf("timeout creating consumer on stream %q", name))
}

// errSourceStore: a sourced message could not be stored (it is fetched
// again).
func errSourceStore(mirror bool, err error) *APIError {
	return apiErr(500, sourceErrCode(mirror), "storing sourced message: "+err.Error())
}
