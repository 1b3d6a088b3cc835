//go:build linux

package fern

import (
	"net"
	"syscall"
	"unsafe"
)

// socketUnsent is how many bytes the kernel holds in the connection's
// send queue (SIOCOUTQ), or false where that cannot be read (not a
// socket, such as an in-memory test network). A queue that shrinks is a
// peer that reads, seen long before the kernel wakes a blocked writer.
func socketUnsent(nc net.Conn) (int, bool) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var n int32
	var errno syscall.Errno
	if err := raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil || errno != 0 {
		return 0, false
	}
	return int(n), true
}
