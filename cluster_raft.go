package fern

import (
	"fmt"
	"strconv"

	"github.com/fernmq/fern/replica"
	"go.etcd.io/raft/v3/raftpb"
)

// Raft traffic between Fern servers rides the routes as ordinary
// messages (as the official server's $NRG traffic does), so route TLS
// and compression apply to it. Each server subscribes to its own raft
// subject (replica.SubjectFor its raft ID) with a routes-only in-process
// subscription: announced to routes and never to leaf nodes, and fed only
// by messages that arrive from a route. Clients and leaf connections
// cannot publish into the raft subject space (processPub and the leaf's
// LMSG drop it), so only a cluster member can speak raft to another.
// Fern servers say so in their route INFO (fern_raft); a route to an
// official server in a mixed cluster is told of no raft subject and what
// it sends there is dropped, so an official server's clients cannot reach
// Fern's raft either.

// isRaftSubject reports whether subj is in the raft subject space.
func isRaftSubject(subj []byte) bool {
	return len(subj) >= len(replica.SubjectPrefix) && string(subj[:len(replica.SubjectPrefix)]) == replica.SubjectPrefix
}

// speaksRaft reports whether this route's peer is a Fern server, which
// alone may send and hear raft traffic (route INFO fern_raft).
func (c *client) speaksRaft() bool {
	return c.route != nil && c.route.info.Raft
}

// raftHost is this server's end of the raft transport: its Mux gets the
// frames that arrive for its raft ID.
type raftHost struct {
	s   *Server
	id  uint64
	mux *replica.Mux
	sys *client
	sub *subscription
}

// startRaftHost subscribes to the raft subject of member id.
func (s *Server) startRaftHost(id uint64) (*raftHost, error) {
	h := &raftHost{s: s, id: id, mux: replica.NewMux(s.log), sys: s.newInternalClient()}
	h.sub = &subscription{
		client: h.sys, subject: replica.SubjectFor(id), sid: []byte(strconv.FormatUint(id, 16)),
		routesOnly: true,
		handler: func(_, _ string, hdr, data []byte) {
			if len(hdr) == 0 {
				h.mux.Deliver(data)
			}
		},
	}
	if err := s.addSub(h.sub); err != nil {
		return nil, fmt.Errorf("fern: raft subscription: %w", err)
	}
	return h, nil
}

// stop unsubscribes.
func (h *raftHost) stop() { h.s.removeSub(h.sub) }

// transport returns a Transport for one group (its goroutine alone
// sends on it).
func (h *raftHost) transport() replica.Transport {
	return &raftTransport{pub: &jsPublisher{c: h.s.newInternalClient()}}
}

// raftTransport publishes one group's raft messages to their members.
type raftTransport struct {
	pub   *jsPublisher
	frame []byte
}

// Send implements replica.Transport: each message is one publish, routed
// to the member's server by its interest; a member not connected now has
// no interest and the message is dropped, which raft tolerates.
func (t *raftTransport) Send(group string, msgs []*raftpb.Message) {
	t.pub.Hold()
	for _, m := range msgs {
		var err error
		t.frame, err = replica.AppendFrame(t.frame[:0], group, m)
		if err != nil {
			continue // a group name too long: refused when the group is made
		}
		t.pub.Publish(replica.SubjectFor(m.GetTo()), "", nil, t.frame)
	}
	t.pub.Flush()
}
