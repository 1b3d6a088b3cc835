package jetstream

import (
	"fmt"
	"time"
)

// This file holds the stream configuration as it travels in JSON: every
// field the official server knows (strict decoding rejects any other),
// including the ones Fern stores and echoes but whose feature it refuses
// (stream_config.go says which). Durations are integer nanoseconds,
// enums lowercase strings.

// StreamConfig is a stream's configuration (official StreamConfig).
type StreamConfig struct {
	Name                   string               `json:"name"`
	Description            string               `json:"description,omitempty"`
	Subjects               []string             `json:"subjects,omitempty"`
	Retention              RetentionPolicy      `json:"retention"`
	MaxConsumers           int                  `json:"max_consumers"`
	MaxMsgs                int64                `json:"max_msgs"`
	MaxBytes               int64                `json:"max_bytes"`
	MaxAge                 time.Duration        `json:"max_age"`
	MaxMsgsPerSubject      int64                `json:"max_msgs_per_subject"`
	MaxMsgSize             int32                `json:"max_msg_size,omitempty"`
	Discard                DiscardPolicy        `json:"discard"`
	Storage                StorageType          `json:"storage"`
	Replicas               int                  `json:"num_replicas"`
	NoAck                  bool                 `json:"no_ack,omitempty"`
	DuplicateWindow        time.Duration        `json:"duplicate_window,omitempty"`
	Placement              *Placement           `json:"placement,omitempty"`
	Mirror                 *StreamSource        `json:"mirror,omitempty"`
	Sources                []*StreamSource      `json:"sources,omitempty"`
	Compression            Compression          `json:"compression"`
	FirstSeq               uint64               `json:"first_seq,omitempty"`
	SubjectTransform       *SubjectTransform    `json:"subject_transform,omitempty"`
	RePublish              *RePublish           `json:"republish,omitempty"`
	AllowDirect            bool                 `json:"allow_direct"`
	MirrorDirect           bool                 `json:"mirror_direct"`
	DiscardNewPerSubject   bool                 `json:"discard_new_per_subject,omitempty"`
	Sealed                 bool                 `json:"sealed"`
	DenyDelete             bool                 `json:"deny_delete"`
	DenyPurge              bool                 `json:"deny_purge"`
	AllowRollup            bool                 `json:"allow_rollup_hdrs"`
	ConsumerLimits         StreamConsumerLimits `json:"consumer_limits"`
	AllowMsgTTL            bool                 `json:"allow_msg_ttl"`
	SubjectDeleteMarkerTTL time.Duration        `json:"subject_delete_marker_ttl,omitempty"`
	AllowMsgCounter        bool                 `json:"allow_msg_counter,omitempty"`
	AllowAtomicPublish     bool                 `json:"allow_atomic,omitempty"`
	AllowMsgSchedules      bool                 `json:"allow_msg_schedules,omitempty"`
	PersistMode            PersistMode          `json:"persist_mode,omitempty"`
	AllowBatchPublish      bool                 `json:"allow_batched,omitempty"`
	Metadata               map[string]string    `json:"metadata,omitempty"`
}

// streamConfigRequest is the body of STREAM.CREATE and STREAM.UPDATE.
type streamConfigRequest struct {
	StreamConfig
	Pedantic bool `json:"pedantic,omitempty"`
}

// Placement asks for a cluster or tags; a single server ignores it.
type Placement struct {
	Cluster   string   `json:"cluster,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Preferred string   `json:"preferred,omitempty"`
}

// StreamSource is a mirror's or a source's origin (not implemented).
type StreamSource struct {
	Name              string                `json:"name"`
	OptStartSeq       uint64                `json:"opt_start_seq,omitempty"`
	OptStartTime      *time.Time            `json:"opt_start_time,omitempty"`
	FilterSubject     string                `json:"filter_subject,omitempty"`
	SubjectTransforms []SubjectTransform    `json:"subject_transforms,omitempty"`
	External          *ExternalStream       `json:"external,omitempty"`
	Consumer          *StreamSourceConsumer `json:"consumer,omitempty"`
}

// StreamSourceConsumer names a durable consumer a source reads through.
type StreamSourceConsumer struct {
	Name           string `json:"name,omitempty"`
	DeliverSubject string `json:"deliver_subject,omitempty"`
}

// ExternalStream is an origin in another domain or account.
type ExternalStream struct {
	APIPrefix     string `json:"api"`
	DeliverPrefix string `json:"deliver"`
}

// SubjectTransform maps subjects from Source to Destination.
type SubjectTransform struct {
	Source      string `json:"src"`
	Destination string `json:"dest"`
}

// RePublish republishes stored messages (not implemented).
type RePublish struct {
	Source      string `json:"src,omitempty"`
	Destination string `json:"dest"`
	HeadersOnly bool   `json:"headers_only,omitempty"`
}

// StreamConsumerLimits are defaults and caps for the stream's consumers.
type StreamConsumerLimits struct {
	InactiveThreshold time.Duration `json:"inactive_threshold,omitempty"`
	MaxAckPending     int           `json:"max_ack_pending,omitempty"`
}

// enumNames gives the JSON name of each value of an enum, "" past the
// last one.
type enumNames func(v int) string

// enumJSON decodes a JSON string among an enum's names; like the official
// enums, anything else is an error.
func enumJSON(data []byte, kind string, names enumNames) (int, error) {
	s := string(data)
	for i := 0; names(i) != ""; i++ {
		if s == `"`+names(i)+`"` {
			return i, nil
		}
	}
	return 0, fmt.Errorf("can not unmarshal %s %s", kind, s)
}

func enumMarshal(v int, kind string, names enumNames) ([]byte, error) {
	n := ""
	if v >= 0 {
		n = names(v)
	}
	if n == "" {
		return nil, fmt.Errorf("can not marshal %s %d", kind, v)
	}
	return []byte(`"` + n + `"`), nil
}

// pick returns names[v], or "" when v is out of range.
func pick(v int, names ...string) string {
	if v < 0 || v >= len(names) {
		return ""
	}
	return names[v]
}

// RetentionPolicy says when messages leave the stream besides limits.
type RetentionPolicy int

// Retention policies.
const (
	LimitsPolicy RetentionPolicy = iota
	InterestPolicy
	WorkQueuePolicy
)

func retentionNames(v int) string { return pick(v, "limits", "interest", "workqueue") }

// MarshalJSON implements json.Marshaler.
func (p RetentionPolicy) MarshalJSON() ([]byte, error) {
	return enumMarshal(int(p), "retention", retentionNames)
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *RetentionPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumJSON(b, "retention", retentionNames)
	*p = RetentionPolicy(v)
	return err
}

func (p RetentionPolicy) String() string { return enumName(int(p), retentionNames) }

// DiscardPolicy says what a full stream does with a new message.
type DiscardPolicy int

// Discard policies.
const (
	DiscardOld DiscardPolicy = iota
	DiscardNew
)

func discardNames(v int) string { return pick(v, "old", "new") }

// MarshalJSON implements json.Marshaler.
func (p DiscardPolicy) MarshalJSON() ([]byte, error) {
	return enumMarshal(int(p), "discard", discardNames)
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *DiscardPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumJSON(b, "discard", discardNames)
	*p = DiscardPolicy(v)
	return err
}

// StorageType is file or memory.
type StorageType int

// Storage types. The zero value is file, the default.
const (
	FileStorage StorageType = iota
	MemoryStorage
)

func storageNames(v int) string { return pick(v, "file", "memory") }

// MarshalJSON implements json.Marshaler.
func (t StorageType) MarshalJSON() ([]byte, error) {
	return enumMarshal(int(t), "storage", storageNames)
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *StorageType) UnmarshalJSON(b []byte) error {
	v, err := enumJSON(b, "storage", storageNames)
	*t = StorageType(v)
	return err
}

func (t StorageType) String() string { return enumName(int(t), storageNames) }

// Compression of a file stream's messages.
type Compression int

// Compression settings.
const (
	NoCompression Compression = iota
	S2Compression
)

func compressionNames(v int) string { return pick(v, "none", "s2") }

// MarshalJSON implements json.Marshaler.
func (c Compression) MarshalJSON() ([]byte, error) {
	return enumMarshal(int(c), "compression", compressionNames)
}

// UnmarshalJSON implements json.Unmarshaler; "" means none, as official.
func (c *Compression) UnmarshalJSON(b []byte) error {
	if string(b) == `""` {
		*c = NoCompression
		return nil
	}
	v, err := enumJSON(b, "compression", compressionNames)
	*c = Compression(v)
	return err
}

// PersistMode says whether a PubAck waits for the durability point
// ("default") or not ("async").
type PersistMode int

// Persist modes.
const (
	DefaultPersistMode PersistMode = iota
	AsyncPersistMode
)

func persistNames(v int) string { return pick(v, "default", "async") }

// MarshalJSON implements json.Marshaler.
func (m PersistMode) MarshalJSON() ([]byte, error) {
	return enumMarshal(int(m), "persist mode", persistNames)
}

// UnmarshalJSON implements json.Unmarshaler; "" means default.
func (m *PersistMode) UnmarshalJSON(b []byte) error {
	if string(b) == `""` {
		*m = DefaultPersistMode
		return nil
	}
	v, err := enumJSON(b, "persist mode", persistNames)
	*m = PersistMode(v)
	return err
}

func enumName(v int, names enumNames) string {
	if n := names(v); n != "" {
		return n
	}
	return fmt.Sprintf("unknown(%d)", v)
}
