package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Group is this server's member of one raft group. One goroutine (run)
// owns the raft state machine (a raft.RawNode, touched by nothing else):
// it ticks, steps peers' messages, takes proposals, saves what raft hands
// it to the log, sends raft's messages, applies committed entries and
// answers the proposals that were made here. Other goroutines reach it
// through channels. A panic inside raft (it panics on a broken invariant,
// such as a peer's commit index beyond our log) stops this group and is
// logged; it does not take the server down.
type Group struct {
	opts Options
	log  *slog.Logger
	rn   *raft.RawNode // run's alone
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

	stepc chan *raftpb.Message // peers' messages
	opc   chan func()          // proposals and other calls, run on run's goroutine

	stopOnce sync.Once
	stopped  chan struct{} // closed when run has returned
	quit     chan struct{}
}

// stepBacklog is how many peer messages wait for the group's goroutine
// before more are dropped (raft retransmits).
const stepBacklog = 4096

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
		stepc: make(chan *raftpb.Message, stepBacklog), opc: make(chan func()),
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
	rn, err := raft.NewRawNode(cfg)
	if err != nil {
		return nil, fmt.Errorf("replica: group %s: %w", o.Name, err)
	}
	if raft.IsEmptyHardState(hs) && len(cs.GetVoters()) == 0 && raft.IsEmptySnap(snap) {
		if len(o.Peers) == 0 {
			return nil, fmt.Errorf("replica: group %s: a new group needs its peers", o.Name)
		}
		peers := make([]raft.Peer, len(o.Peers))
		for i, id := range o.Peers {
			peers[i] = raft.Peer{ID: id}
		}
		if err := rn.Bootstrap(peers); err != nil {
			return nil, fmt.Errorf("replica: group %s: %w", o.Name, err)
		}
	}
	g.rn = rn
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
	entry := encodeProposal(g.opts.ID, seq, data)
	var err error
	if cerr := g.call(ctx, func() { err = g.rn.Propose(entry) }); cerr != nil {
		err = cerr
	}
	if err != nil {
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
	var err error
	if cerr := g.call(ctx, func() { err = g.rn.ProposeConfChange(cc) }); cerr != nil {
		err = cerr
	}
	if err != nil {
		g.waiting.forget(seq)
		return g.mapErr(err)
	}
	_, err = g.wait(ctx, seq, ch)
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

// call runs f on the group's goroutine and waits for it.
func (g *Group) call(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case g.opc <- func() { f(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stopped:
		return ErrStopped
	}
	select {
	case <-done:
		return nil
	case <-g.stopped:
		return ErrStopped
	}
}

// Step hands the group a message from a peer (the transport calls it). It
// never blocks: with the backlog full the message is dropped, as a lost
// packet would be. Local messages (raft's own types) are refused: a
// peer may not inject them.
func (g *Group) Step(m *raftpb.Message) {
	if raft.IsLocalMsg(m.GetType()) {
		return
	}
	select {
	case g.stepc <- m:
	default:
	}
}

// ReportUnreachable tells raft a message to id could not be sent.
func (g *Group) ReportUnreachable(id uint64) {
	_ = g.call(context.Background(), func() { g.rn.ReportUnreachable(id) })
}

// TransferLeadership asks the leader to hand leadership to id (a step
// down); it returns once raft has taken the request.
func (g *Group) TransferLeadership(ctx context.Context, id uint64) {
	_ = g.call(ctx, func() { g.rn.TransferLeader(id) })
}

// Campaign makes this member start an election now.
func (g *Group) Campaign(ctx context.Context) error {
	var err error
	if cerr := g.call(ctx, func() { err = g.rn.Campaign() }); cerr != nil {
		return cerr
	}
	return g.mapErr(err)
}

// Stop stops the member and waits for its goroutine. The log is the
// caller's to close.
func (g *Group) Stop() {
	g.stopOnce.Do(func() { close(g.quit) })
	<-g.stopped
}

// Done is closed once the group has stopped (by Stop, or by a failure
// of its log or state machine, which it logs).
func (g *Group) Done() <-chan struct{} { return g.stopped }
