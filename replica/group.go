package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Group is this server's member of one raft group. One goroutine (run)
// drives the raft node: it ticks, saves what raft hands it to the log,
// sends raft's messages, applies committed entries to the state machine
// and answers the proposals that were made here.
type Group struct {
	opts Options
	log  *slog.Logger
	node raft.Node
	ls   LogStore
	sm   StateMachine
	tr   Transport

	waiting waiters
	skipTo  uint64 // entries up to here are in the state machine already

	lead   atomic.Uint64 // the leader this member knows, 0 for none
	term   atomic.Uint64
	leader atomic.Bool // this member is the leader
	// leadTerm is the term this member leads in, 0 when it does not
	// lead: one value, so a reader never pairs a new term with an old
	// leadership.
	leadTerm atomic.Uint64
	applied  atomic.Uint64
	onLeader func(leader uint64)

	stopOnce sync.Once
	stopped  chan struct{} // closed when run has returned
	quit     chan struct{}
}

// Start starts (or restarts, when ls already holds a state) this member
// of a group. onLeader, when not nil, is called from the group's
// goroutine each time the known leader changes (0: none); it must not
// block.
func Start(opts Options, ls LogStore, sm StateMachine, tr Transport, onLeader func(leader uint64)) (*Group, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &Group{
		opts: o, log: o.Logger.With("group", o.Name), ls: ls, sm: sm, tr: tr,
		onLeader: onLeader, stopped: make(chan struct{}), quit: make(chan struct{}),
	}
	hs, cs, err := ls.InitialState()
	if err != nil {
		return nil, fmt.Errorf("replica: group %s: reading the log: %w", o.Name, err)
	}
	snap, err := ls.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("replica: group %s: reading the snapshot: %w", o.Name, err)
	}
	// raft replays every committed entry after the snapshot, so that the
	// membership changes among them are applied again; the state machine
	// is not handed the ones it already holds (skipTo).
	si := snap.GetMetadata().GetIndex()
	g.skipTo = sm.Applied()
	if si > g.skipTo {
		// The state machine is behind the snapshot: start from it.
		if err := sm.Restore(si, snap.GetData()); err != nil {
			return nil, fmt.Errorf("replica: group %s: restoring the snapshot at %d: %w", o.Name, si, err)
		}
		g.skipTo = si
	}
	applied := si
	g.applied.Store(applied)
	cfg := &raft.Config{
		ID:              o.ID,
		ElectionTick:    o.ElectionTicks,
		HeartbeatTick:   o.HeartbeatTicks,
		Storage:         ls,
		Applied:         applied,
		MaxSizePerMsg:   o.MaxMsgBytes,
		MaxInflightMsgs: o.MaxInflight,
		// CheckQuorum: a leader cut off from a majority steps down after
		// an election timeout. PreVote: a member coming back from a
		// partition does not depose a working leader.
		CheckQuorum:               true,
		PreVote:                   true,
		MaxUncommittedEntriesSize: 64 << 20,
		Logger:                    raftLogger{g.log},
	}
	if raft.IsEmptyHardState(hs) && len(cs.GetVoters()) == 0 && raft.IsEmptySnap(snap) {
		if len(o.Peers) == 0 {
			return nil, fmt.Errorf("replica: group %s: a new group needs its peers", o.Name)
		}
		peers := make([]raft.Peer, len(o.Peers))
		for i, id := range o.Peers {
			peers[i] = raft.Peer{ID: id}
		}
		g.node = raft.StartNode(cfg, peers)
	} else {
		g.node = raft.RestartNode(cfg)
	}
	go g.run(snap.GetMetadata().GetConfState())
	return g, nil
}

// Name is the group's name.
func (g *Group) Name() string { return g.opts.Name }

// ID is this member's raft ID.
func (g *Group) ID() uint64 { return g.opts.ID }

// Leader is the leader this member knows of (0 for none).
func (g *Group) Leader() uint64 { return g.lead.Load() }

// IsLeader reports whether this member is the leader.
func (g *Group) IsLeader() bool { return g.leader.Load() }

// LeaderTerm is the term in which this member is the leader, or 0.
func (g *Group) LeaderTerm() uint64 { return g.leadTerm.Load() }

// Term is the latest term this member knows.
func (g *Group) Term() uint64 { return g.term.Load() }

// Applied is the index of the last entry applied here.
func (g *Group) Applied() uint64 { return g.applied.Load() }

// Propose replicates data and returns once it is committed and applied
// here, with the state machine's result. Only the leader proposes
// (ErrNotLeader otherwise). ErrLeadershipLost, a ctx error or ErrStopped
// leave the outcome unknown: the entry may still be committed.
func (g *Group) Propose(ctx context.Context, data []byte) (Result, error) {
	if !g.leader.Load() {
		return Result{}, ErrNotLeader
	}
	seq, ch := g.waiting.add()
	if err := g.node.Propose(ctx, encodeProposal(g.opts.ID, seq, data)); err != nil {
		g.waiting.forget(seq)
		return Result{}, g.mapErr(err)
	}
	return g.wait(ctx, seq, ch)
}

// AddMember adds a voting member; it returns once the change is applied
// here.
func (g *Group) AddMember(ctx context.Context, id uint64) error {
	return g.changeMembers(ctx, raftpb.ConfChangeAddNode, id)
}

// RemoveMember removes a member; it returns once the change is applied
// here.
func (g *Group) RemoveMember(ctx context.Context, id uint64) error {
	return g.changeMembers(ctx, raftpb.ConfChangeRemoveNode, id)
}

func (g *Group) changeMembers(ctx context.Context, t raftpb.ConfChangeType, id uint64) error {
	if !g.leader.Load() {
		return ErrNotLeader
	}
	seq, ch := g.waiting.add()
	cc := &raftpb.ConfChange{Type: &t, NodeId: &id, Context: encodeProposal(g.opts.ID, seq, nil)}
	if err := g.node.ProposeConfChange(ctx, cc); err != nil {
		g.waiting.forget(seq)
		return g.mapErr(err)
	}
	_, err := g.wait(ctx, seq, ch)
	return err
}

func (g *Group) wait(ctx context.Context, seq uint64, ch chan outcome) (Result, error) {
	select {
	case o := <-ch:
		return o.res, o.err
	case <-ctx.Done():
		g.waiting.forget(seq)
		return Result{}, ctx.Err()
	case <-g.stopped:
		return Result{}, ErrStopped
	}
}

func (g *Group) mapErr(err error) error {
	if errors.Is(err, raft.ErrStopped) {
		return ErrStopped
	}
	if errors.Is(err, raft.ErrProposalDropped) {
		return ErrNotLeader
	}
	return err
}

// Step hands the group a message from a peer (the transport calls it).
func (g *Group) Step(m *raftpb.Message) {
	select {
	case <-g.quit:
		return
	default:
	}
	// The context only bounds the hand-off to the raft goroutine.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = g.node.Step(ctx, m)
	cancel()
}

// ReportUnreachable tells raft a message to id could not be sent.
func (g *Group) ReportUnreachable(id uint64) { g.node.ReportUnreachable(id) }

// TransferLeadership asks the leader to hand leadership to id (a step
// down); it returns at once.
func (g *Group) TransferLeadership(ctx context.Context, id uint64) {
	g.node.TransferLeadership(ctx, g.lead.Load(), id)
}

// Campaign makes this member start an election now.
func (g *Group) Campaign(ctx context.Context) error { return g.mapErr(g.node.Campaign(ctx)) }

// Stop stops the member and waits for its goroutine. The log is the
// caller's to close.
func (g *Group) Stop() {
	g.stopOnce.Do(func() {
		close(g.quit)
		g.node.Stop()
	})
	<-g.stopped
}

// Done is closed once the group has stopped (by Stop, or by a failure
// of its log or state machine, which it logs).
func (g *Group) Done() <-chan struct{} { return g.stopped }
