package staking

import (
	"bytes"
	"fmt"
	"math/bits"
	"slices"
)

// Rewards follow the F1 fee distribution method (Ojha, "F1 Fee
// Distribution", the scheme of Cosmos SDK x/distribution): each validator
// keeps a cumulative reward per unit of bonded stake, and each bond
// remembers the value at its last settlement, so a block touches only the
// validators it rewards (O(validators)) and a bonder's reward is computed
// when its bond changes or it claims (O(1) per bond).
//
// All arithmetic is exact integer arithmetic. The reward per share is a
// 128-bit fixed-point number with 64 fraction bits; it only ever grows, and
// only differences of it are used, so it may wrap. Every amount allocated
// to a validator's bonders stays in that validator's outstanding pool until
// settled, and what rounding leaves there stays in the supply: nothing is
// minted or lost.

// CommissionDen is the denominator of a commission rate: a rate is
// Commission/CommissionDen, 18 decimal places.
const CommissionDen uint64 = 1_000_000_000_000_000_000

// Signer is a validator whose precommit is in a block's last certificate,
// with its stake in the validator set of the certified height.
type Signer struct {
	Validator Address
	Stake     uint64
}

// Distribution is what one block's reward step did.
type Distribution struct {
	Issued   uint64 // block_reward minted
	Fees     uint64 // fees collected from the block's transactions
	Bonus    uint64 // the proposer's bonus, out of the pool
	Rewarded uint64 // allocated to validators, bonus included
	Carried  uint64 // left in the pool for the next block
}

// ratio is a reward per unit of stake: hi + lo/2^64.
type ratio struct{ hi, lo uint64 }

func (r ratio) add(x ratio) ratio {
	lo, c := bits.Add64(r.lo, x.lo, 0)
	hi, _ := bits.Add64(r.hi, x.hi, c) // wraps: only differences matter
	return ratio{hi, lo}
}

func (r ratio) sub(x ratio) ratio {
	lo, b := bits.Sub64(r.lo, x.lo, 0)
	hi, _ := bits.Sub64(r.hi, x.hi, b)
	return ratio{hi, lo}
}

// perShare returns floor(amount * 2^64 / stake); stake > 0.
func perShare(amount, stake uint64) ratio {
	q1, r1 := amount/stake, amount%stake
	q0, _ := bits.Div64(r1, 0, stake) // r1 < stake
	return ratio{q1, q0}
}

// times returns floor(bond * r) and whether it fits in 64 bits.
func (r ratio) times(bond uint64) (uint64, bool) {
	h1, l1 := bits.Mul64(bond, r.hi) // integer part
	h0, _ := bits.Mul64(bond, r.lo)  // fraction part: only its integer carry
	sum, c := bits.Add64(l1, h0, 0)
	return sum, h1 == 0 && c == 0
}

// validatorRewards is a validator's F1 record.
type validatorRewards struct {
	perShare    ratio  // cumulative reward per unit of stake
	outstanding uint64 // allocated to its bonders and not yet settled
}

func rewardsKey(v Address) []byte {
	k := addrKey(kindRewards, v)
	return k[:]
}

func (s *State) validatorRewards(v Address) validatorRewards {
	k := rewardsKey(v)
	b := s.t.get(k)
	if b == nil {
		return validatorRewards{}
	}
	r, err := decodeValidatorRewards(b)
	return mustDecode(r, err, k)
}

func (s *State) putValidatorRewards(v Address, r validatorRewards) {
	k := rewardsKey(v)
	if r == (validatorRewards{}) {
		s.t.delete(k)
		return
	}
	s.t.put(k, encodeUints(r.perShare.hi, r.perShare.lo, r.outstanding))
}

func decodeValidatorRewards(b []byte) (validatorRewards, error) {
	var f [3]uint64
	err := decodeUints(b, f[:])
	return validatorRewards{perShare: ratio{f[0], f[1]}, outstanding: f[2]}, err
}

func startKey(delegator, validator Address) []byte {
	k := pairKey(kindRewardStart, delegator, validator)
	return k[:]
}

// start is the validator's reward per share when the bond was last settled.
func (s *State) start(delegator, validator Address) ratio {
	k := startKey(delegator, validator)
	b := s.t.get(k)
	if b == nil {
		return ratio{}
	}
	var f [2]uint64
	err := decodeUints(b, f[:])
	return mustDecode(ratio{f[0], f[1]}, err, k)
}

func (s *State) putStart(delegator, validator Address, r ratio) {
	k := startKey(delegator, validator)
	if r == (ratio{}) {
		s.t.delete(k)
		return
	}
	s.t.put(k, encodeUints(r.hi, r.lo))
}

// pool is the ledger's running totals: the reward carry, and what was
// ever issued, collected in fees and burned, and what is bonded and
// unbonding now.
type pool struct{ carry, issued, fees, burned, bonded, unbonding uint64 }

func (s *State) rewardPool() pool {
	b := s.t.get(poolKey)
	if b == nil {
		return pool{}
	}
	p, err := decodePool(b)
	return mustDecode(p, err, poolKey)
}

func decodePool(b []byte) (pool, error) {
	var f [6]uint64
	err := decodeUints(b, f[:])
	return pool{f[0], f[1], f[2], f[3], f[4], f[5]}, err
}

func (s *State) putRewardPool(p pool) {
	if p == (pool{}) {
		s.t.delete(poolKey)
		return
	}
	s.t.put(poolKey, encodeUints(p.carry, p.issued, p.fees, p.burned, p.bonded, p.unbonding))
}

// moveTotals moves amounts into and out of the bonded and unbonding
// totals and adds to the burned total. Every amount is part of the
// supply, so no sum overflows; a total that would go negative is a broken
// invariant.
func (s *State) moveTotals(bondedIn, bondedOut, unbondingIn, unbondingOut, burned uint64) {
	p := s.rewardPool()
	p.bonded = mustSub(p.bonded+bondedIn, bondedOut, "bonded-total-covers-bonds")
	p.unbonding = mustSub(p.unbonding+unbondingIn, unbondingOut, "unbonding-total-covers-entries")
	p.burned += burned
	s.putRewardPool(p)
}

// Supply is the ledger's accounting. At every height
// Total = Balances + Bonded + Unbonding + the rewards not yet paid out,
// and Total = genesis supply + Issued - Burned.
type Supply struct {
	Total     uint64 // every coin in existence
	Bonded    uint64 // in bonds
	Unbonding uint64 // in unbonding entries
	Issued    uint64 // minted by block rewards since genesis
	Fees      uint64 // collected from transactions since genesis (moved, not burned)
	Slashed   uint64 // taken by slashing since genesis
	Burned    uint64 // destroyed since genesis: slashing is the only burn, so equal to Slashed
}

// Supply returns the ledger's accounting.
func (s *State) Supply() Supply {
	p := s.rewardPool()
	return Supply{Total: s.supply, Bonded: p.bonded, Unbonding: p.unbonding, Issued: p.issued, Fees: p.fees,
		Slashed: p.burned, Burned: p.burned}
}

// Issued returns the total block_reward minted since genesis.
func (s *State) Issued() uint64 { return s.rewardPool().issued }

// Undistributed returns the pool carried to the next block's rewards.
func (s *State) Undistributed() uint64 { return s.rewardPool().carry }

// Outstanding returns what validator's bonders have been allocated and
// not yet settled (rounding remainders included).
func (s *State) Outstanding(validator Address) uint64 {
	return s.validatorRewards(validator).outstanding
}

// PendingReward returns the reward delegator can claim from its bond to
// validator now.
func (s *State) PendingReward(delegator, validator Address) uint64 {
	bond := s.bond(delegator, validator)
	if bond == 0 {
		return 0
	}
	vr := s.validatorRewards(validator)
	p, ok := vr.perShare.sub(s.start(delegator, validator)).times(bond)
	if !ok || p > vr.outstanding {
		panic(fmt.Sprintf("staking: invariant rewards-within-outstanding: %s/%s pending beyond %d", delegator.Hex(), validator.Hex(), vr.outstanding))
	}
	return p
}

// settle credits delegator's pending reward from validator to its balance
// and restarts the bond at the current reward per share. It must be called
// before the bond changes, and only in the write phase of an operation.
func (s *State) settle(delegator, validator Address) uint64 {
	p := s.PendingReward(delegator, validator)
	vr := s.validatorRewards(validator)
	if p > 0 {
		vr.outstanding -= p // PendingReward checked p <= outstanding
		s.putValidatorRewards(validator, vr)
		acc := s.Account(delegator)
		acc.Balance += p // moves within the supply: cannot exceed MaxSupply
		s.putAccount(delegator, acc)
	}
	s.putStart(delegator, validator, vr.perShare)
	return p
}

// Claim withdraws delegator's pending rewards to its balance: from its bond
// to validator, or with validator zero from all its bonds. It returns the
// amount. Errors: ErrUnknownValidator (no bond to validator),
// ErrNothingToClaim; the State is then unchanged.
func (s *State) Claim(delegator, validator Address) (uint64, error) {
	var from []Address
	if validator == (Address{}) {
		for _, b := range s.Bonds(delegator) {
			from = append(from, b.Validator)
		}
	} else if s.bond(delegator, validator) > 0 {
		from = []Address{validator}
	} else {
		return 0, fmt.Errorf("%w: no bond to %s", ErrUnknownValidator, validator.Hex())
	}
	var total uint64
	for _, v := range from {
		total += s.PendingReward(delegator, v) // each within an outstanding pool: the sum is within the supply
	}
	if total == 0 {
		return 0, fmt.Errorf("%w: %s", ErrNothingToClaim, delegator.Hex())
	}
	for _, v := range from {
		s.settle(delegator, v)
	}
	return total, nil
}

// SetCommission sets validator's commission rate to
// commission/CommissionDen. Errors: ErrUnknownValidator, ErrInvalidFraction
// (above 1).
func (s *State) SetCommission(validator Address, commission uint64) error {
	if commission > CommissionDen {
		return fmt.Errorf("%w: commission %d/%d above 1", ErrInvalidFraction, commission, CommissionDen)
	}
	c, ok := s.Candidate(validator)
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownValidator, validator.Hex())
	}
	c.Commission = commission
	s.putCandidate(c)
	return nil
}

// Distribute runs a block's reward step at height (Height()+1, before
// EndBlock): it mints Params.BlockReward and pools it with fees (charged
// from the block's transactions with ChargeFee) and the carry of earlier
// blocks. If signers is empty (the first block) the pool carries over.
// Otherwise the proposer, when it is a candidate, gets a bonus of
// ProposerBonus of the pool scaled by how far the signed stake goes beyond
// the quorum of totalStake (none at exactly the quorum, all of it when
// every validator signed, as Cosmos's bonus proposer reward); the rest is
// split among the signers by stake, rounded down. Each validator's share
// pays its commission to its balance and the rest to its bonders through
// F1. What rounding leaves carries over. Signers must have distinct
// addresses, be candidates and have a non-zero stake; their stakes must
// sum to at most totalStake.
func (s *State) Distribute(height uint64, proposer Address, fees uint64, signers []Signer, totalStake uint64) (Distribution, error) {
	if err := s.checkHeight(height); err != nil {
		return Distribution{}, err
	}
	p := s.rewardPool()
	d := Distribution{Issued: s.params.BlockReward, Fees: fees}
	supply, err := addAmount(s.supply, d.Issued)
	if err != nil {
		return Distribution{}, fmt.Errorf("issue block reward: %w", err)
	}
	amount := p.carry + fees + d.Issued // each within the new supply
	var signed uint64
	signers = slices.Clone(signers)
	slices.SortFunc(signers, func(a, b Signer) int { return bytes.Compare(a.Validator[:], b.Validator[:]) })
	for i, sg := range signers {
		if _, ok := s.Candidate(sg.Validator); !ok || sg.Stake == 0 || (i > 0 && signers[i-1].Validator == sg.Validator) {
			return Distribution{}, fmt.Errorf("%w: reward signer %s", ErrUnknownValidator, sg.Validator.Hex())
		}
		signed += sg.Stake
	}
	if signed > totalStake {
		return Distribution{}, fmt.Errorf("%w: signed stake %d above total %d", ErrOverflow, signed, totalStake)
	}
	if _, ok := s.Candidate(proposer); len(signers) > 0 && ok {
		quorum := 2*totalStake/3 + 1
		if signed > quorum {
			bonus := mustMulFloor(s.params.ProposerBonus, amount)
			hi, lo := bits.Mul64(bonus, signed-quorum)
			d.Bonus, _ = bits.Div64(hi, lo, totalStake-quorum) // (signed-quorum) <= (total-quorum): hi < divisor
			s.allocate(proposer, d.Bonus)
		}
	}
	rest := amount - d.Bonus
	d.Rewarded = d.Bonus
	if signed > 0 {
		for _, sg := range signers {
			hi, lo := bits.Mul64(rest, sg.Stake)
			share, _ := bits.Div64(hi, lo, signed) // sg.Stake <= signed: hi < signed
			s.allocate(sg.Validator, share)
			d.Rewarded += share
		}
	}
	d.Carried = amount - d.Rewarded
	p.carry, p.issued = d.Carried, p.issued+d.Issued // issued <= supply
	if p.fees += fees; p.fees < fees {
		p.fees = ^uint64(0) // a running count of coins that circulate: saturate rather than wrap
	}
	s.putRewardPool(p)
	s.setSupply(supply)
	return d, nil
}

// allocate gives validator amount: its commission to its balance, the rest
// to its bonders. With no bonded stake the rest goes to the validator too.
func (s *State) allocate(validator Address, amount uint64) {
	if amount == 0 {
		return
	}
	c, _ := s.Candidate(validator)
	hi, lo := bits.Mul64(amount, c.Commission)
	commission, _ := bits.Div64(hi, lo, CommissionDen) // Commission <= CommissionDen: hi < CommissionDen
	if c.Stake == 0 {
		commission = amount
	}
	if commission > 0 {
		acc := s.Account(validator)
		acc.Balance += commission // within the supply
		s.putAccount(validator, acc)
	}
	if rest := amount - commission; rest > 0 {
		vr := s.validatorRewards(validator)
		vr.perShare = vr.perShare.add(perShare(rest, c.Stake))
		vr.outstanding += rest
		s.putValidatorRewards(validator, vr)
	}
}
