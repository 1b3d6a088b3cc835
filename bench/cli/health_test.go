package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestRTT runs `nats rtt` in both output formats. Each round trip is a
// PING answered by Fern's PONG; natscli logs a failure and prints "failed"
// (still exiting 0) if one does not come back, so the test reads the output.
func TestRTT(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	t.Run("json", func(t *testing.T) {
		r := e.run("rtt", "3", "--json")
		if r.err != nil {
			t.Fatalf("nats rtt failed:\n%s", r)
		}
		var targets []struct {
			URL     string `json:"url"`
			Results []struct {
				Address string        `json:"address"`
				RTT     time.Duration `json:"rtt"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &targets); err != nil {
			t.Fatalf("decode nats rtt --json: %v\n%s", err, r)
		}
		if len(targets) != 1 || len(targets[0].Results) != 1 {
			t.Fatalf("want one target with one address, got %+v\n%s", targets, r)
		}
		res := targets[0].Results[0]
		if targets[0].URL != e.url || res.Address != e.url || res.RTT <= 0 {
			t.Errorf("got url %q address %q rtt %v, want %q and rtt > 0\n%s",
				targets[0].URL, res.Address, res.RTT, e.url, r)
		}
	})

	t.Run("text", func(t *testing.T) {
		r := e.run("rtt", "2")
		if r.err != nil {
			t.Fatalf("nats rtt failed:\n%s", r)
		}
		// One line per resolved address: "<address>: <rtt>".
		if !strings.Contains(r.stdout, e.url+": ") || strings.Contains(r.stdout, "failed") ||
			strings.Contains(r.stderr, "Failed") {
			t.Errorf("nats rtt did not report a round trip to %s\n%s", e.url, r)
		}
	})
}

// TestServerCheckConnection runs `nats server check connection`: connect,
// RTT (PING/PONG) and a publish to the connection's own inbox that must come
// back byte for byte. The thresholds are generous: the test is about the
// protocol, not about the speed of a loaded CI machine.
func TestServerCheckConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run("server", "check", "connection", "--format", "json",
		"--connect-warn", "10s", "--connect-critical", "20s",
		"--rtt-warn", "10s", "--rtt-critical", "20s",
		"--req-warn", "10s", "--req-critical", "20s")
	if r.err != nil {
		t.Fatalf("nats server check connection failed:\n%s", r)
	}
	var res struct {
		Status    string   `json:"status"`
		OKs       []string `json:"ok"`
		Warnings  []string `json:"warning"`
		Criticals []string `json:"critical"`
		PerfData  []struct {
			Name  string  `json:"name"`
			Value float64 `json:"value"`
		} `json:"perf_data"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("decode check output: %v\n%s", err, r)
	}
	if res.Status != "OK" || len(res.OKs) != 3 || len(res.Warnings)+len(res.Criticals) != 0 {
		t.Errorf("got status %q ok=%q warn=%q crit=%q, want OK with three passed checks\n%s",
			res.Status, res.OKs, res.Warnings, res.Criticals, r)
	}
	var names []string
	for _, pd := range res.PerfData {
		names = append(names, pd.Name)
		if pd.Value <= 0 {
			t.Errorf("perf data %s = %v, want > 0", pd.Name, pd.Value)
		}
	}
	if got := strings.Join(names, ","); got != "connect_time,rtt,request_time" {
		t.Errorf("perf data %s, want connect_time,rtt,request_time\n%s", got, r)
	}
}

// TestVersion checks that the binary is the natscli release pinned in
// go.mod, so a silent version drift shows up here.
func TestVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run("--version")
	if r.err != nil {
		t.Fatalf("nats --version failed:\n%s", r)
	}
	if got := strings.TrimSpace(r.stdout + r.stderr); got != "v0.5.0" {
		t.Errorf("nats --version = %q, want v0.5.0", got)
	}
}
