package staking

import "fmt"

// Bond returns the amount delegator has bonded to validator (0 if none).
func (s *State) Bond(delegator, validator Address) uint64 { return s.bond(delegator, validator) }

// CheckFee reports whether sender can pay a transaction with this nonce and
// fee now: the nonce is the account's next, the fee is at least
// Params.MinFee and the balance covers it. A transaction that fails these
// checks cannot be charged, so a block carrying it is invalid. Errors:
// ErrBadNonce, ErrOverflow (nonce 2^64-1), ErrFeeTooLow,
// ErrInsufficientBalance.
func (s *State) CheckFee(sender Address, nonce, fee uint64) error {
	acc := s.Account(sender)
	switch {
	case nonce != acc.Nonce:
		return fmt.Errorf("%w: got %d, want %d", ErrBadNonce, nonce, acc.Nonce)
	case nonce == ^uint64(0):
		return fmt.Errorf("%w: nonce %d cannot be incremented", ErrOverflow, nonce)
	case fee < s.params.MinFee:
		return fmt.Errorf("%w: fee %d, min_fee %d", ErrFeeTooLow, fee, s.params.MinFee)
	case acc.Balance < fee:
		return fmt.Errorf("%w: have %d, fee %d", ErrInsufficientBalance, acc.Balance, fee)
	}
	return nil
}

// ChargeFee takes fee from sender's balance and uses its nonce, after
// CheckFee. The fee leaves the accounts but not the supply: the caller
// owes it to CreditFees before the block ends, or the supply invariant
// breaks. Errors are those of CheckFee; on error nothing changes.
func (s *State) ChargeFee(sender Address, nonce, fee uint64) error {
	if err := s.CheckFee(sender, nonce, fee); err != nil {
		return err
	}
	acc := s.Account(sender)
	acc.Balance -= fee
	acc.Nonce++
	s.putAccount(sender, acc)
	return nil
}

// CreditFees pays the fees that ChargeFee collected in a block to a
// balance. amount is at most what was charged, so it cannot exceed the
// supply; ErrOverflow says the caller credited more than it charged.
func (s *State) CreditFees(to Address, amount uint64) error {
	if amount == 0 {
		return nil
	}
	acc := s.Account(to)
	bal, err := addAmount(acc.Balance, amount)
	if err != nil {
		return fmt.Errorf("credit fees: %w", err)
	}
	acc.Balance = bal
	s.putAccount(to, acc)
	return nil
}
