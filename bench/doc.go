// Package bench compares Fern with the official nats-server, both embedded
// in the same process and driven by the same nats.go client, so that every
// speed claim about Fern is a ratio measured within a single run on a single
// machine.
//
// This module is deliberately separate from the root module: it is the only
// place that imports github.com/nats-io/nats-server/v2, which must never
// become a dependency of Fern itself. Its layout is one package per concern:
//
//   - harness: the two targets (Fern and the official server) and the
//     workloads, each run for a fixed message count, bounded by a timeout and
//     synchronised on protocol events (flush round trips and delivery
//     counts), never on sleeps;
//   - cmd/compare: interleaved rounds of every workload against both targets,
//     printed as the markdown table quoted in the README;
//   - this package's bench_test.go: the same workloads as Go benchmarks with
//     /fern and /official sub-benchmarks.
//
// Interoperability tests between Fern and the official server (for example
// an official leaf node connected to a Fern hub) belong in their own package
// of this module.
package bench
