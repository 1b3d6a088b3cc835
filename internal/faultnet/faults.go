package faultnet

import (
	"syscall"
	"time"
)

// Fault is what a link (or every link of a host) does to traffic. The
// zero Fault is a healthy link. A stream transport cannot lose bytes
// silently, so a drop breaks the connection (both ends see
// ECONNRESET), as a real network failure surfaces through TCP.
type Fault struct {
	// Cut resets the link's connections and refuses new dials
	// (EHOSTUNREACH) until healed.
	Cut bool
	// Blackhole keeps the connections open but delivers nothing until
	// healed (then the held bytes arrive, as TCP retransmits them); dials
	// hang until healed or their timeout. Peers find out only through
	// their own timeouts (PING/PONG), as in a real partition.
	Blackhole bool
	// Delay is added to every write before the peer can read it.
	Delay time.Duration
	// DropAfter, if positive, breaks each connection on the link once it
	// has carried this many bytes (both directions).
	DropAfter int64
	// DropProb is the probability, per write, that the connection breaks
	// instead.
	DropProb float64
}

// combine merges the faults of a link and of its two hosts.
func (f Fault) combine(g Fault) Fault {
	f.Cut = f.Cut || g.Cut
	f.Blackhole = f.Blackhole || g.Blackhole
	f.Delay += g.Delay
	if g.DropAfter > 0 && (f.DropAfter == 0 || g.DropAfter < f.DropAfter) {
		f.DropAfter = g.DropAfter
	}
	f.DropProb = max(f.DropProb, g.DropProb)
	return f
}

// linkKey names a link by its two host names, in order.
type linkKey struct{ a, b string }

func keyOf(a, b string) linkKey {
	if b < a {
		a, b = b, a
	}
	return linkKey{a, b}
}

// effectiveLocked is the fault between hosts a and b; n.mu is held. A
// host's connections to itself are never faulty.
func (n *Network) effectiveLocked(a, b string) Fault {
	if a == b {
		return Fault{}
	}
	return n.links[keyOf(a, b)].combine(n.hostFault[a]).combine(n.hostFault[b])
}

// SetLink sets the fault of the link between hosts a and b (the zero
// Fault heals it) and applies it to the open connections at once.
func (n *Network) SetLink(a, b string, f Fault) {
	n.mu.Lock()
	if f == (Fault{}) {
		delete(n.links, keyOf(a, b))
	} else {
		n.links[keyOf(a, b)] = f
	}
	n.applyLocked()
}

// SetHost sets a fault on every link of the host called name (the zero
// Fault clears it); it combines with the links' own faults.
func (n *Network) SetHost(name string, f Fault) {
	n.mu.Lock()
	if f == (Fault{}) {
		delete(n.hostFault, name)
	} else {
		n.hostFault[name] = f
	}
	n.applyLocked()
}

// Link returns the fault set on the link between a and b.
func (n *Network) Link(a, b string) Fault {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.links[keyOf(a, b)]
}

// Cut cuts the link between a and b; Heal heals it.
func (n *Network) Cut(a, b string) { n.SetLink(a, b, Fault{Cut: true}) }

// Heal clears every fault of the link between a and b.
func (n *Network) Heal(a, b string) { n.SetLink(a, b, Fault{}) }

// Blackhole makes the link between a and b deliver nothing.
func (n *Network) Blackhole(a, b string) { n.SetLink(a, b, Fault{Blackhole: true}) }

// Delay adds latency to every write on the link between a and b.
func (n *Network) Delay(a, b string, d time.Duration) { n.SetLink(a, b, Fault{Delay: d}) }

// Isolate cuts every link of a host; Rejoin clears that.
func (n *Network) Isolate(name string) { n.SetHost(name, Fault{Cut: true}) }

// Rejoin clears the host-wide fault of a host.
func (n *Network) Rejoin(name string) { n.SetHost(name, Fault{}) }

// Partition cuts every link between a host of one group and a host of
// another (hosts in no group keep their links).
func (n *Network) Partition(groups ...[]string) {
	n.mu.Lock()
	for i, g := range groups {
		for _, h := range groups[i+1:] {
			for _, a := range g {
				for _, b := range h {
					n.links[keyOf(a, b)] = Fault{Cut: true}
				}
			}
		}
	}
	n.applyLocked()
}

// HealAll clears every link and host fault.
func (n *Network) HealAll() {
	n.mu.Lock()
	clear(n.links)
	clear(n.hostFault)
	n.applyLocked()
}

// applyLocked brings the open connections in line with the faults and
// wakes blackholed dials; it releases n.mu.
func (n *Network) applyLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
	var cut []*pair
	type hold struct {
		p *pair
		h bool
	}
	var holds []hold
	for p := range n.pairs {
		f := n.effectiveLocked(p.hosts[0].name, p.hosts[1].name)
		if f.Cut {
			cut = append(cut, p)
		} else {
			holds = append(holds, hold{p, f.Blackhole || p.hosts[0].frozen || p.hosts[1].frozen})
		}
	}
	n.mu.Unlock()
	for _, p := range cut {
		p.breakWith(syscall.EHOSTUNREACH)
	}
	for _, h := range holds {
		h.p.setHold(h.h)
	}
}

// writePolicy decides a write of size bytes on p: the delay, and how
// many bytes may go before the connection breaks (size: all of them).
func (n *Network) writePolicy(p *pair, size int) (time.Duration, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f := n.effectiveLocked(p.hosts[0].name, p.hosts[1].name)
	if f.DropProb > 0 && n.rng.Float64() < f.DropProb {
		return f.Delay, 0
	}
	if f.DropAfter > 0 {
		left := f.DropAfter - p.carried.Load()
		if left < int64(size) {
			return f.Delay, int(max(left, 0))
		}
	}
	return f.Delay, size
}
