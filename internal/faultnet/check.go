package faultnet

import (
	"fmt"
	"slices"
	"strings"
)

// Msg is a message as a workload sees it: ID is unique per message
// (e.g. its payload or Nats-Msg-Id); Seq is the stream sequence when
// known (0: unknown, not compared).
type Msg struct {
	ID  string
	Seq uint64
}

func (m Msg) String() string {
	if m.Seq != 0 {
		return fmt.Sprintf("%s@%d", m.ID, m.Seq)
	}
	return m.ID
}

// Report is the result of Check.
type Report struct {
	Acked, Got int // how many were acknowledged and read back
	// Lost were acknowledged and never read back.
	Lost []Msg
	// Duplicated were read back more than once (Count times).
	Duplicated []Dup
	// Reordered were read back out of acknowledgement order: the fewest
	// messages whose removal leaves the rest in order, each with the
	// message it came after.
	Reordered []Reorder
	// SeqMismatch were read back at another sequence than acknowledged.
	SeqMismatch []Mismatch
	// Unacked were read back without an acknowledgement: allowed (a
	// publish can be stored and its PubAck lost with the connection).
	Unacked []Msg
}

// Dup is a duplicated message.
type Dup struct {
	Msg   Msg
	Count int
}

// Reorder is a message read back out of order: after a message
// acknowledged later (After), or else before one acknowledged earlier
// (Before).
type Reorder struct {
	Msg           Msg
	After, Before *Msg
}

// reorderOf describes the out-of-order read at k.
func reorderOf(firsts []int, msgs []Msg, k int) Reorder {
	ro := Reorder{Msg: msgs[k]}
	for j := k - 1; j >= 0; j-- {
		if firsts[j] > firsts[k] {
			ro.After = &msgs[j]
			return ro
		}
	}
	for j := k + 1; j < len(firsts); j++ {
		if firsts[j] < firsts[k] {
			ro.Before = &msgs[j]
			return ro
		}
	}
	return ro
}

func (ro Reorder) String() string {
	switch {
	case ro.After != nil:
		return fmt.Sprintf("%v(read after %v)", ro.Msg, *ro.After)
	case ro.Before != nil:
		return fmt.Sprintf("%v(read before %v)", ro.Msg, *ro.Before)
	}
	return ro.Msg.String()
}

// Mismatch is an acknowledged message read back at another sequence.
type Mismatch struct {
	Acked, Got Msg
}

// OK reports whether every acknowledged message was read back once, in
// order, at its sequence.
func (r Report) OK() bool {
	return len(r.Lost) == 0 && len(r.Duplicated) == 0 && len(r.Reordered) == 0 && len(r.SeqMismatch) == 0
}

// Check compares acked (in acknowledgement order) with got (in the order
// read back) and reports lost, duplicated, reordered and misplaced
// acknowledged messages.
func Check(acked, got []Msg) Report {
	r := Report{Acked: len(acked), Got: len(got)}
	ackIdx := make(map[string]int, len(acked))
	for i, m := range acked {
		ackIdx[m.ID] = i
	}
	count := make(map[string]int, len(got))
	var firsts []int // acked index of each first read of an acked message
	var firstMsgs []Msg
	for _, m := range got {
		count[m.ID]++
		if count[m.ID] == 2 {
			r.Duplicated = append(r.Duplicated, Dup{Msg: m})
		}
		if count[m.ID] > 1 {
			continue
		}
		i, ok := ackIdx[m.ID]
		if !ok {
			r.Unacked = append(r.Unacked, m)
			continue
		}
		if a := acked[i]; a.Seq != 0 && m.Seq != 0 && a.Seq != m.Seq {
			r.SeqMismatch = append(r.SeqMismatch, Mismatch{Acked: a, Got: m})
		}
		firsts = append(firsts, i)
		firstMsgs = append(firstMsgs, m)
	}
	for i := range r.Duplicated {
		r.Duplicated[i].Count = count[r.Duplicated[i].Msg.ID]
	}
	for _, m := range acked {
		if count[m.ID] == 0 {
			r.Lost = append(r.Lost, m)
		}
	}
	keep := longestIncreasing(firsts)
	for k := range firsts {
		if keep[k] {
			continue
		}
		r.Reordered = append(r.Reordered, reorderOf(firsts, firstMsgs, k))
	}
	return r
}

// longestIncreasing marks one longest strictly increasing subsequence of
// xs (patience sorting, O(n log n)).
func longestIncreasing(xs []int) []bool {
	tails := []int{} // index into xs of the smallest tail of each length
	prev := make([]int, len(xs))
	for i, x := range xs {
		j, _ := slices.BinarySearchFunc(tails, x, func(t, x int) int { return xs[t] - x })
		if j > 0 {
			prev[i] = tails[j-1]
		} else {
			prev[i] = -1
		}
		if j == len(tails) {
			tails = append(tails, i)
		} else {
			tails[j] = i
		}
	}
	keep := make([]bool, len(xs))
	if len(tails) > 0 {
		for i := tails[len(tails)-1]; i >= 0; i = prev[i] {
			keep[i] = true
		}
	}
	return keep
}

// String is a readable diff (at most 20 entries per kind).
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "acked %d, read back %d: lost %d, duplicated %d, reordered %d, seq mismatch %d, unacked %d",
		r.Acked, r.Got, len(r.Lost), len(r.Duplicated), len(r.Reordered), len(r.SeqMismatch), len(r.Unacked))
	list := func(title string, n int, item func(i int) string) {
		if n == 0 {
			return
		}
		fmt.Fprintf(&b, "\n  %s:", title)
		for i := range min(n, 20) {
			b.WriteString(" " + item(i))
		}
		if n > 20 {
			fmt.Fprintf(&b, " ... (%d more)", n-20)
		}
	}
	list("lost", len(r.Lost), func(i int) string { return r.Lost[i].String() })
	list("duplicated", len(r.Duplicated), func(i int) string {
		return fmt.Sprintf("%v(x%d)", r.Duplicated[i].Msg, r.Duplicated[i].Count)
	})
	list("reordered", len(r.Reordered), func(i int) string {
		return r.Reordered[i].String()
	})
	list("seq mismatch", len(r.SeqMismatch), func(i int) string {
		return fmt.Sprintf("%s(acked %d, read %d)", r.SeqMismatch[i].Acked.ID, r.SeqMismatch[i].Acked.Seq, r.SeqMismatch[i].Got.Seq)
	})
	list("unacked (allowed)", len(r.Unacked), func(i int) string { return r.Unacked[i].String() })
	return b.String()
}
