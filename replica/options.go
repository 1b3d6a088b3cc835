package replica

import (
	"fmt"
	"log/slog"
	"time"
)

// Options configure one Group. The zero value of every field but ID and
// Peers takes the documented default.
type Options struct {
	// Name identifies the group on the transport (as "_meta_" or a
	// stream's group name); it is what Mux routes incoming messages by.
	Name string
	// ID is this member's raft ID (PeerID of its server name); not 0.
	ID uint64
	// Peers are the raft IDs of every member, this one included, when the
	// group is new. A group restarted on a log that already holds a
	// configuration ignores it.
	Peers []uint64

	// TickInterval is one raft tick. Default 100 ms.
	TickInterval time.Duration
	// ElectionTicks is the election timeout in ticks: a follower that
	// heard nothing from a leader for a random time between ElectionTicks
	// and twice that starts an election. Default 10 (1-2 s).
	ElectionTicks int
	// HeartbeatTicks is the leader's heartbeat interval in ticks.
	// Default 1.
	HeartbeatTicks int

	// SnapshotEntries is how many applied entries the log keeps before the
	// group takes a snapshot of the state machine and compacts the log
	// below it. Default 8192.
	SnapshotEntries uint64
	// KeepEntries is how many entries below a snapshot the log keeps, so a
	// follower slightly behind catches up from the log rather than from a
	// snapshot. Default 1024.
	KeepEntries uint64

	// MaxMsgBytes bounds the entries in one append message. Default 1 MiB.
	MaxMsgBytes uint64
	// MaxInflight is how many append messages a leader sends a follower
	// before hearing back. Default 256.
	MaxInflight int

	// Logger receives the group's events. Default: slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultTickInterval    = 100 * time.Millisecond
	DefaultElectionTicks   = 10
	DefaultHeartbeatTicks  = 1
	DefaultSnapshotEntries = 8192
	DefaultKeepEntries     = 1024
	DefaultMaxMsgBytes     = 1 << 20
	DefaultMaxInflight     = 256
)

// withDefaults checks o and returns a copy with the defaults filled in.
func (o Options) withDefaults() (Options, error) {
	if o.ID == 0 {
		return o, fmt.Errorf("replica: group %q: %w", o.Name, ErrNoID)
	}
	if o.TickInterval <= 0 {
		o.TickInterval = DefaultTickInterval
	}
	if o.ElectionTicks <= 0 {
		o.ElectionTicks = DefaultElectionTicks
	}
	if o.HeartbeatTicks <= 0 {
		o.HeartbeatTicks = DefaultHeartbeatTicks
	}
	if o.HeartbeatTicks >= o.ElectionTicks {
		return o, fmt.Errorf("replica: group %q: heartbeat ticks %d must be below election ticks %d",
			o.Name, o.HeartbeatTicks, o.ElectionTicks)
	}
	if o.SnapshotEntries == 0 {
		o.SnapshotEntries = DefaultSnapshotEntries
	}
	if o.KeepEntries == 0 {
		o.KeepEntries = DefaultKeepEntries
	}
	if o.MaxMsgBytes == 0 {
		o.MaxMsgBytes = DefaultMaxMsgBytes
	}
	if o.MaxInflight <= 0 {
		o.MaxInflight = DefaultMaxInflight
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}
