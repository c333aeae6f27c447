package consensus_test

import (
	"errors"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
	"github.com/quorumchain/quorumchain/staking"
)

var nilHash chain.Hash

// TestHappyPath: a non-proposer prevotes and precommits the round-0
// proposal and finalizes it with a certificate over two thirds of the stake.
func TestHappyPath(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	acts := h.start(1)
	to := mustFind[consensus.ScheduleTimeout](t, acts)
	if to.Step != consensus.StepPropose || to.Round != 0 || to.Duration != 3*time.Second {
		t.Fatalf("scheduled %+v, want propose timeout r=0 3s", to)
	}
	mustRound(t, h, 0, consensus.StepPropose)

	b := vals.Block(vals.Proposer(0), 1, 1)
	acts = h.propose(0, chain.NoPOLRound, b)
	mustFind[consensus.CheckBlock](t, acts)
	mustOwnVote(t, acts, chain.Prevote, b.Hash())
	mustRound(t, h, 0, consensus.StepPrevote)

	others := h.others()
	acts = h.votes(chain.Prevote, 0, b.Hash(), others[0])
	mustNoOwnVote(t, acts, chain.Precommit) // 20 of 40: no polka
	acts = h.votes(chain.Prevote, 0, b.Hash(), others[1])
	mustOwnVote(t, acts, chain.Precommit, b.Hash())
	if rs := h.rs(); rs.LockedRound != 0 || rs.LockedBlock != b.Hash() || rs.ValidRound != 0 || !rs.Prevotes.Quorum {
		t.Fatalf("round state %+v, want locked and valid at round 0 with a prevote quorum", rs)
	}

	acts = h.votes(chain.Precommit, 0, b.Hash(), others[0])
	mustNone[consensus.Finalize](t, acts)
	acts = h.votes(chain.Precommit, 0, b.Hash(), others[1])
	fin := mustFind[consensus.Finalize](t, acts)
	if fin.Block.Hash() != b.Hash() {
		t.Fatalf("finalized %s, want %s", ct.ShortHash(fin.Block.Hash()), ct.ShortHash(b.Hash()))
	}
	signed, err := fin.Certificate.Verify(ct.ChainID, vals.Set)
	if err != nil {
		t.Fatalf("certificate does not verify: %v", err)
	}
	if !staking.HasQuorum(signed, vals.Set.TotalStake()) || len(fin.Certificate.Precommits) != 3 {
		t.Fatalf("certificate signed %d of %d by %d", signed, vals.Set.TotalStake(), len(fin.Certificate.Precommits))
	}
	mustRound(t, h, 0, consensus.StepCommit)

	// After the decision, further votes and timeouts do nothing.
	if acts := h.votes(chain.Precommit, 0, b.Hash(), others[2]); len(acts) != 0 {
		t.Fatalf("actions after decision:\n%s", ct.Describe(acts))
	}
	if acts := h.timeout(consensus.StepPrecommit, 0); len(acts) != 0 {
		t.Fatalf("actions after decision:\n%s", ct.Describe(acts))
	}
}

// TestProposerBuildsSignsBroadcasts: the proposer asks for a block, then for
// a signature, and broadcasts the signed proposal before prevoting for it.
func TestProposerBuildsSignsBroadcasts(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := vals.Proposer(0)
	h := newHarness(t, vals, self)
	h.autoSign, h.autoBuild = false, false
	acts := h.start(1)
	bb := mustFind[consensus.BuildBlock](t, acts)
	if bb.Height != 1 || bb.Round != 0 {
		t.Fatalf("BuildBlock %+v, want h=1 r=0", bb)
	}
	b := vals.Block(self, 1, 7)
	acts = h.step(consensus.BlockBuilt{Height: 1, Round: 0, Block: b})
	sp := mustFind[consensus.SignProposal](t, acts)
	if sp.Proposal.BlockHash != b.Hash() || sp.Proposal.POLRound != chain.NoPOLRound || sp.Proposal.Signature != (chain.Signature{}) {
		t.Fatalf("SignProposal %+v, want unsigned fresh proposal of %s", sp.Proposal, ct.ShortHash(b.Hash()))
	}
	mustNone[consensus.BroadcastProposal](t, acts)
	signed := ct.SignedProposal(vals.List[self].Key, ct.ChainID, sp.Proposal)
	acts = h.step(consensus.OwnProposal{Proposal: signed, Block: b})
	if len(acts) < 2 {
		t.Fatalf("actions:\n%s", ct.Describe(acts))
	}
	if _, ok := acts[0].(consensus.BroadcastProposal); !ok {
		t.Fatalf("first action is not the broadcast:\n%s", ct.Describe(acts))
	}
	sv := mustFind[consensus.SignVote](t, acts)
	if sv.Vote.Type != chain.Prevote || sv.Vote.BlockHash != b.Hash() {
		t.Fatalf("SignVote %+v, want prevote for own block", sv.Vote)
	}
	mustNone[consensus.CheckBlock](t, acts) // own block needs no check
	mustNone[consensus.BroadcastVote](t, acts)
	acts = h.step(consensus.OwnVote{Vote: ct.Signed(vals.List[self].Key, ct.ChainID, sv.Vote)})
	mustOwnVote(t, acts, chain.Prevote, b.Hash())

	// A second answer to the same request is not accepted.
	acts = h.step(consensus.OwnVote{Vote: ct.Signed(vals.List[self].Key, ct.ChainID, sv.Vote)})
	rej := mustFind[consensus.RejectedInput](t, acts)
	if !errors.Is(rej.Err, consensus.ErrNotRequested) {
		t.Fatalf("rejected with %v, want ErrNotRequested", rej.Err)
	}
}

// TestInvalidBlock: a proposal whose block is checked invalid gets a nil
// prevote; no prevote is cast while the check is pending.
func TestInvalidBlock(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	h.autoCheck = false
	h.start(1)
	b := vals.Block(vals.Proposer(0), 1, 1)
	acts := h.propose(0, chain.NoPOLRound, b)
	mustFind[consensus.CheckBlock](t, acts)
	mustNoOwnVote(t, acts, chain.Prevote)
	acts = h.step(consensus.BlockChecked{Height: 1, Hash: b.Hash(), Valid: false, Reason: "bad state root"})
	mustOwnVote(t, acts, chain.Prevote, nilHash)
}

// TestRejectedInputs: votes and proposals that fail checks are rejected
// with a typed error; none panics.
func TestRejectedInputs(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0, 1)
	outsider := ct.SignVote(ct.Key(99), ct.ChainID, chain.Prevote, 1, 0, nilHash)
	forged := vals.Vote(1, chain.Prevote, 1, 0, nilHash)
	forged.Validator = vals.List[2].Address // signed by 1, claims 2
	tampered := vals.Vote(1, chain.Prevote, 1, 0, nilHash)
	tampered.Signature[10] ^= 0xff
	otherChain := ct.SignVote(vals.List[1].Key, "other-chain", chain.Prevote, 1, 0, nilHash)
	b := vals.Block(vals.Proposer(0), 1, 1)
	wrongProposer := vals.Proposal(vals.Proposer(1), 1, 0, chain.NoPOLRound, b.Hash())
	badProposalSig := vals.Proposal(vals.Proposer(0), 1, 0, chain.NoPOLRound, b.Hash())
	badProposalSig.Signature[5] ^= 1
	mismatch := vals.Proposal(vals.Proposer(0), 1, 0, chain.NoPOLRound, chain.Hash{1})

	for _, tc := range []struct {
		name string
		in   consensus.Input
		want error
	}{
		{"non-validator vote", consensus.VoteReceived{Vote: outsider}, consensus.ErrUnknownValidator},
		{"forged validator", consensus.VoteReceived{Vote: forged}, consensus.ErrBadSignature},
		{"tampered signature", consensus.VoteReceived{Vote: tampered}, consensus.ErrBadSignature},
		{"other chain", consensus.VoteReceived{Vote: otherChain}, consensus.ErrBadSignature},
		{"nil vote", consensus.VoteReceived{}, consensus.ErrMalformedInput},
		{"bad vote type", consensus.VoteReceived{Vote: &chain.Vote{Type: 7, Height: 1}}, consensus.ErrMalformedInput},
		{"wrong proposer", consensus.ProposalReceived{Proposal: wrongProposer, Block: b}, consensus.ErrWrongProposer},
		{"bad proposal signature", consensus.ProposalReceived{Proposal: badProposalSig, Block: b}, consensus.ErrBadSignature},
		{"block mismatch", consensus.ProposalReceived{Proposal: mismatch, Block: b}, consensus.ErrBlockMismatch},
		{"proposal without block", consensus.ProposalReceived{Proposal: mismatch}, consensus.ErrMalformedInput},
		{"unrequested own vote", consensus.OwnVote{Vote: vals.Vote(self, chain.Precommit, 1, 0, nilHash)}, consensus.ErrNotRequested},
		{"commit without certificate", consensus.CommitReceived{Block: b}, consensus.ErrMalformedInput},
		{"pointer input", &consensus.TxsAvailable{}, consensus.ErrUnknownInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, vals, self)
			h.start(1)
			acts := h.step(tc.in)
			rej := mustFind[consensus.RejectedInput](t, acts)
			if !errors.Is(rej.Err, tc.want) {
				t.Fatalf("rejected with %v, want %v", rej.Err, tc.want)
			}
			if rs := h.rs(); rs.Prevotes.VotedStake != 0 {
				t.Fatalf("rejected input was counted: %+v", rs.Prevotes)
			}
		})
	}
}

// TestStaleAndDuplicateIgnored: older heights, duplicates and heights beyond
// the next are ignored silently.
func TestStaleAndDuplicateIgnored(t *testing.T) {
	vals := ct.Equal(4, 10)
	h := newHarness(t, vals, -1)
	h.start(5)
	v := vals.Vote(1, chain.Prevote, 5, 0, nilHash)
	h.step(consensus.VoteReceived{Vote: v})
	for _, in := range []consensus.Input{
		consensus.VoteReceived{Vote: v},
		consensus.VoteReceived{Vote: vals.Vote(1, chain.Prevote, 4, 0, nilHash)},
		consensus.VoteReceived{Vote: vals.Vote(1, chain.Prevote, 7, 0, nilHash)},
		consensus.BlockChecked{Height: 5, Hash: chain.Hash{1}, Valid: true},
		consensus.BlockBuilt{Height: 5, Round: 0, Block: vals.Block(0, 5, 1)},
		consensus.SignRefused{Height: 5, Round: 0, Step: consensus.StepPrevote},
	} {
		if acts := h.step(in); len(acts) != 0 {
			t.Fatalf("%T gave actions:\n%s", in, ct.Describe(acts))
		}
	}
	if st := h.rs().Prevotes.VotedStake; st != 10 {
		t.Fatalf("voted stake %d, want 10", st)
	}
	acts := h.step(consensus.NewHeight{Height: 5, Validators: vals.Set, LastBlockTime: t0, Now: t0})
	rej := mustFind[consensus.RejectedInput](t, acts)
	if !errors.Is(rej.Err, consensus.ErrStaleHeight) {
		t.Fatalf("rejected with %v, want ErrStaleHeight", rej.Err)
	}
}

// TestSignRefused: a refused signature leaves the Machine going; the round's
// timeouts still move it on.
func TestSignRefused(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	h.autoSign = false
	h.start(1)
	acts := h.timeout(consensus.StepPropose, 0)
	sv := mustFind[consensus.SignVote](t, acts)
	if acts := h.step(consensus.SignRefused{Height: 1, Round: 0, Step: consensus.StepPrevote, Reason: "already signed"}); len(acts) != 0 {
		t.Fatalf("refusal gave actions:\n%s", ct.Describe(acts))
	}
	// A late answer to the refused request is not accepted.
	acts = h.step(consensus.OwnVote{Vote: ct.Signed(vals.List[self].Key, ct.ChainID, sv.Vote)})
	mustFind[consensus.RejectedInput](t, acts)
	acts = h.timeout(consensus.StepPrevote, 0)
	sv = mustFind[consensus.SignVote](t, acts)
	if sv.Vote.Type != chain.Precommit || !sv.Vote.IsNil() {
		t.Fatalf("SignVote %+v, want precommit nil", sv.Vote)
	}
}

// TestRoundStateTally: the snapshot reports per-block stake of the current
// round, including nil, sorted by hash.
func TestRoundStateTally(t *testing.T) {
	vals := ct.NewValidators(10, 20, 30, 40)
	h := newHarness(t, vals, -1)
	h.start(1)
	h.votes(chain.Prevote, 0, chain.Hash{2}, 3)
	h.votes(chain.Prevote, 0, nilHash, 0)
	h.votes(chain.Prevote, 0, chain.Hash{1}, 1)
	rs := h.rs()
	want := []consensus.BlockStake{{Hash: nilHash, Stake: 10}, {Hash: chain.Hash{1}, Stake: 20}, {Hash: chain.Hash{2}, Stake: 40}}
	if len(rs.Prevotes.Blocks) != len(want) {
		t.Fatalf("tally %+v, want %+v", rs.Prevotes.Blocks, want)
	}
	for i := range want {
		if rs.Prevotes.Blocks[i] != want[i] {
			t.Fatalf("tally %+v, want %+v", rs.Prevotes.Blocks, want)
		}
	}
	if rs.Prevotes.VotedStake != 70 || rs.Prevotes.TotalStake != 100 || rs.Prevotes.Quorum {
		t.Fatalf("tally %+v, want 70 of 100 without quorum", rs.Prevotes)
	}
	if rs.Proposer != vals.Set.Proposer(0) || rs.Height != 1 {
		t.Fatalf("round state %+v", rs)
	}
	h.votes(chain.Prevote, 0, chain.Hash{2}, 2)
	if rs := h.rs(); !rs.Prevotes.Quorum || rs.Prevotes.QuorumBlock != (chain.Hash{2}) {
		t.Fatalf("tally %+v, want quorum for 0x02", rs.Prevotes)
	}
}

// TestDeterministic: the same inputs give the same actions.
func TestDeterministic(t *testing.T) {
	run := func() string {
		vals := ct.NewValidators(5, 10, 15, 20, 25)
		h := newHarness(t, vals, vals.Proposer(1))
		var acts []consensus.Action
		acts = append(acts, h.start(1)...)
		acts = append(acts, h.timeout(consensus.StepPropose, 0)...)
		acts = append(acts, h.votes(chain.Prevote, 0, nilHash, h.others()...)...)
		acts = append(acts, h.votes(chain.Precommit, 0, nilHash, h.others()...)...)
		acts = append(acts, h.timeout(consensus.StepPrecommit, 0)...)
		for _, bp := range ct.FindAll[consensus.BroadcastProposal](acts) {
			acts = append(acts, h.votes(chain.Prevote, 1, bp.Proposal.BlockHash, h.others()...)...)
			acts = append(acts, h.votes(chain.Precommit, 1, bp.Proposal.BlockHash, h.others()...)...)
		}
		mustFind[consensus.Finalize](t, acts)
		return ct.Describe(acts)
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("runs differ:\n%s\n---\n%s", a, b)
	}
}
