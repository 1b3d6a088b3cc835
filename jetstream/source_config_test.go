package jetstream

import (
	"encoding/json"
	"testing"
	"time"
)

// srcCfg decodes a stream config written as JSON.
func srcCfg(t *testing.T, body string) StreamConfig {
	t.Helper()
	var c StreamConfig
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return c
}

// wantAPIErr checks an error against an err_code and description (code 0:
// no error).
func wantAPIErr(t *testing.T, what string, got *APIError, code uint16, desc string) {
	t.Helper()
	switch {
	case code == 0 && got != nil:
		t.Errorf("%s: unexpected error %v", what, got)
	case code == 0:
	case got == nil:
		t.Errorf("%s: no error, want %d %q", what, code, desc)
	case got.ErrCode != code || got.Description != desc:
		t.Errorf("%s: got %d %q, want %d %q", what, got.ErrCode, got.Description, code, desc)
	}
}

// TestSourceConfigRules has one row per rule of checkSourcing, run through
// normalizeConfig (texts and codes: nats-server 2.15.2 errors.json).
func TestSourceConfigRules(t *testing.T) {
	const o = `"mirror":{"name":"O"`
	for _, tc := range []struct {
		body string
		code uint16
		desc string
	}{
		// Mirror, in the official order.
		{`{"name":"M",` + o + `},"first_seq":5}`, 10143, "stream mirrors can not have first sequence configured"},
		{`{"name":"M",` + o + `},"subjects":["m"]}`, 10034, "stream mirrors can not contain subjects"},
		{`{"name":"M",` + o + `},"sources":[{"name":"S"}]}`, 10031, "stream mirrors can not also contain other sources"},
		{`{"name":"M",` + o + `},"allow_msg_counter":true}`, 10173, "stream mirrors can not also calculate counters"},
		{`{"name":"M",` + o + `},"allow_atomic":true}`, 10198, "stream mirrors can not also use atomic publishing"},
		{`{"name":"M",` + o + `},"allow_batched":true}`, 10209, "stream mirrors can not also use batch publishing"},
		{`{"name":"M",` + o + `},"allow_msg_schedules":true}`, 10186, "stream mirrors can not also schedule messages"},
		{`{"name":"M",` + o + `,"consumer":{"name":"a.b","deliver_subject":"d"}}}`, 10213, "stream mirror consumer config is invalid"},
		{`{"name":"M",` + o + `,"consumer":{"name":"c","deliver_subject":"d.*"}}}`, 10213, "stream mirror consumer config is invalid"},
		{`{"name":"M",` + o + `,"consumer":{"name":"c"}}}`, 10213, "stream mirror consumer config is invalid"},
		{`{"name":"M",` + o + `,"consumer":{"name":"c","deliver_subject":"d"},"opt_start_seq":3}}`, 10213, "stream mirror consumer config is invalid"},
		{`{"name":"M",` + o + `,"consumer":{"name":"c","deliver_subject":"d"},"opt_start_time":"2024-01-01T00:00:00Z"}}`, 10213, "stream mirror consumer config is invalid"},
		{`{"name":"M",` + o + `,"consumer":{"name":"c","deliver_subject":"d"},"filter_subject":"a"}}`, 10213, "stream mirror consumer config is invalid"},
		{`{"name":"M",` + o + `,"filter_subject":"a","subject_transforms":[{"src":"b","dest":"c"}]}}`, 10150, "mirror with multiple subject transforms cannot also have a single subject filter"},
		{`{"name":"M",` + o + `},"subject_delete_marker_ttl":1000000000}`, 10052, "subject delete markers forbidden on mirrors"},
		{`{"name":"M",` + o + `,"subject_transforms":[{"src":"a..b","dest":"c"}]}}`, 10151, "mirror transform source: invalid subject a..b"},
		{`{"name":"M",` + o + `,"subject_transforms":[{"src":"a.*","dest":"{{wildcard(2)}}"}]}}`, 10154, "mirror transform: invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]"},
		{`{"name":"M",` + o + `,"subject_transforms":[{"src":"a.*"},{"src":"*.b"}]}}`, 10152, "mirror subject filters can not overlap"},
		{`{"name":"M","mirror":{"name":"O.x"}}`, 10142, "mirrored stream name is invalid"},
		{`{"name":"M","mirror":{"name":""}}`, 10142, "mirrored stream name is invalid"},
		// Sources.
		{`{"name":"S","sources":[{"name":"A"}],"allow_msg_schedules":true}`, 10187, "stream source can not also schedule messages"},
		{`{"name":"S","sources":[null]}`, 10141, "sourced stream name is invalid"},
		{`{"name":"S","sources":[{"name":"A*"}]}`, 10141, "sourced stream name is invalid"},
		{`{"name":"S","sources":[{"name":"A","external":{"api":"$JS.x.API"}},{"name":"A","external":{"api":"$JS.x.API","deliver":"d"}}]}`, 10140, "duplicate source configuration detected"},
		{`{"name":"S","sources":[{"name":"A","filter_subject":"a"},{"name":"A","subject_transforms":[{"src":"a"}]}]}`, 10140, "duplicate source configuration detected"},
		{`{"name":"S","sources":[{"name":"A","filter_subject":"a","subject_transforms":[{"src":"b","dest":"c"}]}]}`, 10144, "source with multiple subject transforms cannot also have a single subject filter"},
		{`{"name":"S","sources":[{"name":"A","subject_transforms":[{"src":"a b","dest":"c"}]}]}`, 10145, "source transform source: invalid subject a b"},
		{`{"name":"S","sources":[{"name":"A","subject_transforms":[{"src":"a.*","dest":"c.*"}]}]}`, 10146, "source transform: invalid subject"},
		{`{"name":"S","sources":[{"name":"A","subject_transforms":[{"src":"a.*","dest":"{{partition(3,1)}}"}]}]}`, 10146, "source transform: invalid mapping destination: function partition is not implemented in fern in {{partition(3,1)}}"},
		{`{"name":"S","sources":[{"name":"A","subject_transforms":[{"src":"a.>"},{"src":"a.b"}]}]}`, 10147, "source filters can not overlap"},
		{`{"name":"S","sources":[{"name":"A","consumer":{"name":"c","deliver_subject":"d"},"opt_start_seq":1}]}`, 10215, "stream source consumer config is invalid"},
		{`{"name":"S","sources":[{"name":"A","consumer":{"name":"c","deliver_subject":"d1"},"subject_transforms":[{"src":"a"}]},{"name":"A","consumer":{"name":"c","deliver_subject":"d2"}}]}`, 10216, "duplicate stream source consumer detected"},
		// Both.
		{`{"name":"M","mirror":{"name":"O","external":{"api":"$JS.hub.API","deliver":"d.*"}}}`, 10024, "stream external delivery prefix d.* must not contain wildcards"},
		{`{"name":"S","sources":[{"name":"A","external":{"api":"$JS.hub.API","deliver":"d..x"}}]}`, 10024, "stream external delivery prefix d..x must not contain wildcards"},
		{`{"name":"S","sources":[{"name":"A","external":{"api":"$JS.*.API"}}]}`, 10052, `stream external api prefix "$JS.*.API" must be a valid subject without wildcards`},
		{`{"name":"M","mirror":{"name":"O","external":{"api":"$JS.API"}}}`, 10021, "stream external api prefix $JS.API must not overlap with $JS.API"},
	} {
		_, err := normalizeConfig(srcCfg(t, tc.body), false)
		wantAPIErr(t, tc.body, err, tc.code, tc.desc)
	}
}

// TestSourceConfigAccepted: valid mirrors and sources normalize, and a
// mirror or a sourcing stream without subjects keeps none.
func TestSourceConfigAccepted(t *testing.T) {
	for _, tc := range []struct {
		body     string
		subjects []string
	}{
		{`{"name":"M","mirror":{"name":"ORIG"}}`, nil},
		{`{"name":"M","mirror":{"name":"ORIG","filter_subject":"a.>","opt_start_seq":10}}`, nil},
		{`{"name":"M","mirror":{"name":"ORIG","subject_transforms":[{"src":"a.*","dest":"b.{{wildcard(1)}}"},{"src":"c.>","dest":"d.>"}]}}`, nil},
		{`{"name":"M","mirror":{"name":"ORIG","consumer":{"name":"dur","deliver_subject":"dlv.m"}}}`, nil},
		// With external the name is not checked (the other domain decides).
		{`{"name":"M","mirror":{"name":"O.x","external":{"api":"$JS.hub.API","deliver":"dlv.hub"}}}`, nil},
		{`{"name":"S","sources":[{"name":"A","filter_subject":"a.>"},{"name":"B"}]}`, nil},
		{`{"name":"S","sources":[{"name":"A","subject_transforms":[{"src":"a.*","dest":"x.$1"},{"src":"*.b","dest":"y.$1"}]}]}`, nil},
		{`{"name":"S","sources":[{"name":"A","external":{"api":"$JS.hub.API","deliver":"dlv.hub"}},{"name":"A","external":{"api":"$JS.leaf.API"}}]}`, nil},
		{`{"name":"S","sources":[{"name":"A","consumer":{"name":"c","deliver_subject":"d1"}},{"name":"A","external":{"api":"$JS.x.API"},"consumer":{"name":"c","deliver_subject":"d2"}}]}`, nil},
		{`{"name":"S","subjects":["s.>"],"sources":[{"name":"A"}]}`, []string{"s.>"}},
	} {
		cfg, err := normalizeConfig(srcCfg(t, tc.body), false)
		if err != nil {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		if len(cfg.Subjects) != len(tc.subjects) || len(tc.subjects) > 0 && cfg.Subjects[0] != tc.subjects[0] {
			t.Errorf("%s: subjects %q, want %q", tc.body, cfg.Subjects, tc.subjects)
		}
		if cfg.DuplicateWindow != 0 {
			t.Errorf("%s: duplicate window %v, want none by default", tc.body, cfg.DuplicateWindow)
		}
	}
}

// TestSourceINameRows: the official composeIName. Hashes computed apart
// (SHA-256, first 8 bytes mod 62): "$JS.hub.API" bTMUkJQk, "dur"
// lS2bloCe, "" fqA4S4SK.
func TestSourceINameRows(t *testing.T) {
	ext := func(api string) *ExternalStream { return &ExternalStream{APIPrefix: api, DeliverPrefix: "ignored"} }
	for _, tc := range []struct {
		src  StreamSource
		want string
	}{
		{StreamSource{Name: "O"}, "O > >"},
		{StreamSource{Name: "O", FilterSubject: "a.b"}, "O a.b >"},
		{StreamSource{Name: "O", External: ext("$JS.hub.API")}, "O:bTMUkJQk > >"},
		{StreamSource{Name: "O", External: ext("")}, "O:fqA4S4SK > >"},
		{StreamSource{Name: "O", Consumer: &StreamSourceConsumer{Name: "dur"}}, "O:C=lS2bloCe > >"},
		{StreamSource{Name: "O", External: ext("$JS.hub.API"), Consumer: &StreamSourceConsumer{Name: "dur"}, FilterSubject: "f"}, "O:bTMUkJQk:C=lS2bloCe f >"},
		{StreamSource{Name: "O", SubjectTransforms: []SubjectTransform{{Source: "a.*", Destination: "x.$1"}, {}}}, "O a.*\f> x.$1\f>"},
		{StreamSource{Name: "O", OptStartSeq: 9}, "O > >"},
	} {
		if got := sourceIName(&tc.src); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.src, got, tc.want)
		}
	}
}

// TestSourceTransformRows: checkTransform against the official
// ValidateMapping/NewSubjectTransform texts.
func TestSourceTransformRows(t *testing.T) {
	for _, tc := range []struct {
		src, dest string
		srcBad    bool
		why       string
	}{
		{"a.*", "b.{{wildcard(1)}}", false, ""},
		{"a.*", "b.{{ Wildcard( 1 ) }}", false, ""},
		{"a.*.*", "$2.$1", false, ""},
		{"a.>", "b.>", false, ""},
		{"a.*", "b", false, ""},
		{"a.*", "$x", false, ""},
		{"a", "b", false, ""},
		{"", "", false, ""},
		{"a..b", "", true, "invalid subject a..b"},
		{"a.*", "b..c", false, "invalid mapping destination: invalid transform"},
		{"a.>", "b.>.c", false, "invalid mapping destination: invalid transform in c"},
		{"a.*", "b c", false, "invalid mapping destination: invalid transform"},
		{"a.*", "{{foo(1)}}", false, "invalid mapping destination: unknown function in {{foo(1)}}"},
		{"a.*", "{{WILDCARD(1)}}", false, "invalid mapping destination: unknown function in {{WILDCARD(1)}}"},
		{"a.*", "{{random(3)}}", false, "invalid mapping destination: function random is not implemented in fern in {{random(3)}}"},
		{"a.*", "b.*", false, "invalid subject"},
		{"a.>", "b", false, "invalid subject"},
		{"", "b", false, "invalid subject"},
		{"a.*", "{{wildcard(2)}}", false, "invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]"},
		{"a.>", "$1.>", false, "invalid mapping destination: wildcard index out of range in $1: [1]"},
		{"a", "$1", false, "invalid mapping destination: wildcard index out of range in $1"},
		{"a.*", "{{wildcard()}}", false, "invalid mapping destination: not enough arguments passed to the function in {{wildcard()}}"},
		{"a.*", "{{wildcard(1,2)}}", false, "invalid mapping destination: too many arguments passed to the function in {{wildcard(1,2)}}"},
		{"a.*", "{{wildcard(x)}}", false, "invalid mapping destination: function argument is invalid or in the wrong format in {{wildcard(x)}}"},
	} {
		srcBad, why := checkTransform(SubjectTransform{Source: tc.src, Destination: tc.dest})
		if srcBad != tc.srcBad || why != tc.why {
			t.Errorf("%q -> %q: (%v, %q), want (%v, %q)", tc.src, tc.dest, srcBad, why, tc.srcBad, tc.why)
		}
	}
}

// TestSourceAgainstRows: the checks that need the local streams.
func TestSourceAgainstRows(t *testing.T) {
	local := map[string]string{
		"O":      `{"name":"O","subjects":["o.>"],"max_msg_size":1000,"allow_direct":true}`,
		"FOO":    `{"name":"FOO","subjects":["foo.>"]}`,
		"BACK":   `{"name":"BACK","subjects":["back"],"sources":[{"name":"A"}]}`,
		"NARROW": `{"name":"NARROW","subjects":["narrow"],"sources":[{"name":"A","filter_subject":"a.only"}]}`,
		"MA":     `{"name":"MA","mirror":{"name":"A"}}`,
	}
	streams := map[string]*StreamConfig{}
	for name, body := range local {
		cfg, err := normalizeConfig(srcCfg(t, body), false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		streams[name] = &cfg
	}
	lookup := func(name string) *StreamConfig { return streams[name] }
	for _, tc := range []struct {
		body     string
		pedantic bool
		code     uint16
		desc     string
	}{
		{`{"name":"M","mirror":{"name":"O"},"max_msg_size":500}`, false, 10030, "stream mirror must have max message size >= source"},
		{`{"name":"S","sources":[{"name":"O"}],"max_msg_size":500}`, false, 10046, "stream source must have max message size >= target"},
		{`{"name":"S","sources":[{"name":"FOO"},{"name":"X","external":{"api":"$JS.hub.API","deliver":"foo"}}]}`, false, 10022, "stream external delivery prefix foo overlaps with stream subject foo.>"},
		{`{"name":"A","subjects":["a.>"],"sources":[{"name":"BACK"}]}`, false, 10052, "detected cycle"},
		{`{"name":"A","subjects":["a.>"],"sources":[{"name":"A"}]}`, false, 10052, "detected cycle"},
		{`{"name":"A","subjects":["a.>"],"sources":[{"name":"MA"}]}`, false, 10052, "detected cycle"},
		{`{"name":"M","mirror":{"name":"O"}}`, true, 10157, "pedantic mode: origin stream has direct get set, mirror has it disabled"},
		// Accepted: unlimited size, unknown or external upstreams, a
		// source back whose filter misses the subjects.
		{`{"name":"M","mirror":{"name":"O"}}`, false, 0, ""},
		{`{"name":"M","mirror":{"name":"O"},"max_msg_size":1000,"mirror_direct":true}`, true, 0, ""},
		{`{"name":"M","mirror":{"name":"NOPE"},"max_msg_size":1}`, false, 0, ""},
		{`{"name":"M","mirror":{"name":"O","external":{"api":"$JS.hub.API"}},"max_msg_size":1}`, false, 0, ""},
		{`{"name":"S","sources":[{"name":"O","external":{"api":"$JS.hub.API","deliver":"o"}}]}`, false, 0, ""},
		{`{"name":"A","subjects":["a.>"],"sources":[{"name":"NARROW"}]}`, false, 0, ""},
	} {
		cfg, err := normalizeConfig(srcCfg(t, tc.body), false)
		if err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		wantAPIErr(t, tc.body, checkSourcingAgainst(&cfg, tc.pedantic, lookup), tc.code, tc.desc)
	}
}

// TestSourceMirrorDirectFromOrigin: mirror_direct follows the local
// origin's allow_direct, both ways, and stays as set when the origin is
// unknown.
func TestSourceMirrorDirectFromOrigin(t *testing.T) {
	for _, tc := range []struct {
		origin *StreamConfig
		set    bool
		want   bool
	}{
		{&StreamConfig{Name: "O", AllowDirect: true}, false, true},
		{&StreamConfig{Name: "O"}, true, false},
		{nil, true, true},
	} {
		cfg := StreamConfig{Name: "M", Mirror: &StreamSource{Name: "O"}, MirrorDirect: tc.set}
		if err := checkSourcingAgainst(&cfg, false, func(string) *StreamConfig { return tc.origin }); err != nil {
			t.Fatal(err)
		}
		if cfg.MirrorDirect != tc.want {
			t.Errorf("origin %+v, set %v: mirror_direct %v", tc.origin, tc.set, cfg.MirrorDirect)
		}
	}
}

func TestSourceMirrorUpdateRows(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.In(time.FixedZone("X", 3600))
	m := &StreamSource{Name: "O", OptStartTime: &t0}
	for _, tc := range []struct {
		what     string
		old, cfg *StreamSource
		code     uint16
	}{
		{"unchanged", m, &StreamSource{Name: "O", OptStartTime: &t0}, 0},
		{"same instant, other zone", m, &StreamSource{Name: "O", OptStartTime: &t1}, 0},
		{"removed", m, nil, 0},
		{"added", nil, &StreamSource{Name: "O"}, 10055},
		{"filter changed", m, &StreamSource{Name: "O", OptStartTime: &t0, FilterSubject: "a"}, 10055},
		{"start time removed", m, &StreamSource{Name: "O"}, 10055},
	} {
		old := &StreamConfig{Name: "M", Mirror: tc.old}
		cfg := &StreamConfig{Name: "M", Mirror: tc.cfg}
		desc := ""
		if tc.code != 0 {
			desc = "stream mirror configuration can not be updated"
		}
		wantAPIErr(t, tc.what, checkUpdate(old, cfg), tc.code, desc)
	}
}

// TestSourceMirrorCreateThroughAPI: a mirror of a stream that does not
// exist is created, keeps no subjects, cannot change its mirror, and can
// be promoted to an ordinary stream.
func TestSourceMirrorCreateThroughAPI(t *testing.T) {
	te := startEngine(t, Config{})
	var resp struct {
		Error  *APIError    `json:"error"`
		Config StreamConfig `json:"config"`
	}
	te.apiInto("$JS.API.STREAM.CREATE.M", `{"name":"M","mirror":{"name":"ORIG"}}`, &resp)
	if resp.Error != nil {
		t.Fatalf("create mirror: %v", resp.Error)
	}
	if resp.Config.Subjects != nil || resp.Config.Mirror == nil || resp.Config.Mirror.Name != "ORIG" {
		t.Fatalf("mirror config %+v", resp.Config)
	}
	te.mustCreate(`{"name":"M","mirror":{"name":"ORIG"}}`) // idempotent
	r := te.api("$JS.API.STREAM.UPDATE.M", `{"name":"M","mirror":{"name":"OTHER"}}`)
	if got := errCode(t, r); got != 10055 {
		t.Fatalf("mirror change: %v", r["error"])
	}
	te.mustCreate(`{"name":"OTHER","subjects":["other.>"]}`)
	r = te.api("$JS.API.STREAM.CREATE.S", `{"name":"S","sources":[{"name":"OTHER"}],"max_msg_size":10}`)
	if got := errCode(t, r); got != 0 {
		t.Fatalf("source of an unlimited stream: %v", r["error"])
	}
	r = te.api("$JS.API.STREAM.UPDATE.M", `{"name":"M","subjects":["m.>"]}`)
	if got := errCode(t, r); got != 0 {
		t.Fatalf("promotion: %v", r["error"])
	}
	if a := te.publish("m.x", nil, "1"); a.Error != nil || a.Stream != "M" {
		t.Fatalf("publish to the promoted mirror: %+v", a)
	}
}
