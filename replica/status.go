package replica

import (
	"context"

	"go.etcd.io/raft/v3"
)

// Status is a member's view of its group.
type Status struct {
	ID      uint64
	Leader  uint64
	Term    uint64
	Applied uint64
	Commit  uint64
	// Peers is filled on the leader only: how far each member's log
	// matches the leader's, and whether it was heard from recently.
	Peers []PeerStatus
}

// PeerStatus is the leader's view of one member.
type PeerStatus struct {
	ID     uint64
	Match  uint64 // the highest index known to be in its log
	Active bool   // heard from within the last election timeout
}

// Status returns this member's view of the group.
func (g *Group) Status() Status {
	var rs raft.Status
	if g.call(context.Background(), func() { rs = g.rn.Status() }) != nil {
		return Status{ID: g.opts.ID, Applied: g.applied.Load()}
	}
	st := Status{ID: g.opts.ID, Leader: rs.Lead, Term: rs.GetTerm(), Applied: g.applied.Load(), Commit: rs.GetCommit()}
	if rs.RaftState == raft.StateLeader {
		for id, pr := range rs.Progress {
			st.Peers = append(st.Peers, PeerStatus{ID: id, Match: pr.Match, Active: pr.RecentActive})
		}
	}
	return st
}
