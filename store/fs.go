package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// FS is the small filesystem a FileStore works on. OSFS is the real one;
// CrashFS (NewCrashFS) keeps everything in memory and can simulate a power
// loss, so recovery is testable without a real disk.
//
// Paths are slash- or OS-separated as filepath accepts them. Files opened
// for writing append: File.Write always writes at the current end of the
// file, also after a Truncate (O_APPEND semantics).
type FS interface {
	// Create creates name (or truncates it) and opens it for reading and
	// appending.
	Create(name string) (File, error)
	// OpenAppend opens name for reading and appending, creating it if it
	// does not exist.
	OpenAppend(name string) (File, error)
	// Open opens an existing file read-only.
	Open(name string) (File, error)
	// Stat describes a file or directory.
	Stat(name string) (fs.FileInfo, error)
	// MkdirAll creates dir and any missing parents.
	MkdirAll(dir string, perm fs.FileMode) error
	// ReadDir lists the names in dir, sorted.
	ReadDir(dir string) ([]string, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// RemoveAll removes name and everything below it; a missing name is
	// not an error.
	RemoveAll(name string) error
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	// SyncDir makes the directory's entries (creations, renames,
	// removals) durable.
	SyncDir(dir string) error
	// Lock takes an exclusive lock on the file name (created if needed)
	// that lasts until the returned Closer is closed. It fails with an
	// error wrapping ErrLocked when anyone (this process or another)
	// holds it.
	Lock(name string) (io.Closer, error)
}

// File is an open file of an FS. ReadAt may be called concurrently with
// everything else; the other methods are called by one goroutine at a
// time, except that Sync may run alongside Write.
type File interface {
	io.ReaderAt
	// Write appends p at the end of the file.
	Write(p []byte) (int, error)
	// Sync makes the file's contents durable.
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Close() error
}

// OSFS is the operating system's filesystem.
type OSFS struct{}

var _ FS = OSFS{}

// Create implements FS.
func (OSFS) Create(name string) (File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
}

// OpenAppend implements FS.
func (OSFS) OpenAppend(name string) (File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
}

// Open implements FS.
func (OSFS) Open(name string) (File, error) { return os.Open(name) }

// Stat implements FS.
func (OSFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// MkdirAll implements FS.
func (OSFS) MkdirAll(dir string, perm fs.FileMode) error { return os.MkdirAll(dir, perm) }

// ReadDir implements FS.
func (OSFS) ReadDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

// Remove implements FS.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// RemoveAll implements FS.
func (OSFS) RemoveAll(name string) error { return os.RemoveAll(name) }

// Rename implements FS.
func (OSFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }

// SyncDir implements FS.
func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Lock implements FS with flock(2) on name: the lock belongs to the open
// file, so a second Lock fails even inside the same process, and the
// kernel drops it when the process dies.
func (OSFS) Lock(name string) (io.Closer, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, filepath.Dir(name))
		}
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	return f, nil
}

// sortedNames sorts and returns names (helper for FS implementations).
func sortedNames(names []string) []string {
	slices.Sort(names)
	return names
}

// WriteFileAtomic replaces path with data so that a crash leaves either
// the old file or the new one: a temporary file next to it, fsynced,
// renamed over it, and the directory fsynced.
func WriteFileAtomic(fsys FS, path string, data []byte) error {
	tmp := path + tmpExt
	f, err := fsys.Create(tmp)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", tmp, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, path)
	}
	if err == nil {
		err = fsys.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("store: write %s: %w", path, err)
	}
	return nil
}
