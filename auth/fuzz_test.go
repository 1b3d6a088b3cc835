package auth

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseCIDRList parses comma-separated entries. It checks that parsing
// never panics; that a refused list names every bad entry; and that an
// accepted list round-trips through String and ParseCIDRList, admits each
// entry's own address, and agrees with the naive oracle on probes near it.
func FuzzParseCIDRList(f *testing.F) {
	for _, s := range []string{
		"",
		"192.168.1.0/24,::1",
		"10.0.0.0/8,10.1.0.0/16,10.1.2.3",
		"0.0.0.0/0,::/0",
		"1.2.3.4,1.2.3.4,1.2.3.4/32",
		"10.1.2.3/8",
		"::ffff:1.2.3.0/120",
		"::ffff:0:0/96",
		"::ffff:0:0/95",
		"::1.2.3.4",
		"2001:db8::/64,2001:db8::1,2001:db8:0:0:8000::/65",
		"fe80::1%eth0",
		"10.0.0.0/33",
		"::/129",
		",",
		"10.0.0.0/08",
		"[::1]",
		"1.2.3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var entries []string
		if s != "" {
			entries = strings.Split(s, ",")
		}
		l, err := ParseCIDRList(entries)
		if err != nil {
			if l != nil || !errors.Is(err, ErrInvalidCIDR) {
				t.Fatalf("error path: %v, %v", l, err)
			}
			for _, e := range entries {
				if _, bad := parseRule(e); bad != nil && !strings.Contains(err.Error(), strconv.Quote(e)) {
					t.Fatalf("error %q does not name %q", err, e)
				}
			}
			return
		}
		again, err := ParseCIDRList(stringEntries(l.String()))
		if err != nil || again.String() != l.String() || again.Len() != l.Len() || l.Len() > len(entries) {
			t.Fatalf("round trip of %q: %v -> %v, %v", entries, l, again, err)
		}
		prefixes := make([]netip.Prefix, len(entries))
		for i, e := range entries {
			prefixes[i], _ = parseRule(e)
		}
		for _, p := range prefixes {
			a := p.Masked().Addr()
			if !l.Allow(a) {
				t.Fatalf("%v refuses %v, the address of its own rule %v", l, a, p)
			}
			b := a.AsSlice()
			b[len(b)-1] ^= 1
			near, _ := netip.AddrFromSlice(b)
			for _, probe := range []netip.Addr{a, near, near.Unmap(), netip.AddrFrom16(near.Unmap().As16())} {
				want, wantOK := naiveMatch(prefixes, probe)
				if got, ok := l.Match(probe); got != want || ok != wantOK {
					t.Fatalf("%v: Match(%v) = %v, %v; naive %v, %v", l, probe, got, ok, want, wantOK)
				}
			}
		}
	})
}
