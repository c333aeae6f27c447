package staking_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/staking/stakingtest"
)

func members(vs *staking.ValidatorSet) string {
	var out []string
	for _, v := range vs.Validators() {
		out = append(out, fmt.Sprintf("%d:%d", v.Address[19], v.Stake))
	}
	return fmt.Sprint(out)
}

func TestStakeAndBonds(t *testing.T) {
	s := fixture(t)
	must(t, s.Stake(a0, v1, 30))
	must(t, s.Stake(a0, v0, 20))
	must(t, s.Stake(a0, v1, 5))
	must(t, s.Stake(a0, a0, 10)) // registers a0
	want := []staking.Bond{{Validator: v0, Amount: 20}, {Validator: v1, Amount: 35}, {Validator: a0, Amount: 10}}
	if got := s.Bonds(a0); !slices.Equal(got, want) {
		t.Fatalf("Bonds = %+v, want %+v", got, want)
	}
	if got := s.Account(a0).Balance; got != 935 {
		t.Fatalf("balance %d, want 935", got)
	}
	wantC := []staking.Candidate{{Address: v0, Stake: 120}, {Address: v1, Stake: 85}, {Address: a0, Stake: 10}}
	if got := s.Candidates(); !slices.Equal(got, wantC) {
		t.Fatalf("Candidates = %+v, want %+v", got, wantC)
	}
	if _, ok := s.Candidate(a1); ok {
		t.Fatal("a1 is a candidate")
	}
	if s.Bonds(a1) != nil || s.Unbondings(a1) != nil {
		t.Fatal("a1 has bonds")
	}
	checkLoadable(t, s)
}

// TestUnbondingRelease: an unstake at height h is credited by EndBlock(h+U),
// not before, and merges with other unstakes of the same height.
func TestUnbondingRelease(t *testing.T) {
	s := fixture(t) // U = 5
	must(t, s.Stake(a0, v0, 100))
	must(t, s.Unstake(a0, v0, 30, 1))
	must(t, s.Unstake(a0, v0, 10, 1))
	stakingtest.EndBlocks(t, s, 2)
	must(t, s.Unstake(a0, v0, 60, 3))
	want := []staking.Unbonding{
		{Delegator: a0, Validator: v0, Amount: 40, ReleaseHeight: 6},
		{Delegator: a0, Validator: v0, Amount: 60, ReleaseHeight: 8},
	}
	if got := s.Unbondings(a0); !slices.Equal(got, want) {
		t.Fatalf("Unbondings = %+v, want %+v", got, want)
	}
	if s.Bonds(a0) != nil {
		t.Fatalf("bonds left: %+v", s.Bonds(a0))
	}
	for _, step := range []struct{ height, balance uint64 }{{3, 900}, {5, 900}, {6, 940}, {7, 940}, {8, 1000}} {
		stakingtest.EndBlocks(t, s, step.height)
		if got := s.Account(a0).Balance; got != step.balance {
			t.Fatalf("after EndBlock(%d): balance %d, want %d", step.height, got, step.balance)
		}
		checkLoadable(t, s)
	}
	if s.Unbondings(a0) != nil {
		t.Fatalf("unbondings left: %+v", s.Unbondings(a0))
	}
}

// TestSetChangeTakesEffectAtHPlus2: stake added in block H shows in the set
// returned by EndBlock(H+1), i.e. the set of height H+2.
func TestSetChangeTakesEffectAtHPlus2(t *testing.T) {
	s := fixture(t)
	set1 := s.Validators()
	must(t, s.Stake(a0, v1, 200)) // in block 1
	set2, err := s.EndBlock(1)
	must(t, err)
	if members(set2) != members(set1) {
		t.Fatalf("set of height 2 = %s, want unchanged %s", members(set2), members(set1))
	}
	if got := members(s.PendingValidators()); got != "[1:100 2:250]" {
		t.Fatalf("pending for height 3 = %s", got)
	}
	set3 := stakingtest.EndBlocks(t, s, 2)
	if got := members(set3); got != "[1:100 2:250]" {
		t.Fatalf("set of height 3 = %s, want [1:100 2:250]", got)
	}
	if s.Validators() != set3 || set3.Hash() == set2.Hash() {
		t.Fatal("Validators() is not the last EndBlock result")
	}
	// Priorities carry over: the stayers' priorities advanced by one step.
	if members(set2.Advance(1)) == members(set3) {
		t.Fatal("membership did not change")
	}
}

func TestSelection(t *testing.T) {
	p := testParams() // min stake 10, max validators 3
	s, vs := stakingtest.Genesis{Params: p, Stakes: []uint64{20, 30, 20, 20, 10}, Balances: []uint64{1000}}.New(t)
	// v4 (10) meets the minimum but is 5th; v0, v2, v3 tie at 20: lower
	// addresses win.
	if got := members(vs); got != "[1:20 2:30 3:20]" {
		t.Fatalf("genesis set = %s", got)
	}
	must(t, s.Stake(a0, stakingtest.Validator(3), 1)) // v3: 21 beats v0 and v2; v0 wins their tie
	stakingtest.EndBlocks(t, s, 1)
	if got := members(s.PendingValidators()); got != "[1:20 2:30 4:21]" {
		t.Fatalf("selected %s, want [1:20 2:30 4:21]", got)
	}
	// Falling below the minimum drops a validator even when there is room.
	must(t, s.Unstake(stakingtest.Validator(1), stakingtest.Validator(1), 21, 2))
	must(t, s.Unstake(stakingtest.Validator(3), stakingtest.Validator(3), 20, 2))
	must(t, s.Unstake(stakingtest.Validator(4), stakingtest.Validator(4), 1, 2))
	stakingtest.EndBlocks(t, s, 2)
	if got := members(s.PendingValidators()); got != "[1:20 3:20]" {
		t.Fatalf("selected %s, want [1:20 3:20]", got)
	}
	if got := members(stakingtest.EndBlocks(t, s, 4)); got != "[1:20 3:20]" {
		t.Fatalf("set of height 5 = %s", got)
	}
	checkLoadable(t, s)
}

func TestSlashing(t *testing.T) {
	s := fixture(t) // slash 1/10, jail 3, unbonding 5
	must(t, s.Stake(a0, v0, 39))
	must(t, s.Stake(a1, v0, 9))
	must(t, s.Stake(a1, v1, 50))
	must(t, s.Unstake(a0, v0, 19, 1)) // queued from v0: slashed
	must(t, s.Unstake(a1, v1, 20, 1)) // queued from v1: not slashed
	stakingtest.EndBlocks(t, s, 1)
	supply := s.TotalSupply()

	burned, err := s.SlashDoubleSign(v0, 1, 2)
	must(t, err)
	// Burns: bonds v0 100 -> 10, a0 20 -> 2, a1 9 -> 0; unbonding a0 19 -> 1.
	if burned != 13 {
		t.Fatalf("burned %d, want 13", burned)
	}
	if got := s.TotalSupply(); got != supply-13 {
		t.Fatalf("supply %d, want %d", got, supply-13)
	}
	c, _ := s.Candidate(v0)
	if c != (staking.Candidate{Address: v0, Stake: 90 + 18 + 9, Jailed: true, JailedUntil: 5}) {
		t.Fatalf("candidate %+v", c)
	}
	if got := s.Bonds(a0); !slices.Equal(got, []staking.Bond{{Validator: v0, Amount: 18}}) {
		t.Fatalf("a0 bonds %+v", got)
	}
	if got := s.Unbondings(a0); !slices.Equal(got, []staking.Unbonding{{Delegator: a0, Validator: v0, Amount: 18, ReleaseHeight: 6}}) {
		t.Fatalf("a0 unbondings %+v", got)
	}
	if got := s.Unbondings(a1); !slices.Equal(got, []staking.Unbonding{{Delegator: a1, Validator: v1, Amount: 20, ReleaseHeight: 6}}) {
		t.Fatalf("a1 unbondings %+v", got)
	}
	checkLoadable(t, s)

	// Removal at the next selection: EndBlock(2) still returns v0 for
	// height 3 (selected at 1), and drops it from height 4.
	set3 := stakingtest.EndBlocks(t, s, 2)
	if _, ok := set3.Index(v0); !ok {
		t.Fatal("v0 left the set of height 3")
	}
	set4 := stakingtest.EndBlocks(t, s, 3)
	if _, ok := set4.Index(v0); ok || set4.Len() != 1 {
		t.Fatalf("set of height 4 = %s", members(set4))
	}

	// A second slash for the same fault burns the fraction of what is left
	// and never extends the jail backwards.
	burned, err = s.SlashDoubleSign(v0, 3, 4)
	must(t, err)
	if burned != 9+1+0+1 { // bonds 90, 18, 9; unbonding 18
		t.Fatalf("second burn %d, want 11", burned)
	}
	if c, _ := s.Candidate(v0); c.JailedUntil != 7 {
		t.Fatalf("jailed until %d, want 7", c.JailedUntil)
	}
	if err := s.Unjail(v0, 4); err == nil {
		t.Fatal("unjailed before the jail time")
	}
	stakingtest.EndBlocks(t, s, 6)
	must(t, s.Unjail(v0, 7))
	stakingtest.EndBlocks(t, s, 8)
	if _, ok := s.Validators().Index(v0); !ok {
		t.Fatal("v0 is not back two heights after unjail")
	}
	checkLoadable(t, s)
}

func TestSlashAll(t *testing.T) {
	p := testParams()
	p.SlashFractionDoubleSign = staking.Fraction{Num: 1, Den: 1}
	s, _ := stakingtest.Genesis{Params: p, Stakes: []uint64{100, 50}, Balances: []uint64{1000}}.New(t)
	must(t, s.Stake(a0, v0, 10))
	must(t, s.Unstake(a0, v0, 5, 1))
	burned, err := s.SlashDoubleSign(v0, 0, 1)
	must(t, err)
	if burned != 110 || s.Bonds(a0) != nil || s.Unbondings(a0) != nil || s.Bonds(v0) != nil {
		t.Fatalf("burned %d; left %+v %+v %+v", burned, s.Bonds(a0), s.Unbondings(a0), s.Bonds(v0))
	}
	if c, _ := s.Candidate(v0); c.Stake != 0 || !c.Jailed {
		t.Fatalf("candidate %+v", c)
	}
	// Slashing nothing (another double sign, all stake already burned) is fine.
	burned, err = s.SlashDoubleSign(v0, 1, 1)
	if err != nil || burned != 0 {
		t.Fatalf("re-slash: %d %v", burned, err)
	}
	checkLoadable(t, s)
}
