// Package leaf holds the parts of the leaf-node protocol that do not need a
// live server: the INFO and CONNECT documents a hub and a leaf exchange,
// remote URLs, and the order and pacing in which a leaf dials its hubs.
//
// A leaf node is a server that dials a hub (a server of the core cluster)
// and joins its interest graph through one connection: LS+ and LS- carry
// interest, LMSG and HMSG carry messages, both ways, with no account token
// (the connection is bound to one account). The server (package fern) owns
// the connections, which share the client read loop, outbound buffer and
// slow-consumer rule with their own op set (protocol.LeafOps).
//
// Rules followed here, checked against nats-server 2.15 (server/leafnode.go):
//   - The hub's INFO carries info_on_connect; after the leaf's CONNECT the
//     hub answers with an INFO carrying connect_info, then its interest.
//   - Each side sends its whole interest on connect, then deltas: LS+ on a
//     subject's first subscriber, LS- on its last, and the weight of a
//     queue group on every change.
//   - The leaf tells the hub only its local interest; the hub tells the leaf
//     everything it knows (local clients, routes, other leafs).
//   - Loop detection: each server announces $LDS.<id> on its leaf
//     connections; receiving its own marks a loop, refused with the
//     official -ERR, and the dialling side waits 30 s.
//   - A leaf redials with its reconnect interval plus random jitter,
//     forever, moving to the next URL after each failure.
package leaf
