package staking

import (
	"fmt"
	"math/bits"
)

// Proposer rotation: CometBFT's stake-weighted round robin
// (spec/consensus/proposer-selection.md), stored one phase later so that the
// set of a height names its own round-0 proposer.
//
// A set's priorities are "ready to pick": the member with the highest
// priority (ties: lower address) proposes round 0. One step, which moves to
// the next round or height, is
//
//	p[proposer] -= total; for each member v: p[v] += stake(v); normalize
//
// which is CometBFT's IncrementProposerPriority (add stakes, pick the max,
// charge it the total) with our priority = CometBFT's + stake. A step keeps
// the sum of priorities unchanged, so over any run each member is picked in
// proportion to its stake (requirement R2 of the spec).
//
// normalize rescales the priorities when their spread exceeds 2*total
// (dividing by ceil(spread / 2*total), rounding down) and then subtracts
// their floor average, so the sum stays in [0, len). This bounds every
// priority by 2*total <= 2^61 after each step; inputs are bounded by
// priorityLimit, so no intermediate value overflows int64.
//
// Membership changes (WithMembership) keep the priorities of members that
// stay and start newcomers at -1.125*total, so that joining (or leaving and
// rejoining) never jumps the queue.

// priorityLimit bounds the priorities NewValidatorSet accepts: a step adds or
// subtracts at most MaxSupply = 2^60, which stays inside int64.
const priorityLimit int64 = 1 << 62

// maxPriority returns the index of the highest priority, ties to the lower
// index (= lower address).
func maxPriority(vals []Validator) int {
	best := 0
	for i := 1; i < len(vals); i++ {
		if vals[i].ProposerPriority > vals[best].ProposerPriority {
			best = i
		}
	}
	return best
}

// step advances priorities by one round in place.
func step(vals []Validator, total uint64) {
	vals[maxPriority(vals)].ProposerPriority -= int64(total)
	for i := range vals {
		vals[i].ProposerPriority += int64(vals[i].Stake)
	}
	normalize(vals, total)
}

// normalize rescales priorities into a window of 2*total and centers them on
// zero. Precondition: |priority| < 2^63 - 2^61 for all members.
func normalize(vals []Validator, total uint64) {
	lo, hi := vals[0].ProposerPriority, vals[0].ProposerPriority
	for _, v := range vals[1:] {
		lo, hi = min(lo, v.ProposerPriority), max(hi, v.ProposerPriority)
	}
	window := 2 * total
	if spread := uint64(hi) - uint64(lo); spread > window {
		ratio := int64((spread + window - 1) / window)
		for i := range vals {
			vals[i].ProposerPriority = floorDiv(vals[i].ProposerPriority, ratio)
		}
	}
	avg := floorAverage(vals)
	for i := range vals {
		vals[i].ProposerPriority -= avg
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// floorAverage returns floor(sum of priorities / len) using a 128-bit sum.
func floorAverage(vals []Validator) int64 {
	var hi int64
	var lo uint64
	for _, v := range vals {
		var carry uint64
		lo, carry = bits.Add64(lo, uint64(v.ProposerPriority), 0)
		hi += int64(carry) + v.ProposerPriority>>63
	}
	n := uint64(len(vals))
	// |sum| < len * 2^63, so the high word is below n and Div64 cannot panic.
	if hi >= 0 {
		q, _ := bits.Div64(uint64(hi), lo, n)
		return int64(q)
	}
	mlo, borrow := bits.Sub64(0, lo, 0)
	mhi := uint64(-hi) - borrow
	q, r := bits.Div64(mhi, mlo, n)
	if r != 0 {
		q++
	}
	return -int64(q)
}

// Proposer returns the proposer of the given round at the height this set
// belongs to. Round 0 is the highest-priority member as stored (cached);
// round r is the round-0 proposer of Advance(r), computed on a copy in
// O(r * Len()).
func (vs *ValidatorSet) Proposer(round uint32) Address {
	if round == 0 {
		return vs.vals[vs.proposer].Address
	}
	vals := make([]Validator, len(vs.vals))
	copy(vals, vs.vals)
	for range round {
		step(vals, vs.total)
	}
	return vals[maxPriority(vals)].Address
}

// Advance returns a set with the same membership whose priorities have
// been stepped times times: Advance(1) is the next height's set when the
// membership does not change.
func (vs *ValidatorSet) Advance(times uint32) *ValidatorSet {
	if times == 0 {
		return vs
	}
	vals := make([]Validator, len(vs.vals))
	copy(vals, vs.vals)
	for range times {
		step(vals, vs.total)
	}
	return newSet(vals, vs.total, vs.hash)
}

// WithMembership returns a set with the given members (address and stake;
// their ProposerPriority fields are ignored). Members that stay keep their
// priority; newcomers start at -1.125*total of the new set (CometBFT's rule,
// so that a newcomer cannot jump the queue); then priorities are rescaled
// and recentered. It panics if stakes is not a valid membership (empty,
// duplicate, zero stake, total above MaxSupply): callers pass a selection
// result; use NewValidatorSet to validate untrusted input.
func (vs *ValidatorSet) WithMembership(stakes []Validator) *ValidatorSet {
	vals, total, err := sortMembers(stakes)
	if err != nil {
		panic(fmt.Sprintf("staking: invariant valid-membership: %v", err))
	}
	newcomer := -int64(total + total>>3)
	j := 0
	for i := range vals {
		for j < len(vs.vals) && lessAddress(vs.vals[j].Address, vals[i].Address) {
			j++
		}
		if j < len(vs.vals) && vs.vals[j].Address == vals[i].Address {
			vals[i].ProposerPriority = vs.vals[j].ProposerPriority
		} else {
			vals[i].ProposerPriority = newcomer
		}
	}
	normalize(vals, total)
	return newSet(vals, total, membershipHash(vals))
}

// newRotation starts a rotation for a fresh membership, as CometBFT does for
// a genesis set: every priority starts at its stake (then centered), so the
// largest stake proposes first.
func newRotation(stakes []Validator) (*ValidatorSet, error) {
	vals, total, err := sortMembers(stakes)
	if err != nil {
		return nil, err
	}
	for i := range vals {
		vals[i].ProposerPriority = int64(vals[i].Stake)
	}
	normalize(vals, total)
	return newSet(vals, total, membershipHash(vals)), nil
}

func lessAddress(a, b Address) bool { return a.Cmp(b) < 0 }
