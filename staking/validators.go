package staking

import (
	"bytes"
	"fmt"
	"slices"
)

// Candidate is a registered validator candidate. Stake is the total bonded
// to it by all delegators. A candidate is never deregistered, so that its jail
// record survives unbonding everything.
type Candidate struct {
	Address     Address
	Stake       uint64
	Jailed      bool
	JailedUntil uint64 // first height at which Unjail may succeed; 0 when not jailed
	// Commission is the share of its rewards the validator keeps before
	// its bonders share the rest: Commission/CommissionDen.
	Commission uint64
}

// Candidate returns the candidate registered at a, if any.
func (s *State) Candidate(a Address) (Candidate, bool) {
	buf := addrKey(kindCandidate, a)
	k := buf[:]
	v := s.t.get(k)
	if v == nil {
		return Candidate{}, false
	}
	c, err := decodeCandidate(a, v)
	return mustDecode(c, err, k), true
}

func (s *State) putCandidate(c Candidate) {
	k := addrKey(kindCandidate, c.Address)
	s.t.put(k[:], encodeCandidate(c))
}

// Candidates returns every candidate, sorted by address.
func (s *State) Candidates() []Candidate {
	var out []Candidate
	s.t.ascend([]byte{kindCandidate}, func(k, v []byte) bool {
		c, err := decodeCandidate(Address(k[1:]), v)
		out = append(out, mustDecode(c, err, k))
		return true
	})
	return out
}

// selectMembership picks the validator set membership from the candidates:
// not jailed, stake >= MinStake, the MaxValidators largest stakes, ties to
// the lower address. The result is sorted by address and may be empty.
func (s *State) selectMembership() []Validator {
	var eligible []Validator
	for _, c := range s.Candidates() {
		if !c.Jailed && c.Stake >= s.params.MinStake {
			eligible = append(eligible, Validator{Address: c.Address, Stake: c.Stake})
		}
	}
	slices.SortFunc(eligible, func(a, b Validator) int {
		if a.Stake != b.Stake {
			if a.Stake > b.Stake {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.Address[:], b.Address[:])
	})
	if len(eligible) > int(s.params.MaxValidators) {
		eligible = eligible[:s.params.MaxValidators]
	}
	slices.SortFunc(eligible, func(a, b Validator) int { return bytes.Compare(a.Address[:], b.Address[:]) })
	return eligible
}

// EndBlock finishes block height (which must be Height()+1): it releases
// every unbonding entry with ReleaseHeight <= height, selects the membership
// for height+2 from the candidates, and returns the validator set for
// height+1: the set of height with priorities advanced one step, carrying the
// membership that EndBlock(height-1) selected (the genesis membership for
// height 1). Errors: ErrBadHeight, ErrOverflow, and ErrNoValidators if no
// candidate is eligible; the State is then unchanged.
func (s *State) EndBlock(height uint64) (*ValidatorSet, error) {
	if err := s.checkHeight(height); err != nil {
		return nil, fmt.Errorf("end block: %w", err)
	}
	membership := s.selectMembership()
	if len(membership) == 0 {
		return nil, fmt.Errorf("end block %d: %w", height, ErrNoValidators)
	}
	pending, err := NewValidatorSet(membership)
	if err != nil {
		panic(fmt.Sprintf("staking: invariant valid-selection: %v", err))
	}
	// Selection reads only candidates and release only accounts and the
	// queue, so selecting before releasing is the same as after, and lets
	// every check run before the first write.
	if err := s.release(height); err != nil {
		return nil, fmt.Errorf("end block %d: %w", height, err)
	}
	next := s.vals.Advance(1)
	if next.Hash() != s.pending.Hash() {
		next = next.WithMembership(s.pending.vals)
	}
	s.setValidators(height, next, pending)
	return next, nil
}

// setValidators records the height and both sets, in the fields and in
// their entries.
func (s *State) setValidators(height uint64, current, pending *ValidatorSet) {
	s.height, s.vals, s.pending = height, current, pending
	s.t.put(heightKey, encodeUint(height))
	s.t.put(valsetsNowKey, encodeValidators(current.vals, true))
	s.t.put(valsetsNextKey, encodeMembership(pending.vals))
}

// Unjail returns a jailed candidate to candidacy at the executing height;
// it is eligible again from the next selection. Errors: ErrBadHeight,
// ErrUnknownValidator, ErrNotJailed, ErrJailTimeNotOver (height <
// JailedUntil), ErrBelowMinStake (its stake, after slashing and unbonding, is
// below MinStake: bond more first).
func (s *State) Unjail(validator Address, height uint64) error {
	if err := s.checkHeight(height); err != nil {
		return err
	}
	c, ok := s.Candidate(validator)
	switch {
	case !ok:
		return fmt.Errorf("%w: %s", ErrUnknownValidator, validator.Hex())
	case !c.Jailed:
		return fmt.Errorf("%w: %s", ErrNotJailed, validator.Hex())
	case height < c.JailedUntil:
		return fmt.Errorf("%w: jailed until %d, now %d", ErrJailTimeNotOver, c.JailedUntil, height)
	case c.Stake < s.params.MinStake:
		return fmt.Errorf("%w: stake %d, minimum %d", ErrBelowMinStake, c.Stake, s.params.MinStake)
	}
	c.Jailed, c.JailedUntil = false, 0
	s.putCandidate(c)
	return nil
}
