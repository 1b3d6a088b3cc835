package replica

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fernmq/fern/store"
	"go.etcd.io/raft/v3/raftpb"
)

// crashDisks gives every member a CrashFS; reopening a member's log
// after a kill first replaces its disk by what a power loss would have
// left (only what was fsynced).
type crashDisks struct {
	t     *testing.T
	mu    sync.Mutex
	disks map[uint64]*store.CrashFS
	open  map[uint64]*FileLog
}

func newCrashDisks(t *testing.T) *crashDisks {
	return &crashDisks{t: t, disks: map[uint64]*store.CrashFS{}, open: map[uint64]*FileLog{}}
}

func (d *crashDisks) newLog(id uint64) LogStore {
	d.mu.Lock()
	defer d.mu.Unlock()
	fsys := d.disks[id]
	if fsys == nil {
		fsys = store.NewCrashFS()
	} else {
		fsys = fsys.CrashClone(store.CrashOptions{})
	}
	d.disks[id] = fsys
	l, err := OpenFileLog(FileLogConfig{Dir: "/data/raft", FS: fsys, BlockSize: 64 << 10})
	if err != nil {
		d.t.Fatalf("member %d: %v", id, err)
	}
	d.open[id] = l
	return l
}

// Members on file logs, killed and restarted on what their crashed disks
// kept, lose nothing that was applied, through a leader change and
// snapshots, and catch up with what they missed.
func TestFileLogCrashRestarts(t *testing.T) {
	d := newCrashDisks(t)
	c := newClusterWith(t, 3, func(o *Options) { o.SnapshotEntries, o.KeepEntries = 64, 8 }, d.newLog)
	var last Result
	for round := 0; round < 3; round++ {
		for i := 0; i < 50; i++ {
			last = c.propose([]byte(fmt.Sprint(round, ".", i)))
		}
		// Kill a follower, then the leader, restarting each on its disk.
		victims := []uint64{}
		lead := c.leader().ID()
		for _, id := range c.ids {
			if id != lead {
				victims = append(victims, id)
				break
			}
		}
		victims = append(victims, lead)
		for _, id := range victims {
			c.kill(id)
			for i := 0; i < 20; i++ {
				last = c.propose([]byte(fmt.Sprint(round, ".k", id, ".", i)))
			}
			c.start(id)
		}
	}
	c.waitApplied(last.Index)
	got := c.sameLists()
	if want := 3 * (50 + 2*20); len(got) != want {
		t.Fatalf("%d entries, want %d", len(got), want)
	}
}

// A file log refuses a state file that fails its checksum.
func TestFileLogRefusesCorruptState(t *testing.T) {
	fsys := store.NewCrashFS()
	l, err := OpenFileLog(FileLogConfig{Dir: "/d", FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	term, vote := uint64(3), uint64(1)
	if err := l.writeState(hardState(term, vote, 0)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.FlipBit("/d/state", 1, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileLog(FileLogConfig{Dir: "/d", FS: fsys}); !errors.Is(err, ErrCorruptLog) {
		t.Fatalf("open: %v, want ErrCorruptLog", err)
	}
}

func hardState(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: &term, Vote: &vote, Commit: &commit}
}

// Every member crashes at once (power loss on all three disks) and
// restarts on what was fsynced: every proposal that was applied (and so
// acknowledged) is still there. A log that acknowledged before its fsync
// would lose the tail here.
func TestFileLogWholeClusterCrash(t *testing.T) {
	d := newCrashDisks(t)
	c := newClusterWith(t, 3, func(o *Options) { o.SnapshotEntries, o.KeepEntries = 64, 8 }, d.newLog)
	var last Result
	for i := 0; i < 150; i++ {
		last = c.propose([]byte(fmt.Sprint("m", i)))
	}
	for _, id := range c.ids {
		c.kill(id)
	}
	for _, id := range c.ids {
		c.start(id)
	}
	next := c.propose([]byte("after"))
	if next.Index <= last.Index {
		t.Fatalf("the log went back: %d after %d", next.Index, last.Index)
	}
	c.waitApplied(next.Index)
	got := c.sameLists()
	if len(got) != 151 {
		t.Fatalf("%d entries after the crash, want 151", len(got))
	}
	for i := 0; i < 150; i++ {
		if string(got[i]) != fmt.Sprint("m", i) {
			t.Fatalf("entry %d is %q", i, got[i])
		}
	}
}

// An isolated leader's uncommitted tail is truncated from its file log
// when it rejoins, and does not come back after it crashes and restarts.
func TestFileLogTruncatedTailStaysGone(t *testing.T) {
	d := newCrashDisks(t)
	c := newClusterWith(t, 3, nil, d.newLog)
	c.propose([]byte("base"))
	old := c.leader()
	oldID := old.ID()
	c.net.isolate(oldID, c.ids)
	for i := 0; i < 5; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, _ = old.Propose(ctx, []byte("lost"))
		cancel()
	}
	if last, _ := c.logs[oldID].LastIndex(); last < 3 {
		t.Fatalf("the isolated leader's log ends at %d: the proposals never reached it", last)
	}
	var res Result
	for i := 0; i < 10; i++ {
		res = c.proposeAvoiding(oldID, []byte(fmt.Sprint("new", i)))
	}
	c.net.heal()
	c.waitApplied(res.Index)
	c.kill(oldID)
	c.start(oldID)
	c.waitApplied(res.Index)
	for _, e := range c.sameLists() {
		if string(e) == "lost" {
			t.Fatal("an uncommitted entry of the isolated leader was applied")
		}
	}
}
