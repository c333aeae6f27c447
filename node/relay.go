package node

import (
	"sync"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/p2p"
)

// maxReceivedProposals bounds the proposal messages kept for relaying. The
// driver relays a proposal right after its Machine accepts it, so the
// last few suffice; each keeps its wire bytes (up to a block) alive until
// it is relayed or pushed out.
const maxReceivedProposals = 4

// receivedProposals remembers the last proposal messages received from
// peers, so that when the driver relays one of them it is sent as the
// bytes it arrived in (p2p.Switch.Relay) rather than encoded again. A
// message is found only by the very proposal and block values it was
// decoded into, which nothing modifies, so its bytes are their encoding.
// The zero value is ready to use; it is safe for concurrent use.
type receivedProposals struct {
	mu   sync.Mutex
	ring [maxReceivedProposals]*p2p.ProposalMessage
	next int
}

// remember keeps m, pushing out the oldest.
func (r *receivedProposals) remember(m *p2p.ProposalMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ring[r.next] = m
	r.next = (r.next + 1) % len(r.ring)
}

// take returns and forgets the message p and b were received in, or nil.
func (r *receivedProposals) take(p *chain.Proposal, b *chain.Block) *p2p.ProposalMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, m := range r.ring {
		if m != nil && m.Proposal == p && m.Block == b {
			r.ring[i] = nil
			return m
		}
	}
	return nil
}
