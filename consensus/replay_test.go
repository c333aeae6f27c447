package consensus_test

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
)

// loggingHarness records every input a harness steps, as a node's WAL does.
func loggingHarness(t *testing.T, vals *ct.Validators, self int) (*harness, *[]consensus.Input) {
	h := newHarness(t, vals, self)
	var log []consensus.Input
	h.onInput = func(in consensus.Input) { log = append(log, in) }
	return h, &log
}

// TestReplayReachesTheSameState: a fresh Machine fed a validator's logged
// inputs through Replay rejects none of them (its own votes and proposal
// included), reaches the same round state, and is left only the requests
// that no logged input answered: here the timers still running.
func TestReplayReachesTheSameState(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := vals.Proposer(1)
	h, log := loggingHarness(t, vals, self)
	h.start(1)
	// Round 0: a proposal nobody polkas; round 1: our own proposal, a
	// polka and our lock, but not enough precommits to decide.
	b0 := vals.Block(vals.Proposer(0), 1, 5)
	h.propose(0, chain.NoPOLRound, b0)
	h.votes(chain.Prevote, 0, chain.Hash{}, h.others()...)
	h.votes(chain.Precommit, 0, chain.Hash{}, h.others()...)
	h.timeout(consensus.StepPrecommit, 0)
	mustRound(t, h, 1, consensus.StepPrevote)
	own := h.rs().Prevotes
	if len(own.Blocks) != 1 {
		t.Fatalf("own proposal of round 1 not prevoted: %+v", own)
	}
	mine := own.Blocks[0].Hash
	h.votes(chain.Prevote, 1, mine, h.others()[:2]...)
	before := h.rs()
	if before.LockedRound != 1 || before.Step != consensus.StepPrecommit {
		t.Fatalf("not locked at round 1 before the crash: %+v", before)
	}

	fresh := consensus.NewMachine(h.cfg)
	rejected := 0
	todo := consensus.Replay(fresh, *log, func(in consensus.Input, acts []consensus.Action, _ consensus.Outcome) {
		rejected += ct.Count[consensus.RejectedInput](acts)
	})
	if rejected != 0 {
		t.Fatalf("%d logged inputs rejected on replay", rejected)
	}
	after := fresh.RoundState()
	if after.Height != before.Height || after.Round != before.Round || after.Step != before.Step ||
		after.LockedRound != before.LockedRound || after.LockedBlock != before.LockedBlock ||
		after.ValidRound != before.ValidRound || after.ValidBlock != before.ValidBlock {
		t.Fatalf("replayed state %+v, before the crash %+v", after, before)
	}
	round1 := 0
	for _, a := range todo {
		to, ok := a.(consensus.ScheduleTimeout)
		if !ok {
			t.Fatalf("replay left %T to carry out; every other request was answered in the log", a)
		}
		if to.Round == 0 && to.Step == consensus.StepPrecommit {
			t.Fatal("replay re-arms round 0's precommit timer, whose firing is in the log")
		}
		if to.Round == 1 {
			round1++
		}
	}
	if round1 == 0 {
		t.Fatalf("replay re-arms no timer of round 1: %s", ct.Describe(todo))
	}
}

// TestReplayRepeatsLostRequests: a request whose answer the crash lost (the
// signature of a precommit, here) is handed back to be carried out again.
func TestReplayRepeatsLostRequests(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h, log := loggingHarness(t, vals, self)
	h.start(1)
	b := vals.Block(vals.Proposer(0), 1, 9)
	h.propose(0, chain.NoPOLRound, b)
	h.autoSign = false // the crash comes before the precommit is signed
	h.votes(chain.Prevote, 0, b.Hash(), h.others()...)
	todo := consensus.Replay(consensus.NewMachine(h.cfg), *log, nil)
	var asked *chain.Vote
	for _, a := range todo {
		if s, ok := a.(consensus.SignVote); ok {
			asked = s.Vote
		}
	}
	if asked == nil || asked.Type != chain.Precommit || asked.BlockHash != b.Hash() {
		t.Fatalf("replay left %s to carry out, want the lost precommit for %s", ct.Describe(todo), ct.ShortHash(b.Hash()))
	}
}
