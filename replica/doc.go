// Package replica replicates state across the servers of a cluster with
// Raft, using go.etcd.io/raft/v3 as the consensus engine: this package
// writes no Raft of its own. It is what clustered JetStream stands on: one
// meta group (every JetStream server of the cluster) holds the stream and
// consumer assignments, and each replicated stream, and each of its
// consumers, is a group of its own over the servers it is placed on.
//
// # Pieces
//
// A Group is this server's member of one group. It needs three things
// from its host, each a small interface so the package runs in tests and
// on the fault harness without a server:
//
//   - a LogStore (logstore.go): the raft log, hard state and snapshot,
//     durable on every write. MemLog keeps it in memory; the server keeps
//     it in its own message store (checksums, crash recovery, group
//     commit).
//   - a StateMachine (interfaces.go): applies committed entries in order
//     and takes and restores snapshots.
//   - a Transport: carries raft's messages to the other members. On a
//     server it rides the route connections, so route TLS and
//     compression apply to it.
//
// Members are identified by raft IDs, PeerID(server name): the same
// server has the same ID in every group.
//
// # Who leads what
//
// Each group elects its own leader (PreVote and CheckQuorum on: a member
// back from a partition does not depose a working leader, and a leader
// cut off from a majority steps down within an election timeout). The
// meta leader answers the cluster-wide API; a stream's leader stores its
// publishes and answers its API; a consumer's leader delivers. Only the
// leader proposes: Propose on a follower is ErrNotLeader, so a caller
// always knows which member will answer.
//
// # One replicated publish
//
// The stream leader's ingest goroutine calls Propose with the message.
// The group's goroutine (group_run.go) receives it from raft in a Ready:
// it saves the new entry to the log (one fsync for every entry of that
// Ready: group commit), sends the append to the followers, each of which
// saves it (one fsync per Ready as well) before acknowledging. Once a
// majority, the leader included, has it durable, raft reports it
// committed; every member applies it to its state machine (the stream's
// store), and on the leader Propose returns the applied result: the
// stream sequence for the PubAck. Nothing is acknowledged that a majority
// does not hold durably, so losing any minority loses no acknowledged
// message.
//
// A proposal whose leader lost leadership before it was applied fails
// with ErrLeadershipLost: its outcome is unknown (the new leader may still
// commit it), as for a timeout, and a client retries with its message ID
// for deduplication.
//
// # Snapshots
//
// After SnapshotEntries applied entries the group snapshots the state
// machine and compacts the log, keeping KeepEntries behind the snapshot
// for followers slightly behind; a follower further behind, or a new one,
// receives the snapshot and then the tail.
package replica
