// Package interop checks that Fern and the official nats-server work
// together. Its tests start both implementations embedded in the test
// process (through package harness), connect them to each other, and drive
// them with nats.go clients.
//
// The cluster tests build one cluster out of Fern and official servers
// and check, across every ordered pair of servers: the full mesh (an
// official server keeps exactly one route connection to a Fern peer,
// because Fern announces no route pool), exactly-once delivery for plain
// subscribers, queue groups and request/reply with headers, the RS+/RS-
// exchange on the wire, restarts on the same route port, and which
// connection survives when two servers dial each other.
//
// Everything synchronises on events, never on sleeps: server state is
// polled with a bounded deadline (the mesh), and interest propagation is
// proven with probe messages, which relies on one ordering rule shared by
// both implementations: a server sends its RS+, RS- and RMSG to a peer in
// order on one connection. A subscription made after another on the same
// server is announced after it, so a probe that reaches the later one
// proves the publisher's server knows the earlier one; a probe published
// after data follows it on the same route, so its arrival proves the data
// has arrived.
//
// Where a failure needs the wire to be understood, a test puts a recording
// TCP proxy in front of a route port and logs the exchange (proxy_test.go).
package interop
