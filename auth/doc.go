// Package auth decides which leaf nodes a hub admits, by the source address
// of their connection.
//
// # Admission model
//
// A hub accepts a leaf connection, takes its remote address with
// AddrFromNet and asks an Admission whether that address may join. If the
// answer is no, the hub closes the connection before the leaf handshake and
// logs the address together with the rules it was checked against
// (CIDRList.String). Admission is only about where a connection comes from;
// credentials, if any, are checked afterwards by other means.
//
// The rules come from the configuration:
//
//	authorization {
//	    allowed_leaf_cidrs = ["192.168.1.0/24", "10.0.0.7", "fd00::/8", "::1"]
//	}
//
// Each entry is an IPv4 or IPv6 prefix in CIDR notation, or a bare address,
// which stands for that single host (/32 or /128). Host bits after the prefix
// length are cleared: "192.168.1.77/24" is the rule 192.168.1.0/24. Zones
// ("fe80::1%eth0") are refused in rules: matching ignores zones, so a zone in
// a rule would promise a restriction that is not enforced.
//
// # No list admits every address
//
// When no rule is configured (no allowed_leaf_cidrs, an empty list, the zero
// CIDRList or a nil *CIDRList) every leaf address is admitted, as if the
// admission check were not there. This keeps a hub without the option
// working as before. A list with at least one rule admits only the addresses
// inside one of its rules, and refuses everything else, including the zero
// netip.Addr that stands for a connection whose address is unknown (an
// in-process pipe, for example).
//
// # Address families
//
// IPv4 and IPv6 are matched separately. An IPv4 peer that reaches a dual-stack
// listener shows up as an IPv4-mapped IPv6 address (::ffff:192.168.1.5); it is
// unmapped first and then matches IPv4 rules only. Accordingly a rule written
// in mapped form (::ffff:192.168.1.0/120) is stored as the IPv4 rule
// 192.168.1.0/24. An IPv6 rule never admits an IPv4 peer: ::/0 is "every IPv6
// peer"; write both 0.0.0.0/0 and ::/0 to say "everyone" explicitly. Zones on
// peer addresses (link-local fe80::1%eth0) are dropped before matching.
//
// # Matching
//
// A CIDRList keeps its rules deduplicated, split by family and ordered from
// the most specific (longest prefix) to the least, with each rule stored as
// integer network and mask words. Allow is a linear scan of the rules of the
// peer's family with one AND and one compare per rule; it allocates nothing.
// A few hundred rules cost well under a microsecond, and Allow runs once per
// leaf connection. Match returns the same answer together with the rule that
// admitted the address, which is the most specific one, for logs. A CIDRList
// is immutable after construction and safe for concurrent use.
//
// # Replacing the admission policy
//
// Admission is a one-method interface so that an embedder can replace the
// CIDR rules with any policy: a lookup in an inventory service, a dynamic
// allow list, a rate limit. AdmissionFunc adapts a plain function, and
// AllowAll admits everyone. An implementation must be safe for concurrent
// use (several leaves may connect at once) and should return promptly: it
// runs before the leaf handshake, and a slow answer holds the connection.
// The address it receives is already normalized: unmapped and without zone.
package auth
