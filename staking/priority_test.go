package staking_test

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/staking/stakingtest"
)

// rotation runs heights heights from vs (taking Proposer(0), then
// Advance(1)) and returns proposal counts, the longest gap between two
// proposals of each member (or from the start), and the final set.
func rotation(vs *staking.ValidatorSet, heights int) (map[staking.Address]int, map[staking.Address]int, *staking.ValidatorSet) {
	counts := make(map[staking.Address]int)
	last := make(map[staking.Address]int)
	gaps := make(map[staking.Address]int)
	for h := range heights {
		p := vs.Proposer(0)
		counts[p]++
		gaps[p] = max(gaps[p], h-last[p])
		last[p] = h
		vs = vs.Advance(1)
	}
	for _, v := range vs.Validators() {
		gaps[v.Address] = max(gaps[v.Address], heights-last[v.Address])
	}
	return counts, gaps, vs
}

func checkFair(t *testing.T, vs *staking.ValidatorSet, counts, gaps map[staking.Address]int, heights int) {
	t.Helper()
	for _, v := range vs.Validators() {
		want := float64(heights) * float64(v.Stake) / float64(vs.TotalStake())
		got := float64(counts[v.Address])
		if got < want*0.99 || got > want*1.01 {
			t.Errorf("%x (stake %d of %d): proposed %v times in %d heights, want %.0f +-1%%", v.Address, v.Stake, vs.TotalStake(), got, heights, want)
		}
		// No starvation: a member waits at most about total/stake heights.
		if maxGap := 2*int(vs.TotalStake()/v.Stake) + 2; gaps[v.Address] > maxGap {
			t.Errorf("%x (stake %d): waited %d heights, want <= %d", v.Address, v.Stake, gaps[v.Address], maxGap)
		}
	}
}

func TestProposerFrequency(t *testing.T) {
	for _, stakes := range [][]uint64{
		{50, 30, 15, 5},
		{1, 1, 1, 1},
		{97, 1, 1, 1},
		{5000, 3000, 1500, 500},
		{staking.MaxSupply / 2, staking.MaxSupply / 4, staking.MaxSupply / 8, staking.MaxSupply / 8},
	} {
		t.Run(fmt.Sprint(stakes), func(t *testing.T) {
			vs := stakingtest.Set(t, stakes...)
			counts, gaps, _ := rotation(vs, 10000)
			checkFair(t, vs, counts, gaps, 10000)
		})
	}
}

func TestProposerFrequencyAcrossSetChange(t *testing.T) {
	vs := stakingtest.Set(t, 50, 30, 15, 5)
	_, _, vs = rotation(vs, 1234)
	// Addr(1) leaves, Addr(2) doubles, Addr(5) joins.
	next := vs.WithMembership([]staking.Validator{
		{Address: stakingtest.Addr(5), Stake: 20},
		{Address: stakingtest.Addr(2), Stake: 60},
		{Address: stakingtest.Addr(3), Stake: 15},
		{Address: stakingtest.Addr(4), Stake: 5},
	})
	if next.Len() != 4 || next.TotalStake() != 100 {
		t.Fatalf("membership: %v", next)
	}
	for i := range 5 {
		if p := next.Advance(uint32(i)).Proposer(0); p == stakingtest.Addr(5) {
			t.Fatalf("the newcomer proposes %d heights after joining: it jumped the queue", i)
		}
	}
	counts, gaps, _ := rotation(next, 10000)
	checkFair(t, next, counts, gaps, 10000)
}

func TestGenesisRotationStartsWithLargestStake(t *testing.T) {
	st, vs := stakingtest.Genesis{Stakes: []uint64{10, 40, 40, 20}}.New(t)
	if got := vs.Proposer(0); got != stakingtest.Validator(1) {
		t.Fatalf("height 1 proposer %x, want the largest stake with the lower address %x", got, stakingtest.Validator(1))
	}
	if st.Validators() != vs {
		t.Fatal("Validators() after genesis is not the height-1 set")
	}
}

func TestAdvanceComposes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		n := 1 + r.IntN(12)
		stakes := make([]uint64, n)
		for i := range stakes {
			stakes[i] = 1 + r.Uint64N(1<<uint(1+r.IntN(59)))
		}
		vs := stakingtest.Set(t, stakes...)
		rounds := uint32(r.IntN(40))
		step := vs
		for range rounds {
			step = step.Advance(1)
		}
		whole := vs.Advance(rounds)
		if fmt.Sprint(whole.Validators()) != fmt.Sprint(step.Validators()) {
			t.Fatalf("stakes %v: Advance(%d) != Advance(1)^%d", stakes, rounds, rounds)
		}
		if got, want := vs.Proposer(rounds), whole.Proposer(0); got != want {
			t.Fatalf("stakes %v: Proposer(%d) = %x, Advance(%d).Proposer(0) = %x", stakes, rounds, got, rounds, want)
		}
		checkWindow(t, whole)
	}
}

// checkWindow asserts the normalization invariant: priorities are centered
// and span at most 2*total.
func checkWindow(t *testing.T, vs *staking.ValidatorSet) {
	t.Helper()
	lo, hi := int64(1<<62), int64(-1<<62)
	sum := new(big.Int)
	for _, v := range vs.Validators() {
		lo, hi = min(lo, v.ProposerPriority), max(hi, v.ProposerPriority)
		sum.Add(sum, big.NewInt(v.ProposerPriority))
	}
	if uint64(hi-lo) > 2*vs.TotalStake() {
		t.Fatalf("%v: priorities span %d > 2*total %d", vs, hi-lo, 2*vs.TotalStake())
	}
	// Centering on the floor average leaves the sum in [0, len).
	if sum.Sign() < 0 || sum.Cmp(big.NewInt(int64(vs.Len()))) >= 0 {
		t.Fatalf("%v: priorities not centered (sum %v)", vs, sum)
	}
}

func TestPriorityExtremes(t *testing.T) {
	for _, vals := range [][]staking.Validator{
		{{Address: stakingtest.Addr(1), Stake: staking.MaxSupply - 1, ProposerPriority: 1 << 62}, {Address: stakingtest.Addr(2), Stake: 1, ProposerPriority: -1 << 62}},
		{{Address: stakingtest.Addr(1), Stake: 1, ProposerPriority: -1 << 62}, {Address: stakingtest.Addr(2), Stake: 1, ProposerPriority: 1 << 62}},
		{{Address: stakingtest.Addr(1), Stake: staking.MaxSupply / 2, ProposerPriority: 1 << 62}, {Address: stakingtest.Addr(2), Stake: staking.MaxSupply / 2, ProposerPriority: 1 << 62}},
	} {
		vs, err := staking.NewValidatorSet(vals)
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			vs = vs.Advance(1)
			checkWindow(t, vs)
		}
		joined := vs.WithMembership(append(vs.Validators()[:1:1], staking.Validator{Address: stakingtest.Addr(3), Stake: 1}))
		checkWindow(t, joined)
	}
}

func TestWithMembership(t *testing.T) {
	vs := stakingtest.Set(t, 10, 20, 30).Advance(7)
	stays := vs.At(1)
	next := vs.WithMembership([]staking.Validator{
		{Address: stakingtest.Addr(9), Stake: 20, ProposerPriority: 12345}, // priority ignored
		{Address: stakingtest.Addr(2), Stake: 20},
	})
	if next.Len() != 2 || next.TotalStake() != 40 {
		t.Fatalf("got %v", next)
	}
	a, b := next.At(0), next.At(1)
	// Recentering shifts both by the same amount: the newcomer starts
	// 1.125*40 = 45 below the stayer's previous priority.
	if a.Address != stakingtest.Addr(2) || b.Address != stakingtest.Addr(9) || a.ProposerPriority-b.ProposerPriority != stays.ProposerPriority+45 {
		t.Fatalf("stayer %+v (was %+v), newcomer %+v", a, stays, b)
	}
	for _, bad := range [][]staking.Validator{nil, {{Address: stakingtest.Addr(1)}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("WithMembership(%v) did not panic", bad)
				}
			}()
			vs.WithMembership(bad)
		}()
	}
}
