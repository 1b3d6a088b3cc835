package auth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalidCIDR is wrapped by every error ParseCIDRList returns.
var ErrInvalidCIDR = errors.New("auth: invalid CIDR")

// CIDRList admits addresses inside any of its prefixes. The zero value (no
// prefixes) admits everything; so does a nil *CIDRList. A CIDRList is
// immutable and safe for concurrent use.
type CIDRList struct {
	// v4 and v6 hold the rules of each family as integer words, most
	// specific first; rules holds the same prefixes (v4's, then v6's) in
	// the same order, for Match and String.
	v4    []v4Rule
	v6    []v6Rule
	rules []netip.Prefix
	// invalid counts the invalid prefixes NewCIDRList was given. They
	// match nothing but still make the list restrictive: a list of bad
	// prefixes must not fail open.
	invalid int
}

// v4Rule is an IPv4 prefix: addr is inside when addr&mask == network.
type v4Rule struct{ network, mask uint32 }

// v6Rule is an IPv6 prefix as two 64-bit halves.
type v6Rule struct{ hi, lo, maskHi, maskLo uint64 }

// NewCIDRList returns a list admitting the addresses inside prefixes. It
// copies the slice, clears each prefix's host bits, stores IPv4-mapped IPv6
// prefixes (::ffff:a.b.c.d/96 and longer) as IPv4 ones and drops duplicates.
// An invalid prefix (such as the zero netip.Prefix) matches nothing but still
// counts as a rule, so a list given only invalid prefixes admits nothing.
func NewCIDRList(prefixes []netip.Prefix) *CIDRList {
	l := &CIDRList{}
	rules := make([]netip.Prefix, 0, len(prefixes))
	for _, p := range prefixes {
		if !p.IsValid() {
			l.invalid++
			continue
		}
		rules = append(rules, canonical(p))
	}
	slices.SortFunc(rules, compareRules)
	l.rules = slices.Clip(slices.Compact(rules))
	for _, p := range l.rules {
		if p.Addr().Is4() {
			l.v4 = append(l.v4, newV4Rule(p))
		} else {
			l.v6 = append(l.v6, newV6Rule(p))
		}
	}
	return l
}

// ParseCIDRList parses rules written as CIDR prefixes ("10.0.0.0/8",
// "fd00::/8") or bare addresses ("10.0.0.7" is 10.0.0.7/32, "::1" is
// ::1/128). Zones are refused. Every bad entry is reported, each in an error
// that wraps ErrInvalidCIDR and quotes the entry. No entries yield a list
// that admits everything.
func ParseCIDRList(entries []string) (*CIDRList, error) {
	prefixes := make([]netip.Prefix, 0, len(entries))
	var errs []error
	for _, e := range entries {
		p, err := parseRule(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w %q: %w", ErrInvalidCIDR, e, err))
			continue
		}
		prefixes = append(prefixes, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return NewCIDRList(prefixes), nil
}

// parseRule parses one entry of a rule list into a valid prefix.
func parseRule(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, errors.New("empty entry")
	}
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s) // refuses zones itself
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if addr.Zone() != "" {
		return netip.Prefix{}, errors.New("zones are not allowed: matching ignores them")
	}
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

// canonical masks a valid prefix and turns an IPv4-mapped one into IPv4.
func canonical(p netip.Prefix) netip.Prefix {
	p = p.Masked()
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// compareRules orders IPv4 before IPv6, then longer prefixes first, then by
// address: the first rule of a family containing an address is its most
// specific one.
func compareRules(a, b netip.Prefix) int {
	if a4, b4 := a.Addr().Is4(), b.Addr().Is4(); a4 != b4 {
		if a4 {
			return -1
		}
		return 1
	}
	if a.Bits() != b.Bits() {
		return b.Bits() - a.Bits()
	}
	return a.Addr().Compare(b.Addr())
}

func newV4Rule(p netip.Prefix) v4Rule {
	a := p.Addr().As4()
	mask := ^uint32(0) << (32 - p.Bits()) // a shift by 32 yields 0: /0
	return v4Rule{network: binary.BigEndian.Uint32(a[:]), mask: mask}
}

func newV6Rule(p netip.Prefix) v6Rule {
	hi, lo := words6(p.Addr())
	bits := p.Bits()
	return v6Rule{
		hi:     hi,
		lo:     lo,
		maskHi: ^uint64(0) << (64 - min(bits, 64)),
		maskLo: ^uint64(0) << (128 - max(bits, 64)),
	}
}

func words6(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// Allow reports whether addr is inside one of the list's prefixes, or true
// when the list has none. addr is normalized first (unmapped, zone dropped).
func (l *CIDRList) Allow(addr netip.Addr) bool {
	if l.admitsAll() {
		return true
	}
	return l.index(normalize(addr)) >= 0
}

// Match returns the prefix that admits addr (for logs), or ok=false. When
// several do, it is the most specific one. An empty list admits every
// address but has no rule to return, so Match reports ok=false for it.
func (l *CIDRList) Match(addr netip.Addr) (rule netip.Prefix, ok bool) {
	if l == nil {
		return netip.Prefix{}, false
	}
	if i := l.index(normalize(addr)); i >= 0 {
		return l.rules[i], true
	}
	return netip.Prefix{}, false
}

// index returns the position in l.rules of the first rule containing the
// normalized addr, or -1.
func (l *CIDRList) index(addr netip.Addr) int {
	switch {
	case addr.Is4():
		b := addr.As4()
		ip := binary.BigEndian.Uint32(b[:])
		for i, r := range l.v4 {
			if ip&r.mask == r.network {
				return i
			}
		}
	case addr.Is6():
		hi, lo := words6(addr)
		for i, r := range l.v6 {
			if hi&r.maskHi == r.hi && lo&r.maskLo == r.lo {
				return len(l.v4) + i
			}
		}
	}
	return -1
}

func (l *CIDRList) admitsAll() bool {
	return l == nil || (len(l.rules) == 0 && l.invalid == 0)
}

// Len returns the number of distinct valid prefixes in the list.
func (l *CIDRList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.rules)
}

// Prefixes returns a copy of the list's prefixes in matching order: IPv4
// first, each family from the most specific to the least.
func (l *CIDRList) Prefixes() []netip.Prefix {
	if l == nil || len(l.rules) == 0 {
		return nil
	}
	return slices.Clone(l.rules)
}

// String lists the prefixes for logs, in matching order:
// "[192.168.1.0/24 ::1/128]". Its entries parse back with ParseCIDRList to
// the same list. A list built from invalid prefixes says so with a trailing
// "(+N invalid)".
func (l *CIDRList) String() string {
	if l == nil {
		return "[]"
	}
	b := make([]byte, 0, 2+20*len(l.rules))
	b = append(b, '[')
	for i, p := range l.rules {
		if i > 0 {
			b = append(b, ' ')
		}
		b = p.AppendTo(b)
	}
	if l.invalid > 0 {
		if len(l.rules) > 0 {
			b = append(b, ' ')
		}
		b = append(b, "(+"...)
		b = strconv.AppendInt(b, int64(l.invalid), 10)
		b = append(b, " invalid)"...)
	}
	return string(append(b, ']'))
}
