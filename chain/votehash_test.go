package chain

import (
	"math/rand/v2"
	"testing"
)

// TestVoteSignHashMatchesReflectEncoding checks the hand-written sign-bytes
// of a vote against the reflection encoding of the same RLP list, over
// edge values (zero, one-byte and full-width integers, empty and long
// chain ids) and random ones.
func TestVoteSignHashMatchesReflectEncoding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	heights := []uint64{0, 1, 127, 128, 255, 256, 1 << 32, ^uint64(0)}
	rounds := []uint32{0, 1, 127, 128, 1 << 16, ^uint32(0)}
	chains := []string{"", "q", "quorum-local", string(make([]byte, 55)), string(make([]byte, 56)), string(make([]byte, 300))}
	check := func(chainID string, typ VoteType, h uint64, round uint32, block Hash) {
		t.Helper()
		want := rlpHash([]any{DomainVote, chainID, typ, h, round, block})
		if got := VoteSignHash(chainID, typ, h, round, block); got != want {
			t.Fatalf("VoteSignHash(%q, %d, %d, %d, %x) = %x, reflection encoding gives %x", chainID, typ, h, round, block, got, want)
		}
	}
	for _, c := range chains {
		for _, h := range heights {
			for _, round := range rounds {
				for _, typ := range []VoteType{Prevote, Precommit, 0, 255} {
					check(c, typ, h, round, Hash{})
				}
			}
		}
	}
	for range 2000 {
		var block Hash
		for i := range block {
			block[i] = byte(r.Uint32())
		}
		check(chains[r.IntN(len(chains))], VoteType(r.IntN(3)), r.Uint64()>>r.IntN(64), r.Uint32()>>r.IntN(32), block)
	}
}

func BenchmarkVoteSignHash(b *testing.B) {
	var block Hash
	block[0] = 1
	for b.Loop() {
		VoteSignHash("quorum-local", Precommit, 123456, 2, block)
	}
}

func BenchmarkVoteSignHashReflect(b *testing.B) {
	var block Hash
	block[0] = 1
	for b.Loop() {
		rlpHash([]any{DomainVote, "quorum-local", Precommit, uint64(123456), uint32(2), block})
	}
}
