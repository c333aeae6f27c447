package staking_test

import (
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/staking/stakingtest"
)

func benchAddr(i int) staking.Address {
	var a staking.Address
	// Spread addresses like keccak outputs would be.
	binary.BigEndian.PutUint64(a[:], uint64(i)*0x9E3779B97F4A7C15)
	binary.BigEndian.PutUint32(a[16:], uint32(i))
	return a
}

// bigState has n funded accounts and is hashed, as after a committed block.
func bigState(b *testing.B, n int) *staking.State {
	b.Helper()
	balances := make([]staking.GenesisBalance, n)
	for i := range balances {
		balances[i] = staking.GenesisBalance{Address: benchAddr(i), Amount: 1_000_000}
	}
	s, _, err := staking.NewGenesisState(staking.DefaultParams(), balances,
		[]staking.GenesisStake{{Validator: stakingtest.Addr(1), Amount: 100}})
	if err != nil {
		b.Fatal(err)
	}
	s.Hash()
	return s
}

func BenchmarkTransfer(b *testing.B) {
	s := bigState(b, 100_000).Fork()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		from, to := benchAddr(i%100_000), benchAddr((i+50_000)%100_000)
		if err := s.Transfer(from, to, 1); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkHashAfterBlock: a block of 10,000 transfers touching 20,000
// distinct accounts of a 100,000-account state, executed on a fork; only
// the Hash is timed.
func BenchmarkHashAfterBlock(b *testing.B) {
	benchHashAfterBlock(b, func(s *staking.State) { s.Hash() })
}

// benchHashAfterBlock times hash on a fork after BenchmarkHashAfterBlock's
// block.
func benchHashAfterBlock(b *testing.B, hash func(*staking.State)) {
	base := bigState(b, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		f := base.Fork()
		for j := range 10_000 {
			if err := f.Transfer(benchAddr(2*j*5%100_000), benchAddr((2*j*5+5)%100_000), 1); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		hash(f)
	}
}

// BenchmarkBlock: the same block, executed and hashed.
func BenchmarkBlock(b *testing.B) {
	base := bigState(b, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		f := base.Fork()
		for j := range 10_000 {
			if err := f.Transfer(benchAddr(2*j*5%100_000), benchAddr((2*j*5+5)%100_000), 1); err != nil {
				b.Fatal(err)
			}
		}
		f.Hash()
	}
}

func benchSet(b *testing.B, n int) *staking.ValidatorSet {
	stakes := make([]uint64, n)
	for i := range stakes {
		stakes[i] = uint64(1000 + i*37%500)
	}
	return stakingtest.Set(b, stakes...).Advance(3)
}

func BenchmarkProposer(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, round := range []uint32{0, 1, 5} {
			b.Run(fmt.Sprintf("validators=%d/round=%d", n, round), func(b *testing.B) {
				vs := benchSet(b, n)
				b.ReportAllocs()
				for b.Loop() {
					vs.Proposer(round)
				}
			})
		}
	}
}

func BenchmarkAdvance(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			vs := benchSet(b, n)
			b.ReportAllocs()
			for b.Loop() {
				vs = vs.Advance(1)
			}
		})
	}
}

func BenchmarkEndBlock(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			stakes := make([]uint64, n)
			for i := range stakes {
				stakes[i] = uint64(1000 + i)
			}
			p := staking.DefaultParams()
			p.MaxValidators = uint32(n)
			s, _ := stakingtest.Genesis{Params: p, Stakes: stakes}.New(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.EndBlock(s.Height() + 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// goRunner runs every task on its own goroutine, as a caller with cores
// to spare would.
func goRunner(tasks []func()) {
	var wg sync.WaitGroup
	for _, t := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t()
		}()
	}
	wg.Wait()
}

// TestHashWithMatchesHash: hashing the changed subtrees concurrently gives
// the hash a serial Hash gives, block after block, on forks that share
// their frozen nodes (run it under -race).
func TestHashWithMatchesHash(t *testing.T) {
	balances := make([]staking.GenesisBalance, 5000)
	for i := range balances {
		balances[i] = staking.GenesisBalance{Address: benchAddr(i), Amount: 1_000_000}
	}
	base, _, err := staking.NewGenesisState(staking.DefaultParams(), balances,
		[]staking.GenesisStake{{Validator: stakingtest.Addr(1), Amount: 100}})
	if err != nil {
		t.Fatal(err)
	}
	base.Hash()
	for block := range 5 {
		serial, parallel := base.Fork(), base.Fork()
		for j := range 300 * (block + 1) {
			from, to := benchAddr((j*7+block)%5000), benchAddr((j*13+block+1)%5000)
			for _, s := range []*staking.State{serial, parallel} {
				if err := s.Transfer(from, to, 1); err != nil {
					t.Fatal(err)
				}
			}
		}
		want := serial.Hash()
		if got := parallel.HashWith(goRunner); got != want {
			t.Fatalf("block %d: parallel hash %x, serial %x", block, got, want)
		}
		if got := parallel.HashWith(goRunner); got != want {
			t.Fatalf("block %d: cached parallel hash %x, serial %x", block, got, want)
		}
		base = parallel
	}
}

// BenchmarkHashAfterBlockParallel is BenchmarkHashAfterBlock with the
// subtrees hashed concurrently.
func BenchmarkHashAfterBlockParallel(b *testing.B) {
	benchHashAfterBlock(b, func(s *staking.State) { s.HashWith(goRunner) })
}
