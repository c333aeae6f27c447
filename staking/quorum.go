package staking

import (
	"math/bits"
	"strconv"
)

// Quorum arithmetic is exact: a stake forms a quorum iff 3*stake > 2*total,
// compared in 128 bits so that no uint64 stake or total overflows. These
// two functions are the only place the inequalities are written; chain
// (certificates), consensus (vote sets) and testnet use them.

// HasQuorum reports whether stake is more than two thirds of total:
// 3*stake > 2*total.
func HasQuorum(stake, total uint64) bool {
	hi1, lo1 := bits.Mul64(stake, 3)
	hi2, lo2 := bits.Mul64(total, 2)
	return hi1 > hi2 || (hi1 == hi2 && lo1 > lo2)
}

// HasOneThird reports whether stake is more than one third of total:
// 3*stake > total. More than a third of the stake in a higher round lets a
// validator skip ahead; more than a third faulty breaks safety.
func HasOneThird(stake, total uint64) bool {
	hi, lo := bits.Mul64(stake, 3)
	return hi != 0 || lo > total
}

// QuorumStake returns the smallest stake s with 3*s > 2*total.
func (vs *ValidatorSet) QuorumStake() uint64 { return 2*vs.total/3 + 1 }

// HasQuorum reports whether stake is more than two thirds of the set's
// total stake.
func (vs *ValidatorSet) HasQuorum(stake uint64) bool { return HasQuorum(stake, vs.total) }

// HasOneThird reports whether stake is more than one third of the set's
// total stake.
func (vs *ValidatorSet) HasOneThird(stake uint64) bool { return HasOneThird(stake, vs.total) }

// VoteResult is the outcome of a stake tally.
type VoteResult int

const (
	// VotePending: neither outcome is decided yet.
	VotePending VoteResult = iota + 1
	// VoteWon: the yes stake is a quorum.
	VoteWon
	// VoteLost: even if all stake not yet counted as no voted yes, there
	// would be no quorum.
	VoteLost
)

func (r VoteResult) String() string {
	switch r {
	case VotePending:
		return "VotePending"
	case VoteWon:
		return "VoteWon"
	case VoteLost:
		return "VoteLost"
	}
	return "VoteResult(" + strconv.Itoa(int(r)) + ")"
}

// Tally decides a vote given the stake that voted yes and the stake that
// voted no (or otherwise can no longer vote yes), like etcd-io/raft's
// quorum.VoteResult: won when 3*yes > 2*total; lost when the stake that
// could still say yes, total-no, cannot reach a quorum; pending otherwise.
// Won takes precedence if both hold (which needs yes+no > total).
func (vs *ValidatorSet) Tally(yes, no uint64) VoteResult {
	if vs.HasQuorum(yes) {
		return VoteWon
	}
	if no >= vs.total || !vs.HasQuorum(vs.total-no) {
		return VoteLost
	}
	return VotePending
}
