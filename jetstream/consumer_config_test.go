package jetstream

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// officialConsumerConfigTags are the JSON names of the reference server's
// ConsumerConfig fields (nats-server v2.15.2, server/consumer.go).
var officialConsumerConfigTags = []string{
	"durable_name", "name", "description", "deliver_policy", "opt_start_seq",
	"opt_start_time", "ack_policy", "ack_wait", "max_deliver", "backoff",
	"filter_subject", "filter_subjects", "replay_policy", "rate_limit_bps",
	"sample_freq", "max_waiting", "max_ack_pending", "flow_control",
	"headers_only", "max_batch", "max_expires", "max_bytes", "deliver_subject",
	"deliver_group", "idle_heartbeat", "inactive_threshold", "num_replicas",
	"mem_storage", "direct", "sourcing", "metadata", "pause_until",
	"priority_groups", "priority_policy", "priority_timeout",
}

func jsonTags(t reflect.Type) []string {
	var tags []string
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("json")
		tags = append(tags, strings.Split(tag, ",")[0])
	}
	return tags
}

func TestConsumerConfigKnowsEveryOfficialField(t *testing.T) {
	got := jsonTags(reflect.TypeFor[ConsumerConfig]())
	want := slices.Clone(officialConsumerConfigTags)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("tags differ:\n got %v\nwant %v", got, want)
	}
	if got := jsonTags(reflect.TypeFor[CreateConsumerRequest]()); !slices.Equal(got, []string{"stream_name", "config", "action", "pedantic"}) {
		t.Fatalf("request tags %v", got)
	}
}

// fullCreateBody sets every field, as a strict server must accept.
const fullCreateBody = `{"stream_name":"S","action":"create","pedantic":false,"config":{
 "durable_name":"D","name":"D","description":"d","deliver_policy":"by_start_sequence",
 "opt_start_seq":5,"ack_policy":"explicit","ack_wait":30000000000,"max_deliver":5,
 "backoff":[1000000000,2000000000],"filter_subject":"a.>","replay_policy":"original",
 "rate_limit_bps":0,"sample_freq":"50%","max_waiting":10,"max_ack_pending":20,
 "flow_control":false,"headers_only":true,"max_batch":100,"max_expires":60000000000,
 "max_bytes":1024,"idle_heartbeat":0,"inactive_threshold":0,"num_replicas":1,
 "mem_storage":true,"direct":false,"sourcing":false,"metadata":{"k":"v"},
 "pause_until":"2030-01-02T03:04:05.000000006Z","priority_groups":["g"],
 "priority_policy":"pinned_client","priority_timeout":120000000000,
 "filter_subjects":null,"deliver_subject":"","deliver_group":""}}`

func TestDecodeCreateConsumerRequestStrict(t *testing.T) {
	req, err := decodeCreateConsumerRequest([]byte(fullCreateBody), true)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	c := req.Config
	if req.Action != ActionCreate || c.DeliverPolicy != DeliverByStartSequence || c.AckPolicy != AckExplicit ||
		c.ReplayPolicy != ReplayOriginal || c.PriorityPolicy != PriorityPinnedClient ||
		c.BackOff[1] != 2*time.Second || c.PauseUntil.Nanosecond() != 6 || c.Metadata["k"] != "v" {
		t.Fatalf("decoded %+v", req)
	}
	// Round trip through our own encoding.
	out, jerr := json.Marshal(req)
	if jerr != nil {
		t.Fatal(jerr)
	}
	again, err := decodeCreateConsumerRequest(out, true)
	if err != nil || !reflect.DeepEqual(again, req) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, again, req)
	}

	_, err = decodeCreateConsumerRequest([]byte(`{"stream_name":"S","config":{"foo":1}}`), true)
	if err == nil || err.ErrCode != errCodeInvalidJSON || err.Code != 400 ||
		err.Description != `invalid JSON: json: unknown field "foo"` {
		t.Fatalf("unknown field: %+v", err)
	}
	if req, err := decodeCreateConsumerRequest(nil, true); err != nil || req.Stream != "" {
		t.Fatalf("empty body: %v", err)
	}
	if _, err := decodeCreateConsumerRequest([]byte(`{"stream_name":"S","config":{"foo":1}}`), false); err != nil {
		t.Fatalf("lenient: %v", err)
	}
	for _, bad := range []string{`{"config":{"ack_policy":"sometimes"}}`, `{"action":"upsert"}`, `{`, `{"config":{"deliver_policy":1}}`} {
		if _, err := decodeCreateConsumerRequest([]byte(bad), true); err == nil || err.ErrCode != errCodeInvalidJSON {
			t.Errorf("%s: %+v", bad, err)
		}
	}
}

func TestConsumerEnumsJSON(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{DeliverAll, `"all"`}, {DeliverLast, `"last"`}, {DeliverNew, `"new"`},
		{DeliverByStartSequence, `"by_start_sequence"`}, {DeliverByStartTime, `"by_start_time"`},
		{DeliverLastPerSubject, `"last_per_subject"`},
		{AckNone, `"none"`}, {AckAll, `"all"`}, {AckExplicit, `"explicit"`}, {AckFlowControl, `"flow_control"`},
		{ReplayInstant, `"instant"`}, {ReplayOriginal, `"original"`},
		{PriorityNone, `"none"`}, {PriorityOverflow, `"overflow"`}, {PriorityPinnedClient, `"pinned_client"`},
		{PriorityPrioritized, `"prioritized"`},
		{ActionCreateOrUpdate, `""`}, {ActionUpdate, `"update"`}, {ActionCreate, `"create"`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.v)
		if err != nil || string(b) != c.want {
			t.Errorf("%v: %s %v", c.v, b, err)
			continue
		}
		p := reflect.New(reflect.TypeOf(c.v))
		if err := json.Unmarshal(b, p.Interface()); err != nil || p.Elem().Interface() != c.v {
			t.Errorf("unmarshal %s: %v %v", b, p.Elem().Interface(), err)
		}
	}
	var dp DeliverPolicy = DeliverNew
	if err := json.Unmarshal([]byte(`"undefined"`), &dp); err != nil || dp != DeliverAll {
		t.Errorf("undefined: %v %v", dp, err)
	}
	if _, err := json.Marshal(AckPolicy(9)); err == nil {
		t.Error("bad ack policy marshalled")
	}
}

func durablePull() *ConsumerConfig {
	return &ConsumerConfig{Durable: "D", AckPolicy: AckExplicit}
}

func TestConsumerSetDefaults(t *testing.T) {
	lim := &consumerStreamLimits{}
	c := durablePull()
	if err := c.SetDefaults(lim, false); err != nil {
		t.Fatal(err)
	}
	want := ConsumerConfig{Durable: "D", AckPolicy: AckExplicit, AckWait: 30 * time.Second, MaxDeliver: -1,
		MaxWaiting: 512, MaxAckPending: 1000}
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("durable pull:\n got %+v\nwant %+v", *c, want)
	}
	b, _ := json.Marshal(c)
	for _, frag := range []string{`"ack_wait":30000000000`, `"max_deliver":-1`, `"replay_policy":"instant"`,
		`"max_waiting":512`, `"max_ack_pending":1000`, `"num_replicas":0`, `"deliver_policy":"all"`} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("missing %s in %s", frag, b)
		}
	}

	push := &ConsumerConfig{Name: "e", DeliverSubject: "dlv", AckPolicy: AckNone}
	if err := push.SetDefaults(lim, false); err != nil {
		t.Fatal(err)
	}
	if push.MaxDeliver != -1 || push.InactiveThreshold != 5*time.Second || push.MaxWaiting != 0 || push.MaxAckPending != 0 || push.AckWait != 0 {
		t.Fatalf("ephemeral push: %+v", push)
	}

	bo := &ConsumerConfig{Durable: "D", AckPolicy: AckExplicit, BackOff: []time.Duration{time.Second, 5 * time.Second}}
	if err := bo.SetDefaults(&consumerStreamLimits{MaxAckPending: 50, ServerMaxRequestBatch: 7}, false); err != nil {
		t.Fatal(err)
	}
	if bo.AckWait != time.Second || bo.MaxAckPending != 50 || bo.MaxRequestBatch != 7 {
		t.Fatalf("backoff: %+v", bo)
	}
	low := durablePull()
	_ = low.SetDefaults(&consumerStreamLimits{ServerMaxAckPending: 10}, false)
	if low.MaxAckPending != 10 {
		t.Fatalf("server cap: %d", low.MaxAckPending)
	}

	neg := &ConsumerConfig{Durable: "D", MaxDeliver: -5, MaxWaiting: -1, MaxAckPending: -3, Heartbeat: -1}
	if err := neg.SetDefaults(lim, false); err != nil || neg.MaxDeliver != -1 || neg.MaxWaiting != 512 || neg.MaxAckPending != -1 || neg.Heartbeat != 0 {
		t.Fatalf("clamp: %+v %v", neg, err)
	}
	neg = &ConsumerConfig{Durable: "D", MaxDeliver: -5}
	if err := neg.SetDefaults(lim, true); err == nil || err.ErrCode != errCodePedantic ||
		err.Description != "pedantic mode: max_deliver must be set to -1" {
		t.Fatalf("pedantic: %+v", err)
	}
	fc := &ConsumerConfig{Name: "x", DeliverSubject: "d", AckPolicy: AckFlowControl, MaxAckPending: 5}
	if err := fc.SetDefaults(lim, false); err != nil || !fc.FlowControl || fc.Heartbeat != time.Second {
		t.Fatalf("flow control policy: %+v", fc)
	}
	if err := fc.Validate(lim); err != nil {
		t.Fatalf("flow control policy valid: %v", err)
	}
	pin := &ConsumerConfig{Durable: "D", PriorityPolicy: PriorityPinnedClient, PriorityGroups: []string{"g"}}
	_ = pin.SetDefaults(lim, false)
	if pin.PinnedTTL != 2*time.Minute {
		t.Fatalf("pinned ttl %v", pin.PinnedTTL)
	}
}

func TestConsumerValidate(t *testing.T) {
	start := time.Unix(100, 0)
	cases := []struct {
		name string
		cfg  ConsumerConfig
		lim  consumerStreamLimits
		code uint16
		desc string
	}{
		{"ok pull", ConsumerConfig{Durable: "D", AckPolicy: AckExplicit}, consumerStreamLimits{}, 0, ""},
		{"ok push", ConsumerConfig{DeliverSubject: "x", Heartbeat: time.Second, FlowControl: true}, consumerStreamLimits{}, 0, ""},
		{"bad name", ConsumerConfig{Name: "a.b"}, consumerStreamLimits{}, errCodeStreamInvalidConfig, "consumer name can not contain '.', '*', '>', '\\', '/'"},
		{"bad durable", ConsumerConfig{Durable: "a b"}, consumerStreamLimits{}, errCodeStreamInvalidConfig, ""},
		{"long durable", ConsumerConfig{Durable: strings.Repeat("a", 256)}, consumerStreamLimits{}, errCodeConsumerNameTooLong, "consumer name is too long, maximum allowed is 255"},
		{"replicas", ConsumerConfig{Replicas: 3}, consumerStreamLimits{Replicas: 1}, errCodeConsumerReplicasExceedsStream, ""},
		{"neg replicas", ConsumerConfig{Replicas: -1}, consumerStreamLimits{}, errCodeReplicasNegative, ""},
		{"ack policy", ConsumerConfig{AckPolicy: 7}, consumerStreamLimits{}, errCodeConsumerAckPolicyInvalid, ""},
		{"replay policy", ConsumerConfig{ReplayPolicy: 7}, consumerStreamLimits{}, errCodeConsumerReplayPolicyInvalid, ""},
		{"neg backoff", ConsumerConfig{BackOff: []time.Duration{-1}}, consumerStreamLimits{}, errCodeConsumerBackOffNegative, ""},
		{"neg ack wait", ConsumerConfig{AckWait: -1}, consumerStreamLimits{}, errCodeConsumerAckWaitNegative, ""},
		{"fc policy pull", ConsumerConfig{AckPolicy: AckFlowControl}, consumerStreamLimits{}, errCodeConsumerAckFCRequiresPush, ""},
		{"backoff vs max deliver", ConsumerConfig{MaxDeliver: 2, BackOff: []time.Duration{1, 2, 3}}, consumerStreamLimits{}, errCodeConsumerMaxDeliverBackoff, "max deliver is required to be > length of backoff values"},
		{"description", ConsumerConfig{Description: strings.Repeat("x", 4097)}, consumerStreamLimits{}, errCodeConsumerDescriptionTooLong, "consumer description is too long, maximum allowed is 4096"},
		{"deliver wildcard", ConsumerConfig{DeliverSubject: "a.*"}, consumerStreamLimits{}, errCodeConsumerDeliverToWildcards, ""},
		{"deliver invalid", ConsumerConfig{DeliverSubject: "a..b"}, consumerStreamLimits{}, errCodeConsumerInvalidDeliverSubject, ""},
		{"deliver cycle", ConsumerConfig{DeliverSubject: "orders.new"}, consumerStreamLimits{Subjects: []string{"orders.>"}}, errCodeConsumerDeliverCycle, ""},
		{"push max waiting", ConsumerConfig{DeliverSubject: "x", MaxWaiting: 5}, consumerStreamLimits{}, errCodeConsumerPushMaxWaiting, ""},
		{"push max ack none", ConsumerConfig{DeliverSubject: "x", MaxAckPending: 5}, consumerStreamLimits{}, errCodeConsumerMaxPendingAckPolicy, ""},
		{"small hb", ConsumerConfig{DeliverSubject: "x", Heartbeat: time.Millisecond}, consumerStreamLimits{}, errCodeConsumerSmallHeartbeat, "consumer idle heartbeat needs to be >= 100ms"},
		{"wq pull ack none", ConsumerConfig{}, consumerStreamLimits{WorkQueue: true}, errCodeConsumerPullRequiresAck, ""},
		{"pull rate", ConsumerConfig{RateLimit: 5}, consumerStreamLimits{}, errCodeConsumerPullWithRateLimit, ""},
		{"pull hb", ConsumerConfig{Heartbeat: time.Second}, consumerStreamLimits{}, errCodeConsumerHBRequiresPush, ""},
		{"pull fc", ConsumerConfig{FlowControl: true}, consumerStreamLimits{}, errCodeConsumerFCRequiresPush, ""},
		{"max expires", ConsumerConfig{MaxRequestExpires: time.Microsecond}, consumerStreamLimits{}, errCodeConsumerMaxRequestExpiresSmall, ""},
		{"server batch", ConsumerConfig{MaxRequestBatch: 10}, consumerStreamLimits{ServerMaxRequestBatch: 5}, errCodeConsumerMaxRequestBatchExceed, "consumer max request batch exceeds server limit of 5"},
		{"ack pending cap", ConsumerConfig{MaxAckPending: 10, AckPolicy: AckExplicit}, consumerStreamLimits{MaxAckPending: 5}, errCodeConsumerMaxPendingAckExcess, "consumer max ack pending exceeds system limit of 5"},
		{"inactive cap", ConsumerConfig{InactiveThreshold: time.Minute}, consumerStreamLimits{InactiveThreshold: time.Second}, errCodeConsumerInactiveThreshExcess, "consumer inactive threshold exceeds system limit of 1s"},
		{"both filters", ConsumerConfig{FilterSubject: "a", FilterSubjects: []string{"b"}}, consumerStreamLimits{}, errCodeConsumerDuplicateFilters, ""},
		{"empty filter", ConsumerConfig{FilterSubjects: []string{"a", ""}}, consumerStreamLimits{}, errCodeConsumerEmptyFilter, ""},
		{"bad filter", ConsumerConfig{FilterSubject: "a..b"}, consumerStreamLimits{}, errCodeStreamInvalidConfig, ""},
		{"overlap", ConsumerConfig{FilterSubjects: []string{"a.*", "a.b"}}, consumerStreamLimits{}, errCodeConsumerOverlappingFilters, ""},
		{"no overlap", ConsumerConfig{FilterSubjects: []string{"a.*", "b.>"}}, consumerStreamLimits{}, 0, ""},
		{"all with seq", ConsumerConfig{OptStartSeq: 5}, consumerStreamLimits{}, errCodeConsumerInvalidPolicy, "consumer delivery policy is deliver all, but optional start sequence is also set"},
		{"lps no filter", ConsumerConfig{DeliverPolicy: DeliverLastPerSubject}, consumerStreamLimits{}, errCodeConsumerInvalidPolicy, "consumer delivery policy is deliver last per subject, but optional filter subject is not set"},
		{"lps ok", ConsumerConfig{DeliverPolicy: DeliverLastPerSubject, FilterSubjects: []string{">"}}, consumerStreamLimits{}, 0, ""},
		{"by seq missing", ConsumerConfig{DeliverPolicy: DeliverByStartSequence}, consumerStreamLimits{}, errCodeConsumerInvalidPolicy, "consumer delivery policy is deliver by start sequence, but optional start sequence is not set"},
		{"by time with seq", ConsumerConfig{DeliverPolicy: DeliverByStartTime, OptStartTime: &start, OptStartSeq: 1}, consumerStreamLimits{}, errCodeConsumerInvalidPolicy, "consumer delivery policy is deliver by start time, but optional start start sequence is also set"},
		{"new with time", ConsumerConfig{DeliverPolicy: DeliverNew, OptStartTime: &start}, consumerStreamLimits{}, errCodeConsumerInvalidPolicy, ""},
		{"sampling", ConsumerConfig{SampleFrequency: "x%"}, consumerStreamLimits{}, errCodeConsumerInvalidSampling, ""},
		{"fc no hb", ConsumerConfig{DeliverSubject: "x", FlowControl: true}, consumerStreamLimits{}, errCodeConsumerFCNeedsHeartbeats, ""},
		{"name mismatch", ConsumerConfig{Durable: "a", Name: "b"}, consumerStreamLimits{}, errCodeConsumerDurableNameMismatch, "Consumer Durable and Name have to be equal if both are provided"},
		{"metadata", ConsumerConfig{Metadata: map[string]string{"k": strings.Repeat("v", 128*1024)}}, consumerStreamLimits{}, errCodeConsumerMetadataLength, "consumer metadata exceeds maximum size of 128KB"},
		{"push priority", ConsumerConfig{DeliverSubject: "x", PriorityPolicy: PriorityOverflow}, consumerStreamLimits{}, errCodeConsumerPushWithPriorityGroup, ""},
		{"no groups", ConsumerConfig{PriorityPolicy: PriorityOverflow}, consumerStreamLimits{}, errCodeConsumerPolicyWithoutGroup, ""},
		{"bad group", ConsumerConfig{PriorityPolicy: PriorityOverflow, PriorityGroups: []string{"a b"}}, consumerStreamLimits{}, errCodeConsumerInvalidGroupName, ""},
		{"groups policy none", ConsumerConfig{PriorityGroups: []string{"g"}}, consumerStreamLimits{}, errCodeConsumerGroupWithPolicyNone, ""},
		{"pinned ttl none", ConsumerConfig{PinnedTTL: time.Second}, consumerStreamLimits{}, errCodeConsumerPinnedTTLWithoutPolicy, ""},
		{"wq explicit", ConsumerConfig{AckPolicy: AckAll}, consumerStreamLimits{WorkQueue: true}, errCodeConsumerWQRequiresExplicitAck, ""},
		{"wq deliver all", ConsumerConfig{AckPolicy: AckExplicit, DeliverPolicy: DeliverNew}, consumerStreamLimits{WorkQueue: true}, errCodeConsumerWQNotDeliverAll, ""},
		{"direct pull", ConsumerConfig{Direct: true}, consumerStreamLimits{}, errCodeConsumerDirectRequiresPush, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate(&c.lim)
			if c.code == 0 {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if err == nil || err.ErrCode != c.code {
				t.Fatalf("got %+v, want %d", err, c.code)
			}
			if c.desc != "" && err.Description != c.desc {
				t.Fatalf("description %q, want %q", err.Description, c.desc)
			}
		})
	}
}

func TestConsumerErrTable(t *testing.T) {
	for _, code := range []uint16{
		errCodeConsumerNameExist,
		errCodeConsumerNotFound,
		errCodeConsumerDurableNotInSubject,
		errCodeConsumerDurableNotMatchSubject,
		errCodeConsumerDurableNotSet,
		errCodeConsumerEphemeralWithDurable,
		errCodeStreamMismatch,
		errCodeReplicasNotSupported,
		errCodeConsumerConfigRequired,
		errCodeConsumerDeliverToWildcards,
		errCodeConsumerPushMaxWaiting,
		errCodeConsumerDeliverCycle,
		errCodeConsumerMaxPendingAckPolicy,
		errCodeConsumerSmallHeartbeat,
		errCodeConsumerPullRequiresAck,
		errCodeConsumerPullWithRateLimit,
		errCodeConsumerMaxWaitingNegative,
		errCodeConsumerHBRequiresPush,
		errCodeConsumerFCRequiresPush,
		errCodeConsumerDirectRequiresPush,
		errCodeConsumerDirectRequiresEph,
		errCodeConsumerWQRequiresExplicitAck,
		errCodeConsumerWQMultipleUnfiltered,
		errCodeConsumerWQNotUnique,
		errCodeConsumerWQNotDeliverAll,
		errCodeConsumerBadDurableName,
		errCodeConsumerFCNeedsHeartbeats,
		errCodeConsumerMaxRequestBatchNeg,
		errCodeConsumerMaxRequestExpiresSmall,
		errCodeConsumerMaxDeliverBackoff,
		errCodeConsumerReplicasExceedsStream,
		errCodeConsumerNamePathSeparators,
		errCodeConsumerFilterMismatch,
		errCodeConsumerDurableNameMismatch,
		errCodeReplicasNegative,
		errCodeConsumerReplicasMatchStream,
		errCodeConsumerDuplicateFilters,
		errCodeConsumerMultipleFiltersSubject,
		errCodeConsumerOverlappingFilters,
		errCodeConsumerEmptyFilter,
		errCodeConsumerAlreadyExists,
		errCodeConsumerDoesNotExist,
		errCodeConsumerPolicyWithoutGroup,
		errCodeConsumerEmptyGroupName,
		errCodeConsumerInvalidGroupName,
		errCodeConsumerPushWithPriorityGroup,
		errCodeConsumerAckPolicyInvalid,
		errCodeConsumerReplayPolicyInvalid,
		errCodeConsumerAckWaitNegative,
		errCodeConsumerBackOffNegative,
		errCodeConsumerGroupWithPolicyNone,
		errCodeConsumerPinnedTTLWithoutPolicy,
		errCodeConsumerAckFCRequiresPush,
		errCodeConsumerAckFCRequiresFC,
		errCodeConsumerAckFCRequiresMaxAck,
		errCodeConsumerAckFCRequiresNoAckWait,
		errCodeConsumerAckFCRequiresNoMaxDlv,
	} {
		c, text, ok := consumerErrText(code)
		got := consumerErr(code)
		if !ok || got.Code != c || got.Description != text || got.ErrCode != code || text == "" || (c != 400 && c != 404 && c != 500) {
			t.Errorf("%d: %+v", code, got)
		}
	}
	if _, _, ok := consumerErrText(errCodeConsumerCreate); ok {
		t.Error("templated code has fixed text")
	}
	e := consumerErrf(errCodeConsumerCreate, "%s", "deliver policy can not be updated")
	if e.Code != 500 || e.Description != "deliver policy can not be updated" {
		t.Errorf("create: %+v", e)
	}
	b, _ := json.Marshal(consumerErr(errCodeConsumerNotFound))
	if string(b) != `{"code":404,"err_code":10014,"description":"consumer not found"}` {
		t.Errorf("json %s", b)
	}
}

func TestSubjectSubsetAndOverlap(t *testing.T) {
	cases := []struct {
		a, b            string
		subset, overlap bool
	}{
		{"foo.*", ">", true, true}, {"foo.*", "*.*", true, true}, {"foo.*", "foo.*", true, true},
		{"foo.*", "foo.bar", false, true}, {"foo.bar", "foo.*", true, true}, {"foo.>", "foo.*", false, true},
		{"a.b", "a.c", false, false}, {"a", "a.b", false, false}, {"a.*", "*.b", false, true},
		{"a.>", "b.>", false, false}, {"$KV.B.>", "$KV.B.>", true, true},
	}
	for _, c := range cases {
		if got := subjectIsSubset(c.a, c.b); got != c.subset {
			t.Errorf("subset(%s,%s)=%v", c.a, c.b, got)
		}
		if got := subjectsOverlap(c.a, c.b); got != c.overlap {
			t.Errorf("overlap(%s,%s)=%v", c.a, c.b, got)
		}
	}
}

func TestCheckConsumerCreateSubject(t *testing.T) {
	cases := []struct {
		subj    string
		req     CreateConsumerRequest
		noReply bool
		code    uint16
		name    string
		filter  string
	}{
		{"$JS.API.CONSUMER.CREATE.S.C", CreateConsumerRequest{Stream: "S"}, false, 0, "C", ""},
		{"$JS.API.CONSUMER.CREATE.S.C.$KV.B.>", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{FilterSubject: "$KV.B.>"}}, false, 0, "C", "$KV.B.>"},
		{"$JS.API.CONSUMER.CREATE.S.C.a.b", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{FilterSubject: "a.c"}}, false, errCodeConsumerFilterMismatch, "", ""},
		{"$JS.API.CONSUMER.CREATE.S.C.a.b", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{FilterSubjects: []string{"a.b"}}}, false, errCodeConsumerMultipleFiltersSubject, "", ""},
		{"$JS.API.CONSUMER.CREATE.S.C", CreateConsumerRequest{Stream: "T"}, false, errCodeStreamMismatch, "", ""},
		{"$JS.API.CONSUMER.CREATE.S.C", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{Durable: "X"}}, false, errCodeConsumerDurableNotMatchSubject, "", ""},
		{"$JS.API.CONSUMER.CREATE.S.C", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{Replicas: 3}}, false, errCodeReplicasNotSupported, "", ""},
		{"$JS.API.CONSUMER.CREATE.S", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{Name: "eph"}}, false, 0, "eph", ""},
		{"$JS.API.CONSUMER.CREATE.S", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{Durable: "d"}}, false, errCodeConsumerEphemeralWithDurable, "", ""},
		{"$JS.API.CONSUMER.DURABLE.CREATE.S.D", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{Durable: "D"}}, false, 0, "D", ""},
		{"$JS.API.CONSUMER.DURABLE.CREATE.S.D", CreateConsumerRequest{Stream: "S"}, false, errCodeConsumerDurableNotSet, "", ""},
		{"$JS.API.CONSUMER.DURABLE.CREATE.S.D", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{Durable: "E"}}, false, errCodeConsumerDurableNotMatchSubject, "", ""},
		{"$JS.API.CONSUMER.DURABLE.CREATE.S", CreateConsumerRequest{Stream: "S"}, false, errCodeConsumerDurableNotInSubject, "", ""},
		{"$JS.API.CONSUMER", CreateConsumerRequest{}, true, 0, "", ""},
	}
	for _, c := range cases {
		req := c.req
		tgt, ok, err := checkConsumerCreateSubject(c.subj, &req)
		if ok == c.noReply {
			t.Errorf("%s: ok=%v", c.subj, ok)
			continue
		}
		if c.code != 0 {
			if err == nil || err.ErrCode != c.code {
				t.Errorf("%s: %+v want %d", c.subj, err, c.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.subj, err)
			continue
		}
		if ok && (req.Config.Name != c.name || tgt.Filter != c.filter || tgt.Stream != "S") {
			t.Errorf("%s: name %q target %+v", c.subj, req.Config.Name, tgt)
		}
	}
}

func TestResolveConsumerAction(t *testing.T) {
	lim := &consumerStreamLimits{}
	mk := func(mod func(*ConsumerConfig)) *ConsumerConfig {
		c := durablePull()
		if mod != nil {
			mod(c)
		}
		if err := c.SetDefaults(lim, false); err != nil {
			t.Fatal(err)
		}
		return c
	}
	existing := mk(nil)
	existing.Metadata = map[string]string{"_nats.ver": "2.15.2"}
	cases := []struct {
		name     string
		action   ConsumerAction
		existing *ConsumerConfig
		cfg      *ConsumerConfig
		plan     consumerCreatePlan
		code     uint16
		desc     string
	}{
		{"create new", ActionCreate, nil, mk(nil), planCreate, 0, ""},
		{"update missing", ActionUpdate, nil, mk(nil), planCreate, errCodeConsumerDoesNotExist, ""},
		{"create same", ActionCreate, existing, mk(nil), planUpdate, 0, ""},
		{"create different", ActionCreate, existing, mk(func(c *ConsumerConfig) { c.MaxAckPending = 5 }), planUpdate, errCodeConsumerAlreadyExists, ""},
		{"upsert allowed", ActionCreateOrUpdate, existing, mk(func(c *ConsumerConfig) { c.MaxAckPending = 5 }), planUpdate, 0, ""},
		{"upsert refused", ActionCreateOrUpdate, existing, mk(func(c *ConsumerConfig) { c.DeliverPolicy = DeliverNew }), planUpdate, errCodeConsumerCreate, "deliver policy can not be updated"},
		{"to push", ActionUpdate, existing, mk(func(c *ConsumerConfig) { c.DeliverSubject = "x"; c.MaxWaiting = 0 }), planUpdate, errCodeConsumerCreate, "can not update pull consumer to push based"},
		{"ack policy", ActionUpdate, existing, mk(func(c *ConsumerConfig) { c.AckPolicy = AckAll }), planUpdate, errCodeConsumerCreate, "ack policy can not be updated"},
		{"max waiting", ActionUpdate, existing, mk(func(c *ConsumerConfig) { c.MaxWaiting = 3 }), planUpdate, errCodeConsumerCreate, "max waiting can not be updated"},
	}
	for _, c := range cases {
		plan, err := resolveConsumerAction(c.action, c.existing, c.cfg, nil)
		if c.code == 0 && err != nil || c.code != 0 && (err == nil || err.ErrCode != c.code) {
			t.Errorf("%s: %+v", c.name, err)
			continue
		}
		if err != nil && c.desc != "" && err.Description != c.desc {
			t.Errorf("%s: %q", c.name, err.Description)
		}
		if plan != c.plan {
			t.Errorf("%s: plan %v", c.name, plan)
		}
	}
	// A push consumer's deliver subject may move unless the old one is in use.
	old := &ConsumerConfig{Name: "p", DeliverSubject: "a"}
	nw := &ConsumerConfig{Name: "p", DeliverSubject: "b"}
	if err := checkConsumerUpdate(old, nw, func(string) bool { return true }); err == nil || err.ErrCode != errCodeConsumerNameExist {
		t.Errorf("bound push: %+v", err)
	}
	if err := checkConsumerUpdate(old, nw, func(string) bool { return false }); err != nil {
		t.Errorf("unbound push: %v", err)
	}
}

func TestCheckWorkQueuePartition(t *testing.T) {
	if err := checkWorkQueuePartition(nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := checkWorkQueuePartition(nil, [][]string{{"a"}}); err == nil || err.ErrCode != errCodeConsumerWQMultipleUnfiltered {
		t.Fatalf("%+v", err)
	}
	if err := checkWorkQueuePartition([]string{"a.*"}, [][]string{{"a.b"}}); err == nil || err.ErrCode != errCodeConsumerWQNotUnique {
		t.Fatalf("%+v", err)
	}
	if err := checkWorkQueuePartition([]string{"a.*"}, [][]string{{"b.>"}, {"c"}}); err != nil {
		t.Fatal(err)
	}
}

func TestGeneratedConsumerName(t *testing.T) {
	n := generatedConsumerName([8]byte{0, 1, 61, 62, 255, 10, 36, 100})
	if len(n) != 8 || !validConsumerName(n) || n != "01z07Aac" {
		t.Fatalf("%q", n)
	}
}
