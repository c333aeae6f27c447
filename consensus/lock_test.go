package consensus_test

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
)

// lockAt0 drives h through round 0 to a lock on a fresh block b: the
// proposal and a polka of the others, then precommits for nil by the others
// so that round 0 times out. It returns b.
func lockAt0(t *testing.T, h *harness) *chain.Block {
	t.Helper()
	b := h.vals.Block(h.vals.Proposer(0), h.height, 100)
	h.propose(0, chain.NoPOLRound, b)
	acts := h.votes(chain.Prevote, 0, b.Hash(), h.others()...)
	mustOwnVote(t, acts, chain.Precommit, b.Hash())
	if rs := h.rs(); rs.LockedRound != 0 || rs.LockedBlock != b.Hash() {
		t.Fatalf("not locked at round 0: %+v", rs)
	}
	return b
}

// TestLocking: a validator locked on b prevotes nil for another block
// proposed without a POL round, and prevotes b again when it is re-proposed.
func TestLocking(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0, 1, 2)
	h := newHarness(t, vals, self)
	h.start(1)
	b := lockAt0(t, h)

	acts := h.votes(chain.Precommit, 0, nilHash, h.others()...)
	to := mustFind[consensus.ScheduleTimeout](t, acts)
	if to.Step != consensus.StepPrecommit || to.Round != 0 {
		t.Fatalf("scheduled %+v, want precommit timeout of round 0", to)
	}
	acts = h.timeout(consensus.StepPrecommit, 0)
	mustRound(t, h, 1, consensus.StepPropose)

	w := vals.Block(vals.Proposer(1), 1, 200)
	acts = h.propose(1, chain.NoPOLRound, w)
	mustOwnVote(t, acts, chain.Prevote, nilHash)

	// Round 2 re-proposes b with POL round 0: lockedValue = v, prevote b.
	h.votes(chain.Precommit, 1, nilHash, h.others()...)
	h.timeout(consensus.StepPrecommit, 1)
	mustRound(t, h, 2, consensus.StepPropose)
	acts = h.propose(2, 0, b)
	mustOwnVote(t, acts, chain.Prevote, b.Hash())
}

// TestUnlockOnLaterPolka: locked on b at round 0, a validator prevotes for
// w proposed at round 2 with POL round 1 once it has seen the round-1 polka
// for w (line 28, lockedRound <= vr), and waits until it has.
func TestUnlockOnLaterPolka(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0, 1, 2)
	h := newHarness(t, vals, self)
	h.start(1)
	lockAt0(t, h)

	// Two others (20 of 40 > 1/3) move to round 2: skip there.
	others := h.others()
	acts := h.votes(chain.Prevote, 2, nilHash, others[0], others[1])
	mustRound(t, h, 2, consensus.StepPropose)
	mustNoOwnVote(t, acts, chain.Prevote)

	w := vals.Block(vals.Proposer(1), 1, 300)
	acts = h.propose(2, 1, w)
	mustNoOwnVote(t, acts, chain.Prevote) // polka of round 1 not seen yet
	acts = h.votes(chain.Prevote, 1, w.Hash(), others...)
	mustOwnVote(t, acts, chain.Prevote, w.Hash())
	if rs := h.rs(); rs.LockedRound != 0 {
		t.Fatalf("lock changed before a polka of this round: %+v", rs)
	}
}

// TestNoUnlockOnOlderPOL: locked on b at round 1, a proposal of w with POL
// round 0 (a polka older than the lock) gets a prevote for nil.
func TestNoUnlockOnOlderPOL(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0, 1, 2)
	h := newHarness(t, vals, self)
	h.start(1)
	others := h.others()

	// Round 0: no proposal; the others prevote w: a polka w at round 0 we
	// do not act on. Time out to round 1.
	w := vals.Block(vals.Proposer(0), 1, 400)
	acts := h.timeout(consensus.StepPropose, 0)
	mustOwnVote(t, acts, chain.Prevote, nilHash)
	h.votes(chain.Prevote, 0, w.Hash(), others...)
	acts = h.timeout(consensus.StepPrevote, 0)
	mustOwnVote(t, acts, chain.Precommit, nilHash)
	h.votes(chain.Precommit, 0, nilHash, others...)
	h.timeout(consensus.StepPrecommit, 0)
	mustRound(t, h, 1, consensus.StepPropose)

	// Round 1: lock on b.
	b := vals.Block(vals.Proposer(1), 1, 500)
	h.propose(1, chain.NoPOLRound, b)
	acts = h.votes(chain.Prevote, 1, b.Hash(), others...)
	mustOwnVote(t, acts, chain.Precommit, b.Hash())
	h.votes(chain.Precommit, 1, nilHash, others...)
	h.timeout(consensus.StepPrecommit, 1)
	mustRound(t, h, 2, consensus.StepPropose)

	acts = h.propose(2, 0, w)
	mustOwnVote(t, acts, chain.Prevote, nilHash)
	if rs := h.rs(); rs.LockedRound != 1 || rs.LockedBlock != b.Hash() {
		t.Fatalf("lock is %d %s, want round 1 %s", rs.LockedRound, ct.ShortHash(rs.LockedBlock), ct.ShortHash(b.Hash()))
	}
}

// TestRelockInLaterRound: a validator locked on b at round 0 that sees a
// proposal and polka for w at round 1 locks w (line 36).
func TestRelockInLaterRound(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0, 1)
	h := newHarness(t, vals, self)
	h.start(1)
	lockAt0(t, h)
	h.votes(chain.Precommit, 0, nilHash, h.others()...)
	h.timeout(consensus.StepPrecommit, 0)

	w := vals.Block(vals.Proposer(1), 1, 600)
	acts := h.propose(1, chain.NoPOLRound, w)
	mustOwnVote(t, acts, chain.Prevote, nilHash)
	acts = h.votes(chain.Prevote, 1, w.Hash(), h.others()...)
	mustOwnVote(t, acts, chain.Precommit, w.Hash())
	if rs := h.rs(); rs.LockedRound != 1 || rs.LockedBlock != w.Hash() || rs.ValidRound != 1 {
		t.Fatalf("round state %+v, want locked and valid on w at round 1", rs)
	}
}

// TestValidValueReproposal: the next proposer re-proposes its valid value
// with POLRound = validRound instead of building a block.
func TestValidValueReproposal(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := vals.Proposer(1)
	if self == vals.Proposer(0) {
		t.Skip("same proposer for rounds 0 and 1")
	}
	h := newHarness(t, vals, self)
	h.start(1)
	b := lockAt0(t, h)
	h.votes(chain.Precommit, 0, nilHash, h.others()...)
	acts := h.timeout(consensus.StepPrecommit, 0)
	mustNone[consensus.BuildBlock](t, acts)
	bp := mustFind[consensus.BroadcastProposal](t, acts)
	if bp.Proposal.Round != 1 || bp.Proposal.POLRound != 0 || bp.Proposal.BlockHash != b.Hash() {
		t.Fatalf("proposal %+v, want round 1 POL 0 for %s", bp.Proposal, ct.ShortHash(b.Hash()))
	}
	mustOwnVote(t, acts, chain.Prevote, b.Hash())
}

// TestValidValueWithoutLock: a polka seen after precommitting nil updates
// validValue but not the lock (lines 36-43 with step = precommit).
func TestValidValueWithoutLock(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	h.start(1)
	others := h.others()
	b := vals.Block(vals.Proposer(0), 1, 700)
	acts := h.timeout(consensus.StepPropose, 0)
	mustOwnVote(t, acts, chain.Prevote, nilHash)
	acts = h.timeout(consensus.StepPrevote, 0)
	mustOwnVote(t, acts, chain.Precommit, nilHash)
	h.propose(0, chain.NoPOLRound, b)
	h.votes(chain.Prevote, 0, b.Hash(), others[0], others[1])
	if rs := h.rs(); rs.ValidRound != -1 {
		t.Fatalf("valid round %d without a polka", rs.ValidRound)
	}
	acts = h.votes(chain.Prevote, 0, b.Hash(), others[2])
	mustNoOwnVote(t, acts, chain.Precommit)
	if rs := h.rs(); rs.ValidRound != 0 || rs.ValidBlock != b.Hash() || rs.LockedRound != -1 {
		t.Fatalf("round state %+v, want valid b at 0 and no lock", rs)
	}
}

// TestValidValueFromLatePolka: a polka for b at round 0 that completes only
// after the validator has moved to round 1 still makes b its valid value,
// so that as the proposer of round 2 it re-proposes b with POL round 0 (a
// block a validator locked on b at round 0 accepts) instead of a fresh
// block (which that validator would prevote nil, forever if it alone
// holds the missing stake).
func TestValidValueFromLatePolka(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := vals.Proposer(2)
	if self == vals.Proposer(0) || self == vals.Proposer(1) {
		t.Fatalf("test set-up: validator %d proposes round 0 or 1 too", self)
	}
	h := newHarness(t, vals, self)
	h.start(1)
	p0 := vals.Proposer(0)
	b := vals.Block(p0, 1, 100)
	acts := h.propose(0, chain.NoPOLRound, b)
	mustOwnVote(t, acts, chain.Prevote, b.Hash())
	late := h.others(p0)[0]
	// Own prevote and the proposer's: 20 of 40, no polka. Round 0 ends.
	h.votes(chain.Prevote, 0, b.Hash(), p0)
	h.votes(chain.Prevote, 0, nilHash, h.others(p0, late)...)
	h.timeout(consensus.StepPrevote, 0)
	h.votes(chain.Precommit, 0, nilHash, h.others()...)
	h.timeout(consensus.StepPrecommit, 0)
	mustRound(t, h, 1, consensus.StepPropose)
	if rs := h.rs(); rs.ValidRound != -1 {
		t.Fatalf("valid round %d before any polka", rs.ValidRound)
	}

	// The late prevote completes round 0's polka while at round 1.
	h.votes(chain.Prevote, 0, b.Hash(), late)
	if rs := h.rs(); rs.ValidRound != 0 || rs.ValidBlock != b.Hash() || rs.LockedRound != -1 {
		t.Fatalf("after the late polka: valid %d/%s locked %d, want valid 0/%s and no lock",
			rs.ValidRound, ct.ShortHash(rs.ValidBlock), rs.LockedRound, ct.ShortHash(b.Hash()))
	}

	h.timeout(consensus.StepPropose, 1)
	h.votes(chain.Precommit, 1, nilHash, h.others()...)
	acts = h.timeout(consensus.StepPrecommit, 1)
	mustRound(t, h, 2, consensus.StepPrevote)
	mustNone[consensus.BuildBlock](t, acts)
	bp := mustFind[consensus.BroadcastProposal](t, acts)
	if bp.Proposal.POLRound != 0 || bp.Proposal.BlockHash != b.Hash() {
		t.Fatalf("proposed %s with POL round %d, want %s with POL round 0",
			ct.ShortHash(bp.Proposal.BlockHash), bp.Proposal.POLRound, ct.ShortHash(b.Hash()))
	}
}
