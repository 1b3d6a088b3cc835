package store_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/fernmq/fern/store"
)

// This file kills a writing process with SIGKILL and checks that every
// message it had acknowledged as durable is there after a reopen. The
// child is this test binary run again (FERN_STORE_CRASH_CHILD=dir): it
// appends messages and, after each WaitDurable or Sync, writes the
// acknowledged sequence to its stdout (a pipe to the parent). The parent
// kills it mid-write after a number of acknowledgements, reopens the store
// and checks; then a new child continues on the same directory.

// crashPayload is the payload of sequence seq (checkable after recovery).
func crashPayload(seq uint64) []byte {
	return bytes.Repeat([]byte(strconv.FormatUint(seq, 36)+"."), 1+int(seq%40))
}

func TestCrashSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	var acked uint64
	deadline := time.Now().Add(8 * time.Second)
	for cycle := 0; cycle < 6 && time.Now().Before(deadline); cycle++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), "FERN_STORE_CRASH_CHILD="+dir, fmt.Sprintf("FERN_STORE_CRASH_MODE=%d", cycle%3))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a varying number of acknowledgements, while the
		// child keeps writing.
		want := 20 + cycle*37
		lines := bufio.NewScanner(out)
		n := 0
		for n < want && lines.Scan() {
			seq, err := strconv.ParseUint(lines.Text(), 10, 64)
			if err != nil {
				t.Fatalf("child said %q", lines.Text())
			}
			if seq <= acked {
				t.Fatalf("child acknowledged %d after %d", seq, acked)
			}
			acked = seq
			n++
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if n < want {
			t.Fatalf("cycle %d: child stopped after %d acks: %s", cycle, n, stderr.String())
		}

		s := mustOpen(t, store.FileConfig{Dir: dir, BlockSize: 64 << 10})
		st := s.State()
		if st.LastSeq < acked || st.FirstSeq != 1 {
			t.Fatalf("cycle %d: acknowledged up to %d, recovered %+v", cycle, acked, st)
		}
		var m store.Msg
		for seq := uint64(1); seq <= st.LastSeq; seq++ {
			if _, err := s.Load(seq, &m); err != nil {
				t.Fatalf("cycle %d: Load(%d) of %d (acked %d): %v", cycle, seq, st.LastSeq, acked, err)
			}
			if !bytes.Equal(m.Data, crashPayload(seq)) || m.Subject != "crash" {
				t.Fatalf("cycle %d: message %d is %q %q", cycle, seq, m.Subject, m.Data)
			}
		}
		if c := s.Corrupt(); len(c) > 0 {
			t.Fatalf("cycle %d: a killed process is not corruption: %v", cycle, c)
		}
		acked = st.LastSeq
		mustClose(t, s)
	}
}

// TestCrashChild is the child half of TestCrashSIGKILL.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("FERN_STORE_CRASH_CHILD")
	if dir == "" {
		t.Skip("child process helper")
	}
	mode, _ := strconv.Atoi(os.Getenv("FERN_STORE_CRASH_MODE"))
	cfg := store.FileConfig{Dir: dir, BlockSize: 64 << 10, Sync: store.SyncNone}
	if mode == 2 {
		cfg.Sync = store.SyncAlways
	}
	s, err := store.OpenFileStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		seq := s.State().LastSeq + 1
		if _, _, err := s.Store("crash", nil, crashPayload(seq)); err != nil {
			t.Fatal(err)
		}
		if i%5 != 0 {
			continue
		}
		switch mode {
		case 0:
			err = s.WaitDurable(context.Background(), seq)
		case 1:
			err = s.Sync()
		}
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(w, seq)
		w.Flush()
	}
}
