package jetstream

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// This file persists a file stream's configuration:
//
//	StoreDir/streams/<name>/meta.json   {"config":{...},"created":"..."}
//	StoreDir/streams/<name>/msgs/       the store.FileStore
//
// meta.json is replaced atomically (write meta.json.tmp, fsync, rename,
// fsync the directory), so a crash leaves the old or the new config,
// never a torn one. Memory streams are not persisted: like the official
// single server, they do not survive a restart.

const (
	metaName = "meta.json"
	tmpExt   = ".tmp"
)

type streamMeta struct {
	Config  StreamConfig `json:"config"`
	Created time.Time    `json:"created"`
}

// writeMeta persists the stream's config (file streams only).
func (s *Stream) writeMeta(cfg *StreamConfig) error {
	if s.dir == "" {
		return nil
	}
	body, err := json.MarshalIndent(streamMeta{Config: *cfg, Created: s.created.UTC()}, "", "  ")
	if err != nil {
		return fmt.Errorf("%w: encode: %w", ErrMeta, err)
	}
	return writeFileAtomic(s.dir, metaName, body)
}

// writeFileAtomic writes dir/name through a temporary file.
func writeFileAtomic(dir, name string, body []byte) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("%w: %w", ErrMeta, err)
	}
	path := filepath.Join(dir, name)
	tmp := path + tmpExt
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMeta, err)
	}
	_, werr := f.Write(body)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("%w: %w", ErrMeta, werr)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMeta, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("%w: sync dir: %w", ErrMeta, err)
	}
	return nil
}

// readMeta reads a stream directory's meta.json.
func readMeta(dir string) (streamMeta, error) {
	var m streamMeta
	body, err := os.ReadFile(filepath.Join(dir, metaName))
	if err != nil {
		return m, fmt.Errorf("%w: %w", ErrMeta, err)
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %w", ErrMeta, dir, err)
	}
	return m, nil
}

// loadStreamsLocked opens every persisted stream and subscribes it. A
// directory without a readable meta.json (a create cut short by a crash)
// is logged and skipped, as is a stream whose config no longer validates
// or overlaps one already loaded; its files stay where they are.
func (e *Engine) loadStreamsLocked() error {
	entries, err := os.ReadDir(e.streamsDir())
	if err != nil {
		return fmt.Errorf("jetstream: read store dir: %w", err)
	}
	for _, ent := range entries {
		if !ent.IsDir() {
			continue
		}
		dir := filepath.Join(e.streamsDir(), ent.Name())
		meta, err := readMeta(dir)
		if err != nil {
			e.log.Warn("JetStream stream skipped", "dir", dir, "err", err)
			continue
		}
		cfg, apiErr := normalizeConfig(meta.Config, false)
		switch {
		case apiErr != nil:
			e.log.Warn("JetStream stream skipped: invalid config", "dir", dir, "err", apiErr.Description)
			continue
		case cfg.Name != ent.Name():
			e.log.Warn("JetStream stream skipped: name does not match its directory", "dir", dir, "name", cfg.Name)
			continue
		case cfg.Storage != FileStorage:
			continue
		case e.overlapsLocked(&cfg, ""):
			e.log.Warn("JetStream stream skipped: subjects overlap another stream", "stream", cfg.Name)
			continue
		}
		s, err := e.openStream(cfg, meta.Created)
		if err != nil {
			return fmt.Errorf("jetstream: open stream %q: %w", cfg.Name, err)
		}
		if err := s.subscribe(); err != nil {
			s.close(true)
			return err
		}
		e.streams[cfg.Name] = s
	}
	return nil
}

// overlapsLocked reports whether cfg's subjects collide with another
// stream's (except the stream called self).
func (e *Engine) overlapsLocked(cfg *StreamConfig, self string) bool {
	for name, s := range e.streams {
		if name == self {
			continue
		}
		for _, a := range s.cfg.Load().Subjects {
			for _, b := range cfg.Subjects {
				if subjectsCollide(a, b) {
					return true
				}
			}
		}
	}
	return false
}
