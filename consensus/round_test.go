package consensus_test

import (
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
)

// TestRoundSkip: messages of a higher round from more than one third of the
// stake move the Machine there; exactly one third does not.
func TestRoundSkip(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stakes    []uint64
		senders   []int
		wantRound uint32
	}{
		{"exactly one third stays", []uint64{10, 10, 10}, []int{1}, 0},
		{"over one third skips", []uint64{10, 10, 11}, []int{2}, 3},
		{"two of four skip", []uint64{10, 10, 10, 10}, []int{1, 2}, 3},
		{"one of four stays", []uint64{10, 10, 10, 10}, []int{1}, 0},
		{"whale alone skips", []uint64{1, 1, 1, 10}, []int{3}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := ct.NewValidators(tc.stakes...)
			h := newHarness(t, vals, 0)
			h.start(1)
			for _, i := range tc.senders {
				h.votes(chain.Prevote, 3, nilHash, i)
			}
			if rs := h.rs(); rs.Round != tc.wantRound {
				t.Fatalf("round %d, want %d", rs.Round, tc.wantRound)
			}
		})
	}
}

// TestRoundSkipFarRound: a far-future round (beyond the stored window) also
// triggers the skip, and each validator keeps one far round only.
func TestRoundSkipFarRound(t *testing.T) {
	vals := ct.Equal(4, 10)
	h := newHarness(t, vals, 0)
	h.start(1)
	h.votes(chain.Prevote, 1000, nilHash, 1)
	h.votes(chain.Prevote, 2000, nilHash, 1) // replaces validator 1's far round
	h.votes(chain.Prevote, 1000, nilHash, 2) // 1000 holds only validator 2 now
	mustRound(t, h, 0, consensus.StepPropose)
	h.votes(chain.Prevote, 2000, nilHash, 3)
	mustRound(t, h, 2000, consensus.StepPropose)
}

// TestTimeouts: each timeout of the current round casts the right nil vote
// or starts the next round; timeouts of other heights, rounds or steps are
// ignored.
func TestTimeouts(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0, 1)
	h := newHarness(t, vals, self)
	h.start(1)

	stale := []consensus.TimeoutFired{
		{Height: 0, Round: 0, Step: consensus.StepPropose},
		{Height: 2, Round: 0, Step: consensus.StepPropose},
		{Height: 1, Round: 1, Step: consensus.StepPropose},
		{Height: 1, Round: 0, Step: consensus.StepPrevote},
		{Height: 1, Round: 0, Step: consensus.StepNewHeight},
	}
	for _, in := range stale {
		if acts := h.step(in); len(acts) != 0 {
			t.Fatalf("stale %+v gave actions:\n%s", in, ct.Describe(acts))
		}
	}
	acts := h.timeout(consensus.StepPropose, 0)
	mustOwnVote(t, acts, chain.Prevote, nilHash)
	mustRound(t, h, 0, consensus.StepPrevote)
	if acts := h.timeout(consensus.StepPropose, 0); len(acts) != 0 { // already prevoted
		t.Fatalf("second propose timeout gave actions:\n%s", ct.Describe(acts))
	}

	// Line 34: +2/3 prevotes of any kind schedule timeoutPrevote, once.
	others := h.others()
	b := vals.Block(vals.Proposer(0), 1, 1)
	acts = h.votes(chain.Prevote, 0, b.Hash(), others[0])
	mustNone[consensus.ScheduleTimeout](t, acts)
	acts = h.votes(chain.Prevote, 0, nilHash, others[1])
	to := mustFind[consensus.ScheduleTimeout](t, acts)
	if to.Step != consensus.StepPrevote || to.Duration != time.Second {
		t.Fatalf("scheduled %+v, want prevote timeout 1s", to)
	}
	acts = h.votes(chain.Prevote, 0, b.Hash(), others[2])
	mustNone[consensus.ScheduleTimeout](t, acts)

	acts = h.timeout(consensus.StepPrevote, 0)
	mustOwnVote(t, acts, chain.Precommit, nilHash)
	mustRound(t, h, 0, consensus.StepPrecommit)

	acts = h.votes(chain.Precommit, 0, nilHash, others[0], others[1])
	to = mustFind[consensus.ScheduleTimeout](t, acts)
	if to.Step != consensus.StepPrecommit || to.Duration != time.Second {
		t.Fatalf("scheduled %+v, want precommit timeout 1s", to)
	}
	acts = h.timeout(consensus.StepPrecommit, 0)
	mustRound(t, h, 1, consensus.StepPropose)
	to = mustFind[consensus.ScheduleTimeout](t, acts)
	if to.Step != consensus.StepPropose || to.Round != 1 || to.Duration != 3500*time.Millisecond {
		t.Fatalf("scheduled %+v, want propose timeout r=1 3.5s", to)
	}
	// Round 0's timeouts are stale now.
	for _, s := range []consensus.RoundStep{consensus.StepPropose, consensus.StepPrevote, consensus.StepPrecommit} {
		if acts := h.timeout(s, 0); len(acts) != 0 {
			t.Fatalf("stale %s timeout of round 0 gave actions:\n%s", s, ct.Describe(acts))
		}
	}
}

// TestTimeoutsGrowLinearly: every step's timeout is base + round*delta.
func TestTimeoutsGrowLinearly(t *testing.T) {
	vals := ct.Equal(4, 10)
	h := newHarness(t, vals, -1)
	h.start(1)
	cfg := testConfig()
	for r := uint32(0); r < 5; r++ {
		mustRound(t, h, r, consensus.StepPropose)
		h.timeout(consensus.StepPropose, r)
		acts := h.votes(chain.Prevote, r, nilHash, 0, 1, 2)
		got := mustFind[consensus.ScheduleTimeout](t, acts)
		if want := cfg.TimeoutPrevote + time.Duration(r)*cfg.TimeoutPrevoteDelta; got.Duration != want || got.Step != consensus.StepPrevote {
			t.Fatalf("r=%d prevote timeout %v, want %v", r, got.Duration, want)
		}
		h.timeout(consensus.StepPrevote, r)
		acts = h.votes(chain.Precommit, r, nilHash, 0, 1, 2)
		got = mustFind[consensus.ScheduleTimeout](t, acts)
		if want := cfg.TimeoutPrecommit + time.Duration(r)*cfg.TimeoutPrecommitDelta; got.Duration != want || got.Step != consensus.StepPrecommit {
			t.Fatalf("r=%d precommit timeout %v, want %v", r, got.Duration, want)
		}
		acts = h.timeout(consensus.StepPrecommit, r)
		got = mustFind[consensus.ScheduleTimeout](t, acts)
		if want := cfg.TimeoutPropose + time.Duration(r+1)*cfg.TimeoutProposeDelta; got.Duration != want || got.Step != consensus.StepPropose {
			t.Fatalf("r=%d propose timeout %v, want %v", r+1, got.Duration, want)
		}
	}
}

// TestFutureRoundProposalKept: a proposal of a later round (within the
// window) is stored and acted on once the Machine reaches that round.
func TestFutureRoundProposalKept(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0, 2)
	h := newHarness(t, vals, self)
	h.start(1)
	b := vals.Block(vals.Proposer(2), 1, 9)
	acts := h.propose(2, chain.NoPOLRound, b)
	mustNoOwnVote(t, acts, chain.Prevote)
	mustRound(t, h, 0, consensus.StepPropose)
	others := h.others(vals.Proposer(2))
	acts = h.votes(chain.Prevote, 2, b.Hash(), others[0])
	mustRound(t, h, 2, consensus.StepPrevote)
	mustOwnVote(t, acts, chain.Prevote, b.Hash())
}

// TestVoteStep: each vote type maps to its step and back; steps without a
// vote map to no vote type.
func TestVoteStep(t *testing.T) {
	for _, tt := range []struct {
		typ  chain.VoteType
		step consensus.RoundStep
	}{{chain.Prevote, consensus.StepPrevote}, {chain.Precommit, consensus.StepPrecommit}} {
		if got := consensus.VoteStep(tt.typ); got != tt.step {
			t.Errorf("VoteStep(%s) = %s, want %s", tt.typ, got, tt.step)
		}
		if got, ok := tt.step.VoteType(); !ok || got != tt.typ {
			t.Errorf("%s.VoteType() = %s, %v; want %s", tt.step, got, ok, tt.typ)
		}
	}
	for _, s := range []consensus.RoundStep{consensus.StepNewHeight, consensus.StepPropose, consensus.StepCommit} {
		if typ, ok := s.VoteType(); ok {
			t.Errorf("%s.VoteType() = %s, want none", s, typ)
		}
	}
}
