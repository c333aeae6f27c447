package consensus

import "github.com/quorumchain/quorumchain/chain"

// RoundState is an immutable snapshot of a Machine for RPC
// (consensus_getRoundState). It shares no memory with the Machine, so the
// node may publish it to other goroutines (atomic.Pointer) after each Step.
type RoundState struct {
	Height   uint64
	Round    uint32
	Step     RoundStep
	Proposer chain.Address // proposer of (Height, Round); zero before the first NewHeight

	LockedRound int32      // -1: not locked
	LockedBlock chain.Hash // zero when not locked
	ValidRound  int32      // -1: no valid value
	ValidBlock  chain.Hash // zero when no valid value

	// Prevotes and Precommits are the tallies of the current round.
	Prevotes   VoteTally
	Precommits VoteTally
}

// VoteTally is the stake of one vote type at one round.
type VoteTally struct {
	// Blocks is the stake per block hash voted for, sorted by hash; the
	// zero hash stands for nil.
	Blocks     []BlockStake
	VotedStake uint64 // stake of all votes counted, whatever their block
	TotalStake uint64 // stake of the height's validator set
	// Quorum reports that QuorumBlock (zero: nil) has more than two thirds
	// of TotalStake.
	Quorum      bool
	QuorumBlock chain.Hash
}

// BlockStake is the stake that voted for one block hash (zero: nil).
type BlockStake struct {
	Hash  chain.Hash
	Stake uint64
}

// RoundState returns a snapshot of the current height and round.
func (m *Machine) RoundState() RoundState {
	rs := RoundState{
		Height: m.height, Round: m.round, Step: m.step,
		LockedRound: m.lockedRound, ValidRound: m.validRound,
	}
	if m.set == nil {
		return rs
	}
	rs.Proposer = m.proposer
	if m.lockedValue != nil {
		rs.LockedBlock = m.lockedHash
	}
	if m.validValue != nil {
		rs.ValidBlock = m.validHash
	}
	if rv := m.votes.round(m.round); rv != nil {
		rs.Prevotes = rv.prevotes.tally()
		rs.Precommits = rv.precommits.tally()
	} else {
		rs.Prevotes = VoteTally{TotalStake: m.stakeTotal, Blocks: []BlockStake{}}
		rs.Precommits = VoteTally{TotalStake: m.stakeTotal, Blocks: []BlockStake{}}
	}
	return rs
}
