package replica

import "hash/fnv"

// PeerID is the raft ID of the server named name: the same in every group
// and on every server, and never 0.
func PeerID(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	if id := h.Sum64(); id != 0 {
		return id
	}
	return 1
}
