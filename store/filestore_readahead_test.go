package store

import (
	"bytes"
	"fmt"
	"testing"
)

// Sequential loads are served from the read-ahead window: the bytes must
// be the right ones across block boundaries, records larger than the
// window, deletions and compaction (which replaces block files).
func TestReadAheadSequentialLoads(t *testing.T) {
	s, err := OpenFileStore(FileConfig{Dir: t.TempDir(), BlockSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	payload := func(seq uint64) []byte {
		n := int(seq%97) * 13
		if seq%500 == 0 {
			n = readAheadSize + 1000 // larger than a window
		}
		return bytes.Repeat([]byte{byte(seq)}, n)
	}
	const total = 4000
	for i := uint64(1); i <= total; i++ {
		if _, _, err := s.Store(fmt.Sprintf("ra.%d", i%5), []byte("NATS/1.0\r\nK: v\r\n\r\n"), payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(round string, live func(uint64) bool) {
		t.Helper()
		var m Msg
		next := uint64(1)
		for {
			_, err := s.LoadNext("", next, &m)
			if err == ErrEOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: LoadNext(%d): %v", round, next, err)
			}
			if !live(m.Seq) {
				t.Fatalf("%s: deleted %d served", round, m.Seq)
			}
			for skip := next; skip < m.Seq; skip++ {
				if live(skip) {
					t.Fatalf("%s: live %d skipped", round, skip)
				}
			}
			if m.Subject != fmt.Sprintf("ra.%d", m.Seq%5) || !bytes.Equal(m.Data, payload(m.Seq)) {
				t.Fatalf("%s: message %d has subject %q and %d bytes", round, m.Seq, m.Subject, len(m.Data))
			}
			next = m.Seq + 1
		}
		if next != total+1 && live(total) {
			t.Fatalf("%s: stopped at %d", round, next)
		}
	}
	all := func(uint64) bool { return true }
	check("first pass", all)
	check("second pass", all)
	check("warm window, then deletes", all)
	// Remove two of every three: blocks become more than half dead and are
	// rewritten (new files, new generation) by the writer.
	for seq := uint64(1); seq <= total; seq++ {
		if seq%3 != 1 {
			if _, err := s.Remove(seq); err != nil {
				t.Fatal(err)
			}
		}
	}
	rewritten := false
	s.mu.RLock()
	for _, b := range s.blocks {
		rewritten = rewritten || b.gen > 0
	}
	s.mu.RUnlock()
	if !rewritten {
		t.Fatal("no block was rewritten: the test does not cover compaction")
	}
	check("after compaction", func(seq uint64) bool { return seq%3 == 1 })
}
