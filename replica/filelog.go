package replica

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/fernmq/fern/store"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// FileLog is a LogStore on disk, in Fern's own message store. raft reads
// it through an in-memory copy (a raft.MemoryStorage holding the entries
// since the last compaction, the hard state and the snapshot); every
// write goes to disk first and returns once durable.
//
//	<Dir>/log/       a store.FileStore: entry i is message i (sequence =
//	                 raft index), the entry in protobuf; a new leader's
//	                 overwrite of an uncommitted tail is store Truncate
//	<Dir>/state      term, vote and commit, replaced atomically
//	<Dir>/snapshot   the latest snapshot, replaced atomically
//
// Each file ends with a CRC-32C of what precedes it; one that fails it is
// refused at open (ErrCorruptLog), never used.
//
// Durability per Save: the entries are fsynced through the store's group
// commit (one fsync for the whole Ready). The state file is rewritten
// (fsync and rename) only when the term or the vote changed, which raft
// requires before it sends anything: at elections, not per entry. The
// commit index is saved with it and at snapshots and Close, so after a
// crash it may be behind; raft learns it again from the leader, and the
// group never applies twice what the state machine already holds
// (StateMachine.Applied).
type FileLog struct {
	mem  *raft.MemoryStorage
	fsys store.FS
	dir  string
	log  store.Store

	term, vote uint64 // as on disk
}

// FileLogConfig configures OpenFileLog.
type FileLogConfig struct {
	// Dir holds the log's files; created if missing. Required.
	Dir string
	// FS is the filesystem (default store.OSFS); tests pass a CrashFS.
	FS store.FS
	// BlockSize is the store's block size (default: the store's).
	BlockSize int64
}

// ErrCorruptLog: a state or snapshot file failed its checksum.
var ErrCorruptLog = errors.New("replica: corrupt log file")

const (
	stateFile    = "state"
	snapshotFile = "snapshot"
	entrySubject = "e"
)

// checksum is the CRC-32C of b (crc32 keeps the table after its first
// use).
func checksum(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// OpenFileLog opens (or creates) the log in cfg.Dir and loads it.
func OpenFileLog(cfg FileLogConfig) (*FileLog, error) {
	if cfg.Dir == "" {
		return nil, errors.New("replica: a file log needs a directory")
	}
	if cfg.FS == nil {
		cfg.FS = store.OSFS{}
	}
	if err := mkdirDurable(cfg.FS, cfg.Dir); err != nil {
		return nil, fmt.Errorf("replica: %s: %w", cfg.Dir, err)
	}
	l := &FileLog{mem: raft.NewMemoryStorage(), fsys: cfg.FS, dir: cfg.Dir}
	var snapIndex uint64
	if b, err := l.readFile(snapshotFile); err != nil {
		return nil, err
	} else if b != nil {
		snap := &raftpb.Snapshot{}
		if err := proto.Unmarshal(b, snap); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorruptLog, l.path(snapshotFile), err)
		}
		if err := l.mem.ApplySnapshot(snap); err != nil {
			return nil, fmt.Errorf("replica: %s: %w", l.path(snapshotFile), err)
		}
		snapIndex = snap.GetMetadata().GetIndex()
	}
	var hs raftpb.HardState
	if b, err := l.readFile(stateFile); err != nil {
		return nil, err
	} else if b != nil {
		if err := proto.Unmarshal(b, &hs); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorruptLog, l.path(stateFile), err)
		}
		l.term, l.vote = hs.GetTerm(), hs.GetVote()
	}
	fsCfg := store.FileConfig{Dir: filepath.Join(cfg.Dir, "log"), FS: cfg.FS, Sync: store.SyncNone, BlockSize: cfg.BlockSize}
	ls, err := store.OpenFileStore(fsCfg)
	if err != nil {
		return nil, fmt.Errorf("replica: opening the log: %w", err)
	}
	l.log = ls
	if err := l.loadEntries(snapIndex); err != nil {
		ls.Close()
		return nil, err
	}
	// The commit index on disk may be behind; it is never ahead of the
	// entries, but clamp in case the tail was lost.
	last, _ := l.mem.LastIndex()
	if c := min(max(hs.GetCommit(), snapIndex), last); c != hs.GetCommit() {
		// A snapshot is committed by definition (a follower's state file
		// may predate the snapshot it received).
		hs.Commit = &c
	}
	if !raft.IsEmptyHardState(&hs) {
		if err := l.mem.SetHardState(&hs); err != nil {
			ls.Close()
			return nil, err
		}
	}
	return l, nil
}

// loadEntries copies the entries after the snapshot into memory.
func (l *FileLog) loadEntries(snapIndex uint64) error {
	st := l.log.State()
	var m store.Msg
	var ents []*raftpb.Entry
	for seq := max(st.FirstSeq, snapIndex+1); seq <= st.LastSeq && st.Msgs > 0; seq++ {
		if _, err := l.log.Load(seq, &m); err != nil {
			return fmt.Errorf("replica: loading log entry %d: %w", seq, err)
		}
		e := &raftpb.Entry{}
		if err := proto.Unmarshal(m.Data, e); err != nil || e.GetIndex() != seq {
			return fmt.Errorf("%w: entry %d does not decode", ErrCorruptLog, seq)
		}
		ents = append(ents, e)
	}
	if len(ents) == 0 {
		return nil
	}
	if first := ents[0].GetIndex(); first != snapIndex+1 {
		if snapIndex > 0 || first != 1 {
			// A gap between the snapshot and the entries: the log cannot
			// be used (it would claim entries it does not have).
			return fmt.Errorf("%w: entries start at %d after a snapshot at %d", ErrCorruptLog, first, snapIndex)
		}
	}
	return l.mem.Append(ents)
}

// InitialState implements raft.Storage.
func (l *FileLog) InitialState() (*raftpb.HardState, *raftpb.ConfState, error) {
	return l.mem.InitialState()
}

// Entries implements raft.Storage.
func (l *FileLog) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	return l.mem.Entries(lo, hi, maxSize)
}

// Term implements raft.Storage.
func (l *FileLog) Term(i uint64) (uint64, error) { return l.mem.Term(i) }

// LastIndex implements raft.Storage.
func (l *FileLog) LastIndex() (uint64, error) { return l.mem.LastIndex() }

// FirstIndex implements raft.Storage.
func (l *FileLog) FirstIndex() (uint64, error) { return l.mem.FirstIndex() }

// Snapshot implements raft.Storage.
func (l *FileLog) Snapshot() (*raftpb.Snapshot, error) { return l.mem.Snapshot() }

// Save implements LogStore.
func (l *FileLog) Save(hs *raftpb.HardState, ents []*raftpb.Entry) error {
	if len(ents) > 0 {
		first := ents[0].GetIndex()
		if last := l.log.State().LastSeq; first <= last {
			// A new leader overwrites an uncommitted tail.
			if _, err := l.log.Truncate(first - 1); err != nil {
				return fmt.Errorf("replica: truncating the log after %d: %w", first-1, err)
			}
		}
		var buf []byte
		for _, e := range ents {
			var err error
			buf, err = proto.MarshalOptions{}.MarshalAppend(buf[:0], e)
			if err != nil {
				return err
			}
			if err := l.log.StoreAt(entrySubject, nil, buf, e.GetIndex(), 0); err != nil {
				return fmt.Errorf("replica: writing log entry %d: %w", e.GetIndex(), err)
			}
		}
		if err := l.log.WaitDurable(context.Background(), ents[len(ents)-1].GetIndex()); err != nil {
			return fmt.Errorf("replica: syncing the log: %w", err)
		}
		if err := l.mem.Append(ents); err != nil {
			return err
		}
	}
	if !raft.IsEmptyHardState(hs) {
		if hs.GetTerm() != l.term || hs.GetVote() != l.vote {
			if err := l.writeState(hs); err != nil {
				return err
			}
		}
		if err := l.mem.SetHardState(hs); err != nil {
			return err
		}
	}
	return nil
}

// writeState replaces the state file.
func (l *FileLog) writeState(hs *raftpb.HardState) error {
	b, err := proto.Marshal(hs)
	if err != nil {
		return err
	}
	if err := l.writeFile(stateFile, b); err != nil {
		return err
	}
	l.term, l.vote = hs.GetTerm(), hs.GetVote()
	return nil
}

// saveCommit writes the state file with the current commit index.
func (l *FileLog) saveCommit() error {
	hs, _, err := l.mem.InitialState()
	if err != nil || raft.IsEmptyHardState(hs) {
		return err
	}
	return l.writeState(hs)
}

// ApplySnapshot implements LogStore: the snapshot replaces the log.
func (l *FileLog) ApplySnapshot(snap *raftpb.Snapshot) error {
	if err := l.writeSnapshot(snap); err != nil {
		return err
	}
	idx := snap.GetMetadata().GetIndex()
	if l.log.State().LastSeq > idx {
		if _, err := l.log.Truncate(idx); err != nil {
			return fmt.Errorf("replica: truncating the log to the snapshot at %d: %w", idx, err)
		}
	}
	if _, err := l.log.Compact(idx + 1); err != nil {
		return fmt.Errorf("replica: compacting the log to the snapshot at %d: %w", idx, err)
	}
	if err := l.log.Sync(); err != nil {
		return err
	}
	return l.mem.ApplySnapshot(snap)
}

// CreateSnapshot implements LogStore.
func (l *FileLog) CreateSnapshot(index uint64, cs *raftpb.ConfState, data []byte) error {
	snap, err := l.mem.CreateSnapshot(index, cs, data)
	if errors.Is(err, raft.ErrSnapOutOfDate) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := l.writeSnapshot(snap); err != nil {
		return err
	}
	return l.saveCommit()
}

// Compact implements LogStore.
func (l *FileLog) Compact(index uint64) error {
	if err := l.mem.Compact(index); err != nil && !errors.Is(err, raft.ErrCompacted) {
		return err
	}
	if _, err := l.log.Compact(index); err != nil {
		return fmt.Errorf("replica: compacting the log below %d: %w", index, err)
	}
	return nil
}

// Close saves the commit index and closes the store.
func (l *FileLog) Close() error {
	err := l.saveCommit()
	if cerr := l.log.Close(); err == nil {
		err = cerr
	}
	return err
}

func (l *FileLog) writeSnapshot(snap *raftpb.Snapshot) error {
	b, err := proto.Marshal(snap)
	if err != nil {
		return err
	}
	return l.writeFile(snapshotFile, b)
}

func (l *FileLog) path(name string) string { return filepath.Join(l.dir, name) }

// writeFile replaces name with body and its checksum, atomically.
func (l *FileLog) writeFile(name string, body []byte) error {
	b := binary.BigEndian.AppendUint32(append([]byte(nil), body...), checksum(body))
	if err := store.WriteFileAtomic(l.fsys, l.path(name), b); err != nil {
		return fmt.Errorf("replica: %w", err)
	}
	return nil
}

// readFile returns name's body, nil when it does not exist.
func (l *FileLog) readFile(name string) ([]byte, error) {
	path := l.path(name)
	st, err := l.fsys.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("replica: %s: %w", path, err)
	}
	f, err := l.fsys.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replica: %s: %w", path, err)
	}
	defer f.Close()
	b := make([]byte, st.Size())
	if n, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && n == len(b)) {
		return nil, fmt.Errorf("replica: %s: %w", path, err)
	}
	if len(b) < 4 || checksum(b[:len(b)-4]) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: %s fails its checksum", ErrCorruptLog, path)
	}
	return b[:len(b)-4], nil
}

// mkdirDurable creates dir and fsyncs it and every directory above it, so
// that a new log directory survives a power loss.
func mkdirDurable(fsys store.FS, dir string) error {
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if err := fsys.SyncDir(d); err != nil {
			return err
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}
