package auth

import (
	"net"
	"net/netip"
	"testing"
)

// customAddr is a net.Addr of a type AddrFromNet does not know.
type customAddr struct{ s string }

func (a customAddr) Network() string { return "custom" }
func (a customAddr) String() string  { return a.s }

func TestAddrFromNet(t *testing.T) {
	tests := []struct {
		name string
		in   net.Addr
		want string // "" when ok must be false
	}{
		{"tcp v4", &net.TCPAddr{IP: net.IPv4(192, 168, 1, 5), Port: 7422}, "192.168.1.5"},
		{"tcp v4 4-byte", &net.TCPAddr{IP: net.IP{10, 0, 0, 1}}, "10.0.0.1"},
		{"tcp mapped", &net.TCPAddr{IP: net.ParseIP("::ffff:1.2.3.4")}, "1.2.3.4"},
		{"tcp v6", &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 7422}, "2001:db8::1"},
		{"tcp zone dropped", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}, "fe80::1"},
		{"udp", &net.UDPAddr{IP: net.ParseIP("::1")}, "::1"},
		{"ip", &net.IPAddr{IP: net.ParseIP("::ffff:8.8.8.8")}, "8.8.8.8"},
		{"custom ip:port", customAddr{"[::ffff:1.2.3.4]:80"}, "1.2.3.4"},
		{"custom zoned", customAddr{"[fe80::1%eth0]:80"}, "fe80::1"},
		{"custom bare", customAddr{"10.1.2.3"}, "10.1.2.3"},
		{"nil", nil, ""},
		{"nil tcp", (*net.TCPAddr)(nil), ""},
		{"nil udp", (*net.UDPAddr)(nil), ""},
		{"nil ip", (*net.IPAddr)(nil), ""},
		{"tcp no ip", &net.TCPAddr{Port: 1}, ""},
		{"tcp bad length", &net.TCPAddr{IP: net.IP{1, 2, 3}}, ""},
		{"unix", &net.UnixAddr{Name: "/tmp/sock", Net: "unix"}, ""},
		{"pipe", customAddr{"pipe"}, ""},
		{"ipnet is not a peer", &net.IPNet{IP: net.IP{10, 0, 0, 0}, Mask: net.CIDRMask(8, 32)}, ""},
	}
	for _, tt := range tests {
		got, ok := AddrFromNet(tt.in)
		if tt.want == "" {
			if ok || got.IsValid() {
				t.Errorf("%s: AddrFromNet = %v, %v; want invalid, false", tt.name, got, ok)
			}
			continue
		}
		if want := netip.MustParseAddr(tt.want); !ok || got != want {
			t.Errorf("%s: AddrFromNet = %v, %v; want %v, true", tt.name, got, ok, want)
		}
	}
}

func TestAddrFromNetPipe(t *testing.T) {
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	if a, ok := AddrFromNet(c1.RemoteAddr()); ok {
		t.Errorf("net.Pipe address gave %v", a)
	}
}

func TestAddrFromNetAllocatesNothing(t *testing.T) {
	for _, a := range []net.Addr{
		&net.TCPAddr{IP: net.ParseIP("::ffff:1.2.3.4"), Port: 7422},
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"},
	} {
		if n := testing.AllocsPerRun(200, func() { AddrFromNet(a) }); n != 0 {
			t.Errorf("AddrFromNet(%v): %v allocs, want 0", a, n)
		}
	}
}

func TestAdmissionImplementations(t *testing.T) {
	addr := netip.MustParseAddr("10.0.0.1")
	if !(AllowAll{}).Allow(addr) || !(AllowAll{}).Allow(netip.Addr{}) {
		t.Error("AllowAll refused an address")
	}
	var seen netip.Addr
	var adm Admission = AdmissionFunc(func(a netip.Addr) bool { seen = a; return a.Is6() })
	if adm.Allow(addr) || seen != addr || !adm.Allow(netip.IPv6Loopback()) {
		t.Error("AdmissionFunc does not call its function")
	}
}
