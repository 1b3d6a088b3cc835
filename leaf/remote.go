package leaf

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"time"
)

// ErrBadURL is wrapped by ParseURL errors.
var ErrBadURL = errors.New("leaf: bad remote URL")

// DefaultPort is added to a remote URL without a port (official default).
const DefaultPort = "7422"

// URL is a parsed remote URL.
type URL struct {
	Scheme string // nats, nats-leaf, tls, ws, wss
	Host   string // host:port
	User   string
	Pass   string
	Path   string // WebSocket path
	// Remote is the index of the remote (in the configuration) the URL
	// came from; ParseURL leaves it 0 for the caller to set.
	Remote int
}

// String is the URL without credentials.
func (u URL) String() string { return u.Scheme + "://" + u.Host + u.Path }

// WebSocket reports whether the URL dials over WebSocket.
func (u URL) WebSocket() bool { return u.Scheme == "ws" || u.Scheme == "wss" }

// TLS reports whether the scheme asks for TLS (tls://, wss://).
func (u URL) TLS() bool { return u.Scheme == "tls" || u.Scheme == "wss" }

// Hostname is the host without the port (the TLS server name).
func (u URL) Hostname() string {
	h, _, err := net.SplitHostPort(u.Host)
	if err != nil {
		return u.Host
	}
	return h
}

// ParseURL reads a remote URL: nats://, nats-leaf://, tls://, ws://, wss://.
func ParseURL(s string) (URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return URL{}, fmt.Errorf("%w %q: %v", ErrBadURL, s, err)
	}
	switch u.Scheme {
	case "nats", "nats-leaf", "tls", "ws", "wss":
	default:
		return URL{}, fmt.Errorf("%w %q: scheme %q (want nats, nats-leaf, tls, ws or wss)", ErrBadURL, s, u.Scheme)
	}
	if u.Hostname() == "" {
		return URL{}, fmt.Errorf("%w %q: no host", ErrBadURL, s)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), DefaultPort)
	}
	r := URL{Scheme: u.Scheme, Host: host, Path: u.Path}
	if u.User != nil {
		r.User = u.User.Username()
		r.Pass, _ = u.User.Password()
	}
	return r, nil
}

// Dialer walks a remote's URLs: in order, moving to the next one after
// each failure or lost connection, with the reconnect interval plus random
// jitter in [0, interval) between attempts (as officially). After a hub
// refused the link (it answered, then closed it before the link was up:
// authorization, admission rules, TLS), the wait doubles with each
// refusal in a row, up to MaxInterval, jitter included: a refused leaf
// does not redial every second forever. Not safe for concurrent use.
type Dialer struct {
	URLs     []URL
	Interval time.Duration
	// MaxInterval caps the wait after refusals. Default (0): 30 times
	// Interval.
	MaxInterval time.Duration
	next        int
	refusals    int
}

// Next returns the URL to try now.
func (d *Dialer) Next() URL {
	u := d.URLs[d.next%len(d.URLs)]
	d.next++
	return u
}

// Refused records that the hub refused the last attempt.
func (d *Dialer) Refused() { d.refusals++ }

// Connected records a link that came up: the refusals are forgotten.
func (d *Dialer) Connected() { d.refusals = 0 }

// Refusals is how many attempts in a row the hubs refused.
func (d *Dialer) Refusals() int { return d.refusals }

// Delay is the wait before the next attempt.
func (d *Dialer) Delay() time.Duration {
	if d.Interval <= 0 {
		return 0
	}
	base := d.Interval
	if d.refusals > 0 {
		maxd := d.MaxInterval
		if maxd <= 0 {
			maxd = 30 * d.Interval
		}
		base = d.Interval << min(d.refusals, 20)
		if base <= 0 || base > maxd {
			base = maxd
		}
		return min(base+time.Duration(rand.Int64N(int64(base))), maxd)
	}
	return base + time.Duration(rand.Int64N(int64(base)))
}
