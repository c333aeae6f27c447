package staking_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/staking/stakingtest"
)

// Fixture actors.
var (
	v0, v1, v2 = stakingtest.Validator(0), stakingtest.Validator(1), stakingtest.Validator(2)
	a0, a1, a2 = stakingtest.Account(0), stakingtest.Account(1), stakingtest.Account(2)
)

func testParams() staking.Params {
	return staking.Params{
		UnbondingBlocks:         5,
		MinStake:                10,
		MaxValidators:           3,
		SlashFractionDoubleSign: staking.Fraction{Num: 1, Den: 10},
		ProposerBonus:           staking.Fraction{Num: 0, Den: 1},
		DowntimeWindow:          10,
		DowntimeMaxMissed:       5,
		SlashFractionDowntime:   staking.Fraction{Num: 0, Den: 1},
		JailBlocks:              3,
		MinFee:                  3,
	}
}

// fixture: validators v0 (100) and v1 (50); accounts a0 (1000), a1 (500);
// a2 is empty. The next block is height 1.
func fixture(t testing.TB) *staking.State {
	s, _ := stakingtest.Genesis{Params: testParams(), Stakes: []uint64{100, 50}, Balances: []uint64{1000, 500}}.New(t)
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestOperations runs every operation and every error on a fresh fixture.
// A failed operation must leave the state, its hash and entries, unchanged.
func TestOperations(t *testing.T) {
	slashV1 := func(t testing.TB, s *staking.State) {
		if _, err := s.SlashDoubleSign(v1, 0, 1); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		setup func(testing.TB, *staking.State)
		op    func(*staking.State) error
		want  error // nil: success
	}{
		{"use nonce", nil, func(s *staking.State) error { return s.UseNonce(a0, 0) }, nil},
		{"use nonce of empty account", nil, func(s *staking.State) error { return s.UseNonce(a2, 0) }, nil},
		{"use nonce twice", func(t testing.TB, s *staking.State) { must(t, s.UseNonce(a0, 0)) },
			func(s *staking.State) error { return s.UseNonce(a0, 0) }, staking.ErrBadNonce},
		{"use future nonce", nil, func(s *staking.State) error { return s.UseNonce(a0, 1) }, staking.ErrBadNonce},

		{"charge and credit a fee", nil, func(s *staking.State) error { return chargeCredit(s, a0, 0, 3, v0) }, nil},
		{"charge the whole balance", nil, func(s *staking.State) error { return chargeCredit(s, a0, 0, 1000, a2) }, nil},
		{"charge a fee below min_fee", nil, func(s *staking.State) error { return s.ChargeFee(a0, 0, 2) }, staking.ErrFeeTooLow},
		{"charge a fee with a used nonce", func(t testing.TB, s *staking.State) { must(t, s.UseNonce(a0, 0)) },
			func(s *staking.State) error { return s.ChargeFee(a0, 0, 3) }, staking.ErrBadNonce},
		{"charge a fee with a future nonce", nil, func(s *staking.State) error { return s.ChargeFee(a0, 1, 3) }, staking.ErrBadNonce},
		{"charge a fee above the balance", nil, func(s *staking.State) error { return s.ChargeFee(a0, 0, 1001) }, staking.ErrInsufficientBalance},
		{"charge a fee to an empty account", nil, func(s *staking.State) error { return s.ChargeFee(a2, 0, 3) }, staking.ErrInsufficientBalance},
		{"credit fees that were never charged", nil, func(s *staking.State) error { return s.CreditFees(a0, staking.MaxSupply) }, staking.ErrOverflow},

		{"transfer", nil, func(s *staking.State) error { return s.Transfer(a0, a2, 1000) }, nil},
		{"transfer to self", nil, func(s *staking.State) error { return s.Transfer(a0, a0, 1000) }, nil},
		{"transfer zero", nil, func(s *staking.State) error { return s.Transfer(a0, a1, 0) }, staking.ErrZeroAmount},
		{"transfer too much", nil, func(s *staking.State) error { return s.Transfer(a0, a1, 1001) }, staking.ErrInsufficientBalance},
		{"transfer to self too much", nil, func(s *staking.State) error { return s.Transfer(a0, a0, 1001) }, staking.ErrInsufficientBalance},
		{"transfer from empty", nil, func(s *staking.State) error { return s.Transfer(a2, a1, 1) }, staking.ErrInsufficientBalance},

		{"delegate", nil, func(s *staking.State) error { return s.Stake(a0, v1, 1000) }, nil},
		{"register", nil, func(s *staking.State) error { return s.Stake(a0, a0, 10) }, nil},
		{"register below min", nil, func(s *staking.State) error { return s.Stake(a0, a0, 9) }, staking.ErrBelowMinStake},
		{"stake zero", nil, func(s *staking.State) error { return s.Stake(a0, v0, 0) }, staking.ErrZeroAmount},
		{"stake to non-candidate", nil, func(s *staking.State) error { return s.Stake(a0, a1, 10) }, staking.ErrUnknownValidator},
		{"stake too much", nil, func(s *staking.State) error { return s.Stake(a0, v0, 1001) }, staking.ErrInsufficientBalance},
		{"register without balance", nil, func(s *staking.State) error { return s.Stake(a2, a2, 10) }, staking.ErrInsufficientBalance},
		{"stake to jailed", slashV1, func(s *staking.State) error { return s.Stake(a0, v1, 10) }, staking.ErrJailed},
		{"jailed self-stake", func(t testing.TB, s *staking.State) { slashV1(t, s); must(t, s.Transfer(a0, v1, 10)) },
			func(s *staking.State) error { return s.Stake(v1, v1, 10) }, nil},

		{"unstake", nil, func(s *staking.State) error { return s.Unstake(v0, v0, 100, 1) }, nil},
		{"unstake delegation", func(t testing.TB, s *staking.State) { must(t, s.Stake(a0, v1, 7)) },
			func(s *staking.State) error { return s.Unstake(a0, v1, 7, 1) }, nil},
		{"unstake zero", nil, func(s *staking.State) error { return s.Unstake(v0, v0, 0, 1) }, staking.ErrZeroAmount},
		{"unstake wrong height", nil, func(s *staking.State) error { return s.Unstake(v0, v0, 1, 2) }, staking.ErrBadHeight},
		{"unstake from non-candidate", nil, func(s *staking.State) error { return s.Unstake(a0, a1, 1, 1) }, staking.ErrUnknownValidator},
		{"unstake more than bonded", nil, func(s *staking.State) error { return s.Unstake(v0, v0, 101, 1) }, staking.ErrInsufficientBond},
		{"unstake without bond", nil, func(s *staking.State) error { return s.Unstake(a0, v0, 1, 1) }, staking.ErrInsufficientBond},

		{"slash", nil, func(s *staking.State) error { _, err := s.SlashDoubleSign(v0, 0, 1); return err }, nil},
		{"slash another double sign", slashV1, func(s *staking.State) error { _, err := s.SlashDoubleSign(v1, 1, 1); return err }, nil},
		{"slash the same double sign twice", slashV1, func(s *staking.State) error { _, err := s.SlashDoubleSign(v1, 0, 1); return err }, staking.ErrAlreadySlashed},
		{"slash wrong height", nil, func(s *staking.State) error { _, err := s.SlashDoubleSign(v0, 0, 0); return err }, staking.ErrBadHeight},
		{"slash non-candidate", nil, func(s *staking.State) error { _, err := s.SlashDoubleSign(a0, 0, 1); return err }, staking.ErrUnknownValidator},

		{"unjail", func(t testing.TB, s *staking.State) { slashV1(t, s); stakingtest.EndBlocks(t, s, 3) },
			func(s *staking.State) error { return s.Unjail(v1, 4) }, nil},
		{"unjail wrong height", slashV1, func(s *staking.State) error { return s.Unjail(v1, 2) }, staking.ErrBadHeight},
		{"unjail non-candidate", nil, func(s *staking.State) error { return s.Unjail(a0, 1) }, staking.ErrUnknownValidator},
		{"unjail not jailed", nil, func(s *staking.State) error { return s.Unjail(v0, 1) }, staking.ErrNotJailed},
		{"unjail too early", func(t testing.TB, s *staking.State) { slashV1(t, s); stakingtest.EndBlocks(t, s, 2) },
			func(s *staking.State) error { return s.Unjail(v1, 3) }, staking.ErrJailTimeNotOver},
		{"unjail below min stake", func(t testing.TB, s *staking.State) {
			slashV1(t, s) // 50 -> 45
			must(t, s.Unstake(v1, v1, 36, 1))
			stakingtest.EndBlocks(t, s, 3)
		}, func(s *staking.State) error { return s.Unjail(v1, 4) }, staking.ErrBelowMinStake},

		{"end block", nil, func(s *staking.State) error { _, err := s.EndBlock(1); return err }, nil},
		{"end block wrong height", nil, func(s *staking.State) error { _, err := s.EndBlock(2); return err }, staking.ErrBadHeight},
		{"end block repeated", func(t testing.TB, s *staking.State) { stakingtest.EndBlocks(t, s, 1) },
			func(s *staking.State) error { _, err := s.EndBlock(1); return err }, staking.ErrBadHeight},
		{"end block without validators", func(t testing.TB, s *staking.State) {
			must(t, s.Unstake(v0, v0, 10, 1)) // due at 6; must stay queued when EndBlock(6) fails
			stakingtest.EndBlocks(t, s, 5)
			for _, v := range []staking.Address{v0, v1} {
				_, err := s.SlashDoubleSign(v, 5, 6)
				must(t, err)
			}
		}, func(s *staking.State) error { _, err := s.EndBlock(6); return err }, staking.ErrNoValidators},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fixture(t)
			if tt.setup != nil {
				tt.setup(t, s)
			}
			hash, entries, supply := s.Hash(), s.Entries(), s.TotalSupply()
			err := tt.op(s)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got error %v, want success", err)
				}
				checkLoadable(t, s)
				if s.TotalSupply() > supply {
					t.Fatalf("supply grew from %d to %d", supply, s.TotalSupply())
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want %v", err, tt.want)
			}
			if s.Hash() != hash || !reflect.DeepEqual(s.Entries(), entries) {
				t.Fatalf("failed operation (%v) changed the state", err)
			}
		})
	}
}

// checkLoadable asserts that the state satisfies every invariant LoadState
// checks and that its entries reproduce its hash.
func checkLoadable(t testing.TB, s *staking.State) {
	t.Helper()
	loaded, err := staking.LoadState(s.Params(), s.Entries())
	if err != nil {
		t.Fatalf("LoadState(Entries()): %v", err)
	}
	if loaded.Hash() != s.Hash() {
		t.Fatalf("LoadState(Entries()).Hash() = %x, want %x", loaded.Hash(), s.Hash())
	}
	if loaded.Height() != s.Height() || loaded.TotalSupply() != s.TotalSupply() ||
		loaded.Validators().Hash() != s.Validators().Hash() ||
		fmt.Sprint(loaded.Validators().Validators()) != fmt.Sprint(s.Validators().Validators()) ||
		loaded.PendingValidators().Hash() != s.PendingValidators().Hash() {
		t.Fatal("LoadState(Entries()) lost a field")
	}
}

func TestTransferAndNonce(t *testing.T) {
	s := fixture(t)
	must(t, s.UseNonce(a0, 0))
	must(t, s.Transfer(a0, a2, 400))
	must(t, s.UseNonce(a0, 1))
	must(t, s.Transfer(a0, a0, 600))
	must(t, s.UseNonce(a2, 0))
	must(t, s.Transfer(a2, a1, 400))
	for _, c := range []struct {
		a    staking.Address
		want staking.Account
	}{{a0, staking.Account{Balance: 600, Nonce: 2}}, {a1, staking.Account{Balance: 900}}, {a2, staking.Account{Nonce: 1}}} {
		if got := s.Account(c.a); got != c.want {
			t.Errorf("%x: got %+v, want %+v", c.a, got, c.want)
		}
	}
	if s.TotalSupply() != 1650 {
		t.Fatalf("supply %d, want 1650", s.TotalSupply())
	}
	checkLoadable(t, s)
}

func TestGenesis(t *testing.T) {
	p := testParams()
	bal := func(a staking.Address, x uint64) staking.GenesisBalance {
		return staking.GenesisBalance{Address: a, Amount: x}
	}
	stk := func(a staking.Address, x uint64) staking.GenesisStake {
		return staking.GenesisStake{Validator: a, Amount: x}
	}
	tests := []struct {
		name     string
		params   staking.Params
		balances []staking.GenesisBalance
		stakes   []staking.GenesisStake
		want     error
	}{
		{"ok", p, []staking.GenesisBalance{bal(a0, 5), bal(a1, 0)}, []staking.GenesisStake{stk(v0, 10)}, nil},
		{"max supply", p, []staking.GenesisBalance{bal(a0, staking.MaxSupply-10)}, []staking.GenesisStake{stk(v0, 10)}, nil},
		{"above max supply", p, []staking.GenesisBalance{bal(a0, staking.MaxSupply-9)}, []staking.GenesisStake{stk(v0, 10)}, staking.ErrOverflow},
		{"balance above max supply", p, []staking.GenesisBalance{bal(a0, ^uint64(0))}, []staking.GenesisStake{stk(v0, 10)}, staking.ErrOverflow},
		{"stakes above max supply", p, nil, []staking.GenesisStake{stk(v0, staking.MaxSupply), stk(v1, 10)}, staking.ErrOverflow},
		{"duplicate account", p, []staking.GenesisBalance{bal(a0, 1), bal(a0, 1)}, []staking.GenesisStake{stk(v0, 10)}, staking.ErrInvalidGenesis},
		{"duplicate validator", p, nil, []staking.GenesisStake{stk(v0, 10), stk(v0, 10)}, staking.ErrInvalidGenesis},
		{"stake below min", p, nil, []staking.GenesisStake{stk(v0, 10), stk(v1, 9)}, staking.ErrBelowMinStake},
		{"no validators", p, []staking.GenesisBalance{bal(a0, 1)}, nil, staking.ErrNoValidators},
		{"bad params", staking.Params{}, nil, []staking.GenesisStake{stk(v0, 10)}, staking.ErrInvalidParams},
	}
	for _, tt := range tests {
		s, vs, err := staking.NewGenesisState(tt.params, tt.balances, tt.stakes)
		if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
			continue
		}
		if err == nil {
			checkLoadable(t, s)
			if s.Height() != 0 || vs != s.Validators() || vs.Hash() != s.PendingValidators().Hash() {
				t.Errorf("%s: height %d, sets %v / %v", tt.name, s.Height(), vs, s.PendingValidators())
			}
		}
	}
	// The order of genesis lists does not matter.
	x, _, err := staking.NewGenesisState(p, []staking.GenesisBalance{bal(a0, 1), bal(a1, 2)}, []staking.GenesisStake{stk(v0, 10), stk(v1, 20)})
	must(t, err)
	y, _, err := staking.NewGenesisState(p, []staking.GenesisBalance{bal(a1, 2), bal(a0, 1)}, []staking.GenesisStake{stk(v1, 20), stk(v0, 10)})
	must(t, err)
	if x.Hash() != y.Hash() {
		t.Fatal("genesis hash depends on list order")
	}
}

// TestOverflowGuards drives states to the edges of uint64 heights and
// nonces, which only a loaded state can reach.
func TestOverflowGuards(t *testing.T) {
	max := ^uint64(0)
	s := fixture(t)
	must(t, s.UseNonce(a0, 0))
	entries := s.Entries()
	for i, e := range entries {
		switch {
		case string(e.Key) == "h":
			entries[i].Value = rlpUint(max - 1)
		case e.Key[0] == 'a' && staking.Address(e.Key[1:]) == a0:
			entries[i].Value = rlpList(1000, max)
		}
	}
	s, err := staking.LoadState(testParams(), entries)
	must(t, err)
	if err := s.UseNonce(a0, max); !errors.Is(err, staking.ErrOverflow) {
		t.Errorf("UseNonce at max nonce: got %v, want ErrOverflow", err)
	}
	if err := s.Unstake(v0, v0, 1, max); !errors.Is(err, staking.ErrOverflow) {
		t.Errorf("Unstake releasing past 2^64: got %v, want ErrOverflow", err)
	}
	if _, err := s.SlashDoubleSign(v0, max-1, max); !errors.Is(err, staking.ErrOverflow) {
		t.Errorf("jail past 2^64: got %v, want ErrOverflow", err)
	}
	if _, err := s.EndBlock(max); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EndBlock(0); !errors.Is(err, staking.ErrOverflow) {
		t.Errorf("EndBlock after height 2^64-1: got %v, want ErrOverflow", err)
	}
	// The whole supply in one account moves without overflow.
	big, _ := stakingtest.Genesis{Params: testParams(), Stakes: []uint64{10}, Balances: []uint64{staking.MaxSupply - 10}}.New(t)
	must(t, big.Transfer(a0, a1, staking.MaxSupply-10))
	must(t, big.Stake(a1, v0, staking.MaxSupply-10))
	if c, _ := big.Candidate(v0); c.Stake != staking.MaxSupply {
		t.Fatalf("stake %d, want MaxSupply", c.Stake)
	}
	checkLoadable(t, big)
}

// chargeCredit charges from a fee and credits it to to, as a block does.
func chargeCredit(s *staking.State, from staking.Address, nonce, fee uint64, to staking.Address) error {
	if err := s.ChargeFee(from, nonce, fee); err != nil {
		return err
	}
	return s.CreditFees(to, fee)
}
