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
// 127.77.x.y. Host.Listen and Host.DialContext have the signatures of
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
// startFaultTopology (N core servers n1..nN in a full mesh of routes, an
// optional "leaf" whose remote lists every core, JetStream on a CrashFS
// per server, domains and per-server option tweaks), and fault_test.go
// has the examples. The path of one test:
//
//	runFaultSeeds(t, 3, func(t *testing.T, seed uint64) { // -fault.seed=N replays, FERN_FAULT_SEEDS=n runs more
//		top := startFaultTopology(t, faultTopologyOptions{Leaf: true, JetStream: true, Seed: seed})  // 1. build
//		sched := faultnet.NewSchedule(faultnet.ScheduleConfig{Seed: seed, Hosts: ..., Killable: ...}) // 2. draw
//		t.Cleanup(func() { if t.Failed() { t.Log(sched) } })
//		go workload(top.connect(t, "n1"))         // 3. run the workload, recording what was acknowledged
//		if err := sched.Run(ctx, top.apply); err != nil { t.Fatal(err) } // 4. apply the faults
//		top.heal(t)                               // 5. heal: every server up, mesh and leaf linked
//		if r := faultnet.Check(acked, readBack); !r.OK() { t.Fatal(r) } // 6. check
//	})
//
// top.connect(t, server) gives a nats.go client dialling through the
// network (nats.SetCustomDialer) from host "client"; top.kill and
// top.restart crash and restart a server on its crash clone; top.net is
// the Network for faults by hand. Check only what the system guarantees:
// JetStream keeps every acknowledged message; core NATS is at-most-once,
// so under faults check no duplicates and per-publisher order, and
// completeness only once healed with interest established.
//
// Everything random comes from a seed: the schedule from
// ScheduleConfig.Seed, the drops from Config.Seed. Thread interleavings
// are not replayed, so a replay reproduces the faults and their timing,
// not every byte.
package faultnet
