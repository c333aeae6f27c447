package consensus_test

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
)

// TestStepOutcome: every proposal and vote is reported accepted only when
// the Machine stored, counted or buffered it, which is what a node may
// relay; copies, stale and far-away ones are ignored, invalid ones
// rejected.
func TestStepOutcome(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	h.start(1)
	other := h.others()[0]
	b := vals.Block(vals.Proposer(0), 1, 7)
	forged := vals.Vote(h.others()[1], chain.Prevote, 1, 0, b.Hash())
	forged.Signature = vals.Vote(h.others()[2], chain.Prevote, 1, 0, b.Hash()).Signature
	far := vals.Vote(other, chain.Prevote, 1, 50, b.Hash())
	steps := []struct {
		name string
		in   consensus.Input
		want consensus.Outcome
	}{
		{"proposal", consensus.ProposalReceived{Proposal: vals.Proposal(vals.Proposer(0), 1, 0, -1, b.Hash()), Block: b}, consensus.Accepted},
		{"second proposal of the round", consensus.ProposalReceived{Proposal: vals.Proposal(vals.Proposer(0), 1, 0, -1, vals.Block(0, 1, 8).Hash()), Block: vals.Block(0, 1, 8)}, consensus.Ignored},
		{"vote", consensus.VoteReceived{Vote: vals.Vote(other, chain.Prevote, 1, 0, b.Hash())}, consensus.Accepted},
		{"same vote again", consensus.VoteReceived{Vote: vals.Vote(other, chain.Prevote, 1, 0, b.Hash())}, consensus.Ignored},
		{"conflicting vote", consensus.VoteReceived{Vote: vals.Vote(other, chain.Prevote, 1, 0, chain.Hash{})}, consensus.Accepted},
		{"forged signature", consensus.VoteReceived{Vote: forged}, consensus.Rejected},
		{"first far-round vote", consensus.VoteReceived{Vote: far}, consensus.Accepted},
		{"next height", consensus.VoteReceived{Vote: vals.Vote(other, chain.Prevote, 2, 0, chain.Hash{})}, consensus.Accepted},
		{"next height again", consensus.VoteReceived{Vote: vals.Vote(other, chain.Prevote, 2, 0, chain.Hash{})}, consensus.Ignored},
		{"two heights ahead", consensus.VoteReceived{Vote: vals.Vote(other, chain.Prevote, 3, 0, chain.Hash{})}, consensus.Ignored},
		{"unknown validator", consensus.VoteReceived{Vote: ct.SignVote(ct.Key(99), ct.ChainID, chain.Prevote, 1, 0, b.Hash())}, consensus.Rejected},
		{"timeout", consensus.TimeoutFired{Height: 1, Round: 0, Step: consensus.StepPropose}, consensus.Ignored},
	}
	for _, s := range steps {
		_, got := h.m.StepOutcome(s.in)
		if got != s.want {
			t.Errorf("%s: %s, want %s", s.name, got, s.want)
		}
	}
}
