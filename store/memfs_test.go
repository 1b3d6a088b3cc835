package store_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/fernmq/fern/store"
)

// TestCrashFS checks the crash model itself: what a CrashClone keeps of
// file data and directory entries, and its tear and flip options.
func TestCrashFS(t *testing.T) {
	read := func(c *store.CrashFS, name string) string {
		t.Helper()
		f, err := c.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			return "<missing>"
		}
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fi, _ := f.Stat()
		b := make([]byte, fi.Size())
		f.ReadAt(b, 0)
		return string(b)
	}
	write := func(f store.File, s string) {
		t.Helper()
		if _, err := f.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	c := store.NewCrashFS()
	c.MkdirAll("/d", 0o755)
	c.SyncDir("/")
	f, _ := c.Create("/d/a")
	write(f, "hello ")
	if got := read(c.CrashClone(store.CrashOptions{}), "/d/a"); got != "<missing>" {
		t.Fatalf("entry without SyncDir survived: %q", got)
	}
	c.SyncDir("/d")
	if got := read(c.CrashClone(store.CrashOptions{}), "/d/a"); got != "" {
		t.Fatalf("unsynced data survived: %q", got)
	}
	f.Sync()
	write(f, "world")
	write(f, "!!")
	if c.UnsyncedOps() != 2 {
		t.Fatalf("UnsyncedOps = %d", c.UnsyncedOps())
	}
	for _, tc := range []struct {
		opts store.CrashOptions
		want string
	}{
		{store.CrashOptions{}, "hello "},
		{store.CrashOptions{KeepOps: 1}, "hello world"},
		{store.CrashOptions{KeepOps: 2}, "hello world!!"},
		{store.CrashOptions{Tear: 3}, "hello wor"},
		{store.CrashOptions{KeepOps: 1, Tear: 1}, "hello world!"},
		{store.CrashOptions{Flip: &store.BitFlip{Name: "/d/a", Offset: 0, Bit: 5}}, "Hello "},
	} {
		if got := read(c.CrashClone(tc.opts), "/d/a"); got != tc.want {
			t.Errorf("CrashClone(%+v) = %q, want %q", tc.opts, got, tc.want)
		}
	}
	if read(c, "/d/a") != "hello world!!" {
		t.Fatal("CrashClone changed the original")
	}

	// Truncate is an unsynced operation like a write.
	f.Sync()
	f.Truncate(5)
	if got := read(c.CrashClone(store.CrashOptions{}), "/d/a"); got != "hello world!!" {
		t.Fatalf("unsynced truncate survived: %q", got)
	}
	f.Sync()
	if got := read(c.CrashClone(store.CrashOptions{}), "/d/a"); got != "hello" {
		t.Fatalf("synced truncate lost: %q", got)
	}
	f.Close()

	// Renames and removals are undone without a directory sync.
	c.Rename("/d/a", "/d/b")
	c.Remove("/d/b")
	if got := read(c.CrashClone(store.CrashOptions{}), "/d/a"); got != "hello" {
		t.Fatalf("unsynced rename/remove survived: %q", got)
	}
	c.SyncDir("/d")
	if got := read(c.CrashClone(store.CrashOptions{}), "/d/a"); got != "<missing>" {
		t.Fatalf("synced remove undone: %q", got)
	}

	// Locks are exclusive until closed, and a crash releases them.
	l, err := c.Lock("/d/LOCK")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lock("/d/LOCK"); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Lock = %v", err)
	}
	if _, err := c.CrashClone(store.CrashOptions{}).Lock("/d/LOCK"); err != nil {
		t.Fatalf("Lock after crash = %v", err)
	}
	l.Close()
	l, err = c.Lock("/d/LOCK")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}
