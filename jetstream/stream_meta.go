package jetstream

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fernmq/fern/store"
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

const metaName = "meta.json"

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
	return writeFileAtomic(s.e.cfg.FS, s.dir, metaName, body)
}

// readMeta reads a stream directory's meta.json.
func readMeta(fsys store.FS, dir string) (streamMeta, error) {
	var m streamMeta
	body, err := readFile(fsys, filepath.Join(dir, metaName))
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
	names, err := subdirs(e.cfg.FS, e.streamsDir())
	if err != nil {
		return fmt.Errorf("jetstream: read store dir: %w", err)
	}
	for _, name := range names {
		dir := filepath.Join(e.streamsDir(), name)
		meta, err := readMeta(e.cfg.FS, dir)
		if err != nil {
			e.log.Warn("JetStream stream skipped", "dir", dir, "err", err)
			continue
		}
		cfg, apiErr := normalizeConfig(meta.Config, false)
		switch {
		case apiErr != nil:
			e.log.Warn("JetStream stream skipped: invalid config", "dir", dir, "err", apiErr.Description)
			continue
		case cfg.Name != name:
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
