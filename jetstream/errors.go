package jetstream

import (
	"errors"
	"fmt"
)

// This file holds the API error object every $JS.API reply and PubAck
// uses on failure, with the official numbers (nats-server errors.json):
// clients match on err_code only, natscli prints description.

// APIError is the "error" object of an API reply or a PubAck.
type APIError struct {
	Code        int    `json:"code"`
	ErrCode     uint16 `json:"err_code,omitempty"`
	Description string `json:"description,omitempty"`
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s (%d)", e.Description, e.ErrCode)
}

// Sentinel errors of the engine itself (not API replies).
var (
	// ErrStopped: the engine was stopped, or never started.
	ErrStopped = errors.New("jetstream: engine stopped")
	// ErrStarted: Start was called twice.
	ErrStarted = errors.New("jetstream: engine already started")
	// ErrConfig: a Config that cannot work (see New).
	ErrConfig = errors.New("jetstream: invalid config")
	// ErrMeta: a stream's persisted metadata could not be read or written.
	ErrMeta = errors.New("jetstream: stream metadata")
)

// notImplemented is the suffix of every description that refuses a
// feature Fern does not have.
const notImplemented = "not implemented in fern"

func apiErr(code int, errCode uint16, desc string) *APIError {
	return &APIError{Code: code, ErrCode: errCode, Description: desc}
}

// Constructors, one per official error used here (err_code order).

func errBadRequest() *APIError { return apiErr(400, 10003, "bad request") }

func errInvalidJSON(err error) *APIError {
	return apiErr(400, 10025, "invalid JSON: "+err.Error())
}

func errNoMessageFound() *APIError { return apiErr(404, 10037, "no message found") }

func errNotEmptyRequest() *APIError {
	return apiErr(400, 10038, "expected an empty request payload")
}

func errInsufficientStorage() *APIError {
	return apiErr(500, 10047, "insufficient storage resources available")
}

func errInsufficientMemory() *APIError {
	return apiErr(500, 10028, "insufficient memory resources available")
}

func errStreamCreate(err error) *APIError { return apiErr(500, 10049, err.Error()) }

func errStreamGeneral(err error) *APIError { return apiErr(500, 10051, err.Error()) }

func errStreamInvalidConfig(format string, args ...any) *APIError {
	return apiErr(500, 10052, fmt.Sprintf(format, args...))
}

func errMsgTooBig() *APIError {
	return apiErr(400, 10054, "message size exceeds maximum allowed")
}

func errStreamMismatch() *APIError {
	return apiErr(400, 10056, "stream name in subject does not match request")
}

func errMsgDeleteFailed(desc string) *APIError { return apiErr(500, 10057, desc) }

func errStreamNameExist() *APIError {
	return apiErr(400, 10058, "stream name already in use with a different configuration")
}

func errStreamNotFound() *APIError { return apiErr(404, 10059, "stream not found") }

func errExpectedStream() *APIError { return apiErr(400, 10060, "expected stream does not match") }

func errSubjectOverlap() *APIError {
	return apiErr(400, 10065, "subjects overlap with an existing stream")
}

func errStreamUpdate(err error) *APIError { return apiErr(500, 10069, err.Error()) }

func errWrongLastMsgID(id string) *APIError {
	return apiErr(400, 10070, "wrong last msg ID: "+id)
}

func errWrongLastSeq(seq uint64) *APIError {
	return apiErr(400, 10071, fmt.Sprintf("wrong last sequence: %d", seq))
}

func errReplicasNotSupported() *APIError {
	return apiErr(500, 10074, "replicas > 1 not supported in non-clustered mode")
}

func errStoreFailed(desc string) *APIError { return apiErr(503, 10077, desc) }

func errHeaderTooBig() *APIError {
	return apiErr(400, 10097, "header size exceeds maximum allowed of 64k")
}

func errSealed() *APIError { return apiErr(400, 10109, "invalid operation on sealed stream") }

func errPurgeFailed(desc string) *APIError { return apiErr(500, 10110, desc) }

func errRollupFailed(desc string) *APIError { return apiErr(500, 10111, desc) }

func errReplicasNegative() *APIError {
	return apiErr(400, 10133, "replicas count cannot be negative")
}

func errPedantic(desc string) *APIError { return apiErr(400, 10157, "pedantic mode: "+desc) }

func errTTLDisabled() *APIError { return apiErr(400, 10166, "per-message TTL is disabled") }

func errIncrDisabled() *APIError { return apiErr(400, 10168, "message counters is disabled") }

func errAtomicDisabled() *APIError { return apiErr(400, 10174, "atomic publish is disabled") }

func errSchedulesDisabled() *APIError {
	return apiErr(400, 10188, "message schedules is disabled")
}

func errExpectedLastSubjSeqMissing() *APIError {
	return apiErr(400, 10193, "missing sequence for expected last sequence per subject")
}

func errBatchDisabled() *APIError { return apiErr(400, 10205, "batch publish is disabled") }

// errConsumersNotImplemented answers $JS.API.CONSUMER.* while no consumer
// side is attached. The official server has no "not implemented" error;
// 10012 (500, "{err}", the consumer-create failure) carries our text to
// the client as is, where 10076 would make nats.go report "JetStream not
// enabled".
func errConsumersNotImplemented() *APIError {
	return apiErr(500, 10012, "JetStream consumers are "+notImplemented+" yet")
}
