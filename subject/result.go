package subject

// Result receives the values that match a subject. It is owned by the caller
// and meant to be reused: Reset (and Match, which resets it) keeps the capacity
// of Plain, of Queues and of every group's Members, so that once the slices
// have grown to the largest result seen, matching allocates nothing.
//
// The order of Plain, of Queues and of each group's Members is unspecified.
// A value stored under several matching patterns appears once per pattern.
type Result[T comparable] struct {
	Plain  []T
	Queues []QueueGroup[T]
}

// QueueGroup is the set of matching members of one queue group. Exactly one
// member of a group should receive a given message.
type QueueGroup[T comparable] struct {
	Name    string // aliases the queue name stored in the Sublist
	Members []T    // never empty in a Result filled by Match
}

// Reset empties r, keeping all capacity. Elements are zeroed so that r does not
// keep removed values reachable.
func (r *Result[T]) Reset() {
	clear(r.Plain)
	r.Plain = r.Plain[:0]
	for i := range r.Queues {
		g := &r.Queues[i]
		clear(g.Members)
		g.Members = g.Members[:0]
		g.Name = ""
	}
	r.Queues = r.Queues[:0]
}

// Len returns the number of values in r: len(Plain) plus every group's members.
func (r *Result[T]) Len() int {
	n := len(r.Plain)
	for i := range r.Queues {
		n += len(r.Queues[i].Members)
	}
	return n
}

// Empty reports whether r holds no value at all.
func (r *Result[T]) Empty() bool {
	if len(r.Plain) > 0 {
		return false
	}
	for i := range r.Queues {
		if len(r.Queues[i].Members) > 0 {
			return false
		}
	}
	return true
}

// CopyFrom makes r an exact copy of src, reusing r's capacity. Group names are
// shared (strings are immutable); member slices are copied.
func (r *Result[T]) CopyFrom(src *Result[T]) {
	r.Reset()
	r.Plain = append(r.Plain, src.Plain...)
	for i := range src.Queues {
		g := r.appendGroup(src.Queues[i].Name)
		g.Members = append(g.Members, src.Queues[i].Members...)
	}
}

// group returns the group called name, adding an empty one if r has none.
func (r *Result[T]) group(name string) *QueueGroup[T] {
	for i := range r.Queues {
		if r.Queues[i].Name == name {
			return &r.Queues[i]
		}
	}
	return r.appendGroup(name)
}

// appendGroup adds an empty group called name, reusing the Members capacity
// left behind by Reset when there is one.
func (r *Result[T]) appendGroup(name string) *QueueGroup[T] {
	n := len(r.Queues)
	if n < cap(r.Queues) {
		r.Queues = r.Queues[:n+1]
	} else {
		r.Queues = append(r.Queues, QueueGroup[T]{})
	}
	g := &r.Queues[n]
	g.Name = name
	g.Members = g.Members[:0]
	return g
}
