package cli_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// buildTimeout bounds building natscli. On a cold build cache that compiles
// 448 packages (236 outside the standard library): about 40-85 s on two
// cores. On a warm one `go tool -n` only resolves the cached executable
// (about 0.25 s).
const buildTimeout = 5 * time.Minute

var errNoBinary = errors.New("cli: nats binary not built")

// natsBinary builds natscli once per test binary and returns the path of the
// executable. natscli is a tool dependency of the bench module, so
// `go tool -n nats` (run in this package's directory, inside the module)
// builds it with the versions pinned by go.mod into the build cache and
// prints where the executable is, without running it.
var natsBinary = sync.OnceValues(func() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		// go test puts $GOROOT/bin first on the PATH of the test binary.
		return "", fmt.Errorf("%w: %w", errNoBinary, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "tool", "-n", "nats")
	cmd.WaitDelay = time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: go tool -n nats: %w\n%s", errNoBinary, err, stderr.String())
	}
	path := strings.TrimSpace(string(out))
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%w: go tool -n nats printed %q: %w", errNoBinary, path, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%w: %s is not an executable file", errNoBinary, path)
	}
	return path, nil
})
