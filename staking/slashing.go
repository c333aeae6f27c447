package staking

import (
	"encoding/binary"
	"fmt"
)

// SlashDoubleSign punishes validator for double-signing, at the executing
// height (the block that includes the evidence), and returns the amount
// burned.
//
// Semantics (decided for quorumchain, close to CometBFT/Cosmos):
//   - every current bond to validator loses floor(f * amount), where f is
//     Params.SlashFractionDoubleSign, rounded down per bond;
//   - every unbonding entry from validator still in the queue loses
//     floor(f * amount) too. Evidence is only accepted within the unbonding
//     period (the evidence pool's rule), so stake that left after the
//     infraction cannot escape; the price of not knowing the infraction height
//     here is that an entry unbonded shortly before the infraction is slashed
//     as well;
//   - the burned coins leave the supply;
//   - the candidate is jailed until height + JailBlocks (extending, never
//     shortening, an existing jail), so the next selection (EndBlock of this
//     height) drops it and the set changes at height+2.
//
// A double sign is punished once: the state records (validator,
// infractionHeight) and a second slash for the same infraction is
// ErrAlreadySlashed. A validator that double-signs at another height is
// slashed again, of what is left. Errors: ErrBadHeight, ErrUnknownValidator,
// ErrAlreadySlashed, ErrOverflow (height + JailBlocks).
func (s *State) SlashDoubleSign(validator Address, infractionHeight, height uint64) (burned uint64, err error) {
	if err := s.checkHeight(height); err != nil {
		return 0, err
	}
	record := slashedKey(validator, infractionHeight)
	if s.t.get(record) != nil {
		return 0, fmt.Errorf("%w: %s at height %d", ErrAlreadySlashed, validator.Hex(), infractionHeight)
	}
	burned, err = s.slashAndJail(validator, s.params.SlashFractionDoubleSign, height)
	if err != nil {
		return 0, err
	}
	s.t.put(record, markerValue)
	return burned, nil
}

// slashAndJail burns f of every bond to validator and every unbonding
// entry from it still queued, and jails it until height + JailBlocks
// (extending, never shortening, a jail), with a fresh liveness window.
// Bonds' rewards are settled first. It checks before it writes. Errors:
// ErrUnknownValidator, ErrOverflow.
func (s *State) slashAndJail(validator Address, f Fraction, height uint64) (burned uint64, err error) {
	c, ok := s.Candidate(validator)
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrUnknownValidator, validator.Hex())
	}
	until, err := addHeight(height, s.params.JailBlocks)
	if err != nil {
		return 0, err
	}

	type cut struct {
		delegator     Address
		release       uint64 // 0 for a bond
		amount, burns uint64
	}
	var bonds, unbondings []cut
	var bondBurn uint64
	prefix := addrKey(kindBondIndex, validator)
	s.t.ascend(prefix[:], func(k, _ []byte) bool {
		d := Address(k[1+addrLen:])
		amount := s.bond(d, validator)
		b := mustMulFloor(f, amount)
		bonds = append(bonds, cut{delegator: d, amount: amount, burns: b})
		bondBurn += b // <= the candidate's stake <= MaxSupply
		return true
	})
	burned = bondBurn
	s.t.ascend([]byte{kindQueue}, func(k, _ []byte) bool {
		r, d, v := parseQueueKey(k)
		if v != validator {
			return true
		}
		amount := s.unbonding(d, r, v)
		b := mustMulFloor(f, amount)
		unbondings = append(unbondings, cut{delegator: d, release: r, amount: amount, burns: b})
		burned += b // <= supply <= MaxSupply
		return true
	})

	for _, b := range bonds {
		s.settle(b.delegator, validator) // rewards earned before the slash are paid on the old bond
		s.putBond(b.delegator, validator, b.amount-b.burns)
	}
	for _, u := range unbondings {
		s.putUnbonding(u.delegator, u.release, validator, u.amount-u.burns)
	}
	c.Stake = mustSub(c.Stake, bondBurn, "candidate-stake-covers-bonds")
	c.Jailed, c.JailedUntil = true, max(c.JailedUntil, until)
	s.putCandidate(c)
	s.setSupply(mustSub(s.supply, burned, "supply-covers-burn"))
	s.moveTotals(0, bondBurn, 0, burned-bondBurn, burned)
	s.putLiveness(validator, liveness{})
	return burned, nil
}

// mustMulFloor applies a fraction that Params.Validate accepted.
func mustMulFloor(f Fraction, x uint64) uint64 {
	v, err := f.MulFloor(x)
	if err != nil {
		panic(fmt.Sprintf("staking: invariant valid-params: %v", err))
	}
	return v
}

func (s *State) setSupply(supply uint64) {
	s.supply = supply
	s.t.put(supplyKey, encodeUint(supply))
}

// slashedKey is the record of a punished double sign.
func slashedKey(validator Address, infractionHeight uint64) []byte {
	k := make([]byte, 0, 1+addrLen+heightLen)
	k = append(k, kindSlashed)
	k = append(k, validator[:]...)
	return binary.BigEndian.AppendUint64(k, infractionHeight)
}
