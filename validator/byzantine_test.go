package validator

import (
	"context"
	"errors"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

// TestByzantineSwitchNeedsTestnetFlag: a signer not made switchable
// refuses every mode, and so stays honest.
func TestByzantineSwitchNeedsTestnetFlag(t *testing.T) {
	s, err := NewLocalSigner(testKey(t, 1), &MemoryState{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range ByzantineModes() {
		m, err := ParseByzantineMode(name)
		if err != nil {
			t.Fatal(err)
		}
		if m.String() != name {
			t.Errorf("mode %q prints as %q", name, m)
		}
		if err := s.SetByzantine(m); !errors.Is(err, ErrByzantineDisabled) {
			t.Errorf("SetByzantine(%s) on a production signer: got %v, want ErrByzantineDisabled", m, err)
		}
	}
	if s.Byzantine() != ByzantineOff {
		t.Fatalf("mode: got %s, want off", s.Byzantine())
	}
	if _, err := ParseByzantineMode("evil"); !errors.Is(err, ErrUnknownByzantineMode) {
		t.Errorf("unknown mode: got %v, want ErrUnknownByzantineMode", err)
	}
}

// TestEquivocateThenHonest: in equivocate mode the signer signs, after an
// honest vote, a conflicting one of the same height, round and type (a
// pair that is evidence); its guard keeps the honest vote, so once switched
// off it refuses to sign anything conflicting with what it signed
// honestly, and refuses further conflicting votes.
func TestEquivocateThenHonest(t *testing.T) {
	const chainID = "quorum-test"
	k := testKey(t, 1)
	s, err := NewLocalSigner(k, &MemoryState{})
	if err != nil {
		t.Fatal(err)
	}
	s.AllowByzantine()
	ctx := context.Background()
	honest := vote(k, chain.Prevote, 5, 0, 1)
	if err := s.SignVote(ctx, chainID, honest); err != nil {
		t.Fatal(err)
	}
	conflicting := vote(k, chain.Prevote, 5, 0, 0) // nil
	if err := s.SignConflictingVote(chainID, conflicting); !errors.Is(err, ErrEquivocateDisabled) {
		t.Fatalf("honest signer: got %v, want ErrEquivocateDisabled", err)
	}
	if err := s.SetByzantine(ByzantineEquivocate); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]*chain.Vote{
		"the honest vote again": vote(k, chain.Prevote, 5, 0, 1),
		"other type":            vote(k, chain.Precommit, 5, 0, 2),
		"other round":           vote(k, chain.Prevote, 5, 1, 2),
		"other height":          vote(k, chain.Prevote, 6, 0, 2),
		"another validator's":   vote(testKey(t, 2), chain.Prevote, 5, 0, 2),
	} {
		if err := s.SignConflictingVote(chainID, v); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
	if err := s.SignConflictingVote(chainID, conflicting); err != nil {
		t.Fatalf("equivocating signer: %v", err)
	}
	if err := chain.NewEvidence(honest, conflicting).Verify(chainID, stakeOf{s.Address()}); err != nil {
		t.Fatalf("the pair is not evidence: %v", err)
	}
	if last := s.Guard().Last(); last.SignHash != honest.SignHash(chainID) {
		t.Fatal("the guard's record is not the honest vote")
	}

	if err := s.SetByzantine(ByzantineOff); err != nil {
		t.Fatal(err)
	}
	if err := s.SignVote(ctx, chainID, vote(k, chain.Prevote, 5, 0, 0)); !errors.Is(err, ErrConflict) {
		t.Fatalf("honest again, a vote conflicting with the honest one: got %v, want ErrConflict", err)
	}
	if err := s.SignConflictingVote(chainID, vote(k, chain.Prevote, 5, 0, 3)); !errors.Is(err, ErrEquivocateDisabled) {
		t.Fatalf("honest again, SignConflictingVote: got %v, want ErrEquivocateDisabled", err)
	}
	// The honest vote itself is still signed again (a resend).
	again := vote(k, chain.Prevote, 5, 0, 1)
	if err := s.SignVote(ctx, chainID, again); err != nil || again.Signature != honest.Signature {
		t.Fatalf("re-signing the honest vote: err %v, same signature %v", err, again.Signature == honest.Signature)
	}
}

// TestDoubleProposeMode: the double-propose mode lets SignSecondProposal
// sign, and switching it off stops it.
func TestDoubleProposeMode(t *testing.T) {
	const chainID = "quorum-test"
	s, err := NewLocalSigner(testKey(t, 1), &MemoryState{})
	if err != nil {
		t.Fatal(err)
	}
	s.AllowByzantine()
	prop := func(block byte) *chain.Proposal {
		return &chain.Proposal{Height: 2, Round: 0, POLRound: chain.NoPOLRound, BlockHash: chain.Hash{block}, Proposer: s.Address()}
	}
	if err := s.SignProposal(context.Background(), chainID, prop(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetByzantine(ByzantineDoublePropose); err != nil {
		t.Fatal(err)
	}
	if err := s.SignSecondProposal(chainID, prop(2)); err != nil {
		t.Fatalf("double-propose mode: %v", err)
	}
	if err := s.SetByzantine(ByzantineOff); err != nil {
		t.Fatal(err)
	}
	if err := s.SignSecondProposal(chainID, prop(3)); !errors.Is(err, ErrDoubleProposeDisabled) {
		t.Fatalf("switched off: got %v, want ErrDoubleProposeDisabled", err)
	}
}
