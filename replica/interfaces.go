package replica

import "go.etcd.io/raft/v3/raftpb"

// StateMachine is what a group replicates: it applies committed entries
// in log order, the same on every member.
type StateMachine interface {
	// Apply applies the committed entry at index and returns the result
	// for its proposer (Propose returns it on the member that proposed).
	// It is called in index order, once per index after Applied.
	Apply(index uint64, data []byte) any
	// Applied is the index the state machine's own durable state already
	// reflects (0 for one that keeps nothing): entries up to it are not
	// applied again after a restart, and a snapshot at or below it is not
	// restored.
	Applied() uint64
	// Snapshot returns the state as of the last applied index.
	Snapshot() ([]byte, error)
	// Restore replaces the state with a snapshot taken at index.
	Restore(index uint64, data []byte) error
}

// Transport carries raft messages to the other members. Send must not
// block on the network: a message it cannot deliver now is dropped
// (raft retransmits, and the group learns of unreachable peers through
// Group.ReportUnreachable). The messages must be encoded or copied
// before Send returns: their entries belong to the log.
type Transport interface {
	Send(group string, msgs []*raftpb.Message)
}
