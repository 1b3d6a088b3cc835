package jetstream

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fernmq/fern/subject"
)

func TestSubjectsCollide(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"a.b", "a.*", true},
		{"a.b", "a.>", true},
		{"a", "a.>", false},
		{"a.b", "a.b.>", false},
		{"a.*", "*.b", true},
		{"a.*.c", "a.b.d", false},
		{"a.>", "*.*.c", true},
		{">", "x.y", true},
		{"$KV.a.>", "$KV.*.>", true},
		{"$O.c.M.>", "$O.*.C.>", false},
		{"*", "a.b", false},
	} {
		if got := subjectsCollide(tc.a, tc.b); got != tc.want {
			t.Errorf("%s vs %s: %v", tc.a, tc.b, got)
		}
		if got := subjectsCollide(tc.b, tc.a); got != tc.want {
			t.Errorf("%s vs %s (swapped): %v", tc.b, tc.a, got)
		}
	}
}

// TestSubjectsCollideModel checks collision against brute force: two
// patterns collide iff some literal from a small alphabet matches both.
func TestSubjectsCollideModel(t *testing.T) {
	toks := []string{"a", "b", "*", ">"}
	var pats []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		if prefix != "" && subject.Valid(prefix) {
			pats = append(pats, prefix)
		}
		if n == 0 {
			return
		}
		for _, tk := range toks {
			p := tk
			if prefix != "" {
				p = prefix + "." + tk
			}
			gen(p, n-1)
		}
	}
	gen("", 3)
	var lits []string
	var genLit func(prefix string, n int)
	genLit = func(prefix string, n int) {
		if prefix != "" {
			lits = append(lits, prefix)
		}
		if n == 0 {
			return
		}
		for _, tk := range []string{"a", "b", "c"} {
			p := tk
			if prefix != "" {
				p = prefix + "." + tk
			}
			genLit(p, n-1)
		}
	}
	genLit("", 4)
	for _, a := range pats {
		for _, b := range pats {
			want := false
			for _, l := range lits {
				if subject.Matches(l, a) && subject.Matches(l, b) {
					want = true
					break
				}
			}
			if got := subjectsCollide(a, b); got != want {
				t.Fatalf("%s vs %s: got %v want %v", a, b, got, want)
			}
		}
	}
}

func TestSubsetMatch(t *testing.T) {
	for _, tc := range []struct {
		sub, pat string
		want     bool
	}{
		{"$JS.EVENT.x", "$JS.EVENT.>", true},
		{"$JS.EVENT.>", "$JS.EVENT.>", true},
		{"$JS.>", "$JS.EVENT.>", false},
		{"$JS.*.x", "$JS.EVENT.>", false},
		{"a.b", "a.*", true},
		{"a.*", "a.b", false},
		{"a", "a.>", false},
	} {
		if got := subsetMatch(tc.sub, tc.pat); got != tc.want {
			t.Errorf("%s in %s: %v", tc.sub, tc.pat, got)
		}
	}
}

func TestNormalizeConfigDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   StreamConfig
		want func(c *StreamConfig) bool
	}{
		{"window defaults to 2m", StreamConfig{Name: "s"}, func(c *StreamConfig) bool { return c.DuplicateWindow == 2*time.Minute }},
		{"window capped by max_age", StreamConfig{Name: "s", MaxAge: time.Second}, func(c *StreamConfig) bool { return c.DuplicateWindow == time.Second }},
		{"limits -1", StreamConfig{Name: "s", MaxMsgs: -7}, func(c *StreamConfig) bool {
			return c.MaxMsgs == -1 && c.MaxBytes == -1 && c.MaxMsgSize == -1 && c.MaxConsumers == -1 && c.MaxMsgsPerSubject == -1
		}},
		{"subjects default to name", StreamConfig{Name: "s"}, func(c *StreamConfig) bool { return len(c.Subjects) == 1 && c.Subjects[0] == "s" }},
		{"replicas 1", StreamConfig{Name: "s"}, func(c *StreamConfig) bool { return c.Replicas == 1 }},
		{"empty metadata dropped", StreamConfig{Name: "s", Metadata: map[string]string{}}, func(c *StreamConfig) bool { return c.Metadata == nil }},
		{"JS events allowed", StreamConfig{Name: "s", Subjects: []string{"$JS.EVENT.>"}}, func(c *StreamConfig) bool { return true }},
		{"no_ack may capture >", StreamConfig{Name: "s", Subjects: []string{">"}, NoAck: true}, func(c *StreamConfig) bool { return true }},
	} {
		got, err := normalizeConfig(tc.in, false)
		if err != nil || !tc.want(&got) {
			t.Errorf("%s: %+v %v", tc.name, got, err)
		}
		again, err := normalizeConfig(got, false)
		if err != nil || !sameConfig(&got, &again) {
			t.Errorf("%s: not idempotent: %+v", tc.name, again)
		}
	}
	bad := []StreamConfig{
		{Name: ""}, {Name: "a.b"}, {Name: "a b"}, {Name: "a/b"}, {Name: strings.Repeat("n", 256)},
		{Name: "s", Description: strings.Repeat("d", 4097)},
		{Name: "s", MaxAge: -1},
		{Name: "s", DuplicateWindow: -1},
		{Name: "s", Subjects: []string{"$SYS.x"}},
		{Name: "s", Replicas: 6},
	}
	for _, c := range bad {
		if _, err := normalizeConfig(c, false); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}

func TestEnumJSON(t *testing.T) {
	var c StreamConfig
	for _, body := range []string{
		`{"retention":"interest"}`, `{"retention":"workqueue"}`, `{"discard":"new"}`,
		`{"storage":"memory"}`, `{"compression":"s2"}`, `{"compression":""}`,
		`{"persist_mode":"async"}`, `{"persist_mode":""}`,
	} {
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
	for _, body := range []string{
		`{"retention":"x"}`, `{"discard":1}`, `{"storage":"disk"}`, `{"compression":"gzip"}`, `{"persist_mode":"sync"}`,
	} {
		if err := json.Unmarshal([]byte(body), &c); err == nil {
			t.Errorf("%s accepted", body)
		}
	}
	if _, err := json.Marshal(StreamConfig{Retention: 9}); err == nil {
		t.Error("marshalled an unknown retention")
	}
	out, _ := json.Marshal(StreamConfig{Name: "s", Storage: MemoryStorage, Retention: WorkQueuePolicy})
	for _, want := range []string{`"storage":"memory"`, `"retention":"workqueue"`, `"discard":"old"`, `"compression":"none"`, `"consumer_limits":{}`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s missing %s", out, want)
		}
	}
	if strings.Contains(string(out), "persist_mode") {
		t.Errorf("default persist_mode not omitted: %s", out)
	}
}

func TestIsEmptyRequest(t *testing.T) {
	for body, want := range map[string]bool{
		"": true, "{}": true, " { } ": true, `{"a":1}`: false, "[]": false, "null": false, "x": false,
	} {
		if got := isEmptyRequest([]byte(body)); got != want {
			t.Errorf("%q: %v", body, got)
		}
	}
}
