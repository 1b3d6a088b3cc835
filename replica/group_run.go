package replica

import (
	"fmt"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// run is the group's goroutine: raft's Ready loop, with synchronous
// storage writes. For each Ready, in the order raft requires:
//
//  1. a snapshot from the leader replaces the log;
//  2. the hard state and new entries are saved (durable: one fsync per
//     Ready, so every proposal that arrived meanwhile shares it);
//  3. raft's messages go out (a follower's append acknowledgement only
//     after step 2, so the leader counts an entry as stored by a member
//     only once it is durable there);
//  4. the snapshot is restored into the state machine, then the committed
//     entries are applied and the proposals made here answered;
//  5. a snapshot of the state machine is taken when enough entries were
//     applied since the last one, and the log compacted below it.
func (g *Group) run(cs *raftpb.ConfState) {
	defer close(g.stopped)
	defer g.waiting.failAll(ErrStopped)
	defer func() {
		if r := recover(); r != nil {
			g.log.Error("replication stopped: raft failed", "panic", r)
		}
	}()
	confState := proto.Clone(raftpb.EnsureConfState(cs)).(*raftpb.ConfState)
	snapIndex := g.applied.Load()
	if s, err := g.ls.Snapshot(); err == nil {
		snapIndex = s.GetMetadata().GetIndex()
	}
	ticker := time.NewTicker(g.opts.TickInterval)
	defer ticker.Stop()
	for {
		select {
		case <-g.quit:
			return
		case <-ticker.C:
			g.rn.Tick()
		case m := <-g.stepc:
			_ = g.rn.Step(m) // a stale or unknown message is raft's to ignore
		case f := <-g.opc:
			f()
		}
		// Take whatever else is waiting before handling a Ready, so that
		// the proposals and messages that arrived during the last fsync
		// share the next one (group commit).
		g.drain()
		if !g.rn.HasReady() {
			continue
		}
		rd := g.rn.Ready()
		if err := g.handleReady(&rd, &confState, &snapIndex); err != nil {
			g.log.Error("replication stopped", "err", err)
			return
		}
		g.rn.Advance(rd)
	}
}

// drainMax bounds how many waiting events one Ready gathers.
const drainMax = 1024

// drain steps the waiting messages and runs the waiting calls, without
// blocking.
func (g *Group) drain() {
	for range drainMax {
		select {
		case m := <-g.stepc:
			_ = g.rn.Step(m)
		case f := <-g.opc:
			f()
		default:
			return
		}
	}
}

func (g *Group) handleReady(rd *raft.Ready, confState **raftpb.ConfState, snapIndex *uint64) error {
	if rd.HardState != nil {
		g.term.Store(rd.HardState.GetTerm())
	}
	if rd.SoftState != nil {
		g.leaderChanged(rd.SoftState)
	}
	snap := rd.Snapshot
	if !raft.IsEmptySnap(snap) {
		if err := g.ls.ApplySnapshot(snap); err != nil {
			return fmt.Errorf("saving the snapshot at %d: %w", snap.GetMetadata().GetIndex(), err)
		}
	}
	if err := g.ls.Save(rd.HardState, rd.Entries); err != nil {
		return fmt.Errorf("saving %d entries: %w", len(rd.Entries), err)
	}
	g.tr.Send(g.opts.Name, rd.Messages)
	for _, m := range rd.Messages {
		if m.GetType() == raftpb.MessageType_MsgSnap {
			// Sent or dropped: the leader probes the follower again
			// either way and resends what it still lacks.
			g.rn.ReportSnapshot(m.GetTo(), raft.SnapshotFinish)
		}
	}
	if !raft.IsEmptySnap(snap) {
		si := snap.GetMetadata().GetIndex()
		if si > g.applied.Load() {
			if err := g.sm.Restore(si, snap.GetData()); err != nil {
				return fmt.Errorf("restoring the snapshot at %d: %w", si, err)
			}
			g.applied.Store(si)
		}
		*confState = proto.Clone(raftpb.EnsureConfState(snap.GetMetadata().GetConfState())).(*raftpb.ConfState)
		*snapIndex = si
	}
	for _, e := range rd.CommittedEntries {
		if err := g.apply(e, confState); err != nil {
			return err
		}
	}
	if applied := g.applied.Load(); applied-*snapIndex >= g.opts.SnapshotEntries {
		if err := g.snapshot(applied, *confState); err != nil {
			return err
		}
		*snapIndex = applied
	}
	return nil
}

// apply applies one committed entry.
func (g *Group) apply(e *raftpb.Entry, confState **raftpb.ConfState) error {
	idx := e.GetIndex()
	if idx <= g.applied.Load() {
		return nil // already in the state machine (a restart replays)
	}
	switch e.GetType() {
	case raftpb.EntryType_EntryNormal:
		member, seq, data, ok := decodeProposal(e.GetData())
		if ok && idx > g.skipTo {
			v := g.sm.Apply(idx, data)
			if member == g.opts.ID {
				g.waiting.done(seq, outcome{res: Result{Index: idx, Value: v}})
			}
		}
	case raftpb.EntryType_EntryConfChange:
		var cc raftpb.ConfChange
		if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
			return fmt.Errorf("decoding the membership change at %d: %w", idx, err)
		}
		*confState = g.rn.ApplyConfChange(&cc)
		g.log.Info("membership changed", "change", cc.GetType().String(), "member", cc.GetNodeId(),
			"voters", (*confState).GetVoters())
		if member, seq, _, ok := decodeProposal(cc.GetContext()); ok && member == g.opts.ID {
			g.waiting.done(seq, outcome{res: Result{Index: idx}})
		}
	case raftpb.EntryType_EntryConfChangeV2:
		var cc raftpb.ConfChangeV2
		if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
			return fmt.Errorf("decoding the membership change at %d: %w", idx, err)
		}
		*confState = g.rn.ApplyConfChange(&cc)
	}
	g.applied.Store(idx)
	return nil
}

// snapshot records the state machine's state at applied and compacts
// the log below it, keeping KeepEntries for followers slightly behind.
func (g *Group) snapshot(applied uint64, cs *raftpb.ConfState) error {
	data, err := g.sm.Snapshot()
	if err != nil {
		return fmt.Errorf("taking a snapshot at %d: %w", applied, err)
	}
	if err := g.ls.CreateSnapshot(applied, cs, data); err != nil {
		return fmt.Errorf("saving the snapshot at %d: %w", applied, err)
	}
	if applied > g.opts.KeepEntries {
		if err := g.ls.Compact(applied - g.opts.KeepEntries); err != nil {
			return fmt.Errorf("compacting the log below %d: %w", applied-g.opts.KeepEntries, err)
		}
	}
	return nil
}

// leaderChanged records a new soft state: leader, and whether it is us.
// Proposals waiting here fail once this member is no longer the leader:
// it cannot answer them any more.
func (g *Group) leaderChanged(ss *raft.SoftState) {
	was := g.leader.Load()
	is := ss.RaftState == raft.StateLeader
	if is {
		g.leadTerm.Store(g.term.Load())
	} else {
		g.leadTerm.Store(0)
	}
	g.leader.Store(is)
	old := g.lead.Swap(ss.Lead)
	if was && !is {
		g.waiting.failAll(ErrLeadershipLost)
	}
	if old != ss.Lead {
		if ss.Lead == g.opts.ID {
			g.log.Info("elected leader", "term", g.term.Load())
		} else {
			g.log.Debug("leader changed", "leader", ss.Lead)
		}
		if g.onLeader != nil {
			g.onLeader(ss.Lead)
		}
	}
}
