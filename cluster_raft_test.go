package fern

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fernmq/fern/replica"
	"go.etcd.io/raft/v3/raftpb"
)

// countSM counts applied entries and keeps the last one.
type countSM struct {
	mu   sync.Mutex
	n    int
	last string
}

func (c *countSM) Apply(_ uint64, data []byte) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	c.last = string(data)
	return c.n
}
func (c *countSM) Applied() uint64           { return 0 }
func (c *countSM) Snapshot() ([]byte, error) { return []byte(fmt.Sprint(c.n)), nil }
func (c *countSM) Restore(_ uint64, d []byte) error {
	_, err := fmt.Sscan(string(d), &c.n)
	return err
}
func (c *countSM) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// raftMember is one server's member of the test group.
type raftMember struct {
	s    *Server
	host *raftHost
	g    *replica.Group
	sm   *countSM
}

// startRaftGroup runs group "test" over the routes of servers.
func startRaftGroup(t *testing.T, servers []*Server) []*raftMember {
	t.Helper()
	var ids []uint64
	for _, s := range servers {
		ids = append(ids, replica.PeerID(s.opts.ServerName))
	}
	var members []*raftMember
	for i, s := range servers {
		h, err := s.startRaftHost(ids[i])
		if err != nil {
			t.Fatal(err)
		}
		sm := &countSM{}
		g, err := replica.Start(replica.Options{
			Name: "test", ID: ids[i], Peers: ids, TickInterval: 10 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}, replica.NewMemLog(), sm, h.transport(), nil)
		if err != nil {
			t.Fatal(err)
		}
		h.mux.Register(g)
		t.Cleanup(func() { g.Stop(); h.stop() })
		members = append(members, &raftMember{s: s, host: h, g: g, sm: sm})
	}
	for _, s := range servers {
		for _, id := range ids {
			if id != replica.PeerID(s.opts.ServerName) {
				waitInterest(t, s, replica.SubjectFor(id), 1)
			}
		}
	}
	return members
}

func raftLeader(t *testing.T, members []*raftMember) *raftMember {
	t.Helper()
	var lead *raftMember
	waitFor(t, "a raft leader", func() bool {
		for _, m := range members {
			if m.g.IsLeader() {
				lead = m
				return true
			}
		}
		return false
	})
	return lead
}

func raftPropose(t *testing.T, members []*raftMember, data string) replica.Result {
	t.Helper()
	for try := 0; try < 50; try++ {
		lead := raftLeader(t, members)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		res, err := lead.g.Propose(ctx, []byte(data))
		cancel()
		if err == nil {
			return res
		}
		if !errors.Is(err, replica.ErrNotLeader) && !errors.Is(err, replica.ErrLeadershipLost) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
	}
	t.Fatalf("%q never applied", data)
	return replica.Result{}
}

// A raft group over the routes of a 3-server cluster replicates, loses
// its leader's server and goes on with the other two.
func TestRaftOverRoutes(t *testing.T) {
	servers := startCore(t, nil)
	members := startRaftGroup(t, servers)
	var last replica.Result
	for i := 0; i < 100; i++ {
		last = raftPropose(t, members, fmt.Sprint("a", i))
	}
	for _, m := range members {
		waitFor(t, "every member applied", func() bool { return m.g.Applied() >= last.Index })
	}
	lead := raftLeader(t, members)
	lead.g.Stop()
	shutdownNow(t, lead.s)
	var rest []*raftMember
	for _, m := range members {
		if m != lead {
			rest = append(rest, m)
		}
	}
	start := time.Now()
	raftLeader(t, rest)
	t.Logf("new leader %v after the old one's server went down", time.Since(start))
	for i := 0; i < 50; i++ {
		last = raftPropose(t, rest, fmt.Sprint("b", i))
	}
	for _, m := range rest {
		waitFor(t, "the survivors applied", func() bool { return m.g.Applied() >= last.Index })
		if n := m.sm.count(); n != 150 {
			t.Fatalf("%s applied %d entries, want 150", m.s.opts.ServerName, n)
		}
	}
}

// Clients and leaf connections cannot speak raft: a frame published into
// the raft subjects by a client (on any server) or by a leaf's client
// never reaches a member, and leafs never hear of the raft subjects.
func TestRaftSubjectsClosedToClientsAndLeafs(t *testing.T) {
	servers := startCore(t, nil)
	members := startRaftGroup(t, servers)
	raftPropose(t, members, "x")
	lf := startLeaf(t, "leaf", servers[0].ClientURL())
	waitFor(t, "leaf connected", func() bool { return lf.NumLeafs() == 1 })

	target := members[1]
	term := target.g.Term()
	// A heartbeat from a made-up member at a far higher term would make
	// the target step down and adopt that term, if it were delivered.
	typ, to, from, high := raftpb.MessageType_MsgHeartbeat, target.g.ID(), uint64(99), term+1000
	frame, err := replica.AppendFrame(nil, "test", &raftpb.Message{Type: &typ, To: &to, From: &from, Term: &high})
	if err != nil {
		t.Fatal(err)
	}
	// A marker subscribed on the target's server, published after the
	// frame on the same paths: once it arrives, the frame would have too.
	marker := natsConn(t, target.s)
	got, err := marker.SubscribeSync("marker")
	if err != nil {
		t.Fatal(err)
	}
	if err := marker.Flush(); err != nil {
		t.Fatal(err)
	}
	waitInterest(t, servers[0], "marker", 1)
	waitInterest(t, lf, "marker", 1)
	for _, pub := range []*Server{servers[0], target.s, lf} {
		nc := natsConn(t, pub)
		if err := nc.Publish(replica.SubjectFor(target.g.ID()), frame); err != nil {
			t.Fatal(err)
		}
		if err := nc.Publish("marker", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := got.NextMsg(5 * time.Second); err != nil {
			t.Fatalf("marker from %s: %v", pub.opts.ServerName, err)
		}
	}
	if target.g.Term() >= high {
		t.Fatalf("a client's raft frame reached the member: term %d", target.g.Term())
	}
	var r resultT
	lf.subs.Match([]byte(replica.SubjectFor(target.g.ID())), &r)
	if r.Len() != 0 {
		t.Fatalf("the leaf knows of %d raft subscriptions", r.Len())
	}
}

// A route from an official server (its INFO has no fern_raft) hears of
// no raft subject and cannot speak raft: a forged heartbeat it sends is
// not delivered, while its ordinary messages are.
func TestRaftNotForOfficialRoutes(t *testing.T) {
	servers := startCore(t, nil)
	members := startRaftGroup(t, servers)
	raftPropose(t, members, "x")
	target := members[0]
	sub := natsConn(t, target.s)
	marker, err := sub.SubscribeSync("marker")
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}

	nc, err := net.Dial("tcp", target.s.ClusterAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	_ = nc.SetReadDeadline(time.Now().Add(clusterWait))
	if line, _ := br.ReadString('\n'); !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("no route INFO: %q", line)
	}
	fmt.Fprintf(nc, "CONNECT {\"name\":\"OFFICIAL\",\"cluster\":\"core\",\"headers\":true}\r\nINFO {\"server_id\":\"OFFICIAL\",\"cluster\":\"core\",\"port\":1,\"headers\":true}\r\n")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(line, replica.SubjectPrefix) {
			t.Fatalf("the official route heard of a raft subject: %q", line)
		}
		if line == "PING\r\n" { // the end of the interest snapshot
			fmt.Fprintf(nc, "PONG\r\n")
			break
		}
	}
	term := target.g.Term()
	typ, to, from, high := raftpb.MessageType_MsgHeartbeat, target.g.ID(), uint64(99), term+1000
	frame, err := replica.AppendFrame(nil, "test", &raftpb.Message{Type: &typ, To: &to, From: &from, Term: &high})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(nc, "RMSG $G %s %d\r\n%s\r\nRMSG $G marker 2\r\nok\r\n", replica.SubjectFor(target.g.ID()), len(frame), frame)
	if _, err := marker.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("the official route's ordinary message: %v", err)
	}
	if target.g.Term() >= high {
		t.Fatalf("a raft frame from an official route reached the member: term %d", target.g.Term())
	}
}
