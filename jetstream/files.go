package jetstream

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/fernmq/fern/store"
)

// This file holds the engine's file operations outside the message
// stores: every one goes through Config.FS, so a test can run the engine
// on a store.CrashFS and simulate a power loss.
//
// The rules: a file that must survive is written to <name>.tmp, fsynced,
// renamed over <name>, and its directory fsynced (writeFileAtomic); a
// directory the engine creates is made durable by fsyncing every parent
// whose entries changed (mkdirDurable); a removal is followed by an fsync
// of the parent directory.

// writeFileAtomic replaces dir/name with body through a temporary file.
func writeFileAtomic(fsys store.FS, dir, name string, body []byte) error {
	if err := mkdirDurable(fsys, dir); err != nil {
		return fmt.Errorf("%w: %w", ErrMeta, err)
	}
	if err := store.WriteFileAtomic(fsys, filepath.Join(dir, name), body); err != nil {
		return fmt.Errorf("%w: %w", ErrMeta, err)
	}
	return nil
}

// mkdirDurable creates dir and its missing parents and fsyncs each
// directory that gained an entry, so the new directories survive a crash.
func mkdirDurable(fsys store.FS, dir string) error {
	dir = filepath.Clean(dir)
	var missing []string // dir first, then its missing parents
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := fsys.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		if p := filepath.Dir(d); p == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fsys.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if p := filepath.Dir(missing[i]); p != missing[i] {
			if err := fsys.SyncDir(p); err != nil {
				return fmt.Errorf("sync dir %s: %w", p, err)
			}
		}
	}
	return nil
}

// removeAllDurable removes path and everything below it, then fsyncs its
// parent so the removal survives a crash.
func removeAllDurable(fsys store.FS, path string) error {
	if err := fsys.RemoveAll(path); err != nil {
		return err
	}
	return fsys.SyncDir(filepath.Dir(filepath.Clean(path)))
}

// readFile reads a whole file of fsys.
func readFile(fsys store.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	body := make([]byte, fi.Size())
	n, err := f.ReadAt(body, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return body[:n], nil
}

// subdirs lists the directories in dir, sorted.
func subdirs(fsys store.FS, dir string) ([]string, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := names[:0]
	for _, n := range names {
		if fi, err := fsys.Stat(filepath.Join(dir, n)); err == nil && fi.IsDir() {
			out = append(out, n)
		}
	}
	return out, nil
}
