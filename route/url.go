package route

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrBadURL is wrapped by ParseURL errors.
var ErrBadURL = errors.New("route: bad route URL")

// URL is a parsed route URL.
type URL struct {
	Host string // host:port
	User string
	Pass string
}

// ParseURL reads nats-route://[user:pass@]host:port (the schemes nats://
// and bare host:port are accepted too).
func ParseURL(s string) (URL, error) {
	if !strings.Contains(s, "://") {
		s = "nats-route://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return URL{}, fmt.Errorf("%w %q: %v", ErrBadURL, s, err)
	}
	switch u.Scheme {
	case "nats-route", "nats", "route":
	default:
		return URL{}, fmt.Errorf("%w %q: scheme %q", ErrBadURL, s, u.Scheme)
	}
	if _, port, err := net.SplitHostPort(u.Host); err != nil || port == "" {
		return URL{}, fmt.Errorf("%w %q: want host:port", ErrBadURL, s)
	}
	r := URL{Host: u.Host}
	if u.User != nil {
		r.User = u.User.Username()
		r.Pass, _ = u.User.Password()
	}
	return r, nil
}

// String is the URL without credentials.
func (u URL) String() string { return "nats-route://" + u.Host }

// Hostname is the host without the port (the TLS server name).
func (u URL) Hostname() string {
	h, _, err := net.SplitHostPort(u.Host)
	if err != nil {
		return u.Host
	}
	return h
}
