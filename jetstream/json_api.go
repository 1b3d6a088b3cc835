package jetstream

import (
	"bytes"
	"encoding/json"
	"time"
)

// This file holds the request and reply bodies of the stream API and the
// strict decoding every request goes through. Reply types carry "type"
// (exact strings, natscli pins them) and an optional "error".

// Reply type strings.
const (
	typeAccountInfo  = "io.nats.jetstream.api.v1.account_info_response"
	typeStreamCreate = "io.nats.jetstream.api.v1.stream_create_response"
	typeStreamUpdate = "io.nats.jetstream.api.v1.stream_update_response"
	typeStreamDelete = "io.nats.jetstream.api.v1.stream_delete_response"
	typeStreamInfo   = "io.nats.jetstream.api.v1.stream_info_response"
	typeStreamNames  = "io.nats.jetstream.api.v1.stream_names_response"
	typeStreamList   = "io.nats.jetstream.api.v1.stream_list_response"
	typeStreamPurge  = "io.nats.jetstream.api.v1.stream_purge_response"
	typeMsgGet       = "io.nats.jetstream.api.v1.stream_msg_get_response"
	typeMsgDelete    = "io.nats.jetstream.api.v1.stream_msg_delete_response"
)

// Paging limits, as official.
const (
	namesLimit       = 1024
	listLimit        = 256
	subjectsLimit    = 100_000
	maxNameLen       = 255
	maxDescLen       = 4 << 10
	maxMetadataLen   = 128 << 10
	maxHeaderLen     = 64 << 10
	maxRecordPayload = 32 << 20 // larger records are refused (10077), as the official file store
)

// apiResponse is embedded first in every reply.
type apiResponse struct {
	Type  string    `json:"type"`
	Error *APIError `json:"error,omitempty"`
}

// apiPaged is the paging header of list replies.
type apiPaged struct {
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// StreamInfo is a stream's config and state (STREAM.INFO, CREATE, LIST).
type StreamInfo struct {
	Config    StreamConfig        `json:"config"`
	Created   time.Time           `json:"created"`
	State     StreamState         `json:"state"`
	Domain    string              `json:"domain,omitempty"`
	Mirror    *StreamSourceInfo   `json:"mirror,omitempty"`
	Sources   []*StreamSourceInfo `json:"sources,omitempty"`
	TimeStamp time.Time           `json:"ts"`
}

// StreamState is a stream's state as reported in StreamInfo.
type StreamState struct {
	Msgs        uint64            `json:"messages"`
	Bytes       uint64            `json:"bytes"`
	FirstSeq    uint64            `json:"first_seq"`
	FirstTime   time.Time         `json:"first_ts"`
	LastSeq     uint64            `json:"last_seq"`
	LastTime    time.Time         `json:"last_ts"`
	NumSubjects int               `json:"num_subjects,omitempty"`
	Subjects    map[string]uint64 `json:"subjects,omitempty"`
	NumDeleted  int               `json:"num_deleted,omitempty"`
	Deleted     []uint64          `json:"deleted,omitempty"`
	Consumers   int               `json:"consumer_count"`
}

type streamCreateResponse struct {
	apiResponse
	*StreamInfo
	DidCreate bool `json:"did_create,omitempty"`
}

type streamInfoRequest struct {
	Offset         int    `json:"offset"`
	DeletedDetails bool   `json:"deleted_details,omitempty"`
	SubjectsFilter string `json:"subjects_filter,omitempty"`
}

type streamInfoResponse struct {
	apiResponse
	apiPaged
	*StreamInfo
}

type successResponse struct {
	apiResponse
	Success bool `json:"success,omitempty"`
}

type streamNamesRequest struct {
	Offset  int    `json:"offset"`
	Subject string `json:"subject,omitempty"`
}

type streamNamesResponse struct {
	apiResponse
	apiPaged
	Streams []string `json:"streams"`
}

type streamListResponse struct {
	apiResponse
	apiPaged
	Streams []*StreamInfo `json:"streams"`
	Missing []string      `json:"missing,omitempty"`
}

type purgeRequest struct {
	Sequence uint64 `json:"seq,omitempty"`
	Subject  string `json:"filter,omitempty"`
	Keep     uint64 `json:"keep,omitempty"`
}

type purgeResponse struct {
	apiResponse
	Success bool   `json:"success,omitempty"`
	Purged  uint64 `json:"purged"`
}

type msgDeleteRequest struct {
	Seq     uint64 `json:"seq"`
	NoErase bool   `json:"no_erase,omitempty"`
}

// msgGetRequest is the body of STREAM.MSG.GET and DIRECT.GET.
type msgGetRequest struct {
	Seq          uint64     `json:"seq,omitempty"`
	LastFor      string     `json:"last_by_subj,omitempty"`
	NextFor      string     `json:"next_by_subj,omitempty"`
	Batch        int        `json:"batch,omitempty"`
	MaxBytes     int        `json:"max_bytes,omitempty"`
	StartTime    *time.Time `json:"start_time,omitempty"`
	MultiLastFor []string   `json:"multi_last,omitempty"`
	UpToSeq      uint64     `json:"up_to_seq,omitempty"`
	UpToTime     *time.Time `json:"up_to_time,omitempty"`
	NoHeaders    bool       `json:"no_hdr,omitempty"`
}

// StoredMsg is a message as STREAM.MSG.GET returns it.
type StoredMsg struct {
	Subject  string    `json:"subject"`
	Sequence uint64    `json:"seq"`
	Header   []byte    `json:"hdrs,omitempty"`
	Data     []byte    `json:"data,omitempty"`
	Time     time.Time `json:"time"`
}

type msgGetResponse struct {
	apiResponse
	Message *StoredMsg `json:"message,omitempty"`
}

// accountLimits are the account's JetStream limits (-1: none).
type accountLimits struct {
	MaxMemory            int64 `json:"max_memory"`
	MaxStore             int64 `json:"max_storage"`
	MaxStreams           int   `json:"max_streams"`
	MaxConsumers         int   `json:"max_consumers"`
	MaxAckPending        int   `json:"max_ack_pending"`
	MemoryMaxStreamBytes int64 `json:"memory_max_stream_bytes"`
	StoreMaxStreamBytes  int64 `json:"storage_max_stream_bytes"`
	MaxBytesRequired     bool  `json:"max_bytes_required"`
}

type apiStats struct {
	Level  int    `json:"level"`
	Total  uint64 `json:"total"`
	Errors uint64 `json:"errors"`
}

type accountInfoResponse struct {
	apiResponse
	Memory         uint64        `json:"memory"`
	Store          uint64        `json:"storage"`
	ReservedMemory uint64        `json:"reserved_memory"`
	ReservedStore  uint64        `json:"reserved_storage"`
	Streams        int           `json:"streams"`
	Consumers      int           `json:"consumers"`
	Limits         accountLimits `json:"limits"`
	Domain         string        `json:"domain,omitempty"`
	API            apiStats      `json:"api"`
}

// decodeStrict decodes a request body into v, refusing unknown fields
// (the official "strict" mode). An empty body leaves v as it is.
func decodeStrict(body []byte, v any) *APIError {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errInvalidJSON(err)
	}
	return nil
}

// isEmptyRequest reports whether body is empty, "{}" or an object with no
// keys: what endpoints that take no arguments accept.
func isEmptyRequest(body []byte) bool {
	if len(body) == 0 || string(body) == "{}" {
		return true
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return false
	}
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

// nanosTime converts unix nanoseconds to a UTC time; 0 is the zero time,
// sent as 0001-01-01T00:00:00Z.
func nanosTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
