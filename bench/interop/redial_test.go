package interop

import (
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
)

// officialUnpooledRedials is how many dials an official server makes at
// once when it loses its last route to a server that announced no route
// pool (Fern): one for a pooled connection and one for the connection
// pinned to the system account (server/route.go removeRoute, the noPool
// branch). Each is an implicit route, tried once.
const officialUnpooledRedials = 2

// redialLog is an slog.Handler for an official node's logger that counts
// the node's route dials refused per port ("Error trying to connect to
// route ... dial tcp 127.0.0.1:<port>: connect: connection refused").
// Only errors are enabled, so the official server runs without debug and
// trace logging.
type redialLog struct {
	mu      sync.Mutex
	refused map[int]int
}

func newRedialLog() *redialLog { return &redialLog{refused: make(map[int]int)} }

var refusedDial = regexp.MustCompile(`Error trying to connect to route.*dial tcp [0-9.]+:([0-9]+): connect: connection refused`)

func (h *redialLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (h *redialLog) Handle(_ context.Context, r slog.Record) error {
	if m := refusedDial.FindStringSubmatch(r.Message); m != nil {
		port, _ := strconv.Atoi(m[1])
		h.mu.Lock()
		h.refused[port]++
		h.mu.Unlock()
	}
	return nil
}

func (h *redialLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *redialLog) WithGroup(string) slog.Handler      { return h }

// refusedDials is how many dials to port were refused so far.
func (h *redialLog) refusedDials(port int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.refused[port]
}
