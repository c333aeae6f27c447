package chain_test

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
)

// TestExecuteJailsForDowntime: v3 never signs. Blocks 2..7 carry the
// certificates of 1..6 without it; the sixth miss is one more than
// DowntimeMaxMissed (5), so block 7 jails it and the set of height 9 is
// without it, while the signers earn the rewards.
func TestExecuteJailsForDowntime(t *testing.T) {
	c := newExecChain(t)
	var last *chain.Certificate
	for h := uint64(1); h <= 9; h++ {
		blk := c.Block(nil)
		blk.LastCertificate = last
		res, err := c.Execute(blk)
		if err != nil {
			t.Fatalf("h=%d: %v", h, err)
		}
		switch {
		case h < 7 && len(res.Jailed) != 0:
			t.Fatalf("h=%d: jailed %+v early", h, res.Jailed)
		case h == 7 && (len(res.Jailed) != 1 || res.Jailed[0].Validator != addr(v3) || res.Jailed[0].Missed != 6):
			t.Fatalf("h=7: jailed %+v, want v3 with 6 missed", res.Jailed)
		}
		last = chaintest.Certificate(t, execChain, h, 0, blk.Hash(), v0, v1, v2)
	}
	if _, ok := c.ValidatorSet(8).StakeOf(addr(v3)); !ok {
		t.Error("v3 left the set of height 8: it leaves at H+2 = 9")
	}
	if _, ok := c.ValidatorSet(9).StakeOf(addr(v3)); ok {
		t.Error("v3 still in the set of height 9")
	}
	if cand, _ := c.State.Candidate(addr(v3)); !cand.Jailed || cand.JailedUntil != 7+execParams.JailBlocks {
		t.Errorf("v3: got %+v, want jailed until %d", cand, 7+execParams.JailBlocks)
	}
	if c.State.Missed(addr(v0)) != 0 {
		t.Errorf("v0 missed %d, want 0", c.State.Missed(addr(v0)))
	}
}
