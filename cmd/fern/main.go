// Command fern runs a Fern server from the command line, with the flags and
// configuration file format of nats-server:
//
//	fern -c core.conf
//	fern -p 4222 -js -sd ./store -DV
//
// It logs to stderr, stops cleanly on SIGINT or SIGTERM (a second signal
// kills it at once), and exits non-zero when the configuration is bad or the
// server cannot start. Flag parsing lives in flags.go, logging in log.go.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fernmq/fern"
)

// shutdownTimeout bounds the graceful shutdown after a signal.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // restore default handling: a second signal ends the process
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command: it serves until ctx is done and returns the exit
// status (0 ok, 1 bad configuration or server failure, 2 bad usage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cl, err := parseCommandLine(args, stderr)
	if err != nil {
		return 2
	}
	switch {
	case cl.help:
		fmt.Fprint(stdout, usage)
		return 0
	case cl.version:
		fmt.Fprintf(stdout, "fern version %s\n", fern.Version)
		return 0
	}
	opts, err := cl.options()
	if err != nil {
		report(stderr, err)
		return 1
	}
	logger := newLogger(stderr, opts)
	opts.Logger = logger
	srv, err := fern.NewServer(opts)
	if err != nil {
		report(stderr, err)
		return 1
	}
	if cl.testConfig {
		if cl.configFile == "" {
			fmt.Fprintln(stdout, "fern: options are valid")
		} else {
			fmt.Fprintf(stdout, "fern: configuration file %s is valid\n", cl.configFile)
		}
		return 0
	}
	if err := srv.Start(); err != nil {
		report(stderr, err)
		return 1
	}
	if opts.ConfigFile != "" {
		logger = logger.With("config", opts.ConfigFile)
	}
	logger.Info("server is ready", "url", srv.ClientURL())
	<-ctx.Done()
	logger.Info("signal received, shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		report(stderr, err)
		return 1
	}
	return 0
}

// report prints an error, one "fern: " line per joined error.
func report(w io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(w, "fern:", strings.TrimPrefix(line, "fern: "))
	}
}
