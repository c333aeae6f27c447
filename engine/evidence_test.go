package engine_test

import (
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	ct "github.com/quorumchain/quorumchain/consensus/consensustest"
	"github.com/quorumchain/quorumchain/engine"
)

// TestBadEvidenceItemDropsOnlyItself: of the evidence a proposer has, a
// piece that no longer applies (its double sign is older than the
// unbonding period allows) is dropped alone; the block still carries the
// valid piece.
func TestBadEvidenceItemDropsOnlyItself(t *testing.T) {
	nw := newNetwork(t)
	nw.doc.Params.UnbondingBlocks = 2
	c := newCluster(t, nw, []int{0, 1, 2}, func(_ int, d *disk) {
		d.config = func(cfg *engine.Config) {
			// The proposer waits (no transactions) so that the evidence
			// arrives before it builds its block.
			cfg.Machine.SkipEmptyBlocks = true
			cfg.Machine.EmptyBlockInterval = time.Second
		}
	})
	c.runUntil("height 4", c.allAt(4, 0, 1, 2))
	byz := nw.keys[3]
	pair := func(h uint64) *chain.Evidence {
		a := ct.SignVote(byz, testChainID, chain.Prevote, h, 0, chain.Hash{1})
		b := ct.SignVote(byz, testChainID, chain.Prevote, h, 0, chain.Hash{2})
		return chain.NewEvidence(a, b)
	}
	stale, fresh := pair(1), pair(3) // at height 4: 3 blocks old (too old), and 1
	for _, i := range []int{0, 1, 2} {
		c.procs[i].d.Evidence(stale)
		c.procs[i].d.Evidence(fresh)
	}
	c.runUntil("height 5", c.allAt(5, 0, 1, 2))
	b, _ := c.final(0, 4)
	if len(b.Evidence) != 1 || b.Evidence[0].Hash() != fresh.Hash() {
		t.Fatalf("block 4 carries %d pieces of evidence, want only the fresh one", len(b.Evidence))
	}
}

// TestProposalEvidenceIncluded: evidence of a double proposal is pooled and
// included like a double vote's, and the pool keeps one piece per
// (validator, height) across kinds: a double vote of the same validator
// and height offered after it is not included.
func TestProposalEvidenceIncluded(t *testing.T) {
	nw := newNetwork(t)
	c := newCluster(t, nw, []int{0, 1, 2}, func(_ int, d *disk) {
		d.config = func(cfg *engine.Config) {
			cfg.Machine.SkipEmptyBlocks = true
			cfg.Machine.EmptyBlockInterval = time.Second
		}
	})
	c.runUntil("height 4", c.allAt(4, 0, 1, 2))
	byz := nw.keys[3]
	props := chain.NewProposalEvidence(
		ct.SignProposal(byz, testChainID, 3, 0, chain.NoPOLRound, chain.Hash{1}),
		ct.SignProposal(byz, testChainID, 3, 0, chain.NoPOLRound, chain.Hash{2}))
	votes := chain.NewEvidence(
		ct.SignVote(byz, testChainID, chain.Prevote, 3, 0, chain.Hash{1}),
		ct.SignVote(byz, testChainID, chain.Prevote, 3, 0, chain.Hash{2}))
	for _, i := range []int{0, 1, 2} {
		c.procs[i].d.Evidence(props)
		c.procs[i].d.Evidence(votes)
	}
	c.runUntil("height 5", c.allAt(5, 0, 1, 2))
	b, _ := c.final(0, 4)
	if len(b.Evidence) != 1 || b.Evidence[0].Hash() != props.Hash() {
		t.Fatalf("block 4 carries %d pieces of evidence, want only the double proposal", len(b.Evidence))
	}
}

// TestDoubleProposerSlashed: a validator whose driver double-proposes
// (Config.DoublePropose, with a signer that allows it) is reported by the
// honest drivers that receive both proposals, and a block carries the
// evidence, which jails the validator.
func TestDoubleProposerSlashed(t *testing.T) {
	nw := newNetwork(t)
	const byz = 3
	c := newCluster(t, nw, []int{0, 1, 2, byz}, func(i int, d *disk) { d.doublePropose = i == byz })
	addr := chain.PubkeyAddress(&nw.keys[byz].PublicKey)
	before, _ := c.procs[0].d.Snapshot().State.Candidate(addr)
	var found *chain.Evidence
	c.runUntil("evidence of the double proposal in a block", func() bool {
		for h := uint64(1); h < c.heightOf(0); h++ {
			b, _ := c.final(0, h)
			for _, ev := range b.Evidence {
				if ev.Kind == chain.DoubleProposal && ev.Validator() == addr {
					found = ev
					return true
				}
			}
		}
		return false
	})
	if err := found.PA.Verify(testChainID); err != nil {
		t.Fatal(err)
	}
	after, _ := c.procs[0].d.Snapshot().State.Candidate(addr)
	// (A stake of 10 times the slash fraction rounds down to nothing.)
	if !after.Jailed || after.Stake > before.Stake {
		t.Fatalf("double proposer after the evidence: %+v, before %+v; want jailed", after, before)
	}
}
