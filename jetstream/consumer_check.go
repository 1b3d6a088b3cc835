package jetstream

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/fernmq/fern/subject"
)

// Defaults and limits of consumer configs (reference server values).
const (
	consumerDefaultAckWait       = 30 * time.Second
	consumerDefaultMaxAckPending = 1000
	consumerDefaultMaxWaiting    = 512
	consumerEphemeralThreshold   = 5 * time.Second
	consumerDefaultPinnedTTL     = 2 * time.Minute
	consumerFlowControlHeartbeat = time.Second
	consumerMinHeartbeat         = 100 * time.Millisecond
	consumerMaxNameLen           = 255
	consumerMaxDescriptionLen    = 4 * 1024
	consumerMaxMetadataLen       = 128 * 1024
	consumerMaxGroupNameLen      = 16
)

// consumerStreamLimits is what the defaults and checks of a consumer
// config need to know about its stream and about server-wide caps. Zero
// fields mean "no limit".
type consumerStreamLimits struct {
	Subjects  []string // the stream's subjects (deliver-subject cycle check)
	Replicas  int      // the stream's num_replicas (0 counts as 1)
	WorkQueue bool     // retention workqueue
	Interest  bool     // retention interest

	// The stream's consumer_limits.
	MaxAckPending     int
	InactiveThreshold time.Duration

	// Server or account caps.
	ServerMaxAckPending   int
	ServerMaxRequestBatch int
}

// SetDefaults fills in the defaults the reference server applies before it
// checks a config (setConsumerConfigDefaults), so that the reply echoes
// them: max_deliver -1, ack_wait 30 s for explicit/all, ack_wait =
// backoff[0], max_waiting 512 for pull, max_ack_pending 1000 (or the
// stream's/server's lower cap) unless ack none, the stream's
// inactive_threshold, priority_timeout 2 min for pinned clients, and the
// flow-control ack policy's heartbeat. Negative values that the reference
// server clamps are clamped, or rejected with 10157 when pedantic.
//
// Unlike the reference server, it also stamps an ephemeral consumer's
// inactive_threshold of 5 s here (the reference does it when the consumer
// starts), so that an identical second create compares equal.
func (c *ConsumerConfig) SetDefaults(lim *consumerStreamLimits, pedantic bool) *APIError {
	if err := c.clampNegatives(pedantic); err != nil {
		return err
	}
	if c.DeliverSubject == "" && c.MaxWaiting == 0 {
		c.MaxWaiting = consumerDefaultMaxWaiting
	}
	if c.AckWait == 0 && (c.AckPolicy == AckExplicit || c.AckPolicy == AckAll) {
		c.AckWait = consumerDefaultAckWait
	}
	if len(c.BackOff) > 0 {
		if pedantic && c.AckWait != c.BackOff[0] {
			return consumerErrf(errCodePedantic, "first backoff value has to equal batch AckWait")
		}
		c.AckWait = c.BackOff[0]
	}
	if c.MaxAckPending == 0 {
		if pedantic && lim.MaxAckPending > 0 {
			return consumerErrf(errCodePedantic, "max_ack_pending must be set if it's configured in stream limits")
		}
		c.MaxAckPending = lim.MaxAckPending
	}
	if c.InactiveThreshold == 0 {
		if pedantic && lim.InactiveThreshold > 0 {
			return consumerErrf(errCodePedantic, "inactive_threshold must be set if it's configured in stream limits")
		}
		c.InactiveThreshold = lim.InactiveThreshold
	}
	if c.MaxAckPending == 0 && c.AckPolicy != AckNone {
		c.MaxAckPending = consumerDefaultMaxAckPending
		if lim.ServerMaxAckPending > 0 && lim.ServerMaxAckPending < c.MaxAckPending {
			c.MaxAckPending = lim.ServerMaxAckPending
		}
	}
	if c.DeliverSubject == "" && c.MaxRequestBatch == 0 && lim.ServerMaxRequestBatch > 0 {
		if pedantic {
			return consumerErrf(errCodePedantic, "max_request_batch must be set if it's JetStream limits are set")
		}
		c.MaxRequestBatch = lim.ServerMaxRequestBatch
	}
	if c.PriorityPolicy == PriorityPinnedClient && c.PinnedTTL == 0 {
		c.PinnedTTL = consumerDefaultPinnedTTL
	}
	if c.AckPolicy == AckFlowControl && !pedantic {
		c.FlowControl = true
		c.Heartbeat = consumerFlowControlHeartbeat
	}
	if c.Durable == "" && c.InactiveThreshold == 0 {
		c.InactiveThreshold = consumerEphemeralThreshold
	}
	return nil
}

// clampNegatives is the first part of SetDefaults: out-of-range negatives.
func (c *ConsumerConfig) clampNegatives(pedantic bool) *APIError {
	if c.MaxDeliver == 0 || c.MaxDeliver < -1 {
		if pedantic && c.MaxDeliver < -1 {
			return consumerErrf(errCodePedantic, "max_deliver must be set to -1")
		}
		c.MaxDeliver = -1
	}
	if c.MaxAckPending < -1 {
		if pedantic {
			return consumerErrf(errCodePedantic, "max_ack_pending must be set to -1")
		}
		c.MaxAckPending = -1
	}
	ints := []struct {
		v    *int
		name string
	}{{&c.MaxWaiting, "max_waiting"}, {&c.MaxRequestBatch, "max_batch"}, {&c.MaxRequestMaxBytes, "max_bytes"}}
	for _, f := range ints {
		if *f.v < 0 {
			if pedantic {
				return consumerErrf(errCodePedantic, "%s must not be negative", f.name)
			}
			*f.v = 0
		}
	}
	durs := []struct {
		v    *time.Duration
		name string
	}{{&c.MaxRequestExpires, "max_expires"}, {&c.Heartbeat, "idle_heartbeat"},
		{&c.InactiveThreshold, "inactive_threshold"}, {&c.PinnedTTL, "priority_timeout"}}
	for _, f := range durs {
		if *f.v < 0 {
			if pedantic {
				return consumerErrf(errCodePedantic, "%s must not be negative", f.name)
			}
			*f.v = 0
		}
	}
	return nil
}

// Validate checks a config after SetDefaults, in the reference server's
// order (checkConsumerCfg plus the name and workqueue checks of consumer
// creation), and returns the first failure with its official code.
func (c *ConsumerConfig) Validate(lim *consumerStreamLimits) *APIError {
	if err := c.validateIdentity(lim); err != nil {
		return err
	}
	if err := c.validateAcks(); err != nil {
		return err
	}
	if len(c.Description) > consumerMaxDescriptionLen {
		return consumerErrf(errCodeConsumerDescriptionTooLong, "%d", consumerMaxDescriptionLen)
	}
	var err *APIError
	if c.DeliverSubject != "" {
		err = c.validatePush(lim)
	} else {
		err = c.validatePull(lim)
	}
	if err != nil {
		return err
	}
	if err := c.validateCaps(lim); err != nil {
		return err
	}
	if err := c.validateFilters(); err != nil {
		return err
	}
	if err := c.validateStart(); err != nil {
		return err
	}
	if err := c.validateMisc(); err != nil {
		return err
	}
	return c.validateWorkQueue(lim)
}

func (c *ConsumerConfig) validateIdentity(lim *consumerStreamLimits) *APIError {
	if c.Name != "" && !validConsumerName(c.Name) {
		return consumerErrf(errCodeStreamInvalidConfig, "consumer name can not contain '.', '*', '>', '\\', '/'")
	}
	if c.Durable != "" && !validConsumerName(c.Durable) {
		return consumerErrf(errCodeStreamInvalidConfig, "consumer durable name can not contain '.', '*', '>', '\\', '/'")
	}
	if len(c.Durable) > consumerMaxNameLen {
		return consumerErrf(errCodeConsumerNameTooLong, "%d", consumerMaxNameLen)
	}
	streamReplicas := max(lim.Replicas, 1)
	if c.Replicas > 0 && c.Replicas > streamReplicas {
		return consumerErr(errCodeConsumerReplicasExceedsStream)
	}
	if c.Replicas < 0 {
		return consumerErr(errCodeReplicasNegative)
	}
	if (lim.Interest || lim.WorkQueue) && c.Replicas != 0 && c.Replicas != streamReplicas {
		return consumerErr(errCodeConsumerReplicasMatchStream)
	}
	if c.AckPolicy < AckNone || c.AckPolicy > AckFlowControl {
		return consumerErr(errCodeConsumerAckPolicyInvalid)
	}
	if c.ReplayPolicy < ReplayInstant || c.ReplayPolicy > ReplayOriginal {
		return consumerErr(errCodeConsumerReplayPolicyInvalid)
	}
	return nil
}

func (c *ConsumerConfig) validateAcks() *APIError {
	for _, b := range c.BackOff {
		if b < 0 {
			return consumerErr(errCodeConsumerBackOffNegative)
		}
	}
	if c.AckWait < 0 {
		return consumerErr(errCodeConsumerAckWaitNegative)
	}
	if c.AckPolicy == AckFlowControl {
		switch {
		case c.DeliverSubject == "":
			return consumerErr(errCodeConsumerAckFCRequiresPush)
		case !c.FlowControl:
			return consumerErr(errCodeConsumerAckFCRequiresFC)
		case c.Heartbeat != consumerFlowControlHeartbeat:
			return consumerErrf(errCodeStreamInvalidConfig, "flow control ack policy heartbeat needs to be 1s")
		case c.MaxAckPending <= 0:
			return consumerErr(errCodeConsumerAckFCRequiresMaxAck)
		case c.AckWait != 0 || len(c.BackOff) > 0:
			return consumerErr(errCodeConsumerAckFCRequiresNoAckWait)
		case c.MaxDeliver > 0:
			return consumerErr(errCodeConsumerAckFCRequiresNoMaxDlv)
		}
	}
	if n := len(c.BackOff); n > 0 && c.MaxDeliver != -1 && n > c.MaxDeliver {
		return consumerErr(errCodeConsumerMaxDeliverBackoff)
	}
	return nil
}

func (c *ConsumerConfig) validatePush(lim *consumerStreamLimits) *APIError {
	if !subject.IsLiteral(c.DeliverSubject) {
		return consumerErr(errCodeConsumerDeliverToWildcards)
	}
	if !subject.ValidLiteral(c.DeliverSubject) {
		return newConsumerErr(400, errCodeConsumerInvalidDeliverSubject, "invalid push consumer deliver subject")
	}
	for _, s := range lim.Subjects {
		if subjectIsSubset(c.DeliverSubject, s) {
			return consumerErr(errCodeConsumerDeliverCycle)
		}
	}
	switch {
	case c.MaxWaiting != 0:
		return consumerErr(errCodeConsumerPushMaxWaiting)
	case c.MaxAckPending > 0 && c.AckPolicy == AckNone:
		return consumerErr(errCodeConsumerMaxPendingAckPolicy)
	case c.Heartbeat > 0 && c.Heartbeat < consumerMinHeartbeat:
		return consumerErr(errCodeConsumerSmallHeartbeat)
	}
	return nil
}

// errCodeConsumerInvalidDeliverSubject is 10112 (400).
const errCodeConsumerInvalidDeliverSubject = 10112

func (c *ConsumerConfig) validatePull(lim *consumerStreamLimits) *APIError {
	switch {
	case c.AckPolicy == AckNone && lim.WorkQueue:
		return consumerErr(errCodeConsumerPullRequiresAck)
	case c.RateLimit > 0:
		return consumerErr(errCodeConsumerPullWithRateLimit)
	case c.MaxWaiting < 0:
		return consumerErr(errCodeConsumerMaxWaitingNegative)
	case c.Heartbeat > 0:
		return consumerErr(errCodeConsumerHBRequiresPush)
	case c.FlowControl:
		return consumerErr(errCodeConsumerFCRequiresPush)
	case c.MaxRequestBatch < 0:
		return consumerErr(errCodeConsumerMaxRequestBatchNeg)
	case c.MaxRequestExpires != 0 && c.MaxRequestExpires < time.Millisecond:
		return consumerErr(errCodeConsumerMaxRequestExpiresSmall)
	case lim.ServerMaxRequestBatch > 0 && c.MaxRequestBatch > lim.ServerMaxRequestBatch:
		return consumerErrf(errCodeConsumerMaxRequestBatchExceed, "%d", lim.ServerMaxRequestBatch)
	}
	return nil
}

func (c *ConsumerConfig) validateCaps(lim *consumerStreamLimits) *APIError {
	if lim.ServerMaxAckPending > 0 && c.MaxAckPending > lim.ServerMaxAckPending {
		return consumerErrf(errCodeConsumerMaxPendingAckExcess, "%d", lim.ServerMaxAckPending)
	}
	if lim.MaxAckPending > 0 && c.MaxAckPending > lim.MaxAckPending {
		return consumerErrf(errCodeConsumerMaxPendingAckExcess, "%d", lim.MaxAckPending)
	}
	if lim.InactiveThreshold > 0 && c.InactiveThreshold > lim.InactiveThreshold {
		return consumerErrf(errCodeConsumerInactiveThreshExcess, "%v", lim.InactiveThreshold)
	}
	if c.Direct {
		if c.DeliverSubject == "" {
			return consumerErr(errCodeConsumerDirectRequiresPush)
		}
		if c.Durable != "" {
			return consumerErr(errCodeConsumerDirectRequiresEph)
		}
	}
	return nil
}

func (c *ConsumerConfig) validateFilters() *APIError {
	if c.FilterSubject != "" && len(c.FilterSubjects) > 0 {
		return consumerErr(errCodeConsumerDuplicateFilters)
	}
	if c.FilterSubject != "" && !subject.Valid(c.FilterSubject) {
		return consumerErrf(errCodeStreamInvalidConfig, "invalid subject")
	}
	for _, f := range c.FilterSubjects {
		if f == "" {
			return consumerErr(errCodeConsumerEmptyFilter)
		}
	}
	filters := c.Filters()
	for i, a := range filters {
		if !subject.Valid(a) {
			return consumerErrf(errCodeStreamInvalidConfig, "invalid subject")
		}
		for j, b := range filters {
			if i != j && subjectIsSubset(a, b) {
				return consumerErr(errCodeConsumerOverlappingFilters)
			}
		}
	}
	return nil
}

func (c *ConsumerConfig) validateStart() *APIError {
	badStart := func(dp, start string) *APIError {
		return consumerErrf(errCodeConsumerInvalidPolicy,
			"consumer delivery policy is deliver %s, but optional start %s is also set", dp, start)
	}
	notSet := func(dp, what string) *APIError {
		return consumerErrf(errCodeConsumerInvalidPolicy,
			"consumer delivery policy is deliver %s, but optional %s is not set", dp, what)
	}
	hasSeq, hasTime := c.OptStartSeq > 0, c.OptStartTime != nil
	switch c.DeliverPolicy {
	case DeliverAll, DeliverLast, DeliverNew, DeliverLastPerSubject:
		name := map[DeliverPolicy]string{DeliverAll: "all", DeliverLast: "last",
			DeliverNew: "new", DeliverLastPerSubject: "last per subject"}[c.DeliverPolicy]
		if hasSeq {
			return badStart(name, "sequence")
		}
		if hasTime {
			return badStart(name, "time")
		}
		if c.DeliverPolicy == DeliverLastPerSubject && len(c.Filters()) == 0 {
			return notSet(name, "filter subject")
		}
	case DeliverByStartSequence:
		if !hasSeq {
			return notSet("by start sequence", "start sequence")
		}
		if hasTime {
			return badStart("by start sequence", "time")
		}
	case DeliverByStartTime:
		if !hasTime {
			return notSet("by start time", "start time")
		}
		if hasSeq {
			return badStart("by start time", "start sequence")
		}
	}
	return nil
}

func (c *ConsumerConfig) validateMisc() *APIError {
	if c.SampleFrequency != "" {
		s := strings.TrimSuffix(c.SampleFrequency, "%")
		n, err := strconv.Atoi(s)
		if err == nil && n < 0 {
			err = errors.New("sample frequency must not be negative")
		}
		if err != nil {
			return consumerErrf(errCodeConsumerInvalidSampling, "%v", err)
		}
	}
	if c.FlowControl && c.Heartbeat == 0 {
		return consumerErr(errCodeConsumerFCNeedsHeartbeats)
	}
	if c.Durable != "" && c.Name != "" && c.Name != c.Durable {
		return consumerErr(errCodeConsumerDurableNameMismatch)
	}
	mlen := 0
	for k, v := range c.Metadata {
		mlen += len(k) + len(v)
	}
	if mlen > consumerMaxMetadataLen {
		return consumerErrf(errCodeConsumerMetadataLength, "%dKB", consumerMaxMetadataLen/1024)
	}
	if c.PriorityPolicy != PriorityNone {
		if c.DeliverSubject != "" {
			return consumerErr(errCodeConsumerPushWithPriorityGroup)
		}
		if len(c.PriorityGroups) == 0 {
			return consumerErr(errCodeConsumerPolicyWithoutGroup)
		}
		for _, g := range c.PriorityGroups {
			if g == "" {
				return consumerErr(errCodeConsumerEmptyGroupName)
			}
			if !validGroupName(g) {
				return consumerErr(errCodeConsumerInvalidGroupName)
			}
		}
	} else {
		if len(c.PriorityGroups) > 0 {
			return consumerErr(errCodeConsumerGroupWithPolicyNone)
		}
		if c.PinnedTTL > 0 {
			return consumerErr(errCodeConsumerPinnedTTLWithoutPolicy)
		}
	}
	return nil
}

// validateWorkQueue is the per-consumer part of the workqueue rules; the
// rules that involve the stream's other consumers are in
// checkWorkQueuePartition.
func (c *ConsumerConfig) validateWorkQueue(lim *consumerStreamLimits) *APIError {
	if !lim.WorkQueue || c.Direct || c.Sourcing {
		return nil
	}
	if c.AckPolicy != AckExplicit && c.AckPolicy != AckFlowControl {
		return consumerErr(errCodeConsumerWQRequiresExplicitAck)
	}
	if c.DeliverPolicy != DeliverAll {
		return consumerErr(errCodeConsumerWQNotDeliverAll)
	}
	return nil
}

// checkWorkQueuePartition checks a new consumer's filters against the
// filters of the stream's other consumers on a workqueue stream: with any
// other consumer present the new one must be filtered (10099) and its
// filters must not overlap theirs (10100). An unfiltered other consumer
// overlaps everything.
func checkWorkQueuePartition(filters []string, others [][]string) *APIError {
	if len(others) == 0 {
		return nil
	}
	if len(filters) == 0 {
		return consumerErr(errCodeConsumerWQMultipleUnfiltered)
	}
	for _, of := range others {
		if len(of) == 0 {
			return consumerErr(errCodeConsumerWQNotUnique)
		}
		for _, a := range filters {
			for _, b := range of {
				if subjectsOverlap(a, b) {
					return consumerErr(errCodeConsumerWQNotUnique)
				}
			}
		}
	}
	return nil
}

// validConsumerName reports whether name may name a consumer: not empty,
// no whitespace, '.', '*', '>', '\' or '/'.
func validConsumerName(name string) bool {
	return name != "" && !strings.ContainsAny(name, " \t\r\n\f.*>\\/")
}

// validGroupName matches [a-zA-Z0-9/_=-]{1,16}.
func validGroupName(g string) bool {
	if len(g) == 0 || len(g) > consumerMaxGroupNameLen {
		return false
	}
	for i := 0; i < len(g); i++ {
		b := g[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			b == '/' || b == '_' || b == '=' || b == '-'
		if !ok {
			return false
		}
	}
	return true
}

// subjectIsSubset reports whether every subject that pattern a matches is
// also matched by pattern b (both may hold wildcards).
func subjectIsSubset(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i, t2 := range bt {
		if i >= len(at) || t2 == "" {
			return false
		}
		if t2 == ">" {
			return true
		}
		t1 := at[i]
		if t1 == "" || t1 == ">" {
			return false
		}
		if t1 == "*" && t2 != "*" {
			return false
		}
		if t2 != "*" && t1 != t2 {
			return false
		}
	}
	return len(at) == len(bt)
}

// subjectsOverlap reports whether some literal subject matches both
// patterns.
func subjectsOverlap(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(at) && i < len(bt); i++ {
		x, y := at[i], bt[i]
		if x == ">" || y == ">" {
			return true
		}
		if x != "*" && y != "*" && x != y {
			return false
		}
	}
	return len(at) == len(bt)
}

// checkConsumerUpdate reports whether a consumer whose config is old may
// take config updated (both after defaults). A refused change is 10012
// with the reference server's reason text; a deliver subject moving while
// the old one still has interest is 10013. deliverInterest may be nil.
func checkConsumerUpdate(old, updated *ConsumerConfig, deliverInterest func(subject string) bool) *APIError {
	if reflect.DeepEqual(old, updated) {
		return nil
	}
	refuse := func(text string) *APIError { return consumerErrf(errCodeConsumerCreate, "%s", text) }
	switch {
	case old.DeliverPolicy != updated.DeliverPolicy:
		return refuse("deliver policy can not be updated")
	case old.MemoryStorage != updated.MemoryStorage:
		return refuse("storage type can not be updated")
	case old.Direct != updated.Direct:
		return refuse("direct can not be updated")
	case old.Sourcing != updated.Sourcing:
		return refuse("sourcing can not be updated")
	case old.OptStartSeq != updated.OptStartSeq:
		return refuse("start sequence can not be updated")
	case !timePtrEqual(old.OptStartTime, updated.OptStartTime):
		return refuse("start time can not be updated")
	case old.AckPolicy != updated.AckPolicy:
		return refuse("ack policy can not be updated")
	case old.ReplayPolicy != updated.ReplayPolicy:
		return refuse("replay policy can not be updated")
	case old.Heartbeat != updated.Heartbeat:
		return refuse("heart beats can not be updated")
	case old.FlowControl != updated.FlowControl:
		return refuse("flow control can not be updated")
	}
	if old.DeliverSubject != updated.DeliverSubject {
		switch {
		case old.DeliverSubject == "":
			return refuse("can not update pull consumer to push based")
		case updated.DeliverSubject == "":
			return refuse("can not update push consumer to pull based")
		case deliverInterest != nil && deliverInterest(old.DeliverSubject):
			return consumerErr(errCodeConsumerNameExist)
		}
	}
	if old.MaxWaiting != updated.MaxWaiting {
		return refuse("max waiting can not be updated")
	}
	if n := len(updated.BackOff); n > 0 && updated.MaxDeliver != -1 && n > updated.MaxDeliver {
		return consumerErr(errCodeConsumerMaxDeliverBackoff)
	}
	return nil
}

func timePtrEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// consumerCreatePlan is what resolveConsumerAction decided.
type consumerCreatePlan int

const (
	planCreate consumerCreatePlan = iota // no consumer by that name: make one
	planUpdate                           // apply the config to the existing one
)

// resolveConsumerAction applies a create request's action, given the
// existing consumer's config (nil when there is none) and the requested
// config (both after SetDefaults):
//   - "create": an existing consumer with a different config is 10148;
//     with the same config the request succeeds (planUpdate, a no-op);
//   - "update": a missing consumer is 10149;
//   - "": create or update.
//
// An update keeps the existing pause_until (create requests can not pause)
// and must pass checkConsumerUpdate. Metadata keys starting with "_nats."
// are server-owned and ignored in the comparison.
func resolveConsumerAction(action ConsumerAction, existing, cfg *ConsumerConfig,
	deliverInterest func(string) bool) (consumerCreatePlan, *APIError) {
	if existing == nil {
		if action == ActionUpdate {
			return planCreate, consumerErr(errCodeConsumerDoesNotExist)
		}
		return planCreate, nil
	}
	cfg.PauseUntil = existing.PauseUntil
	if action == ActionCreate && !consumerConfigsEqual(existing, cfg) {
		return planUpdate, consumerErr(errCodeConsumerAlreadyExists)
	}
	if err := checkConsumerUpdate(stripServerMetadata(existing), stripServerMetadata(cfg), deliverInterest); err != nil {
		return planUpdate, err
	}
	return planUpdate, nil
}

// consumerConfigsEqual compares two configs, ignoring server-owned
// metadata and the difference between nil and empty collections.
func consumerConfigsEqual(a, b *ConsumerConfig) bool {
	return reflect.DeepEqual(stripServerMetadata(a), stripServerMetadata(b))
}

// stripServerMetadata returns a normalized copy for comparisons.
func stripServerMetadata(c *ConsumerConfig) *ConsumerConfig {
	n := c.Clone()
	for k := range n.Metadata {
		if strings.HasPrefix(k, "_nats.") {
			delete(n.Metadata, k)
		}
	}
	if len(n.Metadata) == 0 {
		n.Metadata = nil
	}
	if len(n.BackOff) == 0 {
		n.BackOff = nil
	}
	if len(n.FilterSubjects) == 0 {
		n.FilterSubjects = nil
	}
	if len(n.PriorityGroups) == 0 {
		n.PriorityGroups = nil
	}
	if n.OptStartTime != nil {
		t := n.OptStartTime.UTC()
		n.OptStartTime = &t
	}
	if n.PauseUntil != nil {
		t := n.PauseUntil.UTC()
		n.PauseUntil = &t
	}
	return n
}

// consumerCreateTarget is what a create request's subject says.
type consumerCreateTarget struct {
	Stream   string
	Consumer string // empty for a legacy ephemeral without config.name
	Filter   string // the filter tokens of the subject form, or ""
	Legacy   bool   // $JS.API.CONSUMER.CREATE.<stream> or DURABLE.CREATE
}

// checkConsumerCreateSubject applies the rules that tie a create request
// to its subject (after any domain prefix was mapped to "$JS.API."):
//
//	$JS.API.CONSUMER.CREATE.<stream>                    legacy ephemeral
//	$JS.API.CONSUMER.CREATE.<stream>.<name>[.<filter>]  current form
//	$JS.API.CONSUMER.DURABLE.CREATE.<stream>.<durable>  legacy durable
//
// It fixes req.Config.Name as the reference server does. ok false means
// the subject is malformed and the request gets no reply at all. The
// checks, in order: 10016 (durable form with the wrong token count), 10056,
// 10127, 10018, 10017, 10020, 10137, 10131, 10074.
func checkConsumerCreateSubject(subj string, req *CreateConsumerRequest) (t consumerCreateTarget, ok bool, err *APIError) {
	toks := strings.Split(subj, ".")
	if len(toks) < 5 {
		return t, false, nil
	}
	durableForm := toks[3] == "DURABLE"
	switch {
	case durableForm:
		if len(toks) != 7 {
			return t, true, consumerErr(errCodeConsumerDurableNotInSubject)
		}
		t.Stream, t.Consumer, t.Legacy = toks[5], toks[6], true
	case len(toks) == 5:
		t.Stream, t.Consumer, t.Legacy = toks[4], req.Config.Name, true
	default:
		t.Stream, t.Consumer = toks[4], toks[5]
		if len(toks) > 6 {
			t.Filter = strings.Join(toks[6:], ".")
		}
	}
	if t.Stream != req.Stream {
		return t, true, consumerErr(errCodeStreamMismatch)
	}
	if strings.ContainsAny(t.Consumer, `\/`) {
		return t, true, consumerErr(errCodeConsumerNamePathSeparators)
	}
	switch {
	case durableForm:
		if req.Config.Durable == "" {
			return t, true, consumerErr(errCodeConsumerDurableNotSet)
		}
		if t.Consumer != req.Config.Durable {
			return t, true, consumerErr(errCodeConsumerDurableNotMatchSubject)
		}
		req.Config.Name = t.Consumer
	case !t.Legacy:
		if req.Config.Durable != "" && t.Consumer != req.Config.Durable {
			return t, true, consumerErr(errCodeConsumerDurableNotMatchSubject)
		}
		req.Config.Name = t.Consumer
	default:
		if req.Config.Durable != "" {
			return t, true, consumerErr(errCodeConsumerEphemeralWithDurable)
		}
	}
	if t.Filter != "" && len(req.Config.FilterSubjects) != 0 {
		return t, true, consumerErr(errCodeConsumerMultipleFiltersSubject)
	}
	if t.Filter != "" && req.Config.FilterSubject != t.Filter {
		return t, true, consumerErr(errCodeConsumerFilterMismatch)
	}
	if req.Config.Replicas > 1 {
		return t, true, consumerErr(errCodeReplicasNotSupported)
	}
	return t, true, nil
}

// consumerNameAlphabet is the alphabet of generated consumer names.
const consumerNameAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// generatedConsumerName makes the 8-character [0-9A-Za-z] name of a legacy
// ephemeral consumer from 8 random bytes the caller supplies.
func generatedConsumerName(random [8]byte) string {
	var b [8]byte
	for i, r := range random {
		b[i] = consumerNameAlphabet[int(r)%len(consumerNameAlphabet)]
	}
	return string(b[:])
}
