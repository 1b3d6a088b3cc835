package replica

import (
	"encoding/binary"
	"sync"
)

// A proposal's entry carries a 16-byte header ahead of the caller's data:
// the proposing member's ID and a sequence of its own. When the entry is
// applied, the member that proposed it finds its waiter by the sequence
// and hands it the state machine's result; the other members ignore the
// header. Sequences restart with the process: a waiter left from before a
// restart does not exist, so a stale match cannot happen.
const proposalHeader = 16

func encodeProposal(member, seq uint64, data []byte) []byte {
	b := make([]byte, proposalHeader+len(data))
	binary.BigEndian.PutUint64(b, member)
	binary.BigEndian.PutUint64(b[8:], seq)
	copy(b[proposalHeader:], data)
	return b
}

// decodeProposal splits an entry; ok is false for an entry too short to
// be a proposal (raft's empty entries at the start of each term).
func decodeProposal(b []byte) (member, seq uint64, data []byte, ok bool) {
	if len(b) < proposalHeader {
		return 0, 0, nil, false
	}
	return binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), b[proposalHeader:], true
}

// Result is what Propose returns: where the entry landed in the log and
// what the state machine's Apply returned for it.
type Result struct {
	Index uint64
	Value any
}

type outcome struct {
	res Result
	err error
}

// waiters are the proposals of this member not yet applied.
type waiters struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64]chan outcome
}

func (w *waiters) add() (uint64, chan outcome) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = make(map[uint64]chan outcome)
	}
	w.next++
	ch := make(chan outcome, 1)
	w.m[w.next] = ch
	return w.next, ch
}

func (w *waiters) done(seq uint64, o outcome) {
	w.mu.Lock()
	ch, ok := w.m[seq]
	delete(w.m, seq)
	w.mu.Unlock()
	if ok {
		ch <- o
	}
}

func (w *waiters) forget(seq uint64) {
	w.mu.Lock()
	delete(w.m, seq)
	w.mu.Unlock()
}

// failAll ends every waiting proposal with err.
func (w *waiters) failAll(err error) {
	w.mu.Lock()
	m := w.m
	w.m = nil
	w.mu.Unlock()
	for _, ch := range m {
		ch <- outcome{err: err}
	}
}
