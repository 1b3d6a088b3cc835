package replica

import (
	"bytes"
	"log/slog"
	"sync"
)

// Mux hands incoming frames to the groups of this server. Each group has
// an inbox drained by a goroutine of its own, so a busy group never holds
// up the connection the frames arrived on, nor the other groups; a full
// inbox drops the frame (raft retransmits, as after a lost packet).
type Mux struct {
	log *slog.Logger

	mu     sync.Mutex
	groups map[string]*inbox
}

type inbox struct {
	g  *Group
	ch chan []byte
}

// inboxFrames is how many frames a group's inbox holds.
const inboxFrames = 1024

// NewMux returns an empty Mux.
func NewMux(log *slog.Logger) *Mux {
	if log == nil {
		log = slog.Default()
	}
	return &Mux{log: log, groups: map[string]*inbox{}}
}

// Register makes g receive the frames of its group until it stops.
func (m *Mux) Register(g *Group) {
	in := &inbox{g: g, ch: make(chan []byte, inboxFrames)}
	m.mu.Lock()
	m.groups[g.Name()] = in
	m.mu.Unlock()
	go func() {
		defer m.unregister(in)
		for {
			select {
			case b := <-in.ch:
				_, msg, err := DecodeFrame(b)
				if err != nil {
					m.log.Warn("raft frame dropped", "group", g.Name(), "err", err)
					continue
				}
				g.Step(msg)
			case <-g.Done():
				return
			}
		}
	}()
}

func (m *Mux) unregister(in *inbox) {
	m.mu.Lock()
	if m.groups[in.g.Name()] == in {
		delete(m.groups, in.g.Name())
	}
	m.mu.Unlock()
}

// Deliver queues a frame for its group; it copies the frame and never
// blocks. Frames for a group this server does not run are dropped.
func (m *Mux) Deliver(frame []byte) {
	if len(frame) < 1 || len(frame) < 1+int(frame[0]) {
		return
	}
	name := frame[1 : 1+int(frame[0])]
	m.mu.Lock()
	in := m.groups[string(name)]
	m.mu.Unlock()
	if in == nil {
		return
	}
	select {
	case in.ch <- bytes.Clone(frame):
	default:
	}
}
