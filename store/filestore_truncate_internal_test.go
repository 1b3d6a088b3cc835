package store

import (
	"fmt"
	"testing"
)

// truncBlocks is what a crash can leave after Truncate(3) on a store whose
// first sequence was 10, before maintenance dropped anything: block 1 holds
// old messages 1..20, the floor 10, the truncate record, and new messages
// 4 and 5 stored after it; block 2 was started after them.
func truncBlocks() [][]byte {
	b1 := make([]byte, blkHeaderLen)
	putBlockHeader(b1, 1)
	for seq := uint64(1); seq <= 20; seq++ {
		b1, _ = appendMsgRecord(b1, "old", nil, []byte(fmt.Sprintf("old-%d", seq)), seq, int64(seq), false, nil)
	}
	b1 = appendControl(b1, recFloor, 10, 20)
	b1 = appendControl(b1, recTrunc, 3, 3)
	for seq := uint64(4); seq <= 5; seq++ {
		b1, _ = appendMsgRecord(b1, "new", nil, []byte(fmt.Sprintf("new-%d", seq)), seq, 100+int64(seq), false, nil)
	}
	b2 := make([]byte, blkHeaderLen)
	putBlockHeader(b2, 2)
	b2 = appendControl(b2, recMark, 5, 105)
	b2 = appendControl(b2, recFloor, 4, 105)
	return [][]byte{b1, b2}
}

// TestRecoveryTruncateOrder opens the blocks of truncBlocks: the rebuild
// applies the truncate record where it lies (the floor before it is cut
// back to 4, the old messages above 3 die, the new 4 and 5 live), and the
// compaction that follows at open (block 1 is mostly dead) keeps the
// record ahead of the new messages, with the floor before it.
func TestRecoveryTruncateOrder(t *testing.T) {
	fsys := NewCrashFS()
	fsys.MkdirAll("/s", 0o755)
	for i, img := range truncBlocks() {
		w, _ := fsys.Create("/s/" + blockName(uint32(i+1)))
		w.Write(img)
		w.Sync()
		w.Close()
	}
	fsys.SyncDir("/s")
	size := func() int64 {
		fi, err := fsys.Stat("/s/" + blockName(1))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	for round := range 3 {
		s, err := OpenFileStore(FileConfig{Dir: "/s", FS: fsys, Sync: SyncNone, BlockSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		want := State{Msgs: 2, Bytes: 2 * MsgSize("new", nil, []byte("new-4")), FirstSeq: 4, FirstTime: 104, LastSeq: 5, LastTime: 105, NumSubjects: 1}
		if st := s.State(); st != want {
			t.Fatalf("round %d: State = %+v, want %+v", round, st, want)
		}
		var m Msg
		for seq := uint64(4); seq <= 5; seq++ {
			if _, err := s.Load(seq, &m); err != nil || string(m.Data) != fmt.Sprintf("new-%d", seq) {
				t.Fatalf("round %d: Load(%d) = %q, %v", round, seq, m.Data, err)
			}
		}
		if len(s.Corrupt()) != 0 {
			t.Fatalf("round %d: corrupt %v", round, s.Corrupt())
		}
		s.Sync()
		s.Close()
		fsys.Remove("/s/" + indexName) // rebuild every time
	}
	if after := size(); after >= before/2 {
		t.Fatalf("block 1 not compacted: %d bytes, was %d", after, before)
	}
}
