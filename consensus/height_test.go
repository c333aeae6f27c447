package consensus_test

import (
	"errors"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
)

// TestFutureHeightBuffered: a proposal and votes of the next height are
// kept and replayed after NewHeight.
func TestFutureHeightBuffered(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	h.start(1)
	b2 := vals.Block(vals.Proposer(0), 2, 2)
	p2 := vals.Proposal(vals.Proposer(0), 2, 0, chain.NoPOLRound, b2.Hash())
	var acts []consensus.Action
	acts = append(acts, h.step(consensus.ProposalReceived{Proposal: p2, Block: b2})...)
	for _, i := range h.others() {
		acts = append(acts, h.step(consensus.VoteReceived{Vote: vals.Vote(i, chain.Prevote, 2, 0, b2.Hash())})...)
	}
	if len(acts) != 0 {
		t.Fatalf("next-height messages gave actions:\n%s", ct.Describe(acts))
	}
	// Finish height 1 by commit, then start height 2.
	b1 := vals.Block(vals.Proposer(0), 1, 1)
	h.propose(0, chain.NoPOLRound, b1)
	mustFind[consensus.Finalize](t, h.votes(chain.Precommit, 0, b1.Hash(), h.others()...))
	acts = h.start(2)
	mustOwnVote(t, acts, chain.Prevote, b2.Hash())
	mustOwnVote(t, acts, chain.Precommit, b2.Hash()) // the buffered prevotes made a polka
}

// TestFutureHeightBufferBeforeFirstHeight: messages that arrive before the
// first NewHeight are ignored, since no validator set says who may send
// them; the driver never steps a Machine before its first NewHeight.
func TestFutureHeightBufferBeforeFirstHeight(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	h.height = 1
	b := vals.Block(vals.Proposer(0), 1, 1)
	p := vals.Proposal(vals.Proposer(0), 1, 0, chain.NoPOLRound, b.Hash())
	if _, out := h.m.StepOutcome(consensus.ProposalReceived{Proposal: p, Block: b}); out != consensus.Ignored {
		t.Fatalf("proposal before NewHeight: %s, want ignored", out)
	}
	acts := h.start(1)
	if _, ok := ownVote(acts, chain.Prevote); ok {
		t.Fatalf("prevoted a proposal received before the first NewHeight:\n%s", ct.Describe(acts))
	}
}

// TestBlockInterval: the height waits for the rest of the block interval.
func TestBlockInterval(t *testing.T) {
	vals := ct.Equal(4, 10)
	h := newHarness(t, vals, vals.Proposer(0), func(c *consensus.Config) { c.BlockInterval = time.Second })
	h.height = 1
	acts := h.step(consensus.NewHeight{Height: 1, Validators: vals.Set, LastBlockTime: t0, Now: t0.Add(400 * time.Millisecond)})
	to := mustFind[consensus.ScheduleTimeout](t, acts)
	if to.Step != consensus.StepNewHeight || to.Duration != 600*time.Millisecond {
		t.Fatalf("scheduled %+v, want new-height wait of 600ms", to)
	}
	mustNone[consensus.BuildBlock](t, acts)
	acts = h.timeout(consensus.StepNewHeight, 0)
	mustFind[consensus.BuildBlock](t, acts)
	mustFind[consensus.BroadcastProposal](t, acts)

	// Past the interval already: start at once.
	h = newHarness(t, vals, vals.Proposer(0), func(c *consensus.Config) { c.BlockInterval = time.Second })
	h.height = 1
	acts = h.step(consensus.NewHeight{Height: 1, Validators: vals.Set, LastBlockTime: t0, Now: t0.Add(2 * time.Second)})
	mustFind[consensus.BuildBlock](t, acts)
}

// TestSkipEmptyBlocks: the proposer waits for transactions, then proposes;
// with EmptyBlockInterval it proposes an empty block at the deadline; a
// waiting non-proposer joins as soon as the proposal arrives.
func TestSkipEmptyBlocks(t *testing.T) {
	vals := ct.Equal(4, 10)
	skip := func(empty time.Duration) func(*consensus.Config) {
		return func(c *consensus.Config) {
			c.SkipEmptyBlocks, c.EmptyBlockInterval, c.BlockInterval = true, empty, time.Second
		}
	}
	proposer := vals.Proposer(0)

	t.Run("waits for txs", func(t *testing.T) {
		h := newHarness(t, vals, proposer, skip(0))
		acts := h.start(1)
		mustFind[consensus.ScheduleTimeout](t, acts) // block interval
		acts = h.timeout(consensus.StepNewHeight, 0)
		if len(acts) != 0 {
			t.Fatalf("no txs, no deadline: want no action, got:\n%s", ct.Describe(acts))
		}
		mustRound(t, h, 0, consensus.StepNewHeight)
		acts = h.step(consensus.TxsAvailable{})
		mustFind[consensus.BuildBlock](t, acts)
		mustFind[consensus.BroadcastProposal](t, acts)
	})
	t.Run("txs during interval", func(t *testing.T) {
		h := newHarness(t, vals, proposer, skip(0))
		h.start(1)
		if acts := h.step(consensus.TxsAvailable{}); len(acts) != 0 {
			t.Fatalf("txs before the interval ended gave actions:\n%s", ct.Describe(acts))
		}
		acts := h.timeout(consensus.StepNewHeight, 0)
		mustFind[consensus.BuildBlock](t, acts)
	})
	t.Run("txs at height start", func(t *testing.T) {
		h := newHarness(t, vals, proposer, skip(0))
		h.height = 1
		h.step(consensus.NewHeight{Height: 1, Validators: vals.Set, LastBlockTime: t0, Now: t0, TxsAvailable: true})
		mustFind[consensus.BuildBlock](t, h.timeout(consensus.StepNewHeight, 0))
	})
	t.Run("full batch during interval", func(t *testing.T) {
		h := newHarness(t, vals, proposer, skip(0))
		h.start(1)
		if acts := h.step(consensus.TxsAvailable{}); len(acts) != 0 {
			t.Fatalf("txs (not a batch) before the interval ended gave actions:\n%s", ct.Describe(acts))
		}
		acts := h.step(consensus.TxsAvailable{Batch: true})
		mustFind[consensus.BuildBlock](t, acts)
		mustFind[consensus.BroadcastProposal](t, acts)
		if acts := h.timeout(consensus.StepNewHeight, 0); len(acts) != 0 {
			t.Fatalf("the interval's timeout after a batch ended it gave actions:\n%s", ct.Describe(acts))
		}
	})
	t.Run("full batch at height start", func(t *testing.T) {
		h := newHarness(t, vals, proposer, skip(0))
		h.height = 1
		acts := h.step(consensus.NewHeight{Height: 1, Validators: vals.Set, LastBlockTime: t0, Now: t0, TxsAvailable: true, TxsBatch: true})
		mustFind[consensus.BuildBlock](t, acts)
		for _, a := range acts {
			if to, ok := a.(consensus.ScheduleTimeout); ok && to.Step == consensus.StepNewHeight {
				t.Fatalf("waited out the block interval with a full batch waiting:\n%s", ct.Describe(acts))
			}
		}
	})
	t.Run("batch while waiting for txs", func(t *testing.T) {
		h := newHarness(t, vals, proposer, skip(0))
		h.start(1)
		h.timeout(consensus.StepNewHeight, 0) // interval over, no txs
		mustFind[consensus.BuildBlock](t, h.step(consensus.TxsAvailable{Batch: true}))
	})
	t.Run("empty block deadline", func(t *testing.T) {
		h := newHarness(t, vals, proposer, skip(10*time.Second))
		h.start(1)
		acts := h.timeout(consensus.StepNewHeight, 0)
		to := mustFind[consensus.ScheduleTimeout](t, acts)
		if to.Step != consensus.StepNewHeight || to.Duration != 9*time.Second {
			t.Fatalf("scheduled %+v, want the rest of the empty-block interval, 9s", to)
		}
		acts = h.timeout(consensus.StepNewHeight, 0)
		mustFind[consensus.BuildBlock](t, acts)
	})
	t.Run("non-proposer joins on proposal", func(t *testing.T) {
		self := nonProposer(vals, 0)
		h := newHarness(t, vals, self, skip(0))
		h.start(1)
		h.timeout(consensus.StepNewHeight, 0)
		mustRound(t, h, 0, consensus.StepNewHeight)
		b := vals.Block(proposer, 1, 1)
		acts := h.propose(0, chain.NoPOLRound, b)
		mustOwnVote(t, acts, chain.Prevote, b.Hash())
	})
	t.Run("non-proposer joins on votes", func(t *testing.T) {
		self := nonProposer(vals, 0)
		h := newHarness(t, vals, self, skip(0))
		h.start(1)
		others := h.others()
		acts := h.votes(chain.Prevote, 0, nilHash, others[0])
		mustRound(t, h, 0, consensus.StepNewHeight)
		acts = h.votes(chain.Prevote, 0, nilHash, others[1])
		mustRound(t, h, 0, consensus.StepPropose)
		mustFind[consensus.ScheduleTimeout](t, acts)
	})
}

// TestNewHeightRejectsBadInput: a NewHeight without validators, or for
// height 0, is rejected and the Machine stays as it was.
func TestNewHeightRejectsBadInput(t *testing.T) {
	m := consensus.NewMachine(testConfig())
	for _, in := range []consensus.NewHeight{{Height: 1}, {Height: 0, Validators: ct.Equal(1, 1).Set}} {
		acts := m.Step(in)
		rej := mustFind[consensus.RejectedInput](t, acts)
		if !errors.Is(rej.Err, consensus.ErrMalformedInput) {
			t.Fatalf("rejected with %v, want ErrMalformedInput", rej.Err)
		}
	}
	if rs := m.RoundState(); rs.Height != 0 {
		t.Fatalf("round state %+v after rejected NewHeight", rs)
	}
	// Inputs before the first NewHeight are ignored without panicking.
	for _, in := range []consensus.Input{
		consensus.TimeoutFired{Height: 1}, consensus.BlockChecked{Height: 1}, consensus.TxsAvailable{},
		consensus.OwnVote{Vote: &chain.Vote{Height: 1}}, consensus.SignRefused{Height: 1},
		consensus.CommitReceived{Block: &chain.Block{}, Certificate: &chain.Certificate{Height: 1}},
	} {
		if acts := m.Step(in); len(acts) != 0 {
			t.Fatalf("%T before NewHeight gave actions:\n%s", in, ct.Describe(acts))
		}
	}
}

// TestFutureHeightBufferBounded: the next-height buffer keeps, of one
// member of the next set, at most four unverified votes, one per (round,
// type), and two proposals.
func TestFutureHeightBufferBounded(t *testing.T) {
	vals := ct.Equal(4, 10)
	h := newHarness(t, vals, -1)
	h.start(1)
	for r := uint32(0); r < 200; r++ {
		// Unsigned: the buffer cannot verify, the replay rejects them.
		v := &chain.Vote{Type: chain.Prevote, Height: 2, Round: r, Validator: vals.List[1].Address}
		h.step(consensus.VoteReceived{Vote: v})
		h.step(consensus.VoteReceived{Vote: v})
	}
	b := vals.Block(0, 2, 1)
	for i := 0; i < 10; i++ {
		p := &chain.Proposal{Height: 2, Round: uint32(i), POLRound: chain.NoPOLRound, BlockHash: b.Hash(), Proposer: vals.List[0].Address}
		h.step(consensus.ProposalReceived{Proposal: p, Block: b})
	}
	acts := h.step(consensus.NewHeight{Height: 2, Validators: vals.Set, NextValidators: vals.Set, LastBlockTime: t0, Now: t0})
	var votes, proposals int
	for _, rej := range ct.FindAll[consensus.RejectedInput](acts) {
		switch rej.Input.(type) {
		case consensus.VoteReceived:
			votes++
		case consensus.ProposalReceived:
			proposals++
		}
	}
	// Votes beyond the round window are dropped after verification is
	// skipped, so at most the buffered ones are rejected.
	if votes == 0 || votes > 4 || proposals == 0 || proposals > 2 {
		t.Fatalf("replayed %d votes and %d proposals, want 1..4 and 1..2", votes, proposals)
	}
}

// TestNextHeightJunkDoesNotCrowdOutHonestVotes: a signer outside the next
// height's set, and a member of it that floods, fill only their own
// allowance of the next-height buffer; the honest early proposal and
// prevotes are still buffered and make a polka when the height starts.
func TestNextHeightJunkDoesNotCrowdOutHonestVotes(t *testing.T) {
	vals := ct.Equal(4, 10)
	self := nonProposer(vals, 0)
	h := newHarness(t, vals, self)
	h.start(1)
	byz := h.others(vals.Proposer(0))[0]
	outsider := ct.Key(100)
	for r := uint32(0); r < 500; r++ {
		for _, typ := range []chain.VoteType{chain.Prevote, chain.Precommit} {
			junk := ct.SignVote(outsider, ct.ChainID, typ, 2, r, chain.Hash{byte(r)})
			if _, out := h.m.StepOutcome(consensus.VoteReceived{Vote: junk}); out == consensus.Accepted {
				t.Fatalf("a non-member's next-height vote was buffered")
			}
			h.step(consensus.VoteReceived{Vote: vals.Vote(byz, typ, 2, r+1, chain.Hash{byte(r)})})
		}
		jb := ct.NewBlock(ct.ChainID, 2, ct.Address(100), uint64(r))
		h.step(consensus.ProposalReceived{Proposal: ct.SignProposal(outsider, ct.ChainID, 2, r, chain.NoPOLRound, jb.Hash()), Block: jb})
	}
	b2 := vals.Block(vals.Proposer(0), 2, 2)
	p2 := vals.Proposal(vals.Proposer(0), 2, 0, chain.NoPOLRound, b2.Hash())
	if _, out := h.m.StepOutcome(consensus.ProposalReceived{Proposal: p2, Block: b2}); out != consensus.Accepted {
		t.Fatalf("honest next-height proposal: %s, want accepted", out)
	}
	for _, i := range h.others(byz) {
		if _, out := h.m.StepOutcome(consensus.VoteReceived{Vote: vals.Vote(i, chain.Prevote, 2, 0, b2.Hash())}); out != consensus.Accepted {
			t.Fatalf("honest next-height prevote of %d: %s, want accepted", i, out)
		}
	}
	b1 := vals.Block(vals.Proposer(0), 1, 1)
	h.propose(0, chain.NoPOLRound, b1)
	mustFind[consensus.Finalize](t, h.votes(chain.Precommit, 0, b1.Hash(), h.others()...))
	acts := h.start(2)
	mustOwnVote(t, acts, chain.Prevote, b2.Hash())
	mustOwnVote(t, acts, chain.Precommit, b2.Hash()) // the buffered honest prevotes made a polka
}
