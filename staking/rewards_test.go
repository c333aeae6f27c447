package staking_test

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/staking/stakingtest"
)

// rewardFixture: v0 (stake 100) and v1 (stake 50), a0 (1000) and a1 (500),
// with the given block reward and proposer bonus.
func rewardFixture(t testing.TB, reward uint64, bonus staking.Fraction) *staking.State {
	t.Helper()
	p := testParams()
	p.BlockReward, p.ProposerBonus = reward, bonus
	s, _ := stakingtest.Genesis{Params: p, Stakes: []uint64{100, 50}, Balances: []uint64{1000, 500}}.New(t)
	return s
}

func TestDistribute(t *testing.T) {
	none := staking.Fraction{Num: 0, Den: 1}
	tests := []struct {
		name     string
		reward   uint64
		bonus    staking.Fraction
		setup    func(testing.TB, *staking.State)
		proposer staking.Address
		fees     uint64
		signers  []staking.Signer
		total    uint64
		want     staking.Distribution
		// what each party can take afterwards: balance gained, or claimable
		balances map[staking.Address]uint64
		pending  map[[2]staking.Address]uint64
		// allocated to each validator's bonders, claimable or not
		outstanding map[staking.Address]uint64
	}{
		{
			name: "first block: everything carries", reward: 10, bonus: none, fees: 3, total: 150,
			want: staking.Distribution{Issued: 10, Fees: 3, Carried: 13},
		},
		{
			name: "split by stake", reward: 300, bonus: none, proposer: v0, total: 150,
			signers: []staking.Signer{{Validator: v1, Stake: 50}, {Validator: v0, Stake: 100}},
			want:    staking.Distribution{Issued: 300, Rewarded: 300},
			pending: map[[2]staking.Address]uint64{{v0, v0}: 200, {v1, v1}: 100},
		},
		{
			name: "remainder carries", reward: 100, bonus: none, proposer: v0, total: 150,
			signers: []staking.Signer{{Validator: v0, Stake: 100}, {Validator: v1, Stake: 50}},
			fees:    4, // 104 * 100/150 = 69.33, 104 * 50/150 = 34.67
			want:    staking.Distribution{Issued: 100, Fees: 4, Rewarded: 103, Carried: 1},
			// 0.69 and 0.68 per unit of stake are not exact in 64 fraction
			// bits: what is claimable rounds down, the rest stays outstanding.
			pending:     map[[2]staking.Address]uint64{{v0, v0}: 68, {v1, v1}: 33},
			outstanding: map[staking.Address]uint64{v0: 69, v1: 34},
		},
		{
			name: "commission to the validator's balance, the rest to its bonders", reward: 1000, bonus: none, proposer: v0, total: 150,
			setup: func(t testing.TB, s *staking.State) {
				must(t, s.SetCommission(v0, staking.CommissionDen/10))
				must(t, s.Stake(a0, v0, 100)) // v0: 100 own + 100 from a0
			},
			signers:  []staking.Signer{{Validator: v0, Stake: 100}},
			want:     staking.Distribution{Issued: 1000, Rewarded: 1000},
			balances: map[staking.Address]uint64{v0: 100},
			pending:  map[[2]staking.Address]uint64{{v0, v0}: 450, {a0, v0}: 450},
		},
		{
			name: "bonus: every validator signed", reward: 1000, bonus: staking.Fraction{Num: 1, Den: 10}, proposer: v1, total: 150,
			signers: []staking.Signer{{Validator: v0, Stake: 100}, {Validator: v1, Stake: 50}},
			// bonus 100; 900 split 600/300
			want:    staking.Distribution{Issued: 1000, Bonus: 100, Rewarded: 1000},
			pending: map[[2]staking.Address]uint64{{v0, v0}: 600, {v1, v1}: 400},
		},
		{
			name: "bonus: exactly the quorum signed earns none", reward: 1000, bonus: staking.Fraction{Num: 1, Den: 10}, proposer: v0, total: 149,
			signers: []staking.Signer{{Validator: v0, Stake: 100}}, // quorum of 149 is 100
			want:    staking.Distribution{Issued: 1000, Rewarded: 1000},
			pending: map[[2]staking.Address]uint64{{v0, v0}: 1000},
		},
		{
			name: "validator with no bonded stake keeps its share", reward: 90, bonus: none, proposer: v0, total: 150,
			setup:    func(t testing.TB, s *staking.State) { must(t, s.Unstake(v1, v1, 50, 1)) },
			signers:  []staking.Signer{{Validator: v0, Stake: 100}, {Validator: v1, Stake: 50}},
			want:     staking.Distribution{Issued: 90, Rewarded: 90},
			balances: map[staking.Address]uint64{v1: 30},
			// 60 per 100 of stake is not exact in 64 fraction bits: the
			// claimable part rounds down and the unit stays outstanding.
			pending:     map[[2]staking.Address]uint64{{v0, v0}: 59},
			outstanding: map[staking.Address]uint64{v0: 60},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rewardFixture(t, tt.reward, tt.bonus)
			if tt.setup != nil {
				tt.setup(t, s)
			}
			balances := map[staking.Address]uint64{}
			for a := range tt.balances {
				balances[a] = s.Account(a).Balance
			}
			supply := s.TotalSupply()
			if tt.fees > 0 { // as a block charges them
				must(t, s.ChargeFee(a1, 0, tt.fees))
			}
			got, err := s.Distribute(1, tt.proposer, tt.fees, tt.signers, tt.total)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Distribute: got %+v, want %+v", got, tt.want)
			}
			if s.TotalSupply() != supply+tt.reward {
				t.Errorf("supply: got %d, want %d", s.TotalSupply(), supply+tt.reward)
			}
			for a, gain := range tt.balances {
				if got := s.Account(a).Balance - balances[a]; got != gain {
					t.Errorf("balance of %s gained %d, want %d", a.Hex(), got, gain)
				}
			}
			for k, want := range tt.pending {
				if got := s.PendingReward(k[0], k[1]); got != want {
					t.Errorf("pending %s -> %s: got %d, want %d", k[0].Hex(), k[1].Hex(), got, want)
				}
			}
			for v, want := range tt.outstanding {
				if got := s.Outstanding(v); got != want {
					t.Errorf("outstanding of %s: got %d, want %d", v.Hex(), got, want)
				}
			}
			checkLoadable(t, s)
		})
	}
}

func TestDistributeRejects(t *testing.T) {
	s := rewardFixture(t, 1, staking.Fraction{Num: 0, Den: 1})
	for name, signers := range map[string][]staking.Signer{
		"unknown signer":   {{Validator: a0, Stake: 10}},
		"duplicate signer": {{Validator: v0, Stake: 100}, {Validator: v0, Stake: 100}},
		"zero stake":       {{Validator: v0, Stake: 0}},
	} {
		if _, err := s.Distribute(1, v0, 0, signers, 150); !errors.Is(err, staking.ErrUnknownValidator) {
			t.Errorf("%s: got %v, want ErrUnknownValidator", name, err)
		}
	}
	if _, err := s.Distribute(1, v0, 0, []staking.Signer{{Validator: v0, Stake: 100}}, 99); !errors.Is(err, staking.ErrOverflow) {
		t.Errorf("signed above total: got %v, want ErrOverflow", err)
	}
	if _, err := s.Distribute(2, v0, 0, nil, 150); !errors.Is(err, staking.ErrBadHeight) {
		t.Errorf("wrong height: got %v", err)
	}
	p := testParams()
	p.BlockReward, p.ProposerBonus = staking.MaxSupply, staking.Fraction{Num: 0, Den: 1}
	big, _ := stakingtest.Genesis{Params: p, Stakes: []uint64{100}}.New(t)
	if _, err := big.Distribute(1, v0, 0, nil, 100); !errors.Is(err, staking.ErrOverflow) {
		t.Errorf("issuing past MaxSupply: got %v, want ErrOverflow", err)
	}
}

func TestClaimAndCommission(t *testing.T) {
	s := rewardFixture(t, 300, staking.Fraction{Num: 0, Den: 1})
	if _, err := s.Claim(v0, staking.Address{}); !errors.Is(err, staking.ErrNothingToClaim) {
		t.Fatalf("claim with nothing pending: got %v", err)
	}
	if _, err := s.Claim(a0, v0); !errors.Is(err, staking.ErrUnknownValidator) {
		t.Fatalf("claim without a bond: got %v", err)
	}
	if err := s.SetCommission(a0, 1); !errors.Is(err, staking.ErrUnknownValidator) {
		t.Fatalf("commission of a non-candidate: got %v", err)
	}
	if err := s.SetCommission(v0, staking.CommissionDen+1); !errors.Is(err, staking.ErrInvalidFraction) {
		t.Fatalf("commission above 1: got %v", err)
	}
	_, err := s.Distribute(1, v0, 0, []staking.Signer{{Validator: v0, Stake: 100}, {Validator: v1, Stake: 50}}, 150)
	must(t, err)
	before := s.Account(v0).Balance
	got, err := s.Claim(v0, staking.Address{})
	if err != nil || got != 200 || s.Account(v0).Balance != before+200 || s.PendingReward(v0, v0) != 0 {
		t.Fatalf("claim: got %d, %v; balance %d, want +200", got, err, s.Account(v0).Balance-before)
	}
	if s.Outstanding(v0) != 0 || s.Outstanding(v1) != 100 {
		t.Fatalf("outstanding: v0 %d, v1 %d; want 0, 100", s.Outstanding(v0), s.Outstanding(v1))
	}
	checkLoadable(t, s)
}

// TestF1MatchesExactShares cross-checks the lazy accounting against a dumb
// reference that pays every bonder its exact rational share at every
// block: F1 never pays more, and pays less only by rounding, at most one
// unit per block.
func TestF1MatchesExactShares(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		p := testParams()
		p.BlockReward, p.ProposerBonus = 1+rng.Uint64N(1000), staking.Fraction{Num: 0, Den: 1}
		s, _ := stakingtest.Genesis{Params: p, Stakes: []uint64{100, 50}, Balances: []uint64{1000, 500, 700}}.New(t)
		delegators := []staking.Address{v0, a0, a1, a2}
		exact := map[staking.Address]*big.Rat{}
		paid := map[staking.Address]uint64{}
		blocks := map[staking.Address]uint64{}
		for _, d := range delegators {
			exact[d] = new(big.Rat)
		}
		for h := uint64(1); h <= 40; h++ {
			// Someone bonds to v0 or unbonds from it; F1 settles them first.
			d := delegators[1+rng.IntN(3)]
			if rng.IntN(2) == 0 && s.Account(d).Balance > 0 {
				amount := 1 + rng.Uint64N(s.Account(d).Balance)
				paid[d] += s.PendingReward(d, v0)
				must(t, s.Stake(d, v0, amount))
			} else if b := s.Bond(d, v0); b > 0 {
				paid[d] += s.PendingReward(d, v0)
				must(t, s.Unstake(d, v0, 1+rng.Uint64N(b), h))
			}
			stake, _ := s.Candidate(v0)
			for _, d := range delegators {
				if b := s.Bond(d, v0); b > 0 {
					exact[d].Add(exact[d], big.NewRat(int64(p.BlockReward*b), int64(stake.Stake)))
					blocks[d]++
				}
			}
			_, err := s.Distribute(h, v0, 0, []staking.Signer{{Validator: v0, Stake: 100}}, 100)
			must(t, err)
			_, err = s.EndBlock(h)
			must(t, err)
		}
		for _, d := range delegators {
			got := paid[d] + s.PendingReward(d, v0)
			f := new(big.Rat).SetUint64(got)
			diff := new(big.Rat).Sub(exact[d], f)
			if diff.Sign() < 0 || diff.Cmp(new(big.Rat).SetUint64(blocks[d]+1)) > 0 {
				t.Fatalf("seed %d: %s got %d, exact %s: off by %s over %d blocks", seed, d.Hex(), got, exact[d].FloatString(3), diff.FloatString(3), blocks[d])
			}
		}
		checkLoadable(t, s)
	}
}
