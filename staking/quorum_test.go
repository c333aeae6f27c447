package staking_test

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/staking/stakingtest"
)

func TestQuorumEdges(t *testing.T) {
	tests := []struct {
		stakes          []uint64
		stake           uint64
		quorum, oneThrd bool
	}{
		{[]uint64{1, 1, 1}, 2, false, true}, // exactly 2/3 is not a quorum
		{[]uint64{1, 1, 1}, 3, true, true},
		{[]uint64{1, 1, 1}, 1, false, false}, // exactly 1/3 is not more than 1/3
		{[]uint64{1, 1, 1}, 0, false, false},
		{[]uint64{40, 30, 20, 10}, 66, false, true},
		{[]uint64{40, 30, 20, 10}, 67, true, true},
		{[]uint64{40, 30, 20, 10}, 33, false, false},
		{[]uint64{40, 30, 20, 10}, 34, false, true},
		{[]uint64{1}, 1, true, true},
		{[]uint64{1}, 0, false, false},
		{[]uint64{staking.MaxSupply}, staking.MaxSupply / 3 * 2, false, true},
		{[]uint64{staking.MaxSupply}, staking.MaxSupply/3*2 + 1, true, true},
		{[]uint64{staking.MaxSupply}, ^uint64(0), true, true}, // 3*stake overflows 64 bits
	}
	for _, tt := range tests {
		vs := stakingtest.Set(t, tt.stakes...)
		if got := staking.HasQuorum(tt.stake, vs.TotalStake()); got != tt.quorum {
			t.Errorf("stakes %v: HasQuorum(%d) = %v, want %v", tt.stakes, tt.stake, got, tt.quorum)
		}
		if got := staking.HasOneThird(tt.stake, vs.TotalStake()); got != tt.oneThrd {
			t.Errorf("stakes %v: HasOneThird(%d) = %v, want %v", tt.stakes, tt.stake, got, tt.oneThrd)
		}
		q := vs.QuorumStake()
		if !staking.HasQuorum(q, vs.TotalStake()) || staking.HasQuorum(q-1, vs.TotalStake()) {
			t.Errorf("stakes %v: QuorumStake() = %d is not the least quorum", tt.stakes, q)
		}
	}
}

// TestQuorumAgainstBigInt cross-checks the 128-bit comparisons with a
// big.Int reference on random totals and stakes.
func TestQuorumAgainstBigInt(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	three, two := big.NewInt(3), big.NewInt(2)
	for i := range 5000 {
		total := 1 + r.Uint64N(staking.MaxSupply)
		if i%3 == 0 {
			total = 1 + r.Uint64N(1000)
		}
		vs := stakingtest.Set(t, total)
		for _, stake := range []uint64{r.Uint64(), r.Uint64N(total + 1), vs.QuorumStake(), vs.QuorumStake() - 1, total / 3, total/3 + 1} {
			s3 := new(big.Int).Mul(new(big.Int).SetUint64(stake), three)
			tot := new(big.Int).SetUint64(total)
			wantQ := s3.Cmp(new(big.Int).Mul(tot, two)) > 0
			wantT := s3.Cmp(tot) > 0
			if got := staking.HasQuorum(stake, total); got != wantQ {
				t.Fatalf("total %d stake %d: HasQuorum = %v, want %v", total, stake, got, wantQ)
			}
			if got := staking.HasOneThird(stake, total); got != wantT {
				t.Fatalf("total %d stake %d: HasOneThird = %v, want %v", total, stake, got, wantT)
			}
		}
	}
}

// TestQuorumFuncs checks the inequalities on totals up to the top of the
// uint64 range, where 2*total no longer fits in 64 bits.
func TestQuorumFuncs(t *testing.T) {
	cases := []struct {
		signed, total uint64
		quorum, third bool
	}{
		{2, 3, false, true}, // exactly two thirds is not a quorum
		{3, 3, true, true},  // all
		{67, 100, true, true},
		{66, 100, false, true},
		{1, 3, false, false}, // exactly one third is not more than one third
		{34, 100, false, true},
		{33, 100, false, false},
		{^uint64(0), ^uint64(0), true, true}, // no overflow at the top of the range
		{^uint64(0) / 3 * 2, ^uint64(0), false, true},
	}
	for _, c := range cases {
		if got := staking.HasQuorum(c.signed, c.total); got != c.quorum {
			t.Errorf("HasQuorum(%d, %d) = %v", c.signed, c.total, got)
		}
		if got := staking.HasOneThird(c.signed, c.total); got != c.third {
			t.Errorf("HasOneThird(%d, %d) = %v", c.signed, c.total, got)
		}
		ref := new(big.Int).Mul(new(big.Int).SetUint64(c.signed), big.NewInt(3))
		if ref.Cmp(new(big.Int).Mul(new(big.Int).SetUint64(c.total), big.NewInt(2))) > 0 != c.quorum {
			t.Errorf("table row %d/%d disagrees with big.Int reference", c.signed, c.total)
		}
	}
}
