package node

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/p2p"
)

// TestReceivedProposalsByIdentity: a proposal message is found only by the
// very proposal and block it was decoded into, once, and only the last
// maxReceivedProposals are kept.
func TestReceivedProposalsByIdentity(t *testing.T) {
	var r receivedProposals
	msgs := make([]*p2p.ProposalMessage, maxReceivedProposals+1)
	for i := range msgs {
		msgs[i] = &p2p.ProposalMessage{Proposal: &chain.Proposal{Height: uint64(i + 1)}, Block: &chain.Block{Header: chain.Header{Height: uint64(i + 1)}}}
		r.remember(msgs[i])
	}
	if m := r.take(msgs[0].Proposal, msgs[0].Block); m != nil {
		t.Fatalf("the oldest of %d proposals is still kept", len(msgs))
	}
	last := msgs[len(msgs)-1]
	equalBlock := *last.Block
	if m := r.take(last.Proposal, &equalBlock); m != nil {
		t.Fatal("found by an equal block that is not the one received")
	}
	if m := r.take(msgs[1].Proposal, last.Block); m != nil {
		t.Fatal("found by another message's proposal")
	}
	if m := r.take(last.Proposal, last.Block); m != last {
		t.Fatalf("got %p, want the message received (%p)", m, last)
	}
	if m := r.take(last.Proposal, last.Block); m != nil {
		t.Fatal("a taken message is found again")
	}
	if m := r.take(msgs[1].Proposal, msgs[1].Block); m != msgs[1] {
		t.Fatalf("got %p, want %p", m, msgs[1])
	}
}
