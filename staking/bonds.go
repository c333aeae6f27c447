package staking

import (
	"fmt"
)

// Bond is an amount a delegator has bonded to a validator.
type Bond struct {
	Validator Address
	Amount    uint64
}

// Unbonding is an amount on its way back to Delegator's balance. It stays
// slashable for Validator's faults until it is released, at the end of
// block ReleaseHeight.
type Unbonding struct {
	Delegator     Address
	Validator     Address
	Amount        uint64
	ReleaseHeight uint64
}

func (s *State) bond(delegator, validator Address) uint64 {
	buf := pairKey(kindBond, delegator, validator)
	k := buf[:]
	v := s.t.get(k)
	if v == nil {
		return 0
	}
	amount, err := decodeUint(v)
	return mustDecode(amount, err, k)
}

// putBond writes a bond and keeps the by-validator index in step; a
// removed bond loses its reward start too. Callers settle the bond's
// rewards first.
func (s *State) putBond(delegator, validator Address, amount uint64) {
	buf := pairKey(kindBond, delegator, validator)
	k := buf[:]
	idxBuf := pairKey(kindBondIndex, validator, delegator)
	idx := idxBuf[:]
	if amount == 0 {
		s.t.delete(k)
		s.t.delete(idx)
		s.putStart(delegator, validator, ratio{})
		return
	}
	if s.t.get(idx) == nil {
		s.t.put(idx, markerValue)
	}
	s.t.put(k, encodeUint(amount))
}

func (s *State) unbonding(delegator Address, release uint64, validator Address) uint64 {
	buf := unbondingKey(delegator, release, validator)
	k := buf[:]
	v := s.t.get(k)
	if v == nil {
		return 0
	}
	amount, err := decodeUint(v)
	return mustDecode(amount, err, k)
}

// putUnbonding writes an unbonding entry and keeps the release queue in step.
func (s *State) putUnbonding(delegator Address, release uint64, validator Address, amount uint64) {
	buf := unbondingKey(delegator, release, validator)
	k := buf[:]
	qBuf := queueKey(release, delegator, validator)
	q := qBuf[:]
	if amount == 0 {
		s.t.delete(k)
		s.t.delete(q)
		return
	}
	if s.t.get(q) == nil {
		s.t.put(q, markerValue)
	}
	s.t.put(k, encodeUint(amount))
}

// Bonds returns delegator's bonds, sorted by validator address.
func (s *State) Bonds(delegator Address) []Bond {
	var out []Bond
	prefix := addrKey(kindBond, delegator)
	s.t.ascend(prefix[:], func(k, v []byte) bool {
		b := Bond{Validator: Address(k[1+addrLen:])}
		var err error
		b.Amount, err = decodeUint(v)
		out = append(out, mustDecode(b, err, k))
		return true
	})
	return out
}

// Unbondings returns delegator's unbonding entries, sorted by release
// height, then validator address.
func (s *State) Unbondings(delegator Address) []Unbonding {
	var out []Unbonding
	prefix := addrKey(kindUnbonding, delegator)
	s.t.ascend(prefix[:], func(k, v []byte) bool {
		var u Unbonding
		u.Delegator, u.ReleaseHeight, u.Validator = parseUnbondingKey(k)
		var err error
		u.Amount, err = decodeUint(v)
		out = append(out, mustDecode(u, err, k))
		return true
	})
	return out
}

// Stake bonds amount of delegator's balance to validator.
//
// Staking to oneself when one is not a candidate registers a candidate; the
// amount must then be at least MinStake (ErrBelowMinStake). Staking to any
// other address that is not a candidate fails with ErrUnknownValidator, and
// to a jailed candidate with ErrJailed, except that a jailed candidate may
// add to its own bond (to get back above MinStake before Unjail). The
// bond's pending rewards are credited to the balance first. Other
// errors: ErrZeroAmount, ErrInsufficientBalance, ErrOverflow.
func (s *State) Stake(delegator, validator Address, amount uint64) error {
	if amount == 0 {
		return ErrZeroAmount
	}
	c, ok := s.Candidate(validator)
	switch {
	case !ok && delegator != validator:
		return fmt.Errorf("%w: %s", ErrUnknownValidator, validator.Hex())
	case !ok && amount < s.params.MinStake:
		return fmt.Errorf("%w: registering with %d, minimum %d", ErrBelowMinStake, amount, s.params.MinStake)
	case ok && c.Jailed && delegator != validator:
		return fmt.Errorf("%w: %s", ErrJailed, validator.Hex())
	}
	acc := s.Account(delegator)
	if acc.Balance < amount {
		return fmt.Errorf("%w: have %d, need %d", ErrInsufficientBalance, acc.Balance, amount)
	}
	bond, err := addAmount(s.bond(delegator, validator), amount)
	if err != nil {
		return err
	}
	stake, err := addAmount(c.Stake, amount)
	if err != nil {
		return err
	}
	s.settle(delegator, validator) // credits rewards to the balance: read it again
	acc = s.Account(delegator)
	acc.Balance -= amount
	c.Address, c.Stake = validator, stake
	s.putAccount(delegator, acc)
	s.putBond(delegator, validator, bond)
	s.putCandidate(c)
	s.moveTotals(amount, 0, 0, 0, 0)
	return nil
}

// Unstake moves amount of delegator's bond to validator into the unbonding
// queue at the executing height; it is credited back to the balance by
// EndBlock(height + UnbondingBlocks) and can be slashed until then. Unstakes
// with the same delegator, validator and height merge into one entry. A
// candidate stays a candidate (and keeps its jail record) even with no
// stake. The bond's pending rewards are credited to the balance first. Errors: ErrZeroAmount, ErrBadHeight, ErrUnknownValidator,
// ErrInsufficientBond, ErrOverflow.
func (s *State) Unstake(delegator, validator Address, amount uint64, height uint64) error {
	if amount == 0 {
		return ErrZeroAmount
	}
	if err := s.checkHeight(height); err != nil {
		return err
	}
	c, ok := s.Candidate(validator)
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownValidator, validator.Hex())
	}
	bond := s.bond(delegator, validator)
	if bond < amount {
		return fmt.Errorf("%w: bonded %d, unstaking %d", ErrInsufficientBond, bond, amount)
	}
	release, err := addHeight(height, s.params.UnbondingBlocks)
	if err != nil {
		return err
	}
	queued, err := addAmount(s.unbonding(delegator, release, validator), amount)
	if err != nil {
		return err
	}
	c.Stake = mustSub(c.Stake, amount, "candidate-stake-covers-bonds")
	s.settle(delegator, validator)
	s.putBond(delegator, validator, bond-amount)
	s.putUnbonding(delegator, release, validator, queued)
	s.putCandidate(c)
	s.moveTotals(0, amount, amount, 0, 0)
	return nil
}

// release credits every unbonding entry with ReleaseHeight <= height back to
// its delegator's balance and removes it. It validates before writing.
func (s *State) release(height uint64) error {
	type entry struct {
		delegator, validator Address
		release, amount      uint64
	}
	var due []entry
	credit := make(map[Address]uint64)
	var order []Address // delegators in first-seen (queue) order
	var err error
	s.t.ascend([]byte{kindQueue}, func(k, _ []byte) bool {
		r, d, v := parseQueueKey(k)
		if r > height {
			return false
		}
		e := entry{delegator: d, validator: v, release: r, amount: s.unbonding(d, r, v)}
		due = append(due, e)
		if _, seen := credit[d]; !seen {
			order = append(order, d)
			credit[d] = s.Account(d).Balance
		}
		credit[d], err = addAmount(credit[d], e.amount)
		return err == nil
	})
	if err != nil {
		return fmt.Errorf("release unbondings: %w", err)
	}
	var released uint64
	for _, e := range due {
		s.putUnbonding(e.delegator, e.release, e.validator, 0)
		released += e.amount // each within the supply, and so their sum
	}
	if released > 0 {
		s.moveTotals(0, 0, 0, released, 0)
	}
	for _, d := range order {
		acc := s.Account(d)
		acc.Balance = credit[d]
		s.putAccount(d, acc)
	}
	return nil
}
