package auth

import (
	"net/netip"
	"strconv"
	"testing"
)

// BenchmarkAllow measures Allow on lists of n IPv4 and n IPv6 rules: a hit
// and the worst cases, a miss that scans every rule of its family.
func BenchmarkAllow(b *testing.B) {
	probes := []struct{ name, addr string }{
		{"v4-miss", "10.255.1.1"},
		{"v4-mapped-miss", "::ffff:10.255.1.1"},
		{"v6-miss", "2001:db8:ffff::1"},
	}
	for _, n := range []int{10, 300} {
		l := benchList(n)
		hit := l.Prefixes()[n-1].Addr() // the least specific IPv4 rule: scanned last
		for _, p := range append(probes, struct{ name, addr string }{"v4-hit-last", hit.String()}) {
			addr := netip.MustParseAddr(p.addr)
			b.Run(p.name+"/"+strconv.Itoa(n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if l.Allow(addr) != (p.name == "v4-hit-last") {
						b.Fatal("wrong answer")
					}
				}
			})
		}
		// The naive scan over netip.Prefix.Contains, for comparison.
		rules := l.Prefixes()
		addr := netip.MustParseAddr("10.255.1.1")
		b.Run("naive-v4-miss/"+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, r := range rules {
					if r.Contains(addr) {
						b.Fatal("wrong answer")
					}
				}
			}
		})
	}
}
