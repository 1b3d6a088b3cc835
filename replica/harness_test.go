package replica

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// memNet is an in-process network for raft messages: every message is
// encoded and decoded as on a real transport, delivered in order per
// link by one goroutine per member, and dropped on cut links.
type memNet struct {
	mu      sync.Mutex
	members map[uint64]*netMember
	cut     map[[2]uint64]bool // [from,to] pairs that drop
}

type netMember struct {
	g     *Group
	inbox chan []byte
	done  chan struct{}
}

func newMemNet() *memNet {
	return &memNet{members: map[uint64]*netMember{}, cut: map[[2]uint64]bool{}}
}

// attach makes g reachable as its ID.
func (n *memNet) attach(g *Group) {
	m := &netMember{g: g, inbox: make(chan []byte, 4096), done: make(chan struct{})}
	n.mu.Lock()
	if old := n.members[g.ID()]; old != nil {
		close(old.done)
	}
	n.members[g.ID()] = m
	n.mu.Unlock()
	go func() {
		for {
			select {
			case b := <-m.inbox:
				var msg raftpb.Message
				if err := proto.Unmarshal(b, &msg); err != nil {
					panic(err)
				}
				m.g.Step(&msg)
			case <-m.done:
				return
			case <-g.Done():
				return
			}
		}
	}()
}

// detach makes id unreachable (a dead process).
func (n *memNet) detach(id uint64) {
	n.mu.Lock()
	if m := n.members[id]; m != nil {
		close(m.done)
		delete(n.members, id)
	}
	n.mu.Unlock()
}

// isolate cuts every link to and from id; heal restores them.
func (n *memNet) isolate(id uint64, ids []uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, o := range ids {
		if o != id {
			n.cut[[2]uint64{id, o}] = true
			n.cut[[2]uint64{o, id}] = true
		}
	}
}

func (n *memNet) heal() {
	n.mu.Lock()
	clear(n.cut)
	n.mu.Unlock()
}

// transport returns the Transport of member from.
func (n *memNet) transport(from uint64) Transport { return netTransport{n, from} }

type netTransport struct {
	n    *memNet
	from uint64
}

func (t netTransport) Send(_ string, msgs []*raftpb.Message) {
	for _, m := range msgs {
		b, err := proto.Marshal(m)
		if err != nil {
			panic(err)
		}
		t.n.mu.Lock()
		dst := t.n.members[m.GetTo()]
		cut := t.n.cut[[2]uint64{t.from, m.GetTo()}]
		t.n.mu.Unlock()
		if dst == nil || cut {
			continue
		}
		select {
		case dst.inbox <- b:
		default: // a full inbox drops, as a congested link would
		}
	}
}

// listSM is a state machine that keeps every applied entry with its
// raft index.
type listSM struct {
	mu      sync.Mutex
	entries [][]byte
	indexes []uint64
}

func (s *listSM) Apply(index uint64, data []byte) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = append(s.entries, bytes.Clone(data))
	s.indexes = append(s.indexes, index)
	return len(s.entries)
}

func (s *listSM) Applied() uint64 { return 0 } // keeps nothing across restarts

func (s *listSM) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b []byte
	for i, e := range s.entries {
		b = binary.AppendUvarint(b, s.indexes[i])
		b = binary.AppendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	return b, nil
}

func (s *listSM) Restore(_ uint64, data []byte) error {
	var entries [][]byte
	var indexes []uint64
	for len(data) > 0 {
		idx, k := binary.Uvarint(data)
		if k <= 0 {
			return fmt.Errorf("bad snapshot")
		}
		data = data[k:]
		n, k := binary.Uvarint(data)
		if k <= 0 || uint64(len(data)-k) < n {
			return fmt.Errorf("bad snapshot")
		}
		entries = append(entries, bytes.Clone(data[k:k+int(n)]))
		indexes = append(indexes, idx)
		data = data[k+int(n):]
	}
	s.mu.Lock()
	s.entries, s.indexes = entries, indexes
	s.mu.Unlock()
	return nil
}

func (s *listSM) list() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.entries...)
}

// at returns the entry applied at raft index idx.
func (s *listSM) at(idx uint64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.indexes {
		if x == idx {
			return s.entries[i], true
		}
	}
	return nil, false
}

// cluster is a test group of members on a memNet.
type cluster struct {
	t      testing.TB
	net    *memNet
	ids    []uint64
	opts   Options
	groups map[uint64]*Group
	logs   map[uint64]LogStore
	sms    map[uint64]*listSM
	// newLog opens member id's log (default: a MemLog kept across
	// restarts).
	newLog func(id uint64) LogStore
}

func testLogger() *slog.Logger {
	if os.Getenv("FERN_RAFT_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newCluster starts n members with fast ticks (10 ms: elections in
// 100-200 ms).
func newCluster(t testing.TB, n int, tune func(*Options)) *cluster {
	return newClusterWith(t, n, tune, nil)
}

// newClusterWith is newCluster with members' logs from newLog.
func newClusterWith(t testing.TB, n int, tune func(*Options), newLog func(id uint64) LogStore) *cluster {
	c := &cluster{t: t, net: newMemNet(), groups: map[uint64]*Group{}, logs: map[uint64]LogStore{}, sms: map[uint64]*listSM{}, newLog: newLog}
	for i := 1; i <= n; i++ {
		c.ids = append(c.ids, uint64(i))
	}
	c.opts = Options{Name: "test", Peers: c.ids, TickInterval: 10 * time.Millisecond, Logger: testLogger()}
	if tune != nil {
		tune(&c.opts)
	}
	for _, id := range c.ids {
		c.start(id)
	}
	t.Cleanup(func() {
		for _, g := range c.groups {
			g.Stop()
		}
	})
	return c
}

// start starts (or restarts, on its kept log) member id with a fresh
// state machine.
func (c *cluster) start(id uint64) {
	if c.logs[id] == nil {
		if c.newLog != nil {
			c.logs[id] = c.newLog(id)
		} else {
			c.logs[id] = NewMemLog()
		}
	}
	o := c.opts
	o.ID = id
	o.Logger = o.Logger.With("member", id)
	sm := &listSM{}
	g, err := Start(o, c.logs[id], sm, c.net.transport(id), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.groups[id], c.sms[id] = g, sm
	c.net.attach(g)
}

// kill stops member id as a crash would (its log is kept: a MemLog as
// it is, a FileLog as the crashed disk left it, when newLog reopens it).
func (c *cluster) kill(id uint64) {
	c.net.detach(id)
	c.groups[id].Stop()
	delete(c.groups, id)
	if c.newLog != nil {
		delete(c.logs, id)
	}
}

// leader waits for a leader that a majority of the members know as
// such (a member cut off may not know it).
func (c *cluster) leader() *Group {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var best *Group
		for _, g := range c.groups {
			if g.IsLeader() && (best == nil || g.Term() > best.Term()) {
				best = g
			}
		}
		if best != nil {
			agree := 0
			for _, g := range c.groups {
				if g.Leader() == best.ID() {
					agree++
				}
			}
			if agree > len(c.ids)/2 {
				return best
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatal("no leader within 10 s")
	return nil
}

// propose proposes on the current leader, retrying on leader changes.
func (c *cluster) propose(data []byte) Result {
	c.t.Helper()
	for try := 0; try < 50; try++ {
		g := c.leader()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		res, err := g.Propose(ctx, data)
		cancel()
		if err == nil {
			return res
		}
	}
	c.t.Fatalf("proposal %q never applied", data)
	return Result{}
}

// proposeAvoiding proposes on a leader other than member skip (which is
// cut off and may still think it leads).
func (c *cluster) proposeAvoiding(skip uint64, data []byte) Result {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for id, g := range c.groups {
			if id == skip || !g.IsLeader() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			res, err := g.Propose(ctx, data)
			cancel()
			if err == nil {
				return res
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("proposal %q never applied", data)
	return Result{}
}

// waitApplied waits until every running member applied index.
func (c *cluster) waitApplied(index uint64) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for _, g := range c.groups {
			if g.Applied() < index {
				all = false
			}
		}
		if all {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	for id, g := range c.groups {
		c.t.Logf("member %d applied %d", id, g.Applied())
	}
	c.t.Fatalf("not every member applied %d within 10 s", index)
}

// sameLists checks that every running member applied the same entries.
func (c *cluster) sameLists() [][]byte {
	c.t.Helper()
	var ref [][]byte
	var refID uint64
	for id := range c.groups {
		l := c.sms[id].list()
		if ref == nil {
			ref, refID = l, id
			continue
		}
		if len(l) != len(ref) {
			c.t.Fatalf("member %d applied %d entries, member %d %d", id, len(l), refID, len(ref))
		}
		for i := range l {
			if !bytes.Equal(l[i], ref[i]) {
				c.t.Fatalf("entry %d: member %d has %q, member %d %q", i, id, l[i], refID, ref[i])
			}
		}
	}
	return ref
}
