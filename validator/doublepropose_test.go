package validator

import (
	"context"
	"errors"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

// TestSignSecondProposal: a signer refuses a second proposal unless made
// Byzantine with AllowDoublePropose; then it signs one only for the height
// and round of the last proposal it signed, and its guard still records
// the first, so its votes stay protected and SignProposal still refuses.
func TestSignSecondProposal(t *testing.T) {
	const chainID = "quorum-test"
	k := testKey(t, 1)
	s, err := NewLocalSigner(k, &MemoryState{})
	if err != nil {
		t.Fatal(err)
	}
	prop := func(h uint64, r uint32, block byte) *chain.Proposal {
		return &chain.Proposal{Height: h, Round: r, POLRound: chain.NoPOLRound, BlockHash: chain.Hash{block}, Proposer: s.Address()}
	}
	first := prop(3, 1, 1)
	if err := s.SignProposal(context.Background(), chainID, first); err != nil {
		t.Fatal(err)
	}
	if err := s.SignSecondProposal(chainID, prop(3, 1, 2)); !errors.Is(err, ErrDoubleProposeDisabled) {
		t.Fatalf("honest signer: got %v, want ErrDoubleProposeDisabled", err)
	}
	s.AllowDoublePropose()
	for name, p := range map[string]*chain.Proposal{
		"other round":        prop(3, 2, 2),
		"other height":       prop(4, 1, 2),
		"the first again":    prop(3, 1, 1),
		"another proposer's": {Height: 3, Round: 1, POLRound: chain.NoPOLRound, BlockHash: chain.Hash{2}, Proposer: chain.Address{9}},
	} {
		if err := s.SignSecondProposal(chainID, p); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
	second := prop(3, 1, 2)
	if err := s.SignSecondProposal(chainID, second); err != nil {
		t.Fatalf("Byzantine signer: %v", err)
	}
	if err := second.Verify(chainID); err != nil {
		t.Fatalf("second proposal does not verify: %v", err)
	}
	if err := chain.NewProposalEvidence(first, second).Verify(chainID, stakeOf{s.Address()}); err != nil {
		t.Fatalf("the pair is not evidence: %v", err)
	}
	if last := s.Guard().Last(); last.SignHash != first.SignHash(chainID) {
		t.Fatal("the guard's record is not the first proposal")
	}
	if err := s.SignProposal(context.Background(), chainID, prop(3, 1, 3)); !errors.Is(err, ErrConflict) {
		t.Fatalf("SignProposal of a conflicting proposal: got %v, want ErrConflict", err)
	}
	// Once a vote is signed, no second proposal of that round.
	v := vote(k, chain.Prevote, 3, 1, 1)
	if err := s.SignVote(context.Background(), chainID, v); err != nil {
		t.Fatal(err)
	}
	if err := s.SignSecondProposal(chainID, prop(3, 1, 4)); !errors.Is(err, ErrConflict) {
		t.Fatalf("second proposal after a vote: got %v, want ErrConflict", err)
	}
}

type stakeOf struct{ a chain.Address }

func (s stakeOf) StakeOf(a chain.Address) (uint64, bool) { return 1, a == s.a }
func (stakeOf) TotalStake() uint64                       { return 1 }
