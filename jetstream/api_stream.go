package jetstream

import (
	"reflect"
	"slices"
	"time"
)

// This file answers the stream management API: CREATE, UPDATE, DELETE,
// INFO, NAMES and LIST. All of them run on the API goroutine, so they are
// serialized with each other.

// apiStreamCreate: idempotent when the normalized configs are equal.
func (e *Engine) apiStreamCreate(name string, m inMsg) any {
	fail := func(err *APIError) any { return errorReply(typeStreamCreate, err) }
	var req streamConfigRequest
	if err := decodeStrict(m.data, &req); err != nil {
		return fail(err)
	}
	if req.Name == "" {
		req.Name = name
	} else if req.Name != name {
		return fail(errStreamMismatch())
	}
	if req.Sealed {
		return fail(errStreamInvalidConfig("stream configuration for create can not be sealed"))
	}
	cfg, err := normalizeConfig(req.StreamConfig, req.Pedantic)
	if err != nil {
		return fail(err)
	}
	if err := checkSourcingAgainst(&cfg, req.Pedantic, e.streamConfigOf); err != nil {
		return fail(err)
	}
	if s := e.Stream(name); s != nil {
		if !sameConfig(s.Config(), &cfg) {
			return fail(errStreamNameExist())
		}
		info, _ := s.info(nil)
		return &streamCreateResponse{apiResponse: apiResponse{Type: typeStreamCreate}, StreamInfo: info, DidCreate: true}
	}
	e.mu.Lock()
	overlap := e.overlapsLocked(&cfg, name)
	e.mu.Unlock()
	if overlap {
		return fail(errSubjectOverlap())
	}
	if err := e.checkReservation(&cfg, ""); err != nil {
		return fail(err)
	}
	s, oerr := e.openStream(cfg, time.Now().UTC())
	if oerr != nil {
		e.log.Error("JetStream stream create failed", "stream", name, "err", oerr)
		return fail(errStreamCreate(oerr))
	}
	if werr := s.writeMeta(&cfg); werr != nil {
		s.remove()
		return fail(errStreamCreate(werr))
	}
	if serr := s.subscribe(); serr != nil {
		s.remove()
		return fail(errStreamCreate(serr))
	}
	e.mu.Lock()
	e.streams[name] = s
	e.mu.Unlock()
	s.startSourcing()
	e.RetrySources() // a local source or mirror may have waited for it
	e.log.Info("JetStream stream created", "stream", name, "storage", cfg.Storage.String())
	info, _ := s.info(nil)
	return &streamCreateResponse{apiResponse: apiResponse{Type: typeStreamCreate}, StreamInfo: info, DidCreate: true}
}

// streamConfigOf returns the config of the local stream called name, nil
// when there is none (checkSourcingAgainst's lookup).
func (e *Engine) streamConfigOf(name string) *StreamConfig {
	if s := e.Stream(name); s != nil {
		return s.Config()
	}
	return nil
}

// checkReservation refuses a config whose max_bytes would take the
// reserved bytes of its storage type past Config.MaxMemory/MaxStore.
func (e *Engine) checkReservation(cfg *StreamConfig, self string) *APIError {
	limit, fail := e.cfg.MaxStore, errInsufficientStorage
	if cfg.Storage == MemoryStorage {
		limit, fail = e.cfg.MaxMemory, errInsufficientMemory
	}
	if limit <= 0 || cfg.MaxBytes <= 0 {
		return nil
	}
	reserved := cfg.MaxBytes
	for _, s := range e.sortedStreams() {
		if c := s.Config(); s.name != self && c.Storage == cfg.Storage && c.MaxBytes > 0 {
			reserved += c.MaxBytes
		}
	}
	if reserved > limit {
		return fail()
	}
	return nil
}

// apiStreamUpdate applies a new config to an existing stream.
func (e *Engine) apiStreamUpdate(name string, m inMsg) any {
	fail := func(err *APIError) any { return errorReply(typeStreamUpdate, err) }
	var req streamConfigRequest
	if err := decodeStrict(m.data, &req); err != nil {
		return fail(err)
	}
	if req.Name == "" {
		req.Name = name
	} else if req.Name != name {
		return fail(errStreamMismatch())
	}
	s := e.Stream(name)
	if s == nil {
		return fail(errStreamNotFound())
	}
	cfg, err := normalizeConfig(req.StreamConfig, req.Pedantic)
	if err != nil {
		return fail(err)
	}
	if err := checkSourcingAgainst(&cfg, req.Pedantic, e.streamConfigOf); err != nil {
		return fail(err)
	}
	old := s.Config()
	if err := checkUpdate(old, &cfg); err != nil {
		return fail(err)
	}
	e.mu.Lock()
	overlap := e.overlapsLocked(&cfg, name)
	e.mu.Unlock()
	if overlap {
		return fail(errSubjectOverlap())
	}
	if err := e.checkReservation(&cfg, name); err != nil {
		return fail(err)
	}
	if werr := s.writeMeta(&cfg); werr != nil {
		return fail(errStreamUpdate(werr))
	}
	if uerr := s.applyConfig(old, &cfg); uerr != nil {
		return fail(errStreamUpdate(uerr))
	}
	if !reflect.DeepEqual(old.Mirror, cfg.Mirror) || !reflect.DeepEqual(old.Sources, cfg.Sources) {
		s.restartSourcing()
	}
	info, _ := s.info(nil)
	return &streamCreateResponse{apiResponse: apiResponse{Type: typeStreamUpdate}, StreamInfo: info}
}

// applyConfig switches a stream to cfg: limits, subjects, direct get.
func (s *Stream) applyConfig(old, cfg *StreamConfig) error {
	if err := s.st.UpdateLimits(storeLimits(cfg)); err != nil {
		return err
	}
	s.cfg.Store(cfg)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Equal(old.Subjects, cfg.Subjects) {
		for _, sub := range s.subs {
			sub.Unsubscribe()
		}
		s.subs = nil
		for _, subj := range cfg.Subjects {
			sub, err := s.e.subscribe(subj, "", s.onMsg, true)
			if err != nil {
				return err
			}
			s.subs = append(s.subs, sub)
		}
	}
	return s.setDirectLocked(cfg.AllowDirect)
}

// apiStreamDelete removes a stream and its data. The body must be empty.
func (e *Engine) apiStreamDelete(name string, m inMsg) any {
	if !isEmptyRequest(m.data) {
		return errorReply(typeStreamDelete, errNotEmptyRequest())
	}
	e.mu.Lock()
	s := e.streams[name]
	delete(e.streams, name)
	e.mu.Unlock()
	if s == nil {
		return errorReply(typeStreamDelete, errStreamNotFound())
	}
	if c := e.consumerSide(); c != nil {
		c.StreamRemoved(name)
	}
	if err := s.remove(); err != nil {
		e.log.Error("JetStream stream delete failed", "stream", name, "err", err)
		return errorReply(typeStreamDelete, errStreamGeneral(err))
	}
	e.log.Info("JetStream stream deleted", "stream", name)
	return &successResponse{apiResponse: apiResponse{Type: typeStreamDelete}, Success: true}
}

// apiStreamInfo reports config and state, with optional subject counts
// (paged) and deleted sequences.
func (e *Engine) apiStreamInfo(name string, m inMsg) any {
	var req streamInfoRequest
	if err := decodeStrict(m.data, &req); err != nil {
		return errorReply(typeStreamInfo, err)
	}
	s := e.Stream(name)
	if s == nil {
		return errorReply(typeStreamInfo, errStreamNotFound())
	}
	info, total := s.info(&req)
	resp := &streamInfoResponse{apiResponse: apiResponse{Type: typeStreamInfo}, StreamInfo: info}
	if req.SubjectsFilter != "" {
		resp.apiPaged = apiPaged{Total: total, Offset: req.Offset, Limit: subjectsLimit}
	}
	return resp
}

// pageSubjects keeps the page of counts starting at offset (subjects in
// sorted order) and returns it with the total number of subjects.
func pageSubjects(counts map[string]uint64, offset int) (map[string]uint64, int) {
	total := len(counts)
	if offset <= 0 && total <= subjectsLimit {
		if total == 0 {
			return nil, 0
		}
		return counts, total
	}
	keys := make([]string, 0, total)
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	keys = keys[min(max(offset, 0), total):]
	keys = keys[:min(len(keys), subjectsLimit)]
	page := make(map[string]uint64, len(keys))
	for _, k := range keys {
		page[k] = counts[k]
	}
	return page, total
}

// matchingStreams returns the streams (sorted) with a subject colliding
// with filter ("" for all), and whether the filter is acceptable.
func (e *Engine) matchingStreams(filter string) []*Stream {
	all := e.sortedStreams()
	if filter == "" || filter == ">" {
		return all
	}
	out := all[:0]
	for _, s := range all {
		for _, subj := range s.Config().Subjects {
			if subjectsCollide(subj, filter) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

func (e *Engine) apiStreamNames(_ string, m inMsg) any {
	var req streamNamesRequest
	if err := decodeStrict(m.data, &req); err != nil {
		return errorReply(typeStreamNames, err)
	}
	list := e.matchingStreams(req.Subject)
	resp := &streamNamesResponse{
		apiResponse: apiResponse{Type: typeStreamNames},
		apiPaged:    apiPaged{Total: len(list), Offset: req.Offset, Limit: namesLimit},
		Streams:     []string{},
	}
	for _, s := range page(list, req.Offset, namesLimit) {
		resp.Streams = append(resp.Streams, s.name)
	}
	return resp
}

func (e *Engine) apiStreamList(_ string, m inMsg) any {
	var req streamNamesRequest
	if err := decodeStrict(m.data, &req); err != nil {
		return errorReply(typeStreamList, err)
	}
	list := e.matchingStreams(req.Subject)
	resp := &streamListResponse{
		apiResponse: apiResponse{Type: typeStreamList},
		apiPaged:    apiPaged{Total: len(list), Offset: req.Offset, Limit: listLimit},
		Streams:     []*StreamInfo{},
	}
	for _, s := range page(list, req.Offset, listLimit) {
		info, _ := s.info(nil)
		resp.Streams = append(resp.Streams, info)
	}
	return resp
}

// page returns list[offset:offset+limit], clamped.
func page[T any](list []T, offset, limit int) []T {
	offset = min(max(offset, 0), len(list))
	list = list[offset:]
	return list[:min(len(list), limit)]
}
