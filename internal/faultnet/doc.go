// Package faultnet is the fault-injection harness of Fern's whole-topology
// tests: an in-process network whose links can be cut, blackholed,
// delayed or broken (Network, Host, Fault), a fault schedule drawn from a
// seed (Schedule), and a checker of acknowledged messages against what
// was read back (Check). It imports nothing of Fern's; the servers are
// wired onto it through fern.Options.Listen/Dial and, for JetStream, a
// store.CrashFS in fern.JetStreamOptions.FS.
//
// # The network
//
// New returns a Network; Network.Host(name) a host with a fixed address
// 10.77.x.y. Host.Listen and Host.DialContext have the signatures of
// fern.Options.Listen and Options.Dial; Host.Dial is a nats.CustomDialer.
// Connections are buffered both ways (Config.Buffer), honour deadlines,
// and carry *net.TCPAddr addresses. Faults apply to the open connections
// at once:
//
//	Cut        reset the connections (ECONNRESET/EHOSTUNREACH), refuse dials
//	Blackhole  deliver nothing, dials hang; on heal the held bytes arrive
//	Delay      latency per write
//	DropAfter  break each connection after N bytes
//	DropProb   break the connection on a write with probability p
//
// Host.Kill ends an incarnation (its listeners close, its connections
// reset, its later Listen and Dial fail), which is how a test crashes a
// server in-process: whatever goroutines the abandoned server still runs
// are cut off from the network, and its filesystem is replaced by a
// crash clone (store.CrashFS.CrashClone), so they cannot reach the new
// incarnation either.
//
// # Writing a fault test
//
// The topology builder lives in the root package's tests, because only
// tests may import the root (lint_test.go): fault_topology_test.go has
// startFaultTopology (N core servers in a full mesh, an optional leaf
// with remotes to all of them, JetStream on a CrashFS per server), and
// fault_test.go has examples. A test:
//
//  1. builds a topology: top := startFaultTopology(t, faultTopologyOptions{...});
//  2. draws a schedule: seed := faultSeeds(t) gives the seeds to run
//     (flag -fault.seed replays one, FERN_FAULT_SEEDS=n runs n), and
//     faultnet.NewSchedule(faultnet.ScheduleConfig{Seed: seed, ...});
//  3. runs its workload in a goroutine (clients connect with
//     top.connect, recording every PubAck it got);
//  4. applies the faults: sched.Run(ctx, top.apply);
//  5. heals: top.healAll waits until every server is back and linked;
//  6. checks: faultnet.Check(acked, readBack) and t.Fatal(report) when
//     !report.OK(), after logging the seed and the schedule.
//
// Everything random comes from a seed: the schedule from
// ScheduleConfig.Seed, the drops from Config.Seed. Thread interleavings
// are not replayed, so a replay reproduces the faults and their timing,
// not every byte.
package faultnet
