package consensus_test

import (
	"errors"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
)

// TestPolkaThroughEquivocatorsLaterVote: an equivocator whose vote for B
// completes a polka is counted toward B even when this validator heard two
// of its other votes first (the simulator found the liveness failure when
// such a vote was dropped).
func TestPolkaThroughEquivocatorsLaterVote(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	h.start(1)
	others := h.others()
	bad, honest := others[0], others[1:]
	b := vals.Block(vals.Proposer(0), 1, 1)
	for _, blk := range []chain.Hash{{7}, {8}, b.Hash()} {
		h.step(consensus.VoteReceived{Vote: vals.Vote(bad, chain.Prevote, 1, 0, blk)})
	}
	for _, i := range honest {
		h.step(consensus.VoteReceived{Vote: vals.Vote(i, chain.Prevote, 1, 0, b.Hash())})
	}
	tally := h.rs().Prevotes
	if !tally.Quorum || tally.QuorumBlock != b.Hash() {
		t.Fatalf("tally %+v: want a polka for %s from two honest votes and the equivocator's third", tally, b.Hash())
	}
}

// TestEquivocation: a second, different vote of one validator for the same
// height, round and type yields evidence once; the first vote stays counted.
func TestEquivocation(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	h.start(1)
	bad := h.others()[0]
	b := vals.Block(vals.Proposer(0), 1, 1)
	a1 := vals.Vote(bad, chain.Prevote, 1, 0, b.Hash())
	a2 := vals.Vote(bad, chain.Prevote, 1, 0, nilHash)
	if acts := h.step(consensus.VoteReceived{Vote: a1}); len(acts) != 0 {
		t.Fatalf("first vote gave actions:\n%s", ct.Describe(acts))
	}
	acts := h.step(consensus.VoteReceived{Vote: a2})
	ev := mustFind[consensus.EvidenceFound](t, acts)
	if err := ev.Evidence.Verify(ct.ChainID, vals.Set); err != nil {
		t.Fatalf("evidence does not verify: %v", err)
	}
	if ev.Evidence.Validator() != vals.List[bad].Address {
		t.Fatalf("evidence against %s, want %s", ct.ShortAddr(ev.Evidence.Validator()), ct.ShortAddr(vals.List[bad].Address))
	}
	// Repeats, and further conflicting votes, give no more evidence.
	more := []*chain.Vote{a1, a2}
	for i := range 4 {
		more = append(more, vals.Vote(bad, chain.Prevote, 1, 0, chain.Hash{byte(9 + i)}))
	}
	for _, v := range more {
		if acts := h.step(consensus.VoteReceived{Vote: v}); len(acts) != 0 {
			t.Fatalf("repeat gave actions:\n%s", ct.Describe(acts))
		}
	}
	// Each distinct vote of the equivocator counts toward its own block, so
	// a polka made with any of them is visible; the voter counts once in
	// the voted stake; conflicts beyond the first vote and three more
	// (0x09, 0x0a) are dropped (0x0b, 0x0c).
	tally := h.rs().Prevotes
	if len(tally.Blocks) != 4 || tally.VotedStake != 10 {
		t.Fatalf("tally %+v, want four blocks counted, voted stake 10", tally)
	}
	counted := map[chain.Hash]bool{b.Hash(): true, nilHash: true, {9}: true, {10}: true}
	for _, bs := range tally.Blocks {
		if bs.Stake != 10 || !counted[bs.Hash] {
			t.Fatalf("tally %+v: block %s with stake %d", tally, bs.Hash, bs.Stake)
		}
	}
	// Another type or round is not a conflict.
	acts = h.step(consensus.VoteReceived{Vote: vals.Vote(bad, chain.Precommit, 1, 0, nilHash)})
	mustNone[consensus.EvidenceFound](t, acts)
}

// TestFinalizeQuorumEdge: precommits of exactly two thirds of the stake do
// not finalize; just over two thirds do.
func TestFinalizeQuorumEdge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stakes  []uint64
		signers []int
		want    bool
	}{
		{"exactly two thirds", []uint64{10, 10, 10}, []int{0, 1}, false},
		{"just over two thirds", []uint64{10, 10, 10, 1}, []int{0, 1, 3}, true},
		{"exactly two thirds weighted", []uint64{20, 5, 5}, []int{0}, false},
		{"weighted over", []uint64{21, 5, 5}, []int{0}, true},
		{"all", []uint64{10, 10, 10}, []int{0, 1, 2}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := ct.NewValidators(tc.stakes...)
			h := newHarness(t, vals, -1)
			h.start(1)
			b := vals.Block(vals.Proposer(0), 1, 1)
			h.propose(0, chain.NoPOLRound, b)
			acts := h.votes(chain.Precommit, 0, b.Hash(), tc.signers...)
			fin, ok := ct.Find[consensus.Finalize](acts)
			if ok != tc.want {
				t.Fatalf("finalized %v, want %v; actions:\n%s", ok, tc.want, ct.Describe(acts))
			}
			if ok {
				if _, err := fin.Certificate.Verify(ct.ChainID, vals.Set); err != nil {
					t.Fatalf("certificate: %v", err)
				}
			}
		})
	}
}

// TestDecideInEarlierRound: precommits for a block of an earlier round
// decide it while the Machine is in a later round (line 49, any round).
func TestDecideInEarlierRound(t *testing.T) {
	vals := ct.Equal(4, 10)
	h := newHarness(t, vals, -1)
	h.start(1)
	b := vals.Block(vals.Proposer(0), 1, 1)
	h.propose(0, chain.NoPOLRound, b)
	h.votes(chain.Prevote, 2, nilHash, 0, 1) // skip to round 2
	mustRound(t, h, 2, consensus.StepPropose)
	acts := h.votes(chain.Precommit, 0, b.Hash(), 1, 2, 3)
	fin := mustFind[consensus.Finalize](t, acts)
	if fin.Certificate.Round != 0 || fin.Block.Hash() != b.Hash() {
		t.Fatalf("finalized %s", ct.Describe(acts))
	}
}

// TestDecisionWaitsForBlock: a precommit quorum for a block not yet seen
// decides once its proposal arrives and is checked valid, never before.
func TestDecisionWaitsForBlock(t *testing.T) {
	vals := ct.Equal(4, 10)
	h := newHarness(t, vals, -1)
	h.autoCheck = false
	h.start(1)
	b := vals.Block(vals.Proposer(0), 1, 1)
	acts := h.votes(chain.Precommit, 0, b.Hash(), 0, 1, 2)
	mustNone[consensus.Finalize](t, acts)
	acts = h.propose(0, chain.NoPOLRound, b)
	mustNone[consensus.Finalize](t, acts)
	if n := ct.Count[consensus.CheckBlock](acts); n != 1 {
		t.Fatalf("%d CheckBlock, want 1:\n%s", n, ct.Describe(acts))
	}
	acts = h.step(consensus.BlockChecked{Height: 1, Hash: b.Hash(), Valid: true})
	mustFind[consensus.Finalize](t, acts)
}

// TestCommitReceived: block sync hands over a certified block; the Machine
// verifies the certificate, checks the block and finalizes it.
func TestCommitReceived(t *testing.T) {
	vals := ct.Equal(4, 10)
	b := vals.Block(0, 1, 1)
	good := vals.Certificate(1, 3, b.Hash(), 0, 1, 2)
	weak := vals.Certificate(1, 3, b.Hash(), 0, 1)
	other := vals.Certificate(1, 3, chain.Hash{7}, 0, 1, 2)

	h := newHarness(t, vals, -1)
	h.autoCheck = false
	h.start(1)
	for _, tc := range []struct {
		cert *chain.Certificate
		want error
	}{{weak, consensus.ErrBadCertificate}, {other, consensus.ErrBlockMismatch}} {
		acts := h.step(consensus.CommitReceived{Block: b, Certificate: tc.cert})
		rej := mustFind[consensus.RejectedInput](t, acts)
		if !errors.Is(rej.Err, tc.want) {
			t.Fatalf("rejected with %v, want %v", rej.Err, tc.want)
		}
	}
	acts := h.step(consensus.CommitReceived{Block: b, Certificate: good})
	mustFind[consensus.CheckBlock](t, acts)
	mustNone[consensus.Finalize](t, acts)
	acts = h.step(consensus.BlockChecked{Height: 1, Hash: b.Hash(), Valid: true})
	fin := mustFind[consensus.Finalize](t, acts)
	if fin.Certificate != good {
		t.Fatalf("finalized with another certificate than the received one")
	}
	mustRound(t, h, 0, consensus.StepCommit)

	// A certified block that checks invalid is not finalized.
	h = newHarness(t, vals, -1)
	h.autoCheck = false
	h.start(1)
	h.step(consensus.CommitReceived{Block: b, Certificate: good})
	acts = h.step(consensus.BlockChecked{Height: 1, Hash: b.Hash(), Valid: false})
	mustNone[consensus.Finalize](t, acts)
	rej := mustFind[consensus.RejectedInput](t, acts)
	if !errors.Is(rej.Err, consensus.ErrInvalidBlock) {
		t.Fatalf("rejected with %v, want ErrInvalidBlock", rej.Err)
	}
}
