package subject

// This file holds the tree's building blocks: levels, nodes and the sets of
// values stored at a node. Everything here is guarded by Sublist.mu.

// level is one token position of the tree. Literal tokens are looked up in
// nodes; the '*' and '>' children are kept apart so that matching visits them
// without a map lookup.
type level[T comparable] struct {
	nodes map[string]*node[T]
	pwc   *node[T]
	fwc   *node[T]
}

// isEmpty reports whether l has no child at all.
func (l *level[T]) isEmpty() bool {
	return l == nil || (len(l.nodes) == 0 && l.pwc == nil && l.fwc == nil)
}

// child returns the child for tok, or nil.
func (l *level[T]) child(tok string) *node[T] {
	if len(tok) == 1 {
		switch tok[0] {
		case pwc:
			return l.pwc
		case fwc:
			return l.fwc
		}
	}
	return l.nodes[tok]
}

// addChild returns the child for tok, creating it if needed. tok must be a
// string the tree may keep (Insert copies the subject before calling).
func (l *level[T]) addChild(tok string) *node[T] {
	if n := l.child(tok); n != nil {
		return n
	}
	n := &node[T]{}
	switch {
	case len(tok) == 1 && tok[0] == pwc:
		l.pwc = n
	case len(tok) == 1 && tok[0] == fwc:
		l.fwc = n
	default:
		if l.nodes == nil {
			l.nodes = make(map[string]*node[T])
		}
		l.nodes[tok] = n
	}
	return n
}

// removeChild unlinks the child for tok.
func (l *level[T]) removeChild(tok string) {
	if len(tok) == 1 {
		switch tok[0] {
		case pwc:
			l.pwc = nil
			return
		case fwc:
			l.fwc = nil
			return
		}
	}
	delete(l.nodes, tok)
}

// node is the end of one pattern (or a step towards longer ones).
type node[T comparable] struct {
	next    *level[T]      // patterns with more tokens; nil when there are none
	subject string         // the full pattern ending here, set with the first value
	plain   memberSet[T]   // values without a queue group
	queues  []queueSubs[T] // one entry per queue group, never empty
	qindex  map[string]int // queue name -> index in queues, once there are many
}

// queueSubs is one queue group stored at a node.
type queueSubs[T comparable] struct {
	name    string
	members memberSet[T]
}

// indexThreshold is the size from which sets keep a map index next to their
// slice; below it a linear scan is faster and uses less memory.
const indexThreshold = 16

// isEmpty reports whether n holds no value and has no children.
func (n *node[T]) isEmpty() bool {
	return n.plain.len() == 0 && len(n.queues) == 0 && n.next.isEmpty()
}

// hasValues reports whether n holds at least one value.
func (n *node[T]) hasValues() bool {
	return n.plain.len() > 0 || len(n.queues) > 0
}

// findQueue returns the index of the group called name, or -1.
func (n *node[T]) findQueue(name string) int {
	if n.qindex != nil {
		if i, ok := n.qindex[name]; ok {
			return i
		}
		return -1
	}
	for i := range n.queues {
		if n.queues[i].name == name {
			return i
		}
	}
	return -1
}

// add stores v under queue ("" for none). It reports whether v was new.
func (n *node[T]) add(queue string, v T) bool {
	if queue == "" {
		return n.plain.add(v)
	}
	i := n.findQueue(queue)
	if i < 0 {
		i = len(n.queues)
		n.queues = append(n.queues, queueSubs[T]{name: queue})
		if n.qindex != nil {
			n.qindex[queue] = i
		} else if len(n.queues) > indexThreshold {
			n.qindex = make(map[string]int, len(n.queues))
			for j := range n.queues {
				n.qindex[n.queues[j].name] = j
			}
		}
	}
	return n.queues[i].members.add(v)
}

// remove deletes v stored under queue. It reports whether v was there.
func (n *node[T]) remove(queue string, v T) bool {
	if queue == "" {
		return n.plain.remove(v)
	}
	i := n.findQueue(queue)
	if i < 0 || !n.queues[i].members.remove(v) {
		return false
	}
	if n.queues[i].members.len() > 0 {
		return true
	}
	// The group is empty: swap the last group into its place.
	last := len(n.queues) - 1
	if n.qindex != nil {
		delete(n.qindex, n.queues[i].name)
		if i != last {
			n.qindex[n.queues[last].name] = i
		}
	}
	n.queues[i] = n.queues[last]
	n.queues[last] = queueSubs[T]{}
	n.queues = n.queues[:last]
	if len(n.queues) == 0 {
		n.queues, n.qindex = nil, nil
	}
	return true
}

// appendTo adds every value stored at n to r.
func (n *node[T]) appendTo(r *Result[T]) {
	r.Plain = append(r.Plain, n.plain.items...)
	for i := range n.queues {
		q := &n.queues[i]
		g := r.group(q.name)
		g.Members = append(g.Members, q.members.items...)
	}
}

// memberSet is an unordered set of values. The slice is what matching copies;
// the map index is only built for large sets, to keep add and remove O(1).
type memberSet[T comparable] struct {
	items []T
	index map[T]int
}

func (m *memberSet[T]) len() int { return len(m.items) }

// find returns the position of v, or -1.
func (m *memberSet[T]) find(v T) int {
	if m.index != nil {
		if i, ok := m.index[v]; ok {
			return i
		}
		return -1
	}
	for i, x := range m.items {
		if x == v {
			return i
		}
	}
	return -1
}

// add inserts v and reports whether it was new.
func (m *memberSet[T]) add(v T) bool {
	if m.find(v) >= 0 {
		return false
	}
	m.items = append(m.items, v)
	if m.index != nil {
		m.index[v] = len(m.items) - 1
	} else if len(m.items) > indexThreshold {
		m.index = make(map[T]int, len(m.items))
		for i, x := range m.items {
			m.index[x] = i
		}
	}
	return true
}

// remove deletes v and reports whether it was there.
func (m *memberSet[T]) remove(v T) bool {
	i := m.find(v)
	if i < 0 {
		return false
	}
	last := len(m.items) - 1
	if m.index != nil {
		delete(m.index, v)
		if i != last {
			m.index[m.items[last]] = i
		}
	}
	m.items[i] = m.items[last]
	var zero T
	m.items[last] = zero
	m.items = m.items[:last]
	switch {
	case len(m.items) == 0:
		m.items, m.index = nil, nil
	case m.index != nil && len(m.items) < indexThreshold/2:
		m.index = nil
	}
	return true
}
