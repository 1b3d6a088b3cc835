package replica

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// Three members elect a leader and apply the same entries in the same
// order; Propose returns each entry's index and the state machine's
// result.
func TestGroupReplicatesInOrder(t *testing.T) {
	c := newCluster(t, 3, nil)
	var last Result
	for i := 0; i < 200; i++ {
		res := c.propose([]byte(fmt.Sprint("m", i)))
		if res.Index <= last.Index {
			t.Fatalf("proposal %d at index %d, after %d", i, res.Index, last.Index)
		}
		if res.Value != i+1 {
			t.Fatalf("proposal %d: result %v, want %d", i, res.Value, i+1)
		}
		last = res
	}
	c.waitApplied(last.Index)
	got := c.sameLists()
	for i, e := range got {
		if string(e) != fmt.Sprint("m", i) {
			t.Fatalf("entry %d is %q", i, e)
		}
	}
}

// Only the leader proposes.
func TestGroupFollowerRefusesProposals(t *testing.T) {
	c := newCluster(t, 3, nil)
	lead := c.leader()
	for id, g := range c.groups {
		if id == lead.ID() {
			continue
		}
		if _, err := g.Propose(context.Background(), []byte("x")); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("follower %d: %v, want ErrNotLeader", id, err)
		}
	}
}

// Killing the leader: a new one is elected within two election timeouts
// and nothing applied before is lost; the old leader restarts on its log
// and catches up.
func TestGroupLeaderFailover(t *testing.T) {
	c := newCluster(t, 3, nil)
	for i := 0; i < 50; i++ {
		c.propose([]byte(fmt.Sprint("a", i)))
	}
	old := c.leader()
	oldID := old.ID()
	c.kill(oldID)
	start := time.Now()
	next := c.leader()
	took := time.Since(start)
	if next.ID() == oldID {
		t.Fatal("the dead member is still leader")
	}
	// Elections: a timeout of 10-20 ticks of 10 ms, plus the PreVote and
	// vote rounds; twice the longest timeout is the bound.
	if limit := 2 * 2 * DefaultElectionTicks * c.opts.TickInterval; took > limit {
		t.Fatalf("new leader after %v, more than %v", took, limit)
	}
	var last Result
	for i := 0; i < 50; i++ {
		last = c.propose([]byte(fmt.Sprint("b", i)))
	}
	c.start(oldID)
	c.waitApplied(last.Index)
	got := c.sameLists()
	if len(got) != 100 {
		t.Fatalf("%d entries, want 100", len(got))
	}
}

// Without a quorum nothing is applied: the leader left alone steps down
// (CheckQuorum) and its proposal fails; once a member is back the group
// goes on.
func TestGroupNoQuorumNoCommit(t *testing.T) {
	c := newCluster(t, 3, nil)
	c.propose([]byte("before"))
	lead := c.leader()
	var others []uint64
	for _, id := range c.ids {
		if id != lead.ID() {
			others = append(others, id)
		}
	}
	for _, id := range others {
		c.kill(id)
	}
	applied := lead.Applied()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_, err := lead.Propose(ctx, []byte("alone"))
	cancel()
	if err == nil {
		t.Fatal("a proposal was applied without a quorum")
	}
	if lead.Applied() != applied {
		t.Fatalf("applied moved from %d to %d without a quorum", applied, lead.Applied())
	}
	c.start(others[0])
	res := c.propose([]byte("after"))
	c.waitApplied(res.Index)
	got := c.sameLists()
	// "alone" may be committed after the quorum returns (its outcome was
	// unknown), but never before "before" and never twice.
	if string(got[0]) != "before" || string(got[len(got)-1]) != "after" || len(got) > 3 {
		t.Fatalf("entries %q", got)
	}
}

// A member cut off while the log moves past several snapshots catches up
// from a snapshot plus the tail once the cut heals.
func TestGroupCatchUpFromSnapshot(t *testing.T) {
	c := newCluster(t, 3, func(o *Options) { o.SnapshotEntries, o.KeepEntries = 40, 5 })
	c.propose([]byte("first"))
	lead := c.leader()
	var lagger uint64
	for _, id := range c.ids {
		if id != lead.ID() {
			lagger = id
			break
		}
	}
	c.net.isolate(lagger, c.ids)
	var last Result
	for i := 0; i < 300; i++ {
		last = c.propose([]byte(fmt.Sprint("e", i)))
	}
	if first, _ := c.logs[lead.ID()].FirstIndex(); first <= 2 {
		t.Fatalf("the leader's log was not compacted (first index %d)", first)
	}
	c.net.heal()
	c.waitApplied(last.Index)
	if got := c.sameLists(); len(got) != 301 {
		t.Fatalf("%d entries, want 301", len(got))
	}
}

// A partitioned leader cannot commit; the majority side elects a new
// leader, and after the heal the old leader's uncommitted entry is gone
// and every member holds the majority's log.
func TestGroupPartitionedLeaderLosesUncommitted(t *testing.T) {
	c := newCluster(t, 3, nil)
	c.propose([]byte("base"))
	old := c.leader()
	c.net.isolate(old.ID(), c.ids)
	// The isolated leader takes a proposal it can never commit.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := old.Propose(ctx, []byte("lost"))
	cancel()
	if err == nil {
		t.Fatal("an isolated leader applied a proposal")
	}
	// The majority elects another leader and goes on.
	var next *Group
	deadline := time.Now().Add(10 * time.Second)
	for next == nil && time.Now().Before(deadline) {
		for id, g := range c.groups {
			if id != old.ID() && g.IsLeader() {
				next = g
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if next == nil {
		t.Fatal("the majority elected no leader")
	}
	var last Result
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last, err = next.Propose(ctx, []byte(fmt.Sprint("new", i)))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	c.net.heal()
	c.waitApplied(last.Index)
	for _, e := range c.sameLists() {
		if string(e) == "lost" {
			t.Fatal("the isolated leader's entry was applied")
		}
	}
}

// A message that makes raft panic (a heartbeat from the leader with a
// commit index far beyond the follower's log) stops that member's group,
// logged, instead of the process; the others go on.
func TestGroupPanicStopsOnlyTheGroup(t *testing.T) {
	c := newCluster(t, 3, nil)
	c.propose([]byte("x"))
	lead := c.leader()
	var victim *Group
	for id, g := range c.groups {
		if id != lead.ID() {
			victim = g
			break
		}
	}
	typ, to, from, term, commit := raftpb.MessageType_MsgHeartbeat, victim.ID(), lead.ID(), lead.Term(), uint64(1<<40)
	victim.Step(&raftpb.Message{Type: &typ, To: &to, From: &from, Term: &term, Commit: &commit})
	select {
	case <-victim.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the member took an impossible commit index and went on")
	}
	c.net.detach(victim.ID())
	delete(c.groups, victim.ID())
	res := c.propose([]byte("after"))
	c.waitApplied(res.Index)
}
