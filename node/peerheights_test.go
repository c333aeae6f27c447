package node

import (
	"testing"

	"github.com/quorumchain/quorumchain/p2p"
)

// TestPeerHeightsForgetsGonePeers: heights are reported per connected peer
// in its order, unknown until a status arrives, and a status that raced a
// disconnect does not stay in the map past the next listing.
func TestPeerHeightsForgetsGonePeers(t *testing.T) {
	var h peerHeights
	a, b, gone := p2p.NodeID{1}, p2p.NodeID{2}, p2p.NodeID{3}
	h.record(a, 10)
	h.record(gone, 99)
	heights, known := h.of([]p2p.PeerInfo{{ID: a}, {ID: b}})
	if !known[0] || heights[0] != 10 || known[1] {
		t.Fatalf("got heights %v known %v, want [10 _] [true false]", heights, known)
	}
	if _, ok := h.m[gone]; ok {
		t.Fatalf("height of a peer no longer connected still held: %v", h.m)
	}
	h.record(b, 12)
	h.forget(a)
	heights, known = h.of([]p2p.PeerInfo{{ID: a}, {ID: b}})
	if known[0] || !known[1] || heights[1] != 12 {
		t.Fatalf("after forget: got heights %v known %v, want [_ 12] [false true]", heights, known)
	}
}
