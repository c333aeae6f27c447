package staking_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/quorumchain/quorumchain/staking"
)

// randomOps applies n random operations (about one in eight ends the
// block) to s, checking that each failed operation leaves the hash alone.
func randomOps(t testing.TB, s *staking.State, r *rand.Rand, n int) {
	t.Helper()
	actors := []staking.Address{v0, v1, v2, a0, a1, a2}
	pick := func() staking.Address { return actors[r.IntN(len(actors))] }
	amount := func() uint64 { return uint64(r.IntN(60)) }
	for range n {
		h := s.Height() + 1
		before := s.Hash()
		var err error
		switch r.IntN(8) {
		case 0:
			err = s.UseNonce(pick(), uint64(r.IntN(2)))
		case 1:
			err = s.Transfer(pick(), pick(), amount())
		case 2:
			err = s.Stake(pick(), pick(), amount())
		case 3:
			err = s.Unstake(pick(), pick(), amount(), h)
		case 4:
			err = s.Unjail(pick(), h)
		case 5:
			if r.IntN(4) == 0 {
				_, err = s.SlashDoubleSign(pick(), uint64(r.IntN(int(h))), h)
			}
		default:
			_, err = s.EndBlock(h)
		}
		if err != nil && s.Hash() != before {
			t.Fatalf("failed operation changed the state: %v", err)
		}
	}
}

// applyChanges merges a Changes list into sorted entries.
func applyChanges(entries, changes []staking.KV) []staking.KV {
	m := make(map[string][]byte, len(entries))
	for _, e := range entries {
		m[string(e.Key)] = e.Value
	}
	for _, c := range changes {
		if c.Value == nil {
			delete(m, string(c.Key))
		} else {
			m[string(c.Key)] = c.Value
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]staking.KV, len(keys))
	for i, k := range keys {
		out[i] = staking.KV{Key: []byte(k), Value: m[k]}
	}
	return out
}

func TestForkCommitRoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 25; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0))
			s := fixture(t)
			randomOps(t, s, r, 40)
			parentHash, parentEntries, parentHeight := s.Hash(), s.Entries(), s.Height()
			child := s.Fork()
			randomOps(t, child, r, 60)

			// Child writes never reach the parent.
			if s.Hash() != parentHash || !reflect.DeepEqual(s.Entries(), parentEntries) || s.Height() != parentHeight {
				t.Fatal("fork writes leaked into the parent")
			}
			// Changes are sorted and turn the parent's entries into the child's.
			changes := child.Changes()
			if !slices.IsSortedFunc(changes, func(a, b staking.KV) int { return bytes.Compare(a.Key, b.Key) }) {
				t.Fatal("Changes not sorted")
			}
			merged := applyChanges(parentEntries, changes)
			if !reflect.DeepEqual(merged, child.Entries()) {
				t.Fatal("parent entries + Changes != child entries")
			}
			loaded, err := staking.LoadState(s.Params(), merged)
			if err != nil {
				t.Fatal(err)
			}
			if loaded.Hash() != child.Hash() {
				t.Fatal("LoadState(parent + Changes) hash differs from the child's")
			}
			checkLoadable(t, child)

			// Determinism: replaying the same operations gives the same hash.
			replay := fixture(t)
			r2 := rand.New(rand.NewPCG(seed, 0))
			randomOps(t, replay, r2, 40)
			randomOps(t, replay, r2, 60)
			if replay.Hash() != child.Hash() {
				t.Fatal("same operations, different hash")
			}

			childHash := child.Hash()
			s.Commit(child)
			if s.Hash() != childHash || s.Height() != child.Height() || s.Validators() != child.Validators() {
				t.Fatal("Commit did not adopt the child")
			}
			checkLoadable(t, s)
			if len(child.Changes()) != 0 {
				t.Fatal("child has changes after Commit")
			}
			// After Commit they are independent again, both ways.
			randomOps(t, child, r, 30)
			if s.Hash() != childHash {
				t.Fatal("post-commit child writes leaked into the parent")
			}
			other := child.Hash()
			randomOps(t, s, r, 30)
			if child.Hash() != other {
				t.Fatal("parent writes leaked into a fork")
			}
		})
	}
}

func TestNestedForks(t *testing.T) {
	s := fixture(t)
	c1 := s.Fork()
	must(t, c1.Transfer(a0, a2, 10))
	c2 := c1.Fork()
	must(t, c2.Transfer(a0, a2, 20))
	if c1.Account(a2).Balance != 10 || s.Account(a2).Balance != 0 {
		t.Fatal("grandchild write leaked")
	}
	c1.Commit(c2)
	if got := c1.Changes(); len(got) != 2 { // a0 and a2
		t.Fatalf("changes %x", got)
	}
	s.Commit(c1)
	if s.Account(a2).Balance != 30 || s.Account(a0).Balance != 970 {
		t.Fatalf("balances %d %d", s.Account(a2).Balance, s.Account(a0).Balance)
	}
	if s.Changes() != nil {
		t.Fatal("a root state has changes")
	}
	checkLoadable(t, s)
}

func TestCommitMisuse(t *testing.T) {
	expectPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	s := fixture(t)
	stale := s.Fork()
	must(t, s.Transfer(a0, a1, 1))
	expectPanic("stale fork", func() { s.Commit(stale) })
	other := fixture(t).Fork()
	expectPanic("not a child", func() { s.Commit(other) })
	grandchild := s.Fork().Fork()
	expectPanic("grandchild", func() { s.Commit(grandchild) })
}

// TestHashIsHistoryIndependent: different operation orders reaching the
// same contents give the same hash.
func TestHashIsHistoryIndependent(t *testing.T) {
	x, y := fixture(t), fixture(t)
	must(t, x.Transfer(a0, a2, 5))
	must(t, x.Transfer(a1, a2, 7))
	must(t, x.Stake(a0, v1, 3))
	must(t, y.Stake(a0, v1, 3))
	must(t, y.Transfer(a1, a2, 7))
	must(t, y.Transfer(a0, a2, 5))
	if x.Hash() != y.Hash() {
		t.Fatal("hash depends on operation order")
	}
	// Creating and removing an entry restores the hash.
	h := x.Hash()
	must(t, x.Transfer(a2, stakingAddr(77), 12))
	must(t, x.Transfer(stakingAddr(77), a2, 12))
	if x.Hash() != h {
		t.Fatal("hash remembers a deleted account")
	}
}

func stakingAddr(n byte) staking.Address { return staking.Address{19: n} }
