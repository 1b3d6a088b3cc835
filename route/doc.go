// Package route holds the parts of the cluster (route) protocol that do not
// need a live server: the INFO and CONNECT documents servers exchange, route
// URLs, the reconnect backoff, and the local-interest counter that decides
// when a server announces RS+ and RS- to its peers.
//
// The server (package fern) owns the connections: a route is a connection
// like a client's, sharing the read loop, the outbound buffer discipline and
// the slow-consumer rule, with its own op set (protocol.RouteOps).
//
// Wire compatibility with nats-server 2.15: Fern joins as a peer that does
// not pool routes, has no pinned accounts and no compression (INFO omits
// route_pool_size, compression and lnoc), so an official server keeps one
// connection per server pair and names the account in every RS+, RS- and
// RMSG. See shared/reference/protocol.md section 2.
//
// Protocol rules followed here, with the official source they come from:
//   - On connect each side sends its whole interest, then deltas (route.go
//     sendSubsToRoute).
//   - RS+ for a plain subject on its first local subscriber, RS- on the
//     last; a queue group re-sends RS+ with its new weight on every change
//     and RS- when it empties (route.go updateRouteSubscriptionMap).
//   - A message that arrived over a route is never forwarded to another
//     route (one hop in a full mesh).
package route
