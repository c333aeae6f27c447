package consensus

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
)

func testStakes(n int, seed uint64) ([]uint64, uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	stakes := make([]uint64, n)
	var total uint64
	for i := range stakes {
		stakes[i] = 1 + r.Uint64N(100)
		total += stakes[i]
	}
	return stakes, total
}

func addr(i int) chain.Address { return chain.Address{byte(i >> 8), byte(i), 0xaa} }

// TestVoteSetMatchesReference cross-checks the running tally against a
// re-summing reference over random vote sequences with conflicts and
// duplicates: every distinct (validator, block) vote counts toward its
// block, each validator counts once toward the voted stake.
func TestVoteSetMatchesReference(t *testing.T) {
	hashes := []chain.Hash{{}, {1}, {2}}
	for seed := uint64(0); seed < 200; seed++ {
		n := 1 + int(seed%13)
		stakes, total := testStakes(n, seed)
		r := rand.New(rand.NewPCG(seed, 2))
		s := newVoteSet(chain.Prevote, 1, 0, stakes, total)
		first := make(map[int]chain.Hash)
		type pair struct {
			i int
			h chain.Hash
		}
		distinct := make(map[pair]bool)
		var firstMaj *chain.Hash
		for k := 0; k < 3*n; k++ {
			i := r.IntN(n)
			v := &chain.Vote{Type: chain.Prevote, Height: 1, Round: 0, BlockHash: hashes[r.IntN(len(hashes))], Validator: addr(i)}
			added, err := s.add(i, v)
			prev, had := first[i]
			switch {
			case !had:
				if !added || err != nil {
					t.Fatalf("seed %d: first vote of %d: added %v err %v", seed, i, added, err)
				}
				first[i] = v.BlockHash
			case prev == v.BlockHash:
				if added || err != nil {
					t.Fatalf("seed %d: duplicate of %d: added %v err %v", seed, i, added, err)
				}
			default:
				var cv *ConflictingVoteError
				if added || !errors.As(err, &cv) || cv.Existing.BlockHash != prev {
					t.Fatalf("seed %d: conflict of %d: added %v err %v", seed, i, added, err)
				}
			}
			distinct[pair{i, v.BlockHash}] = true
			// reference: re-sum
			sums := map[chain.Hash]uint64{}
			var voted uint64
			for j := range first {
				voted += stakes[j]
			}
			for p := range distinct {
				sums[p.h] += stakes[p.i]
			}
			if s.stakeVoted != voted {
				t.Fatalf("seed %d: voted %d, reference %d", seed, s.stakeVoted, voted)
			}
			for _, h := range hashes {
				if s.stakeByBlock[h] != sums[h] {
					t.Fatalf("seed %d: stake for %x %d, reference %d", seed, h[:1], s.stakeByBlock[h], sums[h])
				}
				if firstMaj == nil && 3*sums[h] > 2*total {
					hh := h
					firstMaj = &hh
				}
			}
			if got, ok := s.twoThirdsMajority(); ok != (firstMaj != nil) || (ok && got != *firstMaj) {
				t.Fatalf("seed %d: maj23 %v %x, reference %v", seed, ok, got[:1], firstMaj)
			}
			if s.hasTwoThirdsAny() != (3*voted > 2*total) {
				t.Fatalf("seed %d: any-quorum %v for %d of %d", seed, s.hasTwoThirdsAny(), voted, total)
			}
		}
	}
}

// TestFarRoundSlot: a validator holds one far round at a time; an older far
// round is ignored; a newer one evicts the older one's votes.
func TestFarRoundSlot(t *testing.T) {
	stakes := []uint64{10, 10, 10, 10}
	h := newHeightVoteSet(1, stakes, 40)
	vote := func(i int, r uint32) *chain.Vote {
		return &chain.Vote{Type: chain.Prevote, Height: 1, Round: r, Validator: addr(i)}
	}
	add := func(i int, r uint32) bool {
		rv := h.admit(i, r, 0)
		if rv == nil {
			return false
		}
		if _, err := h.add(rv, i, vote(i, r)); err != nil {
			t.Fatal(err)
		}
		return true
	}
	for r := uint32(0); r <= futureRoundWindow; r++ {
		if !add(0, r) {
			t.Fatalf("round %d within the window not admitted", r)
		}
	}
	if !add(1, 100) || !add(1, 200) {
		t.Fatal("newer far round not admitted")
	}
	if h.round(100) != nil {
		t.Fatal("round 100 kept after validator 1 moved to 200")
	}
	if add(1, 150) {
		t.Fatal("older far round admitted")
	}
	if h.admissible(1, 150, 0) {
		t.Fatal("admissible disagrees with admit")
	}
	if rv := h.round(200); rv.senderStake != 10 || rv.prevotes.stakeVoted != 10 {
		t.Fatalf("round 200 sender stake %d, voted %d", rv.senderStake, rv.prevotes.stakeVoted)
	}
	// Once the Machine is near round 200, it is no longer far.
	if !h.admissible(1, 150, 149) {
		t.Fatal("round within the window refused")
	}
	if r, ok := h.highestSkipRound(0); ok {
		t.Fatalf("skip to %d with one validator of four", r)
	}
	add(2, 200)
	if r, ok := h.highestSkipRound(0); !ok || r != 200 {
		t.Fatalf("skip round %d %v, want 200", r, ok)
	}
}

// TestEvictConflictingVotes: evicting an equivocator from a far round
// uncounts its conflicting votes too, not only its counted one, while the
// round stays stored for another validator's vote.
func TestEvictConflictingVotes(t *testing.T) {
	stakes := []uint64{10, 10, 10, 10}
	h := newHeightVoteSet(1, stakes, 40)
	blockA, blockB := chain.Hash{0xa}, chain.Hash{0xb}
	add := func(i int, r uint32, block chain.Hash) error {
		rv := h.admit(i, r, 0)
		if rv == nil {
			t.Fatalf("validator %d at round %d not admitted", i, r)
		}
		_, err := h.add(rv, i, &chain.Vote{Type: chain.Prevote, Height: 1, Round: r, BlockHash: block, Validator: addr(i)})
		return err
	}
	if err := add(1, 100, blockA); err != nil {
		t.Fatal(err)
	}
	if err := add(0, 100, blockA); err != nil {
		t.Fatal(err)
	}
	var cv *ConflictingVoteError
	if err := add(0, 100, blockB); !errors.As(err, &cv) {
		t.Fatalf("conflicting vote: %v, want a ConflictingVoteError", err)
	}
	if got := h.round(100).prevotes.stakeByBlock[blockB]; got != 10 {
		t.Fatalf("conflicting vote counts %d toward its block, want 10", got)
	}
	if err := add(0, 200, blockA); err != nil {
		t.Fatal(err)
	}
	rv := h.round(100)
	if rv == nil {
		t.Fatal("round 100 dropped while validator 1 still has a vote in it")
	}
	tally := rv.prevotes.tally()
	want := []BlockStake{{Hash: blockA, Stake: 10}}
	if tally.VotedStake != 10 || fmt.Sprint(tally.Blocks) != fmt.Sprint(want) {
		t.Fatalf("round 100 after evicting validator 0: voted %d, blocks %v; want 10, %v", tally.VotedStake, tally.Blocks, want)
	}
	if n := rv.prevotes.conflicting(addr(0)); n != 0 {
		t.Fatalf("%d conflicting votes of the evicted validator kept", n)
	}
	if sigs := rv.prevotes.commitSigs(blockB); len(sigs) != 0 {
		t.Fatalf("evicted validator's conflicting vote still signs for its block: %v", sigs)
	}
}

func TestGrowTimeout(t *testing.T) {
	for _, tc := range []struct {
		base, delta time.Duration
		round       uint32
		want        time.Duration
	}{
		{time.Second, 0, 9, time.Second},
		{time.Second, time.Millisecond, 0, time.Second},
		{time.Second, 500 * time.Millisecond, 3, 2500 * time.Millisecond},
		{time.Second, time.Hour, 1 << 31, 1<<63 - 1},
	} {
		if got := growTimeout(tc.base, tc.delta, tc.round); got != tc.want {
			t.Errorf("growTimeout(%v, %v, %d) = %v, want %v", tc.base, tc.delta, tc.round, got, tc.want)
		}
	}
}

// BenchmarkVoteSetAdd measures adding (and tallying) one vote, signatures
// excluded.
func BenchmarkVoteSetAdd(b *testing.B) {
	for _, n := range []int{4, 100} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			stakes, total := testStakes(n, 1)
			votes := make([]*chain.Vote, n)
			for i := range votes {
				votes[i] = &chain.Vote{Type: chain.Precommit, Height: 1, BlockHash: chain.Hash{byte(i % 2)}, Validator: addr(i)}
			}
			b.ReportAllocs()
			for b.Loop() {
				s := newVoteSet(chain.Precommit, 1, 0, stakes, total)
				for i, v := range votes {
					if _, err := s.add(i, v); err != nil {
						b.Fatal(err)
					}
				}
				_ = s.tally()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/vote")
		})
	}
}
