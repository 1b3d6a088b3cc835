package replica

import (
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// LogStore keeps a member's raft state: the log, the hard state (term,
// vote, commit) and the latest snapshot. raft reads it through
// raft.Storage; the group writes it in the order raft requires, and
// every write method returns once what it wrote is durable.
type LogStore interface {
	raft.Storage
	// Save makes hs (when not empty) and ents durable, in one write:
	// ents replace any entries at and after ents[0].Index.
	Save(hs *raftpb.HardState, ents []*raftpb.Entry) error
	// ApplySnapshot replaces the log with snap (received from a leader).
	ApplySnapshot(snap *raftpb.Snapshot) error
	// CreateSnapshot records the state machine's snapshot data at the
	// applied index, with the configuration at that index.
	CreateSnapshot(index uint64, cs *raftpb.ConfState, data []byte) error
	// Compact discards the entries below index (index must be at or
	// below the latest snapshot's).
	Compact(index uint64) error
	// Close releases the store.
	Close() error
}

// MemLog is a LogStore in memory, for tests and for groups whose state
// need not survive a restart of the process. It is durable for as long
// as the value lives: a test "restarts" a member by starting a new Group
// on the same MemLog.
type MemLog struct {
	*raft.MemoryStorage
}

// NewMemLog returns an empty MemLog.
func NewMemLog() *MemLog { return &MemLog{raft.NewMemoryStorage()} }

// Save implements LogStore.
func (m *MemLog) Save(hs *raftpb.HardState, ents []*raftpb.Entry) error {
	if !raft.IsEmptyHardState(hs) {
		if err := m.SetHardState(hs); err != nil {
			return err
		}
	}
	return m.Append(ents)
}

// ApplySnapshot implements LogStore.
func (m *MemLog) ApplySnapshot(snap *raftpb.Snapshot) error {
	return m.MemoryStorage.ApplySnapshot(snap)
}

// CreateSnapshot implements LogStore.
func (m *MemLog) CreateSnapshot(index uint64, cs *raftpb.ConfState, data []byte) error {
	_, err := m.MemoryStorage.CreateSnapshot(index, cs, data)
	if err == raft.ErrSnapOutOfDate {
		return nil
	}
	return err
}

// Compact implements LogStore.
func (m *MemLog) Compact(index uint64) error {
	err := m.MemoryStorage.Compact(index)
	if err == raft.ErrCompacted {
		return nil
	}
	return err
}

// Close implements LogStore.
func (m *MemLog) Close() error { return nil }
