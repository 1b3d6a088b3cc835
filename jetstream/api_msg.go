package jetstream

import (
	"errors"

	"github.com/fernmq/fern/store"
	"github.com/fernmq/fern/subject"
)

// This file answers the message API of a stream: PURGE, MSG.DELETE and
// MSG.GET (the JSON get; direct get is in api_direct.go).

func (e *Engine) apiStreamPurge(name string, m inMsg) any {
	fail := func(err *APIError) any { return errorReply(typeStreamPurge, err) }
	var req purgeRequest
	if err := decodeStrict(m.data, &req); err != nil {
		return fail(err)
	}
	s := e.Stream(name)
	if s == nil {
		return fail(errStreamNotFound())
	}
	cfg := s.Config()
	switch {
	case cfg.Sealed:
		return fail(errSealed())
	case cfg.DenyPurge:
		return fail(errPurgeFailed("stream purge not permitted"))
	case req.Sequence > 0 && req.Keep > 0:
		return fail(errBadRequest())
	case req.Subject != "" && !subject.Valid(req.Subject):
		return fail(errPurgeFailed("invalid subject filter"))
	}
	n, err := s.st.Purge(store.Purge{Subject: req.Subject, Sequence: req.Sequence, Keep: req.Keep})
	if err != nil {
		return fail(errPurgeFailed(err.Error()))
	}
	return &purgeResponse{apiResponse: apiResponse{Type: typeStreamPurge}, Success: true, Purged: n}
}

func (e *Engine) apiMsgDelete(name string, m inMsg) any {
	fail := func(err *APIError) any { return errorReply(typeMsgDelete, err) }
	if isEmptyRequest(m.data) {
		return fail(errBadRequest())
	}
	var req msgDeleteRequest
	if err := decodeStrict(m.data, &req); err != nil {
		return fail(err)
	}
	s := e.Stream(name)
	if s == nil {
		return fail(errStreamNotFound())
	}
	cfg := s.Config()
	switch {
	case cfg.Sealed:
		return fail(errSealed())
	case cfg.DenyDelete:
		return fail(errMsgDeleteFailed("message delete not permitted"))
	}
	// no_erase or not, the store forgets the message: block rewrites drop
	// deleted records' bytes (an explicit overwrite is not implemented).
	removed, err := s.st.Remove(req.Seq)
	switch {
	case err != nil:
		return fail(errMsgDeleteFailed(err.Error()))
	case !removed:
		return fail(errMsgDeleteFailed("no message found"))
	}
	return &successResponse{apiResponse: apiResponse{Type: typeMsgDelete}, Success: true}
}

func (e *Engine) apiMsgGet(name string, m inMsg) any {
	fail := func(err *APIError) any { return errorReply(typeMsgGet, err) }
	var req msgGetRequest
	if err := decodeStrict(m.data, &req); err != nil {
		return fail(err)
	}
	s := e.Stream(name)
	if s == nil {
		return fail(errStreamNotFound())
	}
	if req.Batch > 0 || req.MaxBytes > 0 || len(req.MultiLastFor) > 0 || req.UpToSeq > 0 || req.UpToTime != nil ||
		(req.Seq > 0 && req.LastFor != "") ||
		(req.Seq == 0 && req.LastFor == "" && req.NextFor == "" && req.StartTime == nil) ||
		(req.Seq > 0 && req.StartTime != nil) ||
		(req.StartTime != nil && req.LastFor != "") ||
		(req.LastFor != "" && req.NextFor != "") {
		return fail(errBadRequest())
	}
	var sm store.Msg
	got, err := s.load(&req, &sm)
	if err != nil {
		return fail(loadError(err))
	}
	msg := &StoredMsg{
		Subject:  got.Subject,
		Sequence: got.Seq,
		Header:   got.Header,
		Data:     got.Data,
		Time:     nanosTime(got.Time),
	}
	if req.NoHeaders {
		msg.Header = nil
	}
	return &msgGetResponse{apiResponse: apiResponse{Type: typeMsgGet}, Message: msg}
}

// load finds the message a get request names: seq alone; next_by_subj
// from seq; last_by_subj; or the first at or after start_time.
func (s *Stream) load(req *msgGetRequest, m *store.Msg) (*store.Msg, error) {
	switch {
	case req.LastFor != "":
		return s.st.LoadLast(req.LastFor, m)
	case req.NextFor != "":
		return s.st.LoadNext(req.NextFor, req.Seq, m)
	case req.StartTime != nil:
		st := s.st.State()
		return s.st.LoadNext("", seqAtTime(s.st, st, req.StartTime.UnixNano()), m)
	}
	return s.st.Load(req.Seq, m)
}

// loadError maps a failed load: not found, or anything else.
func loadError(err error) *APIError {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrEOF) ||
		errors.Is(err, store.ErrInvalidSubject) {
		return errNoMessageFound()
	}
	return errStreamGeneral(err)
}
