package main

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/fernmq/fern"
)

// runCmd runs the command with ctx and returns its status and output.
func runCmd(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut strings.Builder
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRunInformational(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"-v"}, 0, "fern version " + fern.Version + "\n", ""},
		{[]string{"-h"}, 0, usage, ""},
		{[]string{"--help"}, 0, usage, ""},
		{[]string{"-bogus"}, 2, "", "flag provided but not defined"},
		{[]string{"-c", "testdata/bad.conf"}, 1, "", `fern: testdata/bad.conf:2:1: bogus: unknown field "bogus"`},
		{[]string{"-c", "testdata/missing.conf"}, 1, "", "no such file"},
		{[]string{"-t", "-c", "testdata/ephemeral.conf"}, 0, "fern: configuration file testdata/ephemeral.conf is valid\n", ""},
		{[]string{"-t", "-p", "4222"}, 0, "fern: options are valid\n", ""},
		{[]string{"-t", "-p", "70000"}, 1, "", "fern:"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCmd(context.Background(), tt.args...)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tt.args, code, tt.code, stderr)
		}
		if stdout != tt.stdout {
			t.Errorf("%v: stdout %q, want %q", tt.args, stdout, tt.stdout)
		}
		if !strings.Contains(stderr, tt.stderr) || (tt.stderr == "" && stderr != "") {
			t.Errorf("%v: stderr %q, want it to contain %q", tt.args, stderr, tt.stderr)
		}
	}
}

// TestRunServes starts a real server on an ephemeral port and stops it: the
// context is already done, so run shuts down as soon as the server is up.
func TestRunServes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr := runCmd(ctx, "-c", "testdata/ephemeral.conf", "-D")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"level=INFO", "server is ready", "url=nats://127.0.0.1:", "server=cmd-test", "shutting down"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("log does not contain %q:\n%s", want, stderr)
		}
	}
}

func TestRunStartFailure(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	code, _, stderr := runCmd(context.Background(), "-a", "127.0.0.1", "-p", port)
	if code != 1 || !strings.HasPrefix(stderr, "fern: ") || !strings.Contains(stderr, port) {
		t.Errorf("port in use: exit %d, stderr %q; want 1 and an error naming port %s", code, stderr, port)
	}
}

func TestLoggerLevels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts         fern.Options
		debug, trace bool
	}{
		{fern.Options{}, false, false},
		{fern.Options{Debug: true}, true, false},
		{fern.Options{Trace: true}, true, true},
		{fern.Options{Debug: true, Trace: true}, true, true},
	}
	for _, tt := range tests {
		var b strings.Builder
		l := newLogger(&b, &tt.opts)
		l.Debug("d")
		l.Log(context.Background(), levelTrace, "t")
		l.Info("i")
		out := b.String()
		if got := strings.Contains(out, "level=DEBUG msg=d"); got != tt.debug {
			t.Errorf("%+v: debug logged = %v, want %v:\n%s", tt.opts, got, tt.debug, out)
		}
		if got := strings.Contains(out, "level=TRACE msg=t"); got != tt.trace {
			t.Errorf("%+v: trace logged = %v, want %v:\n%s", tt.opts, got, tt.trace, out)
		}
		if !strings.Contains(out, "level=INFO msg=i") {
			t.Errorf("%+v: info not logged:\n%s", tt.opts, out)
		}
		if !l.Enabled(context.Background(), slog.LevelInfo) {
			t.Error("info disabled")
		}
	}
}
