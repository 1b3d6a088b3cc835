package jetstream

import (
	"encoding/json"
	"path/filepath"

	"github.com/fernmq/fern/store"
)

// This file keeps where each source stands across restarts.
//
//	StoreDir/streams/<name>/sources.json   {"stream_seq":N,"sources":{"<iname>":{"seq":..,"identity":..}}}
//
// The truth is in the stored messages: a sourced message carries its
// upstream sequence in its Nats-Stream-Source header, written in the same
// record, and a mirror's sequences are the upstream's. sources.json is a
// snapshot of durable positions at stream sequence stream_seq (written
// atomically at most every second), so recovery reads only the messages
// stored after it instead of scanning the whole stream; it also keeps the
// position of a source whose messages were all removed since (limits,
// workqueue acks). A snapshot is never ahead of the store: it is taken
// after the batch's durability point.

const sourcesName = "sources.json"

// recoverSources returns the position of every configured source (by
// index name) from sources.json and the messages stored after it. A
// mirror's position is the stream's last sequence.
func (s *Stream) recoverSources(cfg *StreamConfig) map[string]sourcePosition {
	pos := make(map[string]sourcePosition)
	st := s.st.State()
	if cfg.Mirror != nil {
		pos[sourceIName(cfg.Mirror)] = sourcePosition{Seq: st.LastSeq}
		if s.dir != "" {
			if snap, ok := s.readSnapshot(); ok {
				if p, ok := snap.Sources[sourceIName(cfg.Mirror)]; ok {
					pos[sourceIName(cfg.Mirror)] = sourcePosition{Seq: max(p.Seq, st.LastSeq), Identity: p.Identity}
				}
			}
		}
		return pos
	}
	from := uint64(0)
	if s.dir != "" {
		if snap, ok := s.readSnapshot(); ok {
			for k, v := range snap.Sources {
				pos[k] = v
			}
			from = snap.StreamSeq
		}
	}
	var m store.Msg
	for next := max(from+1, st.FirstSeq); next <= st.LastSeq; {
		got, err := s.st.LoadNext("", next, &m)
		if err != nil {
			break
		}
		next = got.Seq + 1
		v, ok := headerValue(got.Header, hdrStreamSource)
		if !ok {
			continue
		}
		iname, sseq, identity, ok := parseStreamSource(string(v))
		if !ok {
			continue
		}
		if p := pos[iname]; sseq > p.Seq {
			pos[iname] = sourcePosition{Seq: sseq, Identity: identity}
		}
	}
	return pos
}

// readSnapshot reads sources.json; ok is false when there is none or it
// does not parse (recovery then reads every stored message).
func (s *Stream) readSnapshot() (sourceSnapshot, bool) {
	var snap sourceSnapshot
	body, err := readFile(s.e.cfg.FS, filepath.Join(s.dir, sourcesName))
	if err != nil {
		return snap, false
	}
	if err := json.Unmarshal(body, &snap); err != nil {
		s.e.log.Warn("JetStream sources.json unreadable: recovering positions from the stored messages", "stream", s.name, "err", err)
		return sourceSnapshot{}, false
	}
	return snap, true
}

// writeSnapshot writes the latest durable snapshot if it is newer than
// the one on disk.
func (sg *sourcing) writeSnapshot() {
	snap := sg.snap.Load()
	if snap == nil || snap == sg.written {
		return
	}
	body, err := json.Marshal(snap)
	if err == nil {
		err = writeFileAtomic(sg.s.e.cfg.FS, sg.s.dir, sourcesName, body)
	}
	if err != nil {
		sg.s.e.log.Warn("JetStream sources.json not written", "stream", sg.s.name, "err", err)
		return
	}
	sg.written = snap
}
