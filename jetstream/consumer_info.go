package jetstream

import "time"

// Reply type strings of the consumer API (natscli checks them).
const (
	consumerCreateResponseType = "io.nats.jetstream.api.v1.consumer_create_response"
	consumerInfoResponseType   = "io.nats.jetstream.api.v1.consumer_info_response"
	consumerDeleteResponseType = "io.nats.jetstream.api.v1.consumer_delete_response"
	consumerNamesResponseType  = "io.nats.jetstream.api.v1.consumer_names_response"
	consumerListResponseType   = "io.nats.jetstream.api.v1.consumer_list_response"
	consumerPauseResponseType  = "io.nats.jetstream.api.v1.consumer_pause_response"
)

// Page sizes of CONSUMER.NAMES and CONSUMER.LIST.
const (
	consumerNamesLimit = 1024
	consumerListLimit  = 256
)

// SequenceInfo is a consumer and stream sequence pair, with the time of
// the last activity on it when known.
type SequenceInfo struct {
	Consumer uint64     `json:"consumer_seq"`
	Stream   uint64     `json:"stream_seq"`
	Last     *time.Time `json:"last_active,omitempty"`
}

// PriorityGroupState reports a priority group's pinned client.
type PriorityGroupState struct {
	Group          string    `json:"group"`
	PinnedClientID string    `json:"pinned_client_id,omitempty"`
	PinnedTS       time.Time `json:"pinned_ts,omitempty"`
}

// ConsumerInfo is what CONSUMER.CREATE, CONSUMER.INFO and CONSUMER.LIST
// report about a consumer. Config carries the defaults applied.
type ConsumerInfo struct {
	Stream         string               `json:"stream_name"`
	Name           string               `json:"name"`
	Created        time.Time            `json:"created"`
	Config         *ConsumerConfig      `json:"config,omitempty"`
	Delivered      SequenceInfo         `json:"delivered"`
	AckFloor       SequenceInfo         `json:"ack_floor"`
	NumAckPending  int                  `json:"num_ack_pending"`
	NumRedelivered int                  `json:"num_redelivered"`
	NumWaiting     int                  `json:"num_waiting"`
	NumPending     uint64               `json:"num_pending"`
	PushBound      bool                 `json:"push_bound,omitempty"`
	Paused         bool                 `json:"paused,omitempty"`
	PauseRemaining time.Duration        `json:"pause_remaining,omitempty"`
	TimeStamp      time.Time            `json:"ts"`
	PriorityGroups []PriorityGroupState `json:"priority_groups,omitempty"`
}

// consumerCreateResponse is the reply to CONSUMER.CREATE; on success the
// info fields are inlined next to "type".
type consumerCreateResponse struct {
	Type  string    `json:"type"`
	Error *APIError `json:"error,omitempty"`
	*ConsumerInfo
}

// consumerInfoResponse is the reply to CONSUMER.INFO.
type consumerInfoResponse struct {
	Type  string    `json:"type"`
	Error *APIError `json:"error,omitempty"`
	*ConsumerInfo
}

// consumerDeleteResponse is the reply to CONSUMER.DELETE.
type consumerDeleteResponse struct {
	Type    string    `json:"type"`
	Error   *APIError `json:"error,omitempty"`
	Success bool      `json:"success,omitempty"`
}

// consumerNamesResponse is the reply to CONSUMER.NAMES.
type consumerNamesResponse struct {
	Type      string    `json:"type"`
	Error     *APIError `json:"error,omitempty"`
	Total     int       `json:"total"`
	Offset    int       `json:"offset"`
	Limit     int       `json:"limit"`
	Consumers []string  `json:"consumers"`
}

// consumerListResponse is the reply to CONSUMER.LIST.
type consumerListResponse struct {
	Type      string            `json:"type"`
	Error     *APIError         `json:"error,omitempty"`
	Total     int               `json:"total"`
	Offset    int               `json:"offset"`
	Limit     int               `json:"limit"`
	Consumers []*ConsumerInfo   `json:"consumers"`
	Missing   []string          `json:"missing,omitempty"`
	Offline   map[string]string `json:"offline,omitempty"`
}

// consumerPauseResponse is the reply to CONSUMER.PAUSE.
type consumerPauseResponse struct {
	Type           string        `json:"type"`
	Error          *APIError     `json:"error,omitempty"`
	Paused         bool          `json:"paused"`
	PauseUntil     time.Time     `json:"pause_until"`
	PauseRemaining time.Duration `json:"pause_remaining,omitempty"`
}

// consumerPagedRequest is the optional body of CONSUMER.NAMES and
// CONSUMER.LIST.
type consumerPagedRequest struct {
	Offset int `json:"offset"`
}

// consumerPauseRequest is the body of CONSUMER.PAUSE.
type consumerPauseRequest struct {
	PauseUntil time.Time `json:"pause_until,omitempty"`
}
