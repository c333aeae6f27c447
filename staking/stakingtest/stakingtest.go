// Package stakingtest has helpers for tests that need staking ledgers and
// validator sets: deterministic addresses, sets from stakes, and genesis
// states from short descriptions.
package stakingtest

import (
	"encoding/binary"
	"testing"

	"github.com/quorumchain/quorumchain/staking"
)

// Addr returns the address whose big-endian value is n, so that addresses
// sort like their numbers: Addr(1) < Addr(2).
func Addr(n uint64) staking.Address {
	var a staking.Address
	binary.BigEndian.PutUint64(a[12:], n)
	return a
}

// Set returns a validator set with members Addr(1), Addr(2), ... holding the
// given stakes, all priorities zero.
func Set(tb testing.TB, stakes ...uint64) *staking.ValidatorSet {
	tb.Helper()
	vals := make([]staking.Validator, len(stakes))
	for i, s := range stakes {
		vals[i] = staking.Validator{Address: Addr(uint64(i + 1)), Stake: s}
	}
	vs, err := staking.NewValidatorSet(vals)
	if err != nil {
		tb.Fatalf("stakingtest.Set(%v): %v", stakes, err)
	}
	return vs
}

// Genesis is a short description of a genesis state: validators Addr(1),
// Addr(2), ... self-bonded with Stakes, and accounts Addr(101), Addr(102),
// ... holding Balances.
type Genesis struct {
	Params   staking.Params
	Stakes   []uint64
	Balances []uint64
}

// Account returns the address of the i-th genesis account (from 0).
func Account(i int) staking.Address { return Addr(uint64(101 + i)) }

// Validator returns the address of the i-th genesis validator (from 0).
func Validator(i int) staking.Address { return Addr(uint64(1 + i)) }

// New builds the genesis state g describes; zero Params mean DefaultParams.
func (g Genesis) New(tb testing.TB) (*staking.State, *staking.ValidatorSet) {
	tb.Helper()
	params := g.Params
	if params == (staking.Params{}) {
		params = staking.DefaultParams()
	}
	var balances []staking.GenesisBalance
	for i, b := range g.Balances {
		balances = append(balances, staking.GenesisBalance{Address: Account(i), Amount: b})
	}
	var stakes []staking.GenesisStake
	for i, s := range g.Stakes {
		stakes = append(stakes, staking.GenesisStake{Validator: Validator(i), Amount: s})
	}
	st, vs, err := staking.NewGenesisState(params, balances, stakes)
	if err != nil {
		tb.Fatalf("stakingtest: genesis %+v: %v", g, err)
	}
	return st, vs
}

// EndBlocks runs EndBlock for heights Height()+1 .. to and returns the last
// set, failing the test on any error.
func EndBlocks(tb testing.TB, s *staking.State, to uint64) *staking.ValidatorSet {
	tb.Helper()
	var vs *staking.ValidatorSet
	for h := s.Height() + 1; h != 0 && h <= to; h++ {
		var err error
		if vs, err = s.EndBlock(h); err != nil {
			tb.Fatalf("EndBlock(%d): %v", h, err)
		}
	}
	return vs
}
