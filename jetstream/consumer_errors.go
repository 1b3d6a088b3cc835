package jetstream

import "fmt"

// newConsumerErr builds an error; codes and texts follow the reference
// server's errors table (number in the constant name).
func newConsumerErr(code int, errCode uint16, desc string) *APIError {
	return &APIError{Code: code, ErrCode: errCode, Description: desc}
}

// The consumer error codes this package produces. Texts are the reference
// server's; "{...}" placeholders are filled by the helpers below.
const (
	errCodeConsumerCreate                 = 10012 // 500 "{err}"
	errCodeConsumerNameExist              = 10013 // 400 "consumer name already in use"
	errCodeConsumerNotFound               = 10014 // 404 "consumer not found"
	errCodeConsumerDurableNotInSubject    = 10016
	errCodeConsumerDurableNotMatchSubject = 10017
	errCodeConsumerDurableNotSet          = 10018
	errCodeConsumerEphemeralWithDurable   = 10020
	errCodeInvalidJSON                    = 10025 // 400 "invalid JSON: {err}"
	errCodeStreamInvalidConfig            = 10052 // 500 "{err}"
	errCodeStreamMismatch                 = 10056
	errCodeReplicasNotSupported           = 10074
	errCodeConsumerConfigRequired         = 10078
	errCodeConsumerDeliverToWildcards     = 10079
	errCodeConsumerPushMaxWaiting         = 10080
	errCodeConsumerDeliverCycle           = 10081
	errCodeConsumerMaxPendingAckPolicy    = 10082
	errCodeConsumerSmallHeartbeat         = 10083
	errCodeConsumerPullRequiresAck        = 10084
	errCodeConsumerPullWithRateLimit      = 10086
	errCodeConsumerMaxWaitingNegative     = 10087
	errCodeConsumerHBRequiresPush         = 10088
	errCodeConsumerFCRequiresPush         = 10089
	errCodeConsumerDirectRequiresPush     = 10090
	errCodeConsumerDirectRequiresEph      = 10091
	errCodeConsumerInvalidPolicy          = 10094 // 400 "{err}"
	errCodeConsumerInvalidSampling        = 10095
	errCodeConsumerWQRequiresExplicitAck  = 10098
	errCodeConsumerWQMultipleUnfiltered   = 10099
	errCodeConsumerWQNotUnique            = 10100
	errCodeConsumerWQNotDeliverAll        = 10101
	errCodeConsumerNameTooLong            = 10102
	errCodeConsumerBadDurableName         = 10103
	errCodeConsumerDescriptionTooLong     = 10107
	errCodeConsumerFCNeedsHeartbeats      = 10108
	errCodeConsumerMaxRequestBatchNeg     = 10114
	errCodeConsumerMaxRequestExpiresSmall = 10115
	errCodeConsumerMaxDeliverBackoff      = 10116
	errCodeConsumerMaxPendingAckExcess    = 10121
	errCodeConsumerMaxRequestBatchExceed  = 10125
	errCodeConsumerReplicasExceedsStream  = 10126
	errCodeConsumerNamePathSeparators     = 10127
	errCodeConsumerFilterMismatch         = 10131
	errCodeConsumerDurableNameMismatch    = 10132
	errCodeReplicasNegative               = 10133
	errCodeConsumerReplicasMatchStream    = 10134
	errCodeConsumerMetadataLength         = 10135
	errCodeConsumerDuplicateFilters       = 10136
	errCodeConsumerMultipleFiltersSubject = 10137
	errCodeConsumerOverlappingFilters     = 10138
	errCodeConsumerEmptyFilter            = 10139
	errCodeConsumerAlreadyExists          = 10148
	errCodeConsumerDoesNotExist           = 10149
	errCodeConsumerInactiveThreshExcess   = 10153
	errCodePedantic                       = 10157
	errCodeConsumerPolicyWithoutGroup     = 10159
	errCodeConsumerEmptyGroupName         = 10161
	errCodeConsumerInvalidGroupName       = 10162
	errCodeConsumerPushWithPriorityGroup  = 10178
	errCodeConsumerAckPolicyInvalid       = 10181
	errCodeConsumerReplayPolicyInvalid    = 10182
	errCodeConsumerAckWaitNegative        = 10183
	errCodeConsumerBackOffNegative        = 10184
	errCodeConsumerGroupWithPolicyNone    = 10196
	errCodeConsumerPinnedTTLWithoutPolicy = 10197
	errCodeConsumerAckFCRequiresPush      = 10218
	errCodeConsumerAckFCRequiresFC        = 10219
	errCodeConsumerAckFCRequiresMaxAck    = 10220
	errCodeConsumerAckFCRequiresNoAckWait = 10221
	errCodeConsumerAckFCRequiresNoMaxDlv  = 10222
)

// consumerErrText returns the code and fixed text of errCode; ok is false
// for the templated codes (see consumerErrf).
func consumerErrText(errCode uint16) (code int, text string, ok bool) {
	switch errCode {
	case errCodeConsumerNameExist:
		return 400, "consumer name already in use", true
	case errCodeConsumerNotFound:
		return 404, "consumer not found", true
	case errCodeConsumerDurableNotInSubject:
		return 400, "consumer expected to be durable but no durable name set in subject", true
	case errCodeConsumerDurableNotMatchSubject:
		return 400, "consumer name in subject does not match durable name in request", true
	case errCodeConsumerDurableNotSet:
		return 400, "consumer expected to be durable but a durable name was not set", true
	case errCodeConsumerEphemeralWithDurable:
		return 400, "consumer expected to be ephemeral but a durable name was set in request", true
	case errCodeStreamMismatch:
		return 400, "stream name in subject does not match request", true
	case errCodeReplicasNotSupported:
		return 500, "replicas > 1 not supported in non-clustered mode", true
	case errCodeConsumerConfigRequired:
		return 400, "consumer config required", true
	case errCodeConsumerDeliverToWildcards:
		return 400, "consumer deliver subject has wildcards", true
	case errCodeConsumerPushMaxWaiting:
		return 400, "consumer in push mode can not set max waiting", true
	case errCodeConsumerDeliverCycle:
		return 400, "consumer deliver subject forms a cycle", true
	case errCodeConsumerMaxPendingAckPolicy:
		return 400, "consumer requires ack policy for max ack pending", true
	case errCodeConsumerSmallHeartbeat:
		return 400, "consumer idle heartbeat needs to be >= 100ms", true
	case errCodeConsumerPullRequiresAck:
		return 400, "consumer in pull mode requires explicit ack policy on workqueue stream", true
	case errCodeConsumerPullWithRateLimit:
		return 400, "consumer in pull mode can not have rate limit set", true
	case errCodeConsumerMaxWaitingNegative:
		return 400, "consumer max waiting needs to be positive", true
	case errCodeConsumerHBRequiresPush:
		return 400, "consumer idle heartbeat requires a push based consumer", true
	case errCodeConsumerFCRequiresPush:
		return 400, "consumer flow control requires a push based consumer", true
	case errCodeConsumerDirectRequiresPush:
		return 400, "consumer direct requires a push based consumer", true
	case errCodeConsumerDirectRequiresEph:
		return 400, "consumer direct requires an ephemeral consumer", true
	case errCodeConsumerWQRequiresExplicitAck:
		return 400, "workqueue stream requires explicit ack", true
	case errCodeConsumerWQMultipleUnfiltered:
		return 400, "multiple non-filtered consumers not allowed on workqueue stream", true
	case errCodeConsumerWQNotUnique:
		return 400, "filtered consumer not unique on workqueue stream", true
	case errCodeConsumerWQNotDeliverAll:
		return 400, "consumer must be deliver all on workqueue stream", true
	case errCodeConsumerBadDurableName:
		return 400, "durable name can not contain '.', '*', '>'", true
	case errCodeConsumerFCNeedsHeartbeats:
		return 400, "consumer with flow control also needs heartbeats", true
	case errCodeConsumerMaxRequestBatchNeg:
		return 400, "consumer max request batch needs to be > 0", true
	case errCodeConsumerMaxRequestExpiresSmall:
		return 400, "consumer max request expires needs to be >= 1ms", true
	case errCodeConsumerMaxDeliverBackoff:
		return 400, "max deliver is required to be > length of backoff values", true
	case errCodeConsumerReplicasExceedsStream:
		return 400, "consumer config replica count exceeds parent stream", true
	case errCodeConsumerNamePathSeparators:
		return 400, "Consumer name can not contain path separators", true
	case errCodeConsumerFilterMismatch:
		return 400, "Consumer create request did not match filtered subject from create subject", true
	case errCodeConsumerDurableNameMismatch:
		return 400, "Consumer Durable and Name have to be equal if both are provided", true
	case errCodeReplicasNegative:
		return 400, "replicas count cannot be negative", true
	case errCodeConsumerReplicasMatchStream:
		return 400, "consumer config replicas must match interest retention stream's replicas", true
	case errCodeConsumerDuplicateFilters:
		return 400, "consumer cannot have both FilterSubject and FilterSubjects specified", true
	case errCodeConsumerMultipleFiltersSubject:
		return 400, "consumer with multiple subject filters cannot use subject based API", true
	case errCodeConsumerOverlappingFilters:
		return 400, "consumer subject filters cannot overlap", true
	case errCodeConsumerEmptyFilter:
		return 400, "consumer filter in FilterSubjects cannot be empty", true
	case errCodeConsumerAlreadyExists:
		return 400, "consumer already exists", true
	case errCodeConsumerDoesNotExist:
		return 400, "consumer does not exist", true
	case errCodeConsumerPolicyWithoutGroup:
		return 400, "Setting PriorityPolicy requires at least one PriorityGroup to be set", true
	case errCodeConsumerEmptyGroupName:
		return 400, "Group name cannot be an empty string", true
	case errCodeConsumerInvalidGroupName:
		return 400, "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters", true
	case errCodeConsumerPushWithPriorityGroup:
		return 400, "priority groups can not be used with push consumers", true
	case errCodeConsumerAckPolicyInvalid:
		return 400, "consumer ack policy invalid", true
	case errCodeConsumerReplayPolicyInvalid:
		return 400, "consumer replay policy invalid", true
	case errCodeConsumerAckWaitNegative:
		return 400, "consumer ack wait needs to be positive", true
	case errCodeConsumerBackOffNegative:
		return 400, "consumer backoff needs to be positive", true
	case errCodeConsumerGroupWithPolicyNone:
		return 400, "consumer can not have priority groups when policy is none", true
	case errCodeConsumerPinnedTTLWithoutPolicy:
		return 400, "PinnedTTL cannot be set when PriorityPolicy is none", true
	case errCodeConsumerAckFCRequiresPush:
		return 400, "flow control ack policy requires a push based consumer", true
	case errCodeConsumerAckFCRequiresFC:
		return 400, "flow control ack policy requires flow control", true
	case errCodeConsumerAckFCRequiresMaxAck:
		return 400, "flow control ack policy requires max ack pending", true
	case errCodeConsumerAckFCRequiresNoAckWait:
		return 400, "flow control ack policy requires unset ack wait", true
	case errCodeConsumerAckFCRequiresNoMaxDlv:
		return 400, "flow control ack policy requires unset max deliver", true
	}
	return 0, "", false
}

// consumerErr returns the fixed-text error for errCode. It panics on a code
// missing from consumerErrText: that is a programming error, and the table
// test walks every constant used.
func consumerErr(errCode uint16) *APIError {
	code, text, ok := consumerErrText(errCode)
	if !ok {
		panic(fmt.Sprintf("jetstream: no text for consumer error %d", errCode))
	}
	return newConsumerErr(code, errCode, text)
}

// consumerErrf returns one of the templated errors with its text filled in.
func consumerErrf(errCode uint16, format string, args ...any) *APIError {
	code := 400
	prefix := ""
	switch errCode {
	case errCodeConsumerCreate, errCodeStreamInvalidConfig:
		code = 500
	case errCodeInvalidJSON:
		prefix = "invalid JSON: "
	case errCodeConsumerInvalidSampling:
		prefix = "failed to parse consumer sampling configuration: "
	case errCodeConsumerNameTooLong:
		prefix = "consumer name is too long, maximum allowed is "
	case errCodeConsumerDescriptionTooLong:
		prefix = "consumer description is too long, maximum allowed is "
	case errCodeConsumerMaxPendingAckExcess:
		prefix = "consumer max ack pending exceeds system limit of "
	case errCodeConsumerMaxRequestBatchExceed:
		prefix = "consumer max request batch exceeds server limit of "
	case errCodeConsumerInactiveThreshExcess:
		prefix = "consumer inactive threshold exceeds system limit of "
	case errCodeConsumerMetadataLength:
		prefix = "consumer metadata exceeds maximum size of "
	case errCodePedantic:
		prefix = "pedantic mode: "
	}
	return newConsumerErr(code, errCode, prefix+fmt.Sprintf(format, args...))
}
