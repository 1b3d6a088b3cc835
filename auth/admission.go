package auth

import (
	"net"
	"net/netip"
)

// Admission decides whether a leaf node connecting from addr may join.
// Implementations must be safe for concurrent use. The hub passes the
// address from AddrFromNet: unmapped, without zone, and the zero Addr when
// the connection's address is not an IP address.
type Admission interface {
	Allow(addr netip.Addr) bool
}

// AllowAll admits every address.
type AllowAll struct{}

// Allow reports true for every address.
func (AllowAll) Allow(netip.Addr) bool { return true }

// AdmissionFunc adapts an ordinary function to the Admission interface.
type AdmissionFunc func(addr netip.Addr) bool

// Allow calls f(addr).
func (f AdmissionFunc) Allow(addr netip.Addr) bool { return f(addr) }

var (
	_ Admission = AllowAll{}
	_ Admission = AdmissionFunc(nil)
	_ Admission = (*CIDRList)(nil)
)

// AddrFromNet extracts the IP address of a connection's address, as
// returned by net.Conn.RemoteAddr. It understands *net.TCPAddr, *net.UDPAddr
// and *net.IPAddr without allocating, and any other net.Addr whose String is
// "ip" or "ip:port" (custom transports). The result is normalized for
// matching: an IPv4-mapped IPv6 address becomes IPv4 (::ffff:1.2.3.4 is
// 1.2.3.4) and any zone is dropped. ok is false when a carries no IP address
// (nil, a Unix socket, an in-process pipe).
func AddrFromNet(a net.Addr) (addr netip.Addr, ok bool) {
	var ip net.IP
	switch a := a.(type) {
	case nil:
		return netip.Addr{}, false
	case *net.TCPAddr:
		if a == nil {
			return netip.Addr{}, false
		}
		ip = a.IP
	case *net.UDPAddr:
		if a == nil {
			return netip.Addr{}, false
		}
		ip = a.IP
	case *net.IPAddr:
		if a == nil {
			return netip.Addr{}, false
		}
		ip = a.IP
	default:
		return parseNetAddrString(a.String())
	}
	addr, ok = netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}, false
	}
	return normalize(addr), true
}

// parseNetAddrString reads the address of a net.Addr of unknown type from
// its String: "ip:port", "[ip%zone]:port" or a bare "ip".
func parseNetAddrString(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalize(ap.Addr()), true
	}
	if addr, err := netip.ParseAddr(s); err == nil {
		return normalize(addr), true
	}
	return netip.Addr{}, false
}

// normalize puts a peer address in the form rules are matched against:
// IPv4-mapped addresses become IPv4, and zones are dropped.
func normalize(addr netip.Addr) netip.Addr {
	return addr.Unmap().WithZone("")
}
