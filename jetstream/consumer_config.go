package jetstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// DeliverPolicy says where a consumer starts in its stream.
type DeliverPolicy int

// Deliver policies; JSON "all", "last", "new", "by_start_sequence",
// "by_start_time", "last_per_subject".
const (
	DeliverAll DeliverPolicy = iota
	DeliverLast
	DeliverNew
	DeliverByStartSequence
	DeliverByStartTime
	DeliverLastPerSubject
)

// AckPolicy says which deliveries need an ack.
type AckPolicy int

// Ack policies; JSON "none", "all", "explicit", "flow_control". The zero
// value is none, as in the reference server (a request without
// ack_policy gets none).
const (
	AckNone AckPolicy = iota
	AckAll
	AckExplicit
	AckFlowControl
)

// ReplayPolicy says how fast stored messages are replayed.
type ReplayPolicy int

// Replay policies; JSON "instant", "original".
const (
	ReplayInstant ReplayPolicy = iota
	ReplayOriginal
)

// PriorityPolicy selects how pull requests of priority groups are served.
type PriorityPolicy int

// Priority policies; JSON "none", "overflow", "pinned_client",
// "prioritized".
const (
	PriorityNone PriorityPolicy = iota
	PriorityOverflow
	PriorityPinnedClient
	PriorityPrioritized
)

// ConsumerAction is the "action" of a create request.
type ConsumerAction int

// Create actions; JSON "" (create or update), "update", "create".
const (
	ActionCreateOrUpdate ConsumerAction = iota
	ActionUpdate
	ActionCreate
)

// The JSON spellings of each enum, indexed by value (functions, so that
// the package holds no state).
func deliverPolicyNames() []string {
	return []string{"all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"}
}
func ackPolicyNames() []string    { return []string{"none", "all", "explicit", "flow_control"} }
func replayPolicyNames() []string { return []string{"instant", "original"} }
func priorityPolicyNames() []string {
	return []string{"none", "overflow", "pinned_client", "prioritized"}
}
func actionNames() []string { return []string{"", "update", "create"} }

func enumString(names []string, v int) (string, bool) {
	if v < 0 || v >= len(names) {
		return "", false
	}
	return names[v], true
}

func marshalEnum(kind string, names []string, v int) ([]byte, error) {
	s, ok := enumString(names, v)
	if !ok {
		return nil, fmt.Errorf("jetstream: can not marshal %s %d", kind, v)
	}
	return json.Marshal(s)
}

func unmarshalEnum(kind string, names []string, data []byte) (int, error) {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return 0, fmt.Errorf("jetstream: can not unmarshal %s %s", kind, data)
	}
	for i, n := range names {
		if n == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("jetstream: can not unmarshal %s %q", kind, s)
}

func (p DeliverPolicy) String() string {
	s, ok := enumString(deliverPolicyNames(), int(p))
	if !ok {
		return "undefined"
	}
	return s
}

// MarshalJSON writes the lowercase name.
func (p DeliverPolicy) MarshalJSON() ([]byte, error) {
	return marshalEnum("deliver policy", deliverPolicyNames(), int(p))
}

// UnmarshalJSON accepts the lowercase names and, like the reference server,
// "undefined" as all.
func (p *DeliverPolicy) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte(`"undefined"`)) {
		*p = DeliverAll
		return nil
	}
	v, err := unmarshalEnum("deliver policy", deliverPolicyNames(), data)
	*p = DeliverPolicy(v)
	return err
}

func (a AckPolicy) String() string {
	s, _ := enumString(ackPolicyNames(), int(a))
	return s
}

// MarshalJSON writes the lowercase name.
func (a AckPolicy) MarshalJSON() ([]byte, error) {
	return marshalEnum("ack policy", ackPolicyNames(), int(a))
}

// UnmarshalJSON reads the lowercase name.
func (a *AckPolicy) UnmarshalJSON(data []byte) error {
	v, err := unmarshalEnum("ack policy", ackPolicyNames(), data)
	*a = AckPolicy(v)
	return err
}

func (r ReplayPolicy) String() string {
	s, _ := enumString(replayPolicyNames(), int(r))
	return s
}

// MarshalJSON writes the lowercase name.
func (r ReplayPolicy) MarshalJSON() ([]byte, error) {
	return marshalEnum("replay policy", replayPolicyNames(), int(r))
}

// UnmarshalJSON reads the lowercase name.
func (r *ReplayPolicy) UnmarshalJSON(data []byte) error {
	v, err := unmarshalEnum("replay policy", replayPolicyNames(), data)
	*r = ReplayPolicy(v)
	return err
}

func (p PriorityPolicy) String() string {
	s, _ := enumString(priorityPolicyNames(), int(p))
	return s
}

// MarshalJSON writes the lowercase name.
func (p PriorityPolicy) MarshalJSON() ([]byte, error) {
	return marshalEnum("priority policy", priorityPolicyNames(), int(p))
}

// UnmarshalJSON reads the lowercase name.
func (p *PriorityPolicy) UnmarshalJSON(data []byte) error {
	v, err := unmarshalEnum("priority policy", priorityPolicyNames(), data)
	*p = PriorityPolicy(v)
	return err
}

func (a ConsumerAction) String() string {
	s, _ := enumString(actionNames(), int(a))
	return s
}

// MarshalJSON writes "", "update" or "create".
func (a ConsumerAction) MarshalJSON() ([]byte, error) {
	return marshalEnum("consumer action", actionNames(), int(a))
}

// UnmarshalJSON reads "", "update" or "create".
func (a *ConsumerAction) UnmarshalJSON(data []byte) error {
	v, err := unmarshalEnum("consumer action", actionNames(), data)
	*a = ConsumerAction(v)
	return err
}

// ConsumerConfig is a consumer's configuration as it travels in create
// requests and info replies. It knows every field the reference server
// knows, so that strict decoding accepts whatever a client sends; the
// fields Fern does not act on (priority groups, direct, sourcing, sampling)
// are stored and echoed.
type ConsumerConfig struct {
	Durable         string          `json:"durable_name,omitempty"`
	Name            string          `json:"name,omitempty"`
	Description     string          `json:"description,omitempty"`
	DeliverPolicy   DeliverPolicy   `json:"deliver_policy"`
	OptStartSeq     uint64          `json:"opt_start_seq,omitempty"`
	OptStartTime    *time.Time      `json:"opt_start_time,omitempty"`
	AckPolicy       AckPolicy       `json:"ack_policy"`
	AckWait         time.Duration   `json:"ack_wait,omitempty"`
	MaxDeliver      int             `json:"max_deliver,omitempty"`
	BackOff         []time.Duration `json:"backoff,omitempty"`
	FilterSubject   string          `json:"filter_subject,omitempty"`
	FilterSubjects  []string        `json:"filter_subjects,omitempty"`
	ReplayPolicy    ReplayPolicy    `json:"replay_policy"`
	RateLimit       uint64          `json:"rate_limit_bps,omitempty"` // bits per second
	SampleFrequency string          `json:"sample_freq,omitempty"`
	MaxWaiting      int             `json:"max_waiting,omitempty"`
	MaxAckPending   int             `json:"max_ack_pending,omitempty"`
	FlowControl     bool            `json:"flow_control,omitempty"`
	HeadersOnly     bool            `json:"headers_only,omitempty"`

	// Pull request caps.
	MaxRequestBatch    int           `json:"max_batch,omitempty"`
	MaxRequestExpires  time.Duration `json:"max_expires,omitempty"`
	MaxRequestMaxBytes int           `json:"max_bytes,omitempty"`

	// Push delivery.
	DeliverSubject string        `json:"deliver_subject,omitempty"`
	DeliverGroup   string        `json:"deliver_group,omitempty"`
	Heartbeat      time.Duration `json:"idle_heartbeat,omitempty"`

	InactiveThreshold time.Duration `json:"inactive_threshold,omitempty"`
	Replicas          int           `json:"num_replicas"`
	MemoryStorage     bool          `json:"mem_storage,omitempty"`

	// Server-internal markers (mirrors and sources).
	Direct   bool `json:"direct,omitempty"`
	Sourcing bool `json:"sourcing,omitempty"`

	Metadata map[string]string `json:"metadata,omitempty"`

	PauseUntil *time.Time `json:"pause_until,omitempty"`

	PriorityGroups []string       `json:"priority_groups,omitempty"`
	PriorityPolicy PriorityPolicy `json:"priority_policy,omitempty"`
	PinnedTTL      time.Duration  `json:"priority_timeout,omitempty"`
}

// IsDurable reports whether the consumer is durable: durable_name is set.
func (c *ConsumerConfig) IsDurable() bool { return c.Durable != "" }

// IsPush reports whether the consumer pushes to a deliver subject.
func (c *ConsumerConfig) IsPush() bool { return c.DeliverSubject != "" }

// ConsumerName is the consumer's name: durable_name when set, else name.
func (c *ConsumerConfig) ConsumerName() string {
	if c.Durable != "" {
		return c.Durable
	}
	return c.Name
}

// Filters returns the filter subjects: filter_subject alone, or
// filter_subjects, or nil for an unfiltered consumer.
func (c *ConsumerConfig) Filters() []string {
	if c.FilterSubject != "" {
		return []string{c.FilterSubject}
	}
	return c.FilterSubjects
}

// Clone returns a deep copy.
func (c *ConsumerConfig) Clone() *ConsumerConfig {
	n := *c
	if c.OptStartTime != nil {
		t := *c.OptStartTime
		n.OptStartTime = &t
	}
	if c.PauseUntil != nil {
		t := *c.PauseUntil
		n.PauseUntil = &t
	}
	n.BackOff = cloneSlice(c.BackOff)
	n.FilterSubjects = cloneSlice(c.FilterSubjects)
	n.PriorityGroups = cloneSlice(c.PriorityGroups)
	if c.Metadata != nil {
		n.Metadata = make(map[string]string, len(c.Metadata))
		for k, v := range c.Metadata {
			n.Metadata[k] = v
		}
	}
	return &n
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// CreateConsumerRequest is the body of CONSUMER.CREATE and
// CONSUMER.DURABLE.CREATE.
type CreateConsumerRequest struct {
	Stream   string         `json:"stream_name"`
	Config   ConsumerConfig `json:"config"`
	Action   ConsumerAction `json:"action"`
	Pedantic bool           `json:"pedantic,omitempty"`
}

// decodeCreateConsumerRequest parses a create body. With strict set an
// unknown field is an error, as in the reference server's default mode.
// A failure is 10025 "invalid JSON: <decoder error>".
func decodeCreateConsumerRequest(body []byte, strict bool) (*CreateConsumerRequest, *APIError) {
	var req CreateConsumerRequest
	if err := decodeConsumerJSON(body, &req, strict); err != nil {
		return nil, consumerErrf(errCodeInvalidJSON, "%v", err)
	}
	return &req, nil
}

// decodeConsumerJSON decodes body into v like the reference server's
// request decoder: values are decoded in turn until the end (an empty
// body leaves v as it is), and unknown fields are rejected when strict.
func decodeConsumerJSON(body []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	for {
		if err := dec.Decode(v); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
