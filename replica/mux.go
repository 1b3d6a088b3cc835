package replica

import (
	"log/slog"
	"sync"
)

// Mux hands incoming frames to the groups of this server. Deliver
// decodes a frame on the caller's goroutine (the route's reader) and
// passes the message to its group's Step, which never blocks: a group
// whose backlog is full drops it, as a lost packet (raft retransmits).
// Frames for a group this server does not run are dropped.
type Mux struct {
	log *slog.Logger

	mu     sync.Mutex
	groups map[string]*Group
}

// NewMux returns an empty Mux.
func NewMux(log *slog.Logger) *Mux {
	if log == nil {
		log = slog.Default()
	}
	return &Mux{log: log, groups: map[string]*Group{}}
}

// Register makes g receive the frames of its group until it stops.
func (m *Mux) Register(g *Group) {
	m.mu.Lock()
	m.groups[g.Name()] = g
	m.mu.Unlock()
	go func() {
		<-g.Done()
		m.mu.Lock()
		if m.groups[g.Name()] == g {
			delete(m.groups, g.Name())
		}
		m.mu.Unlock()
	}()
}

// Deliver hands one frame to its group. The frame may be reused once
// Deliver returns (decoding copies what it keeps).
func (m *Mux) Deliver(frame []byte) {
	if len(frame) < 1 || len(frame) < 1+int(frame[0]) {
		return
	}
	m.mu.Lock()
	g := m.groups[string(frame[1:1+int(frame[0])])]
	m.mu.Unlock()
	if g == nil {
		return
	}
	_, msg, err := DecodeFrame(frame)
	if err != nil {
		m.log.Warn("raft frame dropped", "group", g.Name(), "err", err)
		return
	}
	g.Step(msg)
}
