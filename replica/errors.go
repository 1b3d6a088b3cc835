package replica

import "errors"

// Sentinels callers test with errors.Is.
var (
	// ErrStopped: the group was stopped.
	ErrStopped = errors.New("replica: group stopped")
	// ErrNoID: Options.ID is 0.
	ErrNoID = errors.New("replica: member ID must not be 0")
	// ErrNotLeader: the proposal was made on a member that is not the
	// leader (proposals are not forwarded: the caller sends them to the
	// leader, which alone can answer with the applied result).
	ErrNotLeader = errors.New("replica: not the leader")
	// ErrLeadershipLost: this member stopped being leader before the
	// proposal was applied. It may still be committed by the new leader:
	// the outcome is unknown, as for a timeout.
	ErrLeadershipLost = errors.New("replica: leadership lost before the proposal was applied")
)
