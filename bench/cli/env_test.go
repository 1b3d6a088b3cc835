package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fernmq/fern"
	"github.com/nats-io/nats.go"
)

const (
	// cmdTimeout bounds every run of the nats binary, foreground or
	// background.
	cmdTimeout = 30 * time.Second
	// waitTimeout bounds waiting for an event: a subscription to appear in
	// Fern, a message to reach a nats.go subscriber.
	waitTimeout = 10 * time.Second
	// pollInterval is how often server state is polled while waiting.
	pollInterval = 2 * time.Millisecond
	// shutdownTimeout bounds Fern's shutdown at the end of a test.
	shutdownTimeout = 5 * time.Second
)

// env is one test's world: a fresh Fern server, the nats binary, and a
// private home directory for the CLI.
type env struct {
	t    *testing.T
	srv  *fern.Server
	url  string
	bin  string
	home string
	logs *syncBuffer
}

// newEnv starts Fern on an ephemeral loopback port and registers its
// shutdown. Fern's logs are kept and printed only if the test fails.
func newEnv(t *testing.T) *env {
	t.Helper()
	bin, err := natsBinary()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv, err := fern.NewServer(&fern.Options{
		Host:   "127.0.0.1",
		Port:   -1,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("fern.NewServer: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("fern Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("fern Shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("fern logs:\n%s", logs.String())
		}
	})
	select {
	case <-srv.Ready():
	case <-time.After(waitTimeout):
		t.Fatal("fern not ready")
	}
	return &env{t: t, srv: srv, url: srv.ClientURL(), bin: bin, home: t.TempDir(), logs: logs}
}

// connect opens a nats.go connection to Fern, closed at the end of the test.
func (e *env) connect() *nats.Conn {
	e.t.Helper()
	nc, err := nats.Connect(e.url, nats.Timeout(waitTimeout), nats.MaxReconnects(0))
	if err != nil {
		e.t.Fatalf("nats.go connect: %v", err)
	}
	e.t.Cleanup(nc.Close)
	return nc
}

// command prepares the nats binary with args under ctx. The global flags pin
// the server and disable contexts; the environment keeps the CLI away from
// the user's configuration.
func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"--no-context", "--server", e.url}, args...)
	cmd := exec.CommandContext(ctx, e.bin, full...)
	cmd.Env = cliEnviron(e.home)
	cmd.Dir = e.home
	cmd.WaitDelay = time.Second
	return cmd
}

// cliEnviron is the test process's environment without any NATS_* variable
// (a NATS_URL or NATS_CREDS from the caller must not leak in) and with
// HOME and the XDG directories moved into home.
func cliEnviron(home string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "NATS_"), k == "HOME", k == "LLMFORMAT",
			k == "XDG_CONFIG_HOME", k == "XDG_DATA_HOME", k == "XDG_CACHE_HOME":
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"NATS_CONTEXT=",
	)
}

// result is what a finished run of the nats binary produced.
type result struct {
	args           []string
	stdout, stderr string
	exit           int   // -1 if the process did not exit normally
	err            error // nil on exit status 0
}

func (r result) String() string {
	return fmt.Sprintf("nats %s: exit %d (%v)\n--- stdout ---\n%s--- stderr ---\n%s",
		strings.Join(r.args, " "), r.exit, r.err, r.stdout, r.stderr)
}

// run runs the nats binary to completion, bounded by cmdTimeout.
func (e *env) run(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := e.command(ctx, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return newResult(args, stdout.String(), stderr.String(), err)
}

func newResult(args []string, stdout, stderr string, err error) result {
	r := result{args: args, stdout: stdout, stderr: stderr, err: err}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.exit = exitErr.ExitCode()
	default:
		r.exit = -1
	}
	return r
}

// proc is a nats binary running in the background.
type proc struct {
	args           []string
	stdout, stderr bytes.Buffer
	done           chan struct{}
	err            error // valid once done is closed
	cancel         context.CancelFunc
}

// start launches the nats binary in the background, bounded by cmdTimeout.
// At the end of the test it is killed if still running and reaped.
func (e *env) start(args ...string) *proc {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	p := &proc{args: args, done: make(chan struct{}), cancel: cancel}
	cmd := e.command(ctx, args...)
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		e.t.Fatalf("start nats %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	e.t.Cleanup(func() {
		p.cancel()
		<-p.done
	})
	return p
}

// wait waits for the process to exit on its own and returns its result.
func (p *proc) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(waitTimeout):
		p.cancel()
		<-p.done
		t.Fatalf("nats %s did not exit within %v\n%s", strings.Join(p.args, " "),
			waitTimeout, p.result())
	}
	return p.result()
}

// result is only valid once done is closed.
func (p *proc) result() result {
	return newResult(p.args, p.stdout.String(), p.stderr.String(), p.err)
}

// waitSubscriptions polls Fern until it holds want subscriptions. It fails
// the test if the deadline passes or if p exits first (p may be nil).
func (e *env) waitSubscriptions(p *proc, want int) {
	e.t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var exited <-chan struct{}
	if p != nil {
		exited = p.done
	}
	for {
		if got := e.srv.NumSubscriptions(); got == want {
			return
		}
		select {
		case <-tick.C:
		case <-exited:
			e.t.Fatalf("waiting for %d subscriptions (have %d): process exited\n%s",
				want, e.srv.NumSubscriptions(), p.result())
		case <-deadline.C:
			msg := fmt.Sprintf("Fern has %d subscriptions after %v, want %d",
				e.srv.NumSubscriptions(), waitTimeout, want)
			if p != nil {
				p.cancel()
				<-p.done
				msg += "\n" + p.result().String()
			}
			e.t.Fatal(msg)
		}
	}
}

// nextMsg waits for the next message on a nats.go synchronous subscription.
func nextMsg(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(waitTimeout)
	if err != nil {
		t.Fatalf("nats.go NextMsg on %q: %v", sub.Subject, err)
	}
	return m
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (Fern's
// goroutines log into it).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
