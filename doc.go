// Package fern is an embeddable server for the NATS protocols.
//
// # Starting a server
//
//	s, err := fern.NewServer(&fern.Options{Port: -1}) // -1: an ephemeral port
//	if err != nil { ... }                             // bad options, or a feature not built yet
//	if err := s.Start(); err != nil { ... }           // the listener is bound when Start returns
//	fmt.Println(s.ClientURL())                        // nats://127.0.0.1:PORT
//	...
//	err = s.Shutdown(ctx)                             // flushes and closes every connection
//
// NewServer copies the Options (the caller's struct is never changed) and
// fills in the documented defaults. Start binds every listener before it
// returns, so a port in use is an error from Start. Ready is closed once
// the server accepts connections. Shutdown may be called more than once.
// The library never traps signals, exits the process or logs fatally; it
// logs through the *slog.Logger in Options (default: discard). Two servers
// in one process share no state.
//
// Configuration files in the NATS format are read with ReadConfigFile.
//
// # The data path
//
// Every connection has a read goroutine and a write goroutine. The read
// goroutine feeds the bytes it reads to a protocol.Parser, which calls
// back once per complete operation without allocating. A publish is
// matched against the server's subject.Sublist (the interest table), and
// for every matching subscription the MSG bytes are appended to the
// receiver's outbound queue, a chain of 64 KiB blocks from the server's
// pool (client_outq.go); the receiver is marked for a flush. When the
// read pass ends, each marked connection's writer is woken once and
// writes what is queued with writev, in chunks of at most 128 KiB, and
// gives the blocks back to the pool.
//
// # Flow control
//
// Before reading again, the read goroutine waits for every receiver of
// its pass that holds more than FlowControl.StallPending bytes, as long as
// that receiver makes progress: a slow subscriber, route or leaf slows its
// publishers down, hop by hop through TCP, instead of being cut. One that
// makes no progress for StallWait is passed by until it moves. A client is
// closed as a slow consumer above max_pending or after write_deadline
// without progress; a route or leaf link is never closed for pending bytes
// (above LinkMaxPending its producers wait regardless), only by the write
// deadline. client_flow.go has the details and the comparison with the
// official server.
//
// Lock order: Server.mu before client.mu; a client never holds its own mu
// while taking another client's.
package fern
