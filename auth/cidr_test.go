package auth

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestCIDRListAllowMatch(t *testing.T) {
	type probe struct {
		addr string
		rule string // the rule Match returns; "" when the address is refused
	}
	tests := []struct {
		name   string
		rules  []string
		probes []probe
	}{
		{"v4 prefix", []string{"192.168.1.0/24"}, []probe{
			{"192.168.1.7", "192.168.1.0/24"},
			{"192.168.1.0", "192.168.1.0/24"},
			{"192.168.1.255", "192.168.1.0/24"},
			{"192.168.0.255", ""},
			{"192.168.2.0", ""},
			{"2001:db8::1", ""},
		}},
		{"v6 prefix", []string{"fd00::/8"}, []probe{
			{"fd12:3456::1", "fd00::/8"},
			{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fd00::/8"},
			{"fe00::", ""},
			{"fc00::1", ""},
			{"10.0.0.1", ""},
		}},
		{"bare v4 is /32", []string{"10.0.0.7"}, []probe{
			{"10.0.0.7", "10.0.0.7/32"},
			{"10.0.0.6", ""},
			{"10.0.0.8", ""},
		}},
		{"bare v6 is /128", []string{"::1"}, []probe{
			{"::1", "::1/128"},
			{"::", ""},
			{"::2", ""},
			{"127.0.0.1", ""},
		}},
		{"explicit /32 and /128", []string{"10.0.0.1/32", "2001:db8::1/128"}, []probe{
			{"10.0.0.1", "10.0.0.1/32"},
			{"10.0.0.0", ""},
			{"2001:db8::1", "2001:db8::1/128"},
			{"2001:db8::", ""},
		}},
		{"mapped peer matches v4 rule", []string{"1.2.3.0/24"}, []probe{
			{"::ffff:1.2.3.4", "1.2.3.0/24"},
			{"::ffff:1.2.4.4", ""},
			{"::1.2.3.4", ""}, // IPv4-compatible, not mapped: an IPv6 address
		}},
		{"mapped rule is a v4 rule", []string{"::ffff:1.2.3.0/120"}, []probe{
			{"1.2.3.4", "1.2.3.0/24"},
			{"::ffff:1.2.3.4", "1.2.3.0/24"},
			{"1.2.4.4", ""},
		}},
		{"bare mapped rule", []string{"::ffff:10.1.1.1"}, []probe{
			{"10.1.1.1", "10.1.1.1/32"},
			{"::ffff:10.1.1.1", "10.1.1.1/32"},
		}},
		{"mapped /96 is every v4", []string{"::ffff:0:0/96"}, []probe{
			{"8.8.8.8", "0.0.0.0/0"},
			{"::ffff:8.8.8.8", "0.0.0.0/0"},
			{"2001:db8::1", ""},
		}},
		{"v6 rules never admit v4 peers", []string{"::/0"}, []probe{
			{"2001:db8::1", "::/0"},
			{"::", "::/0"},
			{"1.2.3.4", ""},
			{"::ffff:1.2.3.4", ""},
		}},
		{"v4 /0 admits every v4 peer only", []string{"0.0.0.0/0"}, []probe{
			{"0.0.0.0", "0.0.0.0/0"},
			{"255.255.255.255", "0.0.0.0/0"},
			{"::ffff:1.2.3.4", "0.0.0.0/0"},
			{"2001:db8::1", ""},
		}},
		{"zones are dropped from peers", []string{"fe80::/10", "fe80::1"}, []probe{
			{"fe80::1%eth0", "fe80::1/128"},
			{"fe80::2%eth0", "fe80::/10"},
			{"fe80::2", "fe80::/10"},
		}},
		{"host bits are cleared", []string{"192.168.1.77/24", "2001:db8::ff/64"}, []probe{
			{"192.168.1.1", "192.168.1.0/24"},
			{"2001:db8::1", "2001:db8::/64"},
		}},
		{"most specific rule wins", []string{"10.0.0.0/8", "10.1.2.0/24", "10.1.0.0/16", "0.0.0.0/0"}, []probe{
			{"10.1.2.3", "10.1.2.0/24"},
			{"10.1.9.9", "10.1.0.0/16"},
			{"10.9.9.9", "10.0.0.0/8"},
			{"11.0.0.0", "0.0.0.0/0"},
		}},
		{"v4 bit edges /1 /31", []string{"128.0.0.0/1", "10.0.0.0/31"}, []probe{
			{"200.1.1.1", "128.0.0.0/1"},
			{"127.255.255.255", ""},
			{"10.0.0.1", "10.0.0.0/31"},
			{"10.0.0.2", ""},
		}},
		{"v6 bit edges /1 /63 /64 /65", []string{"8000::/1", "2001:db8:0:2::/63", "2001:db8:0:1::/64", "2001:db8:0:0:8000::/65"}, []probe{
			{"ffff::1", "8000::/1"},
			{"7fff::1", ""},
			{"2001:db8:0:3:ffff:ffff:ffff:ffff", "2001:db8:0:2::/63"},
			{"2001:db8:0:4::", ""},
			{"2001:db8:0:1:ffff:ffff:ffff:ffff", "2001:db8:0:1::/64"},
			{"2001:db8:0:0:8000::1", "2001:db8:0:0:8000::/65"},
			{"2001:db8::7fff:ffff:ffff:ffff", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseCIDRList(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.probes {
				addr := netip.MustParseAddr(p.addr)
				want := p.rule != ""
				if got := l.Allow(addr); got != want {
					t.Errorf("%v: Allow(%s) = %v, want %v", l, addr, got, want)
				}
				rule, ok := l.Match(addr)
				if ok != want || (want && rule != netip.MustParsePrefix(p.rule)) {
					t.Errorf("%v: Match(%s) = %v, %v; want %q", l, addr, rule, ok, p.rule)
				}
			}
		})
	}
}

func TestCIDRListEmptyAdmitsAll(t *testing.T) {
	empty, err := ParseCIDRList(nil)
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string]*CIDRList{
		"nil pointer":   nil,
		"zero value":    {},
		"NewCIDRList()": NewCIDRList(nil),
		"Parse(nil)":    empty,
	}
	addrs := []netip.Addr{{}, netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::1%eth0")}
	for name, l := range lists {
		for _, a := range addrs {
			if !l.Allow(a) {
				t.Errorf("%s: Allow(%v) = false, want true", name, a)
			}
			if rule, ok := l.Match(a); ok {
				t.Errorf("%s: Match(%v) = %v, true; an empty list has no rule", name, a, rule)
			}
		}
		if l.Len() != 0 || l.String() != "[]" || l.Prefixes() != nil {
			t.Errorf("%s: Len %d, String %q, Prefixes %v", name, l.Len(), l.String(), l.Prefixes())
		}
	}
}

func TestCIDRListRefusesZeroAddr(t *testing.T) {
	l, err := ParseCIDRList([]string{"0.0.0.0/0", "::/0"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Allow(netip.Addr{}) {
		t.Fatal("a non-empty list admitted the zero Addr (unknown peer)")
	}
}

func TestCIDRListStringCanonical(t *testing.T) {
	l, err := ParseCIDRList([]string{"::1", "10.0.0.0/8", "192.168.1.0/24", "10.0.0.0/8", "10.1.2.3/8", "fd00::/8", "::ffff:192.168.1.0/120"})
	if err != nil {
		t.Fatal(err)
	}
	const want = "[192.168.1.0/24 10.0.0.0/8 ::1/128 fd00::/8]"
	if got := l.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if l.Len() != 4 {
		t.Errorf("Len() = %d, want 4 (duplicates dropped)", l.Len())
	}
	again, err := ParseCIDRList(stringEntries(l.String()))
	if err != nil || again.String() != want {
		t.Errorf("round trip: %v, %v", again, err)
	}
}

func TestParseCIDRListInvalid(t *testing.T) {
	bad := []string{
		"",
		"10.0.0.0/33",
		"::/129",
		"10.0.0.0/-1",
		"10.0.0.0/08",
		"10.0.0.0/",
		"/8",
		"1.2.3",
		"256.0.0.1",
		"01.2.3.4",
		" 10.0.0.0/8",
		"10.0.0.0/8 ",
		"fe80::1%eth0",
		"fe80::1%eth0/64",
		"[::1]",
		"10.0.0.1:4222",
		"localhost",
		"10.0.0.0/8,10.1.0.0/16",
	}
	for _, e := range bad {
		l, err := ParseCIDRList([]string{"10.0.0.0/8", e})
		if l != nil || !errors.Is(err, ErrInvalidCIDR) {
			t.Errorf("ParseCIDRList(%q) = %v, %v; want nil and ErrInvalidCIDR", e, l, err)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(e)) {
			t.Errorf("error %q does not name the entry %q", err, e)
		}
	}
	// Every bad entry is reported, not only the first.
	_, err := ParseCIDRList([]string{"bad-one", "10.0.0.0/8", "10.0.0.0/99"})
	for _, e := range []string{`"bad-one"`, `"10.0.0.0/99"`} {
		if err == nil || !strings.Contains(err.Error(), e) {
			t.Errorf("error %v does not name %s", err, e)
		}
	}
}

func TestNewCIDRList(t *testing.T) {
	in := []netip.Prefix{netip.MustParsePrefix("10.1.2.3/8"), netip.MustParsePrefix("2001:db8::/32")}
	l := NewCIDRList(in)
	in[0] = netip.MustParsePrefix("11.0.0.0/8") // the list keeps its own copy
	if got, want := l.String(), "[10.0.0.0/8 2001:db8::/32]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	out := l.Prefixes()
	out[0] = netip.MustParsePrefix("12.0.0.0/8") // nor does Prefixes leak it
	if !l.Allow(netip.MustParseAddr("10.9.9.9")) || l.Allow(netip.MustParseAddr("12.0.0.1")) {
		t.Error("list changed through the slice Prefixes returned")
	}
}

func TestNewCIDRListInvalidPrefixFailsClosed(t *testing.T) {
	only := NewCIDRList([]netip.Prefix{{}})
	if only.Allow(netip.MustParseAddr("1.2.3.4")) || only.Allow(netip.MustParseAddr("::1")) {
		t.Error("a list of invalid prefixes admitted an address")
	}
	if only.Len() != 0 || only.String() != "[(+1 invalid)]" {
		t.Errorf("Len %d, String %q", only.Len(), only.String())
	}
	mixed := NewCIDRList([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), {}, netip.PrefixFrom(netip.MustParseAddr("1.2.3.4"), 40)})
	if !mixed.Allow(netip.MustParseAddr("10.0.0.1")) || mixed.Allow(netip.MustParseAddr("1.2.3.4")) {
		t.Error("invalid prefixes changed what valid ones admit")
	}
	if got, want := mixed.String(), "[10.0.0.0/8 (+2 invalid)]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestCIDRListModel compares Allow and Match on random lists with a naive
// oracle working on the prefixes as given.
func TestCIDRListModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for range 300 {
		prefixes := make([]netip.Prefix, rng.IntN(40))
		for i := range prefixes {
			prefixes[i] = randomPrefix(rng)
		}
		l := NewCIDRList(prefixes)
		for range 50 {
			addr := randomProbe(rng, prefixes)
			want, wantOK := naiveMatch(prefixes, addr)
			if got := l.Allow(addr); got != (wantOK || len(prefixes) == 0) {
				t.Fatalf("%v (from %v): Allow(%v) = %v, naive %v", l, prefixes, addr, got, wantOK)
			}
			if got, ok := l.Match(addr); ok != wantOK || got != want {
				t.Fatalf("%v (from %v): Match(%v) = %v, %v; naive %v, %v", l, prefixes, addr, got, ok, want, wantOK)
			}
		}
	}
}

// naiveMatch is the specification: the peer is unmapped and stripped of its
// zone; a rule contains it when netip says so, or, for a rule written in
// IPv4-mapped form, when the rule contains the peer's mapped form. The most
// specific containing rule wins, reported in canonical (IPv4) form.
func naiveMatch(prefixes []netip.Prefix, addr netip.Addr) (netip.Prefix, bool) {
	a := addr.Unmap().WithZone("")
	var best netip.Prefix
	bestBits := -1
	for _, p := range prefixes {
		mapped := p.Addr().Is4In6() && p.Bits() >= 96
		var in bool
		if mapped {
			in = a.Is4() && p.Contains(netip.AddrFrom16(a.As16()))
		} else {
			in = p.Contains(a)
		}
		if !in {
			continue
		}
		c := p.Masked()
		if mapped {
			c = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked()
		}
		if c.Bits() > bestBits {
			best, bestBits = c, c.Bits()
		}
	}
	return best, bestBits >= 0
}

// randomPrefix draws prefixes from a small address space so that rules
// overlap and probes hit them: 10.0.0.0/8-ish IPv4 (sometimes written
// mapped), 2001:db8::/32-ish IPv6, unmasked host bits, and invalid ones.
func randomPrefix(rng *rand.Rand) netip.Prefix {
	switch rng.IntN(10) {
	case 0:
		return netip.Prefix{}
	case 1, 2:
		a := randomAddr(rng, true)
		return netip.PrefixFrom(netip.AddrFrom16(a.As16()), 96+rng.IntN(33))
	case 3, 4, 5:
		return netip.PrefixFrom(randomAddr(rng, true), rng.IntN(33))
	default:
		return netip.PrefixFrom(randomAddr(rng, false), rng.IntN(129))
	}
}

func randomAddr(rng *rand.Rand, v4 bool) netip.Addr {
	if v4 {
		return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.UintN(256))})
	}
	var b [16]byte
	copy(b[:], []byte{0x20, 0x01, 0x0d, 0xb8})
	b[4], b[7], b[8], b[15] = byte(rng.IntN(2)), byte(rng.IntN(2)), byte(rng.IntN(2)), byte(rng.UintN(256))
	return netip.AddrFrom16(b)
}

// randomProbe returns a rule's address with a random bit flipped, or a
// random address, in plain, mapped or zoned form.
func randomProbe(rng *rand.Rand, prefixes []netip.Prefix) netip.Addr {
	var a netip.Addr
	if len(prefixes) > 0 && rng.IntN(4) > 0 {
		a = prefixes[rng.IntN(len(prefixes))].Addr().Unmap()
		if !a.IsValid() {
			a = randomAddr(rng, true)
		}
		b := a.AsSlice()
		bit := rng.IntN(len(b) * 8)
		b[bit/8] ^= 1 << (7 - bit%8)
		a, _ = netip.AddrFromSlice(b)
	} else {
		a = randomAddr(rng, rng.IntN(2) == 0)
	}
	switch rng.IntN(4) {
	case 0:
		if a.Is4() {
			a = netip.AddrFrom16(a.As16())
		}
	case 1:
		if a.Is6() {
			a = a.WithZone("eth0")
		}
	}
	return a
}

func TestAllowAllocatesNothing(t *testing.T) {
	l := benchList(50)
	probes := []netip.Addr{
		netip.MustParseAddr("10.3.3.3"),
		netip.MustParseAddr("172.16.0.1"),
		netip.MustParseAddr("::ffff:10.3.3.3"),
		netip.MustParseAddr("2001:db8::1"),
		netip.MustParseAddr("fe80::1%eth0"),
		{},
	}
	for _, a := range probes {
		n := testing.AllocsPerRun(200, func() {
			l.Allow(a)
			l.Match(a)
		})
		if n != 0 {
			t.Errorf("Allow/Match(%v): %v allocs, want 0", a, n)
		}
	}
}

// stringEntries splits CIDRList.String output back into entries.
func stringEntries(s string) []string {
	return strings.Fields(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
}

// benchList builds a list of n IPv4 /24..32 rules inside 10.0.0.0/8 and n
// IPv6 /48..128 rules inside 2001:db8::/32, none containing 10.255.0.0/16
// or 2001:db8:ffff::/48.
func benchList(n int) *CIDRList {
	rng := rand.New(rand.NewPCG(1, 2))
	prefixes := make([]netip.Prefix, 0, 2*n)
	for range n {
		v4 := netip.AddrFrom4([4]byte{10, byte(rng.IntN(255)), byte(rng.UintN(256)), byte(rng.UintN(256))})
		prefixes = append(prefixes, netip.PrefixFrom(v4, 24+rng.IntN(9)))
		var b [16]byte
		copy(b[:], []byte{0x20, 0x01, 0x0d, 0xb8, byte(rng.IntN(255))})
		for i := 5; i < 16; i++ {
			b[i] = byte(rng.UintN(256))
		}
		prefixes = append(prefixes, netip.PrefixFrom(netip.AddrFrom16(b), 48+rng.IntN(81)))
	}
	return NewCIDRList(slices.Clip(prefixes))
}
