package staking

import "fmt"

// GenesisBalance is an initial spendable balance.
type GenesisBalance struct {
	Address Address
	Amount  uint64
}

// GenesisStake is an initial self-bond of a validator candidate. It is minted
// at genesis, not debited from a balance.
type GenesisStake struct {
	Validator  Address
	Amount     uint64
	Commission uint64 // over CommissionDen
}

// NewGenesisState builds the State at height 0 and returns it with the
// validator set for height 1 (the set for height 2 has the same membership).
// Errors: ErrInvalidParams, ErrInvalidGenesis (duplicate address),
// ErrBelowMinStake (a genesis stake below MinStake), ErrOverflow (total
// supply above MaxSupply), ErrNoValidators.
//
// The height-1 rotation starts every priority at its stake, as CometBFT
// does, so the largest stake proposes first.
func NewGenesisState(params Params, balances []GenesisBalance, stakes []GenesisStake) (*State, *ValidatorSet, error) {
	if err := params.Validate(); err != nil {
		return nil, nil, err
	}
	s := &State{params: params.canonical(), t: trie{owner: new(owner)}}
	var supply uint64
	var err error
	seen := make(map[Address]bool, len(balances))
	for _, b := range balances {
		if seen[b.Address] {
			return nil, nil, fmt.Errorf("%w: duplicate account %s", ErrInvalidGenesis, b.Address.Hex())
		}
		seen[b.Address] = true
		if supply, err = addAmount(supply, b.Amount); err != nil {
			return nil, nil, fmt.Errorf("genesis supply: %w", err)
		}
		s.putAccount(b.Address, Account{Balance: b.Amount})
	}
	clear(seen)
	for _, st := range stakes {
		if seen[st.Validator] {
			return nil, nil, fmt.Errorf("%w: duplicate validator %s", ErrInvalidGenesis, st.Validator.Hex())
		}
		seen[st.Validator] = true
		if st.Amount < s.params.MinStake {
			return nil, nil, fmt.Errorf("%w: genesis stake of %s is %d, minimum %d", ErrBelowMinStake, st.Validator.Hex(), st.Amount, s.params.MinStake)
		}
		if supply, err = addAmount(supply, st.Amount); err != nil {
			return nil, nil, fmt.Errorf("genesis supply: %w", err)
		}
		s.putBond(st.Validator, st.Validator, st.Amount)
		if st.Commission > CommissionDen {
			return nil, nil, fmt.Errorf("%w: genesis commission of %s is %d/%d", ErrInvalidFraction, st.Validator.Hex(), st.Commission, CommissionDen)
		}
		s.putCandidate(Candidate{Address: st.Validator, Stake: st.Amount, Commission: st.Commission})
	}
	var bonded uint64
	for _, st := range stakes {
		bonded += st.Amount // within the supply, checked above
	}
	s.putRewardPool(pool{bonded: bonded})
	s.t.put(paramsKey, encodeParams(s.params))
	s.setSupply(supply)
	membership := s.selectMembership()
	if len(membership) == 0 {
		return nil, nil, fmt.Errorf("genesis: %w", ErrNoValidators)
	}
	current, err := newRotation(membership)
	if err != nil {
		return nil, nil, fmt.Errorf("genesis: %w", err)
	}
	pending, err := NewValidatorSet(membership)
	if err != nil {
		return nil, nil, fmt.Errorf("genesis: %w", err)
	}
	s.setValidators(0, current, pending)
	return s, current, nil
}
