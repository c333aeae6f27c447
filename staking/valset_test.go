package staking_test

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/staking/stakingtest"
)

func TestNewValidatorSetErrors(t *testing.T) {
	tests := []struct {
		name string
		vals []staking.Validator
	}{
		{"empty", nil},
		{"duplicate", []staking.Validator{{Address: stakingtest.Addr(1), Stake: 1}, {Address: stakingtest.Addr(1), Stake: 2}}},
		{"zero stake", []staking.Validator{{Address: stakingtest.Addr(1), Stake: 1}, {Address: stakingtest.Addr(2)}}},
		{"total above max supply", []staking.Validator{{Address: stakingtest.Addr(1), Stake: staking.MaxSupply}, {Address: stakingtest.Addr(2), Stake: 1}}},
		{"priority too high", []staking.Validator{{Address: stakingtest.Addr(1), Stake: 1, ProposerPriority: 1<<62 + 1}}},
		{"priority too low", []staking.Validator{{Address: stakingtest.Addr(1), Stake: 1, ProposerPriority: -1<<62 - 1}}},
	}
	for _, tt := range tests {
		if _, err := staking.NewValidatorSet(tt.vals); !errors.Is(err, staking.ErrInvalidValidatorSet) {
			t.Errorf("%s: got %v, want ErrInvalidValidatorSet", tt.name, err)
		}
	}
}

func TestValidatorSetAccessors(t *testing.T) {
	in := []staking.Validator{{Address: stakingtest.Addr(3), Stake: 30, ProposerPriority: 5}, {Address: stakingtest.Addr(1), Stake: 10}, {Address: stakingtest.Addr(2), Stake: 20, ProposerPriority: -5}}
	vs, err := staking.NewValidatorSet(in)
	if err != nil {
		t.Fatal(err)
	}
	in[0].Stake = 99 // the set owns a copy
	if vs.Len() != 3 || vs.TotalStake() != 60 {
		t.Fatalf("Len %d TotalStake %d, want 3 60", vs.Len(), vs.TotalStake())
	}
	for i, v := range vs.Validators() {
		if v.Address != stakingtest.Addr(uint64(i+1)) || v.Stake != uint64(10*(i+1)) || vs.At(i) != v {
			t.Fatalf("member %d = %+v, not sorted by address", i, v)
		}
		if j, ok := vs.Index(v.Address); !ok || j != i {
			t.Fatalf("Index(%x) = %d %v", v.Address, j, ok)
		}
		if s, ok := vs.StakeOf(v.Address); !ok || s != v.Stake {
			t.Fatalf("StakeOf(%x) = %d %v", v.Address, s, ok)
		}
	}
	vs.Validators()[0].Stake = 1000 // a copy
	if vs.At(0).Stake != 10 {
		t.Fatal("Validators() aliases the set")
	}
	if _, ok := vs.Index(stakingtest.Addr(4)); ok {
		t.Fatal("Index of a non-member")
	}
	if _, ok := vs.StakeOf(stakingtest.Addr(0)); ok {
		t.Fatal("StakeOf of a non-member")
	}
	if got := vs.Proposer(0); got != stakingtest.Addr(3) {
		t.Fatalf("Proposer(0) = %x, want the max priority %x", got, stakingtest.Addr(3))
	}
	if vs.String() == "" {
		t.Fatal("empty String")
	}
}

func TestValidatorSetHash(t *testing.T) {
	vs := stakingtest.Set(t, 10, 20)
	type member struct {
		Address staking.Address
		Stake   uint64
	}
	enc, err := rlp.EncodeToBytes([]member{{stakingtest.Addr(1), 10}, {stakingtest.Addr(2), 20}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := vs.Hash(), crypto.Keccak256Hash(enc); got != want {
		t.Fatalf("Hash = %x, want keccak(rlp(members)) %x", got, want)
	}
	if vs.Advance(3).Hash() != vs.Hash() {
		t.Fatal("priorities changed the hash")
	}
	if stakingtest.Set(t, 10, 21).Hash() == vs.Hash() {
		t.Fatal("stake not in the hash")
	}
}
