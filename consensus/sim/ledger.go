package sim

import (
	"fmt"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// simBlockReward is the block_reward of every simulated chain: odd, so
// that sharing it among stakes leaves remainders to carry.
const simBlockReward = 7

// ledger checks the committed state of height h, the first time an honest
// validator commits h (every honest validator that commits h holds the
// same state: agreement is checked on the block, and execution is
// deterministic):
//
//   - supply conservation: the total is the genesis supply plus what was
//     issued minus what was burned; the issued and burned totals are what
//     the blocks so far reported issuing and burning (evidence and
//     downtime slashes); slashed equals burned; and the entries load, which
//     checks that balances, bonds, unbonding entries and unpaid rewards
//     add up to the total;
//   - downtime: once the chain is past the downtime window, every Silent
//     Byzantine validator (it never signs) is jailed and out of the set of
//     h+1.
func (c *checker) ledger(n *node, h uint64, res *chain.ExecResult) {
	if h <= c.ledgerHeight {
		return
	}
	s := c.s
	snap := n.driver.Snapshot()
	if snap.Height != h || snap.State == nil {
		s.violate(Violation{Kind: "supply", Node: n.id, Height: h,
			Detail: fmt.Sprintf("finalized h=%d but the published snapshot is of h=%d", h, snap.Height)})
		return
	}
	st := snap.State
	sp := st.Supply()
	if h != c.ledgerHeight+1 {
		// The first to commit h-1 crashed before reporting it: the sums
		// restart from the ledger's own totals.
		c.burned, c.issued = sp.Burned, sp.Issued
	} else {
		for _, sl := range res.Slashed {
			c.burned += sl.Burned
		}
		for _, j := range res.Jailed {
			c.burned += j.Burned
		}
		c.issued += res.Rewards.Issued
	}
	c.ledgerHeight = h
	s.rep.SupplyChecks++
	v := Violation{Kind: "supply", Node: n.id, Height: h}
	switch {
	case sp.Total != c.genesisSupply+sp.Issued-sp.Burned:
		v.Detail = fmt.Sprintf("total %d, want genesis %d + issued %d - burned %d", sp.Total, c.genesisSupply, sp.Issued, sp.Burned)
	case sp.Issued != c.issued || sp.Issued != h*simBlockReward:
		v.Detail = fmt.Sprintf("issued %d, blocks reported %d, want %d", sp.Issued, c.issued, h*simBlockReward)
	case sp.Burned != c.burned || sp.Slashed != sp.Burned:
		v.Detail = fmt.Sprintf("burned %d, slashed %d, blocks reported burning %d", sp.Burned, sp.Slashed, c.burned)
	}
	if v.Detail == "" {
		if _, err := staking.LoadState(st.Params(), st.Entries()); err != nil {
			v.Detail = "committed state does not load: " + err.Error()
		}
	}
	if v.Detail != "" {
		s.violate(v)
		return
	}
	c.downtime(n, h, st, snap.Validators)
}

// downtime checks that every Silent validator is jailed and out of next,
// the set of h+1, once h is at least DowntimeWindow+2: its precommit is
// missing from every certificate (blocks 2..h carry those of 1..h-1), so
// it is jailed at h = DowntimeMaxMissed+2 at the latest and leaves the set
// two heights later.
func (c *checker) downtime(n *node, h uint64, st *staking.State, next *staking.ValidatorSet) {
	s := c.s
	if h < st.Params().DowntimeWindow+2 {
		return
	}
	for i, b := range s.byz {
		if b == nil || b.beh != Silent || c.jailedSeen[i] {
			continue
		}
		cand, ok := st.Candidate(s.vals[i].addr)
		_, inSet := next.StakeOf(s.vals[i].addr)
		if !ok || !cand.Jailed || inSet {
			s.violate(Violation{Kind: "downtime", Node: n.id, Height: h,
				Detail: fmt.Sprintf("silent n%d past the downtime window (%d): jailed %v, in the set of h=%d %v", i, st.Params().DowntimeWindow, cand.Jailed, h+1, inSet)})
			return
		}
		c.jailedSeen[i] = true
		s.rep.DowntimeJailed++
	}
}
