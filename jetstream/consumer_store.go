package jetstream

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"
)

// This file persists durable consumers of file streams:
//
//	<StoreDir>/streams/<stream>/consumers/<name>/meta.json   config and creation time
//	<StoreDir>/streams/<stream>/consumers/<name>/state.json  delivery and ack state
//
// Both are replaced atomically (stream_meta.go writeFileAtomic). The
// config is written on create and update; the state at most every
// consumerFlushEvery while it changes, and on Stop. A crash may lose the
// last acks, which only means redelivery (at-least-once, as official).
// Ephemeral consumers, memory streams and mem_storage consumers are not
// persisted.

const (
	consumersDirName  = "consumers"
	consumerStateName = "state.json"
)

type consumerMeta struct {
	Config  ConsumerConfig `json:"config"`
	Created time.Time      `json:"created"`
}

// consumerDir is where a consumer persists, "" when it does not.
func consumerDir(s *Stream, cfg *ConsumerConfig) string {
	if s.dir == "" || !cfg.IsDurable() || cfg.MemoryStorage {
		return ""
	}
	return filepath.Join(s.dir, consumersDirName, cfg.Name)
}

// writeConfig persists the config (no-op when not persisted).
func (c *consumer) writeConfig() error {
	if c.dir == "" {
		return nil
	}
	c.mu.Lock()
	body, err := json.MarshalIndent(consumerMeta{Config: *c.cfg, Created: c.created.UTC()}, "", "  ")
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%w: consumer: %w", ErrMeta, err)
	}
	return writeFileAtomic(c.m.e.cfg.FS, c.dir, metaName, body)
}

// flushLocked writes the state when it changed (c.mu held).
func (c *consumer) flushLocked(force bool) {
	if c.dir == "" || (!c.dirty && !force) {
		return
	}
	body, err := c.state.marshal()
	if err == nil {
		err = writeFileAtomic(c.m.e.cfg.FS, c.dir, consumerStateName, body)
	}
	if err != nil {
		c.m.e.log.Warn("JetStream consumer state not saved", "stream", c.stream, "consumer", c.name, "err", err)
		return
	}
	c.dirty = false
}

// removeFiles deletes a deleted consumer's directory.
func (c *consumer) removeFiles() {
	if c.dir == "" {
		return
	}
	if err := removeAllDurable(c.m.e.cfg.FS, c.dir); err != nil {
		c.m.e.log.Warn("JetStream consumer files not removed", "dir", c.dir, "err", err)
	}
}

// persistedConsumer is a consumer directory read back.
type persistedConsumer struct {
	name  string
	meta  consumerMeta
	state []byte // nil when there is no state file
}

// readConsumerDirs reads the persisted consumers of a stream; unreadable
// ones are logged and skipped.
func readConsumerDirs(s *Stream) []persistedConsumer {
	if s.dir == "" {
		return nil
	}
	root := filepath.Join(s.dir, consumersDirName)
	fsys := s.e.cfg.FS
	names, err := subdirs(fsys, root)
	if err != nil {
		return nil
	}
	var out []persistedConsumer
	for _, name := range names {
		dir := filepath.Join(root, name)
		p := persistedConsumer{name: name}
		body, err := readFile(fsys, filepath.Join(dir, metaName))
		if err == nil {
			err = json.Unmarshal(body, &p.meta)
		}
		if err != nil {
			s.e.log.Warn("JetStream consumer skipped", "dir", dir, "err", err)
			continue
		}
		if st, err := readFile(fsys, filepath.Join(dir, consumerStateName)); err == nil {
			p.state = st
		}
		out = append(out, p)
	}
	return out
}

// restore starts a persisted consumer.
func (m *consumerManager) restore(s *Stream, p persistedConsumer) error {
	cfg := p.meta.Config.Clone()
	if cfg.Name != p.name {
		return fmt.Errorf("jetstream: consumer name %q does not match its directory", cfg.Name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	sc := m.entryLocked(s)
	if p.state == nil {
		_, err := m.createLocked(sc, cfg, p.meta.Created)
		return err
	}
	state, err := restoreConsumerState(cfg, p.state)
	if err != nil {
		return err
	}
	c := m.newConsumer(s, cfg, state, p.meta.Created)
	c.dir = consumerDir(s, cfg)
	if err := c.subscribe(); err != nil {
		return err
	}
	m.addLocked(sc, c)
	c.prime()
	c.start()
	return nil
}
