package node

import (
	"sync"

	"github.com/quorumchain/quorumchain/p2p"
)

// peerHeights remembers the final height each connected peer last
// reported, for net_getPeers: the height of its last Status, or one below
// the height its last RoundStatus says it is deciding. The network records a height on
// the peer's own goroutine and forgets the peer when it leaves; prune drops
// entries of peers no longer connected (a Status that raced the
// disconnect), so the map holds at most one entry per connected peer plus
// the few since the last listing.
type peerHeights struct {
	mu sync.Mutex
	m  map[p2p.NodeID]uint64
}

func (h *peerHeights) record(id p2p.NodeID, height uint64) {
	h.mu.Lock()
	if h.m == nil {
		h.m = make(map[p2p.NodeID]uint64)
	}
	h.m[id] = height
	h.mu.Unlock()
}

func (h *peerHeights) forget(id p2p.NodeID) {
	h.mu.Lock()
	delete(h.m, id)
	h.mu.Unlock()
}

// of returns the heights of peers, in the order of peers (ok false where
// none is known), and forgets every peer not in peers.
func (h *peerHeights) of(peers []p2p.PeerInfo) (heights []uint64, known []bool) {
	heights, known = make([]uint64, len(peers)), make([]bool, len(peers))
	connected := make(map[p2p.NodeID]struct{}, len(peers))
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, p := range peers {
		connected[p.ID] = struct{}{}
		heights[i], known[i] = h.m[p.ID]
	}
	for id := range h.m {
		if _, ok := connected[id]; !ok {
			delete(h.m, id)
		}
	}
	return heights, known
}
