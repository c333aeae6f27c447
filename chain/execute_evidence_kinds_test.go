package chain_test

import (
	"errors"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
)

// A double proposal is punished exactly as a double vote: the same slash and
// jail, once per (validator, height) whichever kind proves it.
func TestExecuteProposalEvidence(t *testing.T) {
	cases := []struct {
		name   string
		height uint64
		ev     func(t testing.TB) *chain.Evidence
		valid  bool
	}{
		{"valid", 2, func(t testing.TB) *chain.Evidence { return chaintest.DoublePropose(t, v0, execChain, 1, 0) }, true},
		{"different POL rounds, same block", 2, func(t testing.TB) *chain.Evidence {
			return chain.NewProposalEvidence(
				chaintest.Proposal(t, v0, execChain, 1, 2, chain.NoPOLRound, chain.Hash{1}),
				chaintest.Proposal(t, v0, execChain, 1, 2, 1, chain.Hash{1}))
		}, true},
		{"too old", 2 + execParams.UnbondingBlocks, func(t testing.TB) *chain.Evidence { return chaintest.DoublePropose(t, v0, execChain, 1, 0) }, false},
		{"from this block's height", 2, func(t testing.TB) *chain.Evidence { return chaintest.DoublePropose(t, v0, execChain, 2, 0) }, false},
		{"unknown validator", 2, func(t testing.TB) *chain.Evidence { return chaintest.DoublePropose(t, a0, execChain, 1, 0) }, false},
		{"other chain", 2, func(t testing.TB) *chain.Evidence { return chaintest.DoublePropose(t, v0, "other-chain", 1, 0) }, false},
		{"same proposal twice", 2, func(t testing.TB) *chain.Evidence {
			p := chaintest.Proposal(t, v0, execChain, 1, 0, chain.NoPOLRound, chain.Hash{1})
			return &chain.Evidence{Kind: chain.DoubleProposal, PA: *p, PB: *p}
		}, false},
		{"forged second proposal", 2, func(t testing.TB) *chain.Evidence {
			ev := chaintest.DoublePropose(t, v0, execChain, 1, 0)
			ev.PB.Signature = chaintest.Proposal(t, v1, execChain, 1, 0, chain.NoPOLRound, ev.PB.BlockHash).Signature
			return ev
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newExecChain(t)
			c.EmptyBlocks(t, tc.height-1)
			res, _, err := c.Try(c.Block(nil, tc.ev(t)))
			if tc.valid {
				if err != nil || len(res.Slashed) != 1 || res.Slashed[0].Burned != genesisStake/10 || res.Slashed[0].Validator != addr(v0) {
					t.Fatalf("h=%d: got (%+v, %v), want one slash of %d", tc.height, res, err, genesisStake/10)
				}
				return
			}
			if !errors.Is(err, chain.ErrInvalidEvidence) {
				t.Fatalf("h=%d: got %v, want ErrInvalidEvidence", tc.height, err)
			}
		})
	}
}

func TestExecuteOneSlashPerValidatorHeightAcrossKinds(t *testing.T) {
	c := newExecChain(t)
	c.EmptyBlocks(t, 1)
	c.Next(t, nil, chaintest.DoublePropose(t, v0, execChain, 1, 0))
	if _, _, err := c.Try(c.Block(nil, chaintest.DoubleSign(t, v0, execChain, 1, 0))); !errors.Is(err, chain.ErrInvalidEvidence) {
		t.Fatalf("double vote at a height already punished for a double proposal: got %v, want ErrInvalidEvidence", err)
	}
	// Both kinds in one block: the second is refused.
	d := newExecChain(t)
	d.EmptyBlocks(t, 1)
	if _, _, err := d.Try(d.Block(nil, chaintest.DoubleSign(t, v0, execChain, 1, 0), chaintest.DoublePropose(t, v0, execChain, 1, 0))); !errors.Is(err, chain.ErrInvalidEvidence) {
		t.Fatalf("both kinds for one (validator, height) in a block: got %v, want ErrInvalidEvidence", err)
	}
}
