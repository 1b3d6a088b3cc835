// Package harness runs the same nats.go workloads against Fern and against
// the official nats-server, each embedded in the calling process.
//
// A Target starts a fresh server on an ephemeral loopback port and returns
// its client URL and a stop function. A Workload connects its own nats.go
// clients to that URL, sets up subscriptions, and then runs a timed phase of
// a fixed number of messages. The timed phase never sleeps: it ends on
// events (the last expected delivery, or the PONG answering a flush), and it
// is bounded by Config.Timeout so a broken server fails the run instead of
// hanging it.
//
// Every workload checks its own delivery counts before it returns. The
// client-side callback counts show what the application saw. After a final
// flush round trip on every subscriber connection, the connection statistics
// (nats.Conn.Stats().InMsgs) show exactly how many MSG frames the server
// wrote: the server answers that PING only after the MSGs it had already
// queued for the connection. Any mismatch with the expected count (too few
// or too many) is an error wrapping ErrDelivery.
package harness
