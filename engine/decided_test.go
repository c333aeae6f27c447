package engine_test

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// TestDecidingPrecommitPublished: every validator publishes the precommit
// that completed the quorum of the block it decided, with a tally of more
// than two thirds for that block, although the next height has started by
// the time the driver publishes it.
func TestDecidingPrecommitPublished(t *testing.T) {
	nw := newNetwork(t)
	c := newCluster(t, nw, []int{0, 1, 2, 3}, nil)
	c.runUntil("height 1 decided by every validator", c.allAt(2, 0, 1, 2, 3))
	for i, p := range c.procs {
		_, cert := c.final(i, 1)
		var best uint64
		for _, cv := range p.sink.votes {
			v := cv.vote
			if v.Type != chain.Precommit || v.Height != 1 || v.Round != cert.Round || v.BlockHash != cert.BlockHash {
				continue
			}
			for _, bs := range cv.tally.Blocks {
				if bs.Hash == cert.BlockHash {
					best = max(best, bs.Stake)
				}
			}
		}
		if total := nw.set.TotalStake(); !staking.HasQuorum(best, total) {
			t.Errorf("validator %d: highest published precommit tally for the decided block of height 1 is %d of %d, want more than two thirds",
				i, best, total)
		}
	}
}
