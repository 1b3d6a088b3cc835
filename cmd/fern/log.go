package main

import (
	"io"
	"log/slog"

	"github.com/fernmq/fern"
)

// levelTrace is the slog level of protocol traces (-V), below Debug.
const levelTrace = slog.Level(-8)

// newLogger returns a text logger on w at the level the options ask for:
// Info, Debug with -D, trace with -V (which includes debug).
func newLogger(w io.Writer, opts *fern.Options) *slog.Logger {
	level := slog.LevelInfo
	if opts.Debug {
		level = slog.LevelDebug
	}
	if opts.Trace {
		level = levelTrace
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.LevelKey && len(groups) == 0 {
				if l, ok := a.Value.Any().(slog.Level); ok && l <= levelTrace {
					a.Value = slog.StringValue("TRACE")
				}
			}
			return a
		},
	}))
}
