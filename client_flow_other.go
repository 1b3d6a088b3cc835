//go:build !linux

package fern

import "net"

// socketUnsent cannot read the kernel's send queue here: progress is
// seen when writes complete.
func socketUnsent(net.Conn) (int, bool) { return 0, false }
