package engine

import (
	"slices"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/staking"
)

// decidedRound is the vote tallies of the round that decided the last
// height, and that height's set. The precommit that completes a quorum
// makes the Machine decide within the same step, so by the time the driver
// publishes that vote the next height has started; its votes event takes
// the tally from here, and reports the quorum it completed.
type decidedRound struct {
	height     uint64
	round      uint32
	prevotes   consensus.VoteTally
	precommits consensus.VoteTally
	vals       *staking.ValidatorSet // nil: nothing decided yet
}

func newDecidedRound(rs consensus.RoundState, vals *staking.ValidatorSet) decidedRound {
	d := decidedRound{height: rs.Height, round: rs.Round, prevotes: rs.Prevotes, precommits: rs.Precommits, vals: vals}
	// The Machine's next height must not share the slices.
	d.prevotes.Blocks = slices.Clone(d.prevotes.Blocks)
	d.precommits.Blocks = slices.Clone(d.precommits.Blocks)
	return d
}

// decidedVoteEvent publishes a vote of the decided height's deciding round
// with that round's tally; votes of other heights and rounds are not
// published (the Machine no longer counts them).
func (e *Driver) decidedVoteEvent(v *chain.Vote) {
	d := &e.decided
	if d.vals == nil || v.Height != d.height || v.Round != d.round {
		return
	}
	stake, _ := d.vals.StakeOf(v.Validator)
	t := d.prevotes
	if v.Type == chain.Precommit {
		t = d.precommits
	}
	e.obs.VoteCounted(v, stake, t)
}
