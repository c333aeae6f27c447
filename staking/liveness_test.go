package staking_test

import (
	"testing"

	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/staking/stakingtest"
)

// livenessFixture: v0 (100), v1 (50), v2 (20) with a window of 4 and at
// most 2 missed, and the given downtime slash.
func livenessFixture(t testing.TB, slash staking.Fraction) *staking.State {
	t.Helper()
	p := testParams()
	p.DowntimeWindow, p.DowntimeMaxMissed, p.SlashFractionDowntime = 4, 2, slash
	s, _ := stakingtest.Genesis{Params: p, Stakes: []uint64{100, 50, 20}, Balances: []uint64{1000}}.New(t)
	return s
}

// record runs heights from..to, each recording one certificate from which
// the members in missing(h) are absent.
func record(t *testing.T, s *staking.State, from, to uint64, missing func(h uint64) map[staking.Address]bool) []staking.Jailing {
	t.Helper()
	var out []staking.Jailing
	for h := from; h <= to; h++ {
		m := missing(h)
		j, err := s.RecordLiveness(h, []staking.Address{v0, v1, v2}, func(a staking.Address) bool { return !m[a] })
		must(t, err)
		out = append(out, j...)
		_, err = s.EndBlock(h)
		must(t, err)
	}
	return out
}

func TestDowntimeJailing(t *testing.T) {
	t.Run("more than the maximum missed: jailed, slashed, out of the set at H+2", func(t *testing.T) {
		s := livenessFixture(t, staking.Fraction{Num: 1, Den: 10})
		supply := s.TotalSupply()
		jailed := record(t, s, 1, 3, func(uint64) map[staking.Address]bool { return map[staking.Address]bool{v2: true} })
		if len(jailed) != 1 || jailed[0] != (staking.Jailing{Validator: v2, Missed: 3, Burned: 2}) {
			t.Fatalf("jailings: got %+v, want v2 with 3 missed and 2 burned at height 3", jailed)
		}
		c, _ := s.Candidate(v2)
		if !c.Jailed || c.JailedUntil != 3+testParams().JailBlocks || c.Stake != 18 {
			t.Fatalf("v2 after downtime: got %+v", c)
		}
		if s.TotalSupply() != supply-2 {
			t.Fatalf("supply: got %d, want %d", s.TotalSupply(), supply-2)
		}
		if _, ok := s.PendingValidators().StakeOf(v2); ok {
			t.Fatal("v2 still selected for height 5")
		}
		if _, ok := s.Validators().StakeOf(v2); !ok {
			t.Fatal("v2 left the set of height 4 early: it leaves at H+2")
		}
		if s.Missed(v2) != 0 {
			t.Fatalf("a jailed validator starts a fresh window: missed %d", s.Missed(v2))
		}
		// Jailed, it is not recorded; unjail works once its jail time is over.
		record(t, s, 4, 3+testParams().JailBlocks-1, func(uint64) map[staking.Address]bool { return map[staking.Address]bool{v2: true} })
		must(t, s.Unjail(v2, 3+testParams().JailBlocks))
		checkLoadable(t, s)
	})
	t.Run("exactly the maximum missed: not jailed", func(t *testing.T) {
		s := livenessFixture(t, staking.Fraction{Num: 0, Den: 1})
		jailed := record(t, s, 1, 4, func(h uint64) map[staking.Address]bool { return map[staking.Address]bool{v1: h%2 == 0} })
		if len(jailed) != 0 || s.Missed(v1) != 2 || s.Missed(v0) != 0 {
			t.Fatalf("got jailings %+v, missed v1 %d v0 %d; want none, 2, 0", jailed, s.Missed(v1), s.Missed(v0))
		}
		checkLoadable(t, s)
	})
	t.Run("misses older than the window are forgotten", func(t *testing.T) {
		s := livenessFixture(t, staking.Fraction{Num: 0, Den: 1})
		// Missed at 1 and 2, signed at 3..6, missed at 7 and 8: never more
		// than 2 in any 4 consecutive certificates.
		jailed := record(t, s, 1, 8, func(h uint64) map[staking.Address]bool {
			return map[staking.Address]bool{v1: h <= 2 || h >= 7}
		})
		if len(jailed) != 0 || s.Missed(v1) != 2 {
			t.Fatalf("got jailings %+v, missed %d; want none, 2", jailed, s.Missed(v1))
		}
		// One more miss makes three in the window.
		if jailed := record(t, s, 9, 9, func(uint64) map[staking.Address]bool { return map[staking.Address]bool{v1: true} }); len(jailed) != 1 {
			t.Fatalf("third miss in the window: got %+v, want v1 jailed", jailed)
		}
		checkLoadable(t, s)
	})
	t.Run("a zero slash jails without burning", func(t *testing.T) {
		s := livenessFixture(t, staking.Fraction{Num: 0, Den: 1})
		supply := s.TotalSupply()
		jailed := record(t, s, 1, 3, func(uint64) map[staking.Address]bool { return map[staking.Address]bool{v0: true} })
		if len(jailed) != 1 || jailed[0].Burned != 0 || s.TotalSupply() != supply {
			t.Fatalf("got %+v, supply %d; want v0 jailed and nothing burned", jailed, s.TotalSupply())
		}
	})
}
