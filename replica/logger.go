package replica

import (
	"context"
	"fmt"
	"log/slog"
)

// raftLogger adapts a slog.Logger to raft.Logger. raft's Fatal and Panic
// calls mean a broken invariant (a corrupt log, a bug): they panic, as
// raft expects, after logging at error level.
type raftLogger struct{ l *slog.Logger }

func (r raftLogger) Debug(v ...any) { r.log(slog.LevelDebug, fmt.Sprint(v...)) }
func (r raftLogger) Debugf(f string, v ...any) {
	r.log(slog.LevelDebug, fmt.Sprintf(f, v...))
}
func (r raftLogger) Info(v ...any)            { r.log(slog.LevelDebug, fmt.Sprint(v...)) }
func (r raftLogger) Infof(f string, v ...any) { r.log(slog.LevelDebug, fmt.Sprintf(f, v...)) }
func (r raftLogger) Warning(v ...any)         { r.log(slog.LevelWarn, fmt.Sprint(v...)) }
func (r raftLogger) Warningf(f string, v ...any) {
	r.log(slog.LevelWarn, fmt.Sprintf(f, v...))
}
func (r raftLogger) Error(v ...any)            { r.log(slog.LevelError, fmt.Sprint(v...)) }
func (r raftLogger) Errorf(f string, v ...any) { r.log(slog.LevelError, fmt.Sprintf(f, v...)) }
func (r raftLogger) Fatal(v ...any)            { r.die(fmt.Sprint(v...)) }
func (r raftLogger) Fatalf(f string, v ...any) { r.die(fmt.Sprintf(f, v...)) }
func (r raftLogger) Panic(v ...any)            { r.die(fmt.Sprint(v...)) }
func (r raftLogger) Panicf(f string, v ...any) { r.die(fmt.Sprintf(f, v...)) }

// log keeps raft's chatty info lines at debug level: elections and
// leader changes are logged by the group itself.
func (r raftLogger) log(level slog.Level, msg string) {
	if r.l.Enabled(context.Background(), level) {
		r.l.Log(context.Background(), level, "raft: "+msg)
	}
}

func (r raftLogger) die(msg string) {
	r.l.Error("raft: " + msg)
	panic("raft: " + msg)
}
