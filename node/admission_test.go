package node

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
	"github.com/quorumchain/quorumchain/p2p"
)

// TestFarFutureMessagesStopAtPeerPath: proposals and votes of a far-future
// or past height, and those of the current height signed by a key outside
// its validator set, are dropped on the peer's goroutine before any
// signature is recovered and never reach the consensus loop; a member's
// vote of the current or next height does.
func TestFarFutureMessagesStopAtPeerPath(t *testing.T) {
	n, l := evidenceNetwork(t)
	peer := p2p.NodeID{3}
	outsider := ct.Key(77)
	far := uint64(1) << 62
	blk := ct.NewBlock(testChainID, far, ct.Address(77), 1)
	drop := []p2p.Message{
		&p2p.ProposalMessage{Proposal: ct.SignProposal(outsider, testChainID, far, 0, chain.NoPOLRound, blk.Hash()), Block: blk},
		&p2p.VoteMessage{Vote: ct.SignVote(ct.Key(1), testChainID, chain.Prevote, far, 0, chain.Hash{})},
		&p2p.VoteMessage{Vote: ct.SignVote(outsider, testChainID, chain.Prevote, 1, 0, chain.Hash{})},
		&p2p.VoteMessage{Vote: ct.SignVote(ct.Key(1), testChainID, chain.Prevote, 0, 0, chain.Hash{})},
		&p2p.VotesMessage{Votes: []*chain.Vote{ct.SignVote(outsider, testChainID, chain.Precommit, 1, 0, chain.Hash{})}},
	}
	for i, m := range drop {
		if err := n.Receive(peer, m); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if l.inbox.len() != 0 {
		t.Fatalf("%d inadmissible messages reached the consensus loop", l.inbox.len())
	}
	for _, h := range []uint64{1, 2} {
		if err := n.Receive(peer, &p2p.VoteMessage{Vote: ct.SignVote(ct.Key(1), testChainID, chain.Prevote, h, 0, chain.Hash{})}); err != nil {
			t.Fatal(err)
		}
	}
	if l.inbox.len() != 2 {
		t.Fatalf("%d of a member's two votes of the current and next height reached the loop", l.inbox.len())
	}
}
