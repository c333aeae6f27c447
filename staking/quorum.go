package staking

import "math/bits"

// Quorum arithmetic is exact: a stake forms a quorum iff 3*stake > 2*total,
// compared in 128 bits so that no uint64 stake or total overflows. These
// two functions are the only place the inequalities are written; chain
// (certificates), consensus (vote sets), node and testnet use them.

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
