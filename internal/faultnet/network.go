package faultnet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Errors.
var (
	// ErrHostDown is returned by a killed Host's Listen and Dial.
	ErrHostDown = errors.New("faultnet: host is down")
	// ErrUnknownHost is returned for an address no host of the network has.
	ErrUnknownHost = errors.New("faultnet: unknown host")
	// ErrAddrInUse is returned by Listen on a bound address.
	ErrAddrInUse = errors.New("faultnet: address already in use")
)

// Config configures a Network. Zero fields take the defaults.
type Config struct {
	// Seed drives every random choice of the network (DropProb).
	Seed uint64
	// Buffer is how many bytes one direction of a connection queues
	// before a write blocks (the socket buffers; default 256 KiB).
	Buffer int
	// Backlog is how many dialled connections wait for Accept before
	// further dials are refused (default 128).
	Backlog int
	// DialTimeout bounds Host.Dial (without a context) when a
	// blackholed link makes it hang (default 2 s).
	DialTimeout time.Duration
}

// Network is an in-process network of named hosts. Each host has a
// fixed IPv4 address (127.77.x.y, in order of first use; a loopback address, so that a
// dial that misses the hook by mistake still stays on this machine) that survives
// its restarts; listeners and connections carry *net.TCPAddr addresses,
// so code that announces ports from them works unchanged. Faults are set
// per link (a pair of host names) or per host (all of its links) and
// reach the open connections at once. It is safe for concurrent use.
type Network struct {
	cfg Config

	mu        sync.Mutex
	rng       *rand.Rand
	hosts     map[string]*Host // the live incarnation of each name
	ips       map[string]netip.Addr
	names     map[netip.Addr]string
	listeners map[netip.AddrPort]*listener
	pairs     map[*pair]struct{}
	links     map[linkKey]Fault
	hostFault map[string]Fault
	ports     map[string]int // next ephemeral port per host name
	changed   chan struct{}  // closed and replaced when faults change
}

// New returns an empty network.
func New(cfg Config) *Network {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 256 << 10
	}
	if cfg.Backlog <= 0 {
		cfg.Backlog = 128
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 2 * time.Second
	}
	return &Network{
		cfg:       cfg,
		rng:       rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		hosts:     map[string]*Host{},
		ips:       map[string]netip.Addr{},
		names:     map[netip.Addr]string{},
		listeners: map[netip.AddrPort]*listener{},
		pairs:     map[*pair]struct{}{},
		links:     map[linkKey]Fault{},
		hostFault: map[string]Fault{},
		ports:     map[string]int{},
		changed:   make(chan struct{}),
	}
}

// Host is one incarnation of a named host: it listens and dials. Kill
// ends the incarnation; Network.Host then returns a new one with the
// same name and address.
type Host struct {
	n      *Network
	name   string
	ip     netip.Addr
	dead   bool // guarded by n.mu
	frozen bool // guarded by n.mu
}

// Host returns the live incarnation of the host called name, creating
// the host on first use.
func (n *Network) Host(name string) *Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	if h := n.hosts[name]; h != nil {
		return h
	}
	ip, ok := n.ips[name]
	if !ok {
		k := len(n.ips) + 1
		ip = netip.AddrFrom4([4]byte{127, 77, byte(k >> 8), byte(k)})
		n.ips[name], n.names[ip] = ip, name
	}
	h := &Host{n: n, name: name, ip: ip}
	n.hosts[name] = h
	return h
}

// Name is the host's name.
func (h *Host) Name() string { return h.name }

// IP is the host's address.
func (h *Host) IP() netip.Addr { return h.ip }

// Addr is host:port for a port of this host, e.g. for a URL.
func (h *Host) Addr(port int) string { return net.JoinHostPort(h.ip.String(), strconv.Itoa(port)) }

// Alive reports whether this incarnation has not been killed.
func (h *Host) Alive() bool {
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	return !h.dead
}

// Freeze stops this incarnation's traffic at once, as the first instant
// of a power loss: nothing it wrote from now on (or had written and the
// peer had not read yet) is delivered, and it can no longer dial or be
// dialled. A test freezes a host, takes the crash clone of its
// filesystem, then kills it: whatever the peers saw was sent before the
// clone, so a PubAck they read is for data the clone has.
func (h *Host) Freeze() {
	n := h.n
	n.mu.Lock()
	h.frozen = true
	var ps []*pair
	for p := range n.pairs {
		if p.hosts[0] == h || p.hosts[1] == h {
			ps = append(ps, p)
		}
	}
	n.mu.Unlock()
	for _, p := range ps {
		p.setHold(true)
	}
}

// Kill ends this incarnation as a power loss would: its listeners close,
// every connection it has is reset, and its Listen and Dial fail from now
// on with ErrHostDown, so whatever still runs on it is cut off.
func (h *Host) Kill() {
	n := h.n
	n.mu.Lock()
	if h.dead {
		n.mu.Unlock()
		return
	}
	h.dead = true
	if n.hosts[h.name] == h {
		delete(n.hosts, h.name)
	}
	var lns []*listener
	for ap, l := range n.listeners {
		if l.h == h {
			delete(n.listeners, ap)
			lns = append(lns, l)
		}
	}
	var ps []*pair
	for p := range n.pairs {
		if p.hosts[0] == h || p.hosts[1] == h {
			ps = append(ps, p)
		}
	}
	n.mu.Unlock()
	for _, l := range lns {
		l.shut()
	}
	for _, p := range ps {
		p.breakWith(syscall.ECONNRESET)
	}
}

// resolveLocked parses host:port where host is an IP or a host name.
func (n *Network) resolveLocked(address string) (netip.AddrPort, error) {
	hs, ps, err := net.SplitHostPort(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("faultnet: bad port in %q", address)
	}
	ip, err := netip.ParseAddr(hs)
	if err != nil {
		var ok bool
		if ip, ok = n.ips[hs]; !ok {
			return netip.AddrPort{}, fmt.Errorf("%w: %s", ErrUnknownHost, hs)
		}
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// ephemeralLocked picks a free port of the host.
func (n *Network) ephemeralLocked(h *Host) int {
	for {
		p := n.ports[h.name]
		if p < 32768 || p >= 61000 {
			p = 32768
		}
		n.ports[h.name] = p + 1
		if n.listeners[netip.AddrPortFrom(h.ip, uint16(p))] == nil {
			return p
		}
	}
}

func tcpAddr(ap netip.AddrPort) *net.TCPAddr { return net.TCPAddrFromAddrPort(ap) }

// Listen binds host:port on this host (the host part may be the host's
// IP, its name, empty or unspecified; port 0 picks a free one).
func (h *Host) Listen(network, address string) (net.Listener, error) {
	n := h.n
	hs, ps, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if ip, err := netip.ParseAddr(hs); hs != "" && hs != h.name && (err != nil || (!ip.IsUnspecified() && ip != h.ip)) {
		return nil, fmt.Errorf("faultnet: listen %s on host %s (%s): not its address", address, h.name, h.ip)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("faultnet: bad port in %q", address)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if h.dead {
		return nil, &net.OpError{Op: "listen", Net: network, Err: ErrHostDown}
	}
	if port == 0 {
		port = n.ephemeralLocked(h)
	}
	ap := netip.AddrPortFrom(h.ip, uint16(port))
	if n.listeners[ap] != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: tcpAddr(ap), Err: ErrAddrInUse}
	}
	l := &listener{n: n, h: h, ap: ap, backlog: make(chan *conn, n.cfg.Backlog), done: make(chan struct{})}
	n.listeners[ap] = l
	return l, nil
}

// Dial connects with the network's DialTimeout. It has the signature
// of nats.CustomDialer, so nats.SetCustomDialer(host) puts a client on
// the network.
func (h *Host) Dial(network, address string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), h.n.cfg.DialTimeout)
	defer cancel()
	return h.DialContext(ctx, network, address)
}

// DialContext connects from this host to a listener at address (IP or
// host name, and port). A cut link refuses at once (EHOSTUNREACH); a
// blackholed one hangs until healed or ctx ends; no listener is
// ECONNREFUSED.
func (h *Host) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	n := h.n
	for {
		n.mu.Lock()
		ap, err := n.resolveLocked(address)
		if err != nil {
			n.mu.Unlock()
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		opErr := func(err error) error {
			return &net.OpError{Op: "dial", Net: network, Source: &net.TCPAddr{IP: h.ip.AsSlice()}, Addr: tcpAddr(ap), Err: err}
		}
		if h.dead || h.frozen {
			n.mu.Unlock()
			return nil, opErr(ErrHostDown)
		}
		f := n.effectiveLocked(h.name, n.names[ap.Addr()])
		if f.Cut {
			n.mu.Unlock()
			return nil, opErr(syscall.EHOSTUNREACH)
		}
		if !f.Blackhole {
			c, err := n.connectLocked(h, ap)
			n.mu.Unlock()
			if err != nil {
				return nil, opErr(err)
			}
			return c, nil
		}
		changed := n.changed
		n.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, opErr(fmt.Errorf("%w (blackholed)", context.DeadlineExceeded))
		}
	}
}

// connectLocked creates a pair to the listener at ap and queues its
// server end for Accept.
func (n *Network) connectLocked(h *Host, ap netip.AddrPort) (net.Conn, error) {
	l := n.listeners[ap]
	if l == nil || l.h.frozen {
		return nil, syscall.ECONNREFUSED
	}
	local := tcpAddr(netip.AddrPortFrom(h.ip, uint16(n.ephemeralLocked(h))))
	p := newPair(n, h, l.h, local, tcpAddr(ap))
	select {
	case l.backlog <- p.ends[1]:
	default:
		return nil, syscall.ECONNREFUSED
	}
	n.pairs[p] = struct{}{}
	return p.ends[0], nil
}

// forget drops a closed or broken pair from the registry.
func (n *Network) forget(p *pair) {
	n.mu.Lock()
	delete(n.pairs, p)
	n.mu.Unlock()
}

// Conns counts the open connections between hosts a and b.
func (n *Network) Conns(a, b string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := 0
	for p := range n.pairs {
		if p.involves(a, b) {
			k++
		}
	}
	return k
}

// listener is a bound address of a host.
type listener struct {
	n       *Network
	h       *Host
	ap      netip.AddrPort
	backlog chan *conn
	done    chan struct{}
	once    sync.Once
}

// Accept implements net.Listener.
func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.backlog:
		return c, nil
	case <-l.done:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: tcpAddr(l.ap), Err: net.ErrClosed}
	}
}

// Close implements net.Listener: the address is free again and the
// connections not yet accepted are reset.
func (l *listener) Close() error {
	l.n.mu.Lock()
	if l.n.listeners[l.ap] == l {
		delete(l.n.listeners, l.ap)
	}
	l.n.mu.Unlock()
	l.shut()
	return nil
}

func (l *listener) shut() {
	l.once.Do(func() { close(l.done) })
	for {
		select {
		case c := <-l.backlog:
			c.p.breakWith(syscall.ECONNRESET)
		default:
			return
		}
	}
}

// Addr implements net.Listener.
func (l *listener) Addr() net.Addr { return tcpAddr(l.ap) }
