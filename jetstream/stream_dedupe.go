package jetstream

import (
	"time"

	"github.com/fernmq/fern/store"
)

// This file is the Nats-Msg-Id dedupe window: ids stored within the last
// duplicate_window, with the sequence each was stored at. It is owned by
// the stream's ingest goroutine. Entries expire lazily, oldest first, on
// every lookup; on restart the window is rebuilt by scanning the messages
// stored within it (rebuildDedupe).

type dedupeEntry struct {
	seq uint64
	ts  int64
}

type dedupeRec struct {
	id string
	ts int64
}

type dedupeWindow struct {
	ids   map[string]dedupeEntry
	order []dedupeRec // insertion (and so time) order; order[head:] live
	head  int
}

func newDedupeWindow() *dedupeWindow {
	return &dedupeWindow{ids: make(map[string]dedupeEntry)}
}

// expire drops the ids stored at or before now-window.
func (d *dedupeWindow) expire(now int64, window time.Duration) {
	cutoff := now - int64(window)
	for d.head < len(d.order) && d.order[d.head].ts <= cutoff {
		r := d.order[d.head]
		if e, ok := d.ids[r.id]; ok && e.ts == r.ts {
			delete(d.ids, r.id)
		}
		d.order[d.head] = dedupeRec{}
		d.head++
	}
	if d.head > 1024 && d.head*2 > len(d.order) {
		n := copy(d.order, d.order[d.head:])
		clear(d.order[n:])
		d.order, d.head = d.order[:n], 0
	}
}

// lookup returns the sequence id was stored at, if within the window.
func (d *dedupeWindow) lookup(id string, now int64, window time.Duration) (uint64, bool) {
	d.expire(now, window)
	e, ok := d.ids[id]
	return e.seq, ok
}

// add records id as stored at seq, time ts.
func (d *dedupeWindow) add(id string, seq uint64, ts int64) {
	d.ids[id] = dedupeEntry{seq: seq, ts: ts}
	d.order = append(d.order, dedupeRec{id: id, ts: ts})
}

func (d *dedupeWindow) len() int { return len(d.ids) }

// rebuildDedupe refills d from the messages stored after now-window, and
// returns the msg id of the last stored message ("" if none).
func rebuildDedupe(st store.Store, d *dedupeWindow, now int64, window time.Duration) string {
	var m store.Msg
	lastID := ""
	s := st.State()
	if s.Msgs == 0 {
		return ""
	}
	if last, err := st.LoadLast("", &m); err == nil {
		lastID = headerString(last.Header, hdrMsgID)
	}
	if window <= 0 {
		return lastID
	}
	start := seqAtTime(st, s, now-int64(window))
	for seq := start; seq <= s.LastSeq; {
		got, err := st.LoadNext("", seq, &m)
		if err != nil {
			break
		}
		if id := headerString(got.Header, hdrMsgID); id != "" && got.Time > now-int64(window) {
			d.add(id, got.Seq, got.Time)
		}
		seq = got.Seq + 1
	}
	return lastID
}

// seqAtTime returns the lowest stored sequence whose message was stored
// at or after ts (LastSeq+1 when none), by binary search over the
// sequence range: store times grow with the sequence.
func seqAtTime(st store.Store, s store.State, ts int64) uint64 {
	lo, hi := s.FirstSeq, s.LastSeq+1
	var m store.Msg
	for lo < hi {
		mid := lo + (hi-lo)/2
		got, err := st.LoadNext("", mid, &m)
		if err != nil {
			hi = mid
			continue
		}
		if got.Time >= ts {
			hi = mid
		} else {
			lo = got.Seq + 1
		}
	}
	return lo
}
