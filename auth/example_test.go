package auth_test

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/fernmq/fern/auth"
)

func ExampleParseCIDRList() {
	rules, err := auth.ParseCIDRList([]string{"192.168.1.0/24", "10.0.0.7", "fd00::/8"})
	if err != nil {
		panic(err)
	}
	// A dual-stack listener reports an IPv4 leaf in IPv4-mapped form.
	remote := &net.TCPAddr{IP: net.ParseIP("::ffff:192.168.1.20"), Port: 51234}
	addr, _ := auth.AddrFromNet(remote)
	rule, ok := rules.Match(addr)
	fmt.Println(addr, ok, rule)

	addr = netip.MustParseAddr("10.0.0.8")
	if !rules.Allow(addr) {
		fmt.Printf("leaf %s refused: not in allowed_leaf_cidrs %v\n", addr, rules)
	}

	_, err = auth.ParseCIDRList([]string{"10.0.0.0/33"})
	fmt.Println(err)
	// Output:
	// 192.168.1.20 true 192.168.1.0/24
	// leaf 10.0.0.8 refused: not in allowed_leaf_cidrs [10.0.0.7/32 192.168.1.0/24 fd00::/8]
	// auth: invalid CIDR "10.0.0.0/33": netip.ParsePrefix("10.0.0.0/33"): prefix length out of range
}
