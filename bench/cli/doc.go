// Package cli is an end-to-end test that drives the real `nats` command line
// tool (natscli v0.5.0) against an embedded Fern server.
//
// The package has no code of its own: everything lives in its tests. natscli
// is a tool dependency of the bench module (the `tool` directive in go.mod),
// so TestMain obtains the binary with `go tool -n nats`, which builds it from
// the module cache (or the Go module proxy) into the build cache on first use
// and reuses it afterwards. No manual install is needed, and the version is
// pinned by go.mod and go.sum like any other dependency.
//
// Every invocation of the binary runs under a deadline, with `--no-context`
// and an explicit `--server`, with HOME and XDG_CONFIG_HOME pointing at a
// per-test temporary directory and every NATS_* variable removed from its
// environment, so no user context or configuration is read or written.
//
// The tests synchronise on events, never on sleeps: a background `nats sub`
// or `nats reply` counts as ready once Fern reports its subscription through
// Server.NumSubscriptions (polled at a short interval, bounded by a
// deadline), and the nats.go side flushes its own subscriptions before the
// CLI publishes.
package cli
