package store

import (
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// CrashFS is an in-memory FS that remembers what a power loss would keep:
// for every file the contents as of its last Sync, for every directory its
// entries as of its last SyncDir, and the ordered log of writes and
// truncates made since. CrashClone returns the filesystem as it would be
// after the power came back. It is safe for concurrent use.
//
// The model is pebble's vfs.NewCrashableMem/CrashClone: a file's data
// survives only up to its last Sync; a created, renamed or removed entry
// survives (or is undone) only if its directory was synced. Options let a
// crash keep a prefix of the unsynced operations, tear the next write, or
// flip a bit, to model writeback order, torn sectors and media errors.
type CrashFS struct {
	mu    sync.Mutex
	root  *memNode
	log   []memOp // unsynced writes and truncates, oldest first
	locks map[string]bool
}

type memNode struct {
	dir bool
	// Directories.
	children map[string]*memNode // now
	synced   map[string]*memNode // as of the last SyncDir
	// Files.
	data      []byte // now
	durable   []byte // as of the last Sync; never aliases data
	dirtyFrom int    // data[:dirtyFrom] == durable[:dirtyFrom]
	mtime     time.Time
}

// memOp is one unsynced change to a file: a write of data at off, or a
// truncate to size (data == nil).
type memOp struct {
	node *memNode
	off  int64
	data []byte
	size int64
}

// CrashOptions shape what a simulated power loss keeps.
type CrashOptions struct {
	// KeepOps is how many unsynced operations (writes and truncates, in
	// the order they happened, across all files) survive whole. Zero
	// drops all of them: only synced data comes back.
	KeepOps int
	// Tear, if positive, keeps the first Tear bytes of the write that
	// follows the kept operations (a torn write).
	Tear int
	// Flip, if set, flips one bit of a file after the crash.
	Flip *BitFlip
}

// BitFlip names one bit of one file.
type BitFlip struct {
	Name   string
	Offset int64
	Bit    uint8
}

var _ FS = (*CrashFS)(nil)

// NewCrashFS returns an empty in-memory filesystem.
func NewCrashFS() *CrashFS {
	return &CrashFS{root: newMemDir(), locks: map[string]bool{}}
}

func newMemDir() *memNode {
	return &memNode{dir: true, children: map[string]*memNode{}, synced: map[string]*memNode{}}
}

// UnsyncedOps is the number of writes and truncates a crash would drop.
func (c *CrashFS) UnsyncedOps() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.log)
}

// CrashClone returns a new CrashFS holding what a power loss now would
// leave behind (see CrashOptions). The receiver is unchanged. It panics if
// opts.Flip names a missing file or an offset outside it: a test bug.
func (c *CrashFS) CrashClone(opts CrashOptions) *CrashFS {
	c.mu.Lock()
	defer c.mu.Unlock()
	clones := map[*memNode]*memNode{}
	out := &CrashFS{root: cloneSynced(c.root, clones), locks: map[string]bool{}}
	for i, op := range c.log {
		n := clones[op.node]
		switch {
		case n == nil:
		case i < opts.KeepOps:
			n.apply(op.off, op.data, op.size)
		case i == opts.KeepOps && opts.Tear > 0 && op.data != nil:
			n.apply(op.off, op.data[:min(opts.Tear, len(op.data))], 0)
		}
	}
	for _, n := range clones {
		if !n.dir {
			n.durable = append([]byte(nil), n.data...)
			n.dirtyFrom = len(n.data)
		}
	}
	if f := opts.Flip; f != nil {
		if err := out.FlipBit(f.Name, f.Offset, f.Bit); err != nil {
			panic(err)
		}
	}
	return out
}

// cloneSynced copies the durable view of the tree below n.
func cloneSynced(n *memNode, clones map[*memNode]*memNode) *memNode {
	if !n.dir {
		m := &memNode{data: append([]byte(nil), n.durable...), mtime: n.mtime}
		clones[n] = m
		return m
	}
	m := newMemDir()
	clones[n] = m
	for name, child := range n.synced {
		cc := cloneSynced(child, clones)
		m.children[name] = cc
		m.synced[name] = cc
	}
	return m
}

// FlipBit flips one bit of a file, both in its current and its durable
// contents (a media error).
func (c *CrashFS) FlipBit(name string, off int64, bit uint8) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.lookup(name)
	if err != nil {
		return err
	}
	if n.dir || off < 0 || off >= int64(len(n.data)) {
		return fmt.Errorf("store: crashfs: flip %s@%d: out of range", name, off)
	}
	n.data[off] ^= 1 << (bit & 7)
	if off < int64(len(n.durable)) {
		n.durable[off] ^= 1 << (bit & 7)
	}
	return nil
}

// apply changes the current data: a write at off, or a truncate to size.
func (n *memNode) apply(off int64, data []byte, size int64) {
	if data == nil {
		if size <= int64(len(n.data)) {
			n.data = n.data[:size]
		} else {
			n.data = append(n.data, make([]byte, size-int64(len(n.data)))...)
		}
		n.dirtyFrom = min(n.dirtyFrom, int(size), len(n.data))
		return
	}
	if end := off + int64(len(data)); end > int64(len(n.data)) {
		n.data = append(n.data, make([]byte, end-int64(len(n.data)))...)
	}
	copy(n.data[off:], data)
	n.dirtyFrom = min(n.dirtyFrom, int(off))
}

func splitPath(name string) []string {
	p := filepath.ToSlash(filepath.Clean("/" + name))
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// lookup finds a node; c.mu is held.
func (c *CrashFS) lookup(name string) (*memNode, error) {
	n := c.root
	for _, part := range splitPath(name) {
		if !n.dir {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		next := n.children[part]
		if next == nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		n = next
	}
	return n, nil
}

// parent finds the directory holding name and name's last element.
func (c *CrashFS) parent(op, name string) (*memNode, string, error) {
	parts := splitPath(name)
	if len(parts) == 0 {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	dir, err := c.lookup(strings.Join(parts[:len(parts)-1], "/"))
	if err != nil || !dir.dir {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return dir, parts[len(parts)-1], nil
}

func (c *CrashFS) open(name string, create, trunc, write bool) (File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dir, base, err := c.parent("open", name)
	if err != nil {
		return nil, err
	}
	n := dir.children[base]
	switch {
	case n == nil && !create:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case n == nil:
		n = &memNode{mtime: time.Now()}
		dir.children[base] = n
	case n.dir && write:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	case trunc && len(n.data) > 0:
		c.log = append(c.log, memOp{node: n})
		n.apply(0, nil, 0)
	}
	return &memFile{fs: c, node: n, name: name, write: write}, nil
}

// Create implements FS.
func (c *CrashFS) Create(name string) (File, error) { return c.open(name, true, true, true) }

// OpenAppend implements FS.
func (c *CrashFS) OpenAppend(name string) (File, error) { return c.open(name, true, false, true) }

// Open implements FS.
func (c *CrashFS) Open(name string) (File, error) { return c.open(name, false, false, false) }

// Stat implements FS.
func (c *CrashFS) Stat(name string) (fs.FileInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.lookup(name)
	if err != nil {
		return nil, err
	}
	return memInfo{name: filepath.Base(name), size: int64(len(n.data)), dir: n.dir, mtime: n.mtime}, nil
}

// MkdirAll implements FS.
func (c *CrashFS) MkdirAll(dir string, _ fs.FileMode) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.root
	for _, part := range splitPath(dir) {
		next := n.children[part]
		if next == nil {
			next = newMemDir()
			n.children[part] = next
		} else if !next.dir {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: fs.ErrExist}
		}
		n = next
	}
	return nil
}

// ReadDir implements FS.
func (c *CrashFS) ReadDir(dir string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.lookup(dir)
	if err != nil {
		return nil, err
	}
	if !n.dir {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrInvalid}
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	return sortedNames(names), nil
}

// Remove implements FS.
func (c *CrashFS) Remove(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	dir, base, err := c.parent("remove", name)
	if err != nil {
		return err
	}
	n := dir.children[base]
	if n == nil {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	if n.dir && len(n.children) > 0 {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrInvalid}
	}
	delete(dir.children, base)
	return nil
}

// RemoveAll implements FS.
func (c *CrashFS) RemoveAll(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	dir, base, err := c.parent("remove", name)
	if err != nil {
		return nil
	}
	delete(dir.children, base)
	return nil
}

// Rename implements FS.
func (c *CrashFS) Rename(oldname, newname string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	odir, obase, err := c.parent("rename", oldname)
	if err != nil {
		return err
	}
	ndir, nbase, err := c.parent("rename", newname)
	if err != nil {
		return err
	}
	n := odir.children[obase]
	if n == nil {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	delete(odir.children, obase)
	ndir.children[nbase] = n
	return nil
}

// SyncDir implements FS.
func (c *CrashFS) SyncDir(dir string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.lookup(dir)
	if err != nil {
		return err
	}
	if !n.dir {
		return &fs.PathError{Op: "syncdir", Path: dir, Err: fs.ErrInvalid}
	}
	clear(n.synced)
	for name, child := range n.children {
		n.synced[name] = child
	}
	return nil
}

// Lock implements FS. Locks live in this CrashFS value only; a crash
// releases them.
func (c *CrashFS) Lock(name string) (io.Closer, error) {
	f, err := c.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	f.Close()
	key := filepath.Clean("/" + name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locks[key] {
		return nil, fmt.Errorf("%w: %s", ErrLocked, filepath.Dir(name))
	}
	c.locks[key] = true
	return memLock{c: c, key: key}, nil
}

type memLock struct {
	c   *CrashFS
	key string
}

func (l memLock) Close() error {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	delete(l.c.locks, l.key)
	return nil
}

// memFile is an open CrashFS file.
type memFile struct {
	fs     *CrashFS
	node   *memNode
	name   string
	write  bool
	closed bool
}

func (f *memFile) check(op string, write bool) error {
	switch {
	case f.closed:
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	case write && !f.write:
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrPermission}
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	if off >= int64(len(f.node.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	off := int64(len(f.node.data))
	f.fs.log = append(f.fs.log, memOp{node: f.node, off: off, data: append([]byte(nil), p...)})
	f.node.apply(off, p, 0)
	f.node.mtime = time.Now()
	return len(p), nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("truncate", true); err != nil {
		return err
	}
	f.fs.log = append(f.fs.log, memOp{node: f.node, size: size})
	f.node.apply(0, nil, size)
	return nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("sync", false); err != nil {
		return err
	}
	n := f.node
	keep := min(n.dirtyFrom, len(n.durable))
	n.durable = append(n.durable[:keep], n.data[keep:]...)
	n.dirtyFrom = len(n.data)
	log := f.fs.log[:0]
	for _, op := range f.fs.log {
		if op.node != n {
			log = append(log, op)
		}
	}
	clear(f.fs.log[len(log):])
	f.fs.log = log
	return nil
}

func (f *memFile) Stat() (fs.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("stat", false); err != nil {
		return nil, err
	}
	return memInfo{name: filepath.Base(f.name), size: int64(len(f.node.data)), mtime: f.node.mtime}, nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}

type memInfo struct {
	name  string
	size  int64
	dir   bool
	mtime time.Time
}

func (i memInfo) Name() string { return i.name }
func (i memInfo) Size() int64  { return i.size }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i memInfo) ModTime() time.Time { return i.mtime }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }
