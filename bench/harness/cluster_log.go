package harness

import (
	"context"
	"fmt"
	"log/slog"
)

// levelTrace is the slog level of the official server's trace lines.
const levelTrace = slog.LevelDebug - 4

// officialLogger passes an official server's log lines to a slog.Logger,
// so a debugging session sees both implementations in one stream.
type officialLogger struct{ l *slog.Logger }

func (o officialLogger) log(level slog.Level, format string, v []any) {
	o.l.Log(context.Background(), level, fmt.Sprintf(format, v...))
}

func (o officialLogger) Noticef(format string, v ...any) { o.log(slog.LevelInfo, format, v) }
func (o officialLogger) Warnf(format string, v ...any)   { o.log(slog.LevelWarn, format, v) }
func (o officialLogger) Fatalf(format string, v ...any)  { o.log(slog.LevelError+4, format, v) }
func (o officialLogger) Errorf(format string, v ...any)  { o.log(slog.LevelError, format, v) }
func (o officialLogger) Debugf(format string, v ...any)  { o.log(slog.LevelDebug, format, v) }
func (o officialLogger) Tracef(format string, v ...any)  { o.log(levelTrace, format, v) }
