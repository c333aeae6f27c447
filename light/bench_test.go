package light_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/quorumchain/quorumchain/light"
	"github.com/quorumchain/quorumchain/light/lighttest"
	"github.com/quorumchain/quorumchain/staking"
)

// BenchmarkVerifyAdjacent verifies height 2 from height 1: one certificate
// of every member's precommit.
func BenchmarkVerifyAdjacent(b *testing.B) {
	for _, n := range []int{4, 64} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			c := lighttest.New(b, staking.Params{}, slices.Repeat([]uint64{10}, n), nil)
			c.Empty(b, 2)
			sh1 := c.Block(1)
			trusted := &light.Trusted{Height: 1, Hash: sh1.Hash(), Time: sh1.Header.Time, Signed: sh1, Validators: c.Set(1), NextValidators: c.Set(2)}
			b.ReportAllocs()
			for b.Loop() {
				if err := light.VerifyAdjacent(lighttest.ChainID, trusted, c.Block(2), c.Set(2)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
