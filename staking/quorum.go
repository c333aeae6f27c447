package staking

import (
	"math/bits"
	"strconv"
)

// Quorum arithmetic is exact: a stake forms a quorum iff
// 3*stake > 2*total, computed in 128 bits so that any uint64 stake is
// accepted (total <= MaxSupply, so 2*total fits in 64 bits).

// QuorumStake returns the smallest stake s with 3*s > 2*total.
func (vs *ValidatorSet) QuorumStake() uint64 { return 2*vs.total/3 + 1 }

// HasQuorum reports whether stake is more than two thirds of the total:
// 3*stake > 2*total.
func (vs *ValidatorSet) HasQuorum(stake uint64) bool { return timesThreeExceeds(stake, 2*vs.total) }

// HasOneThird reports whether stake is more than one third of the total:
// 3*stake > total. More than a third of the stake in a higher round lets a
// validator skip ahead; more than a third faulty breaks safety.
func (vs *ValidatorSet) HasOneThird(stake uint64) bool { return timesThreeExceeds(stake, vs.total) }

func timesThreeExceeds(stake, bound uint64) bool {
	hi, lo := bits.Mul64(stake, 3)
	return hi != 0 || lo > bound
}

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
