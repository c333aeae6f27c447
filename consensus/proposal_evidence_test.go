package consensus_test

import (
	"errors"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
)

// TestDoubleProposal: a second proposal of the round's proposer for another
// block yields evidence of kind DoubleProposal once; the first proposal
// stays the round's, and the second is neither stored nor accepted.
func TestDoubleProposal(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	h.start(1)
	prop := vals.Proposer(0)
	b1, b2 := vals.Block(prop, 1, 1), vals.Block(prop, 1, 2)
	acts := h.propose(0, chain.NoPOLRound, b1)
	mustNone[consensus.EvidenceFound](t, acts)
	mustOwnVote(t, acts, chain.Prevote, b1.Hash())

	p2 := vals.Proposal(prop, 1, 0, chain.NoPOLRound, b2.Hash())
	acts, out := h.m.StepOutcome(consensus.ProposalReceived{Proposal: p2, Block: b2})
	if out != consensus.Ignored {
		t.Fatalf("second proposal: %s, want ignored (not stored, not relayed)", out)
	}
	ev := mustFind[consensus.EvidenceFound](t, acts).Evidence
	if ev.Kind != chain.DoubleProposal || ev.Validator() != vals.List[prop].Address || ev.Height() != 1 || ev.Round() != 0 {
		t.Fatalf("evidence %s, want a double proposal by %s at h=1 r=0", ct.String(ev), ct.ShortAddr(vals.List[prop].Address))
	}
	if err := ev.Verify(ct.ChainID, vals.Set); err != nil {
		t.Fatalf("evidence does not verify: %v", err)
	}
	if _, ok := ownVote(acts, chain.Prevote); ok {
		t.Fatalf("the second proposal changed the prevote:\n%s", ct.Describe(acts))
	}

	// Once per round: repeats and a third block give nothing more.
	b3 := vals.Block(prop, 1, 3)
	for _, in := range []consensus.ProposalReceived{
		{Proposal: p2, Block: b2},
		{Proposal: vals.Proposal(prop, 1, 0, chain.NoPOLRound, b3.Hash()), Block: b3},
	} {
		if acts := h.step(in); len(acts) != 0 {
			t.Fatalf("repeat gave actions:\n%s", ct.Describe(acts))
		}
	}
}

// TestSecondProposalNotEvidence: a duplicate of the round's proposal, a
// proposal signed by another validator, and one with a forged signature
// are not evidence; the forged one is rejected.
func TestSecondProposalNotEvidence(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	h.start(1)
	prop := vals.Proposer(0)
	b1, b2 := vals.Block(prop, 1, 1), vals.Block(prop, 1, 2)
	h.propose(0, chain.NoPOLRound, b1)

	dup := vals.Proposal(prop, 1, 0, chain.NoPOLRound, b1.Hash())
	if acts := h.step(consensus.ProposalReceived{Proposal: dup, Block: b1}); len(acts) != 0 {
		t.Fatalf("duplicate gave actions:\n%s", ct.Describe(acts))
	}
	other := (prop + 1) % vals.Len()
	if other == self {
		other = (other + 1) % vals.Len()
	}
	if acts := h.step(consensus.ProposalReceived{Proposal: vals.Proposal(other, 1, 0, chain.NoPOLRound, b2.Hash()), Block: b2}); len(acts) != 0 {
		t.Fatalf("another validator's proposal gave actions:\n%s", ct.Describe(acts))
	}
	forged := vals.Proposal(prop, 1, 0, chain.NoPOLRound, b2.Hash())
	forged.Signature = vals.Proposal(other, 1, 0, chain.NoPOLRound, b2.Hash()).Signature
	acts, out := h.m.StepOutcome(consensus.ProposalReceived{Proposal: forged, Block: b2})
	if out != consensus.Rejected {
		t.Fatalf("forged second proposal: %s, want rejected", out)
	}
	r := mustFind[consensus.RejectedInput](t, acts)
	if !errors.Is(r.Err, consensus.ErrBadSignature) {
		t.Fatalf("rejection %v, want ErrBadSignature", r.Err)
	}
	mustNone[consensus.EvidenceFound](t, acts)
	// The genuine double proposal is still reported after the forgery.
	acts = h.step(consensus.ProposalReceived{Proposal: vals.Proposal(prop, 1, 0, chain.NoPOLRound, b2.Hash()), Block: b2})
	mustFind[consensus.EvidenceFound](t, acts)
}

// TestDoubleProposalPOLRound: the same block re-proposed with another POL
// round in the same round is a double proposal too (round 1's proposals
// are stored while the Machine is still in round 0).
func TestDoubleProposalPOLRound(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 1)
	h := newHarness(t, vals, self)
	h.start(1)
	prop := vals.Proposer(1)
	b := vals.Block(prop, 1, 1)
	h.propose(1, chain.NoPOLRound, b)
	acts := h.step(consensus.ProposalReceived{Proposal: vals.Proposal(prop, 1, 1, 0, b.Hash()), Block: b})
	ev := mustFind[consensus.EvidenceFound](t, acts).Evidence
	if err := ev.Verify(ct.ChainID, vals.Set); err != nil || ev.PA.POLRound != chain.NoPOLRound || ev.PB.POLRound != 0 {
		t.Fatalf("evidence %+v (%v), want POL rounds -1 and 0", ev, err)
	}
}
