package route

// Interest counts a server's local subscriptions per (subject, queue) and
// says what to announce to peers when the count changes. It is not safe
// for concurrent use: the server guards it with its own lock.
type Interest struct {
	counts map[key]int32
}

type key struct{ subject, queue string }

// Change is an announcement for peers: Sub with Weight (RS+) or an
// unsubscribe (RS-).
type Change struct {
	Announce bool  // false: peers need not hear about it
	Sub      bool  // RS+ (true) or RS- (false)
	Weight   int32 // queue weight for RS+ of a queue group
}

// NewInterest returns an empty counter.
func NewInterest() *Interest { return &Interest{counts: make(map[key]int32)} }

// Add counts one more local subscription.
func (in *Interest) Add(subject, queue string) Change {
	k := key{subject, queue}
	n := in.counts[k] + 1
	in.counts[k] = n
	if queue == "" {
		if n > 1 {
			return Change{}
		}
		return Change{Announce: true, Sub: true}
	}
	return Change{Announce: true, Sub: true, Weight: n}
}

// Remove counts one local subscription less.
func (in *Interest) Remove(subject, queue string) Change {
	k := key{subject, queue}
	n, ok := in.counts[k]
	if !ok {
		return Change{}
	}
	n--
	if n <= 0 {
		delete(in.counts, k)
		return Change{Announce: true, Sub: false}
	}
	in.counts[k] = n
	if queue == "" {
		return Change{}
	}
	return Change{Announce: true, Sub: true, Weight: n}
}

// Each calls fn for every (subject, queue) with local interest, with the
// queue weight (0 for plain subjects): the snapshot a new peer is sent.
func (in *Interest) Each(fn func(subject, queue string, weight int32)) {
	for k, n := range in.counts {
		if k.queue == "" {
			fn(k.subject, "", 0)
		} else {
			fn(k.subject, k.queue, n)
		}
	}
}

// Len is the number of distinct (subject, queue) pairs.
func (in *Interest) Len() int { return len(in.counts) }
