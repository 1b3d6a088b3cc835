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
// receiver's outbound buffer; the receiver is marked for a flush. When
// the read pass ends, each marked connection's writer is woken once and
// writes everything queued with one syscall. A receiver that falls behind
// by more than max_pending bytes, or whose write misses write_deadline, is
// closed as a slow consumer: publishers never wait for it.
//
// Lock order: Server.mu before client.mu; a client never holds its own mu
// while taking another client's.
package fern
