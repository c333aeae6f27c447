package staking

import (
	"fmt"
	"math/bits"
)

// MaxSupply bounds every amount and every sum of amounts in the ledger, so
// that proposer priority math in int64 never overflows (see priority.go).
const MaxSupply uint64 = 1 << 60

// addAmount returns a+b, or ErrOverflow if the sum exceeds MaxSupply.
func addAmount(a, b uint64) (uint64, error) {
	sum, carry := bits.Add64(a, b, 0)
	if carry != 0 || sum > MaxSupply {
		return 0, fmt.Errorf("%w: %d + %d exceeds max supply", ErrOverflow, a, b)
	}
	return sum, nil
}

// addHeight returns h+d, or ErrOverflow if it does not fit in a uint64.
func addHeight(h, d uint64) (uint64, error) {
	sum, carry := bits.Add64(h, d, 0)
	if carry != 0 {
		return 0, fmt.Errorf("%w: height %d + %d", ErrOverflow, h, d)
	}
	return sum, nil
}

// mustSub returns a-b and panics if b > a: callers check first, so an
// underflow is a broken ledger invariant.
func mustSub(a, b uint64, what string) uint64 {
	d, borrow := bits.Sub64(a, b, 0)
	if borrow != 0 {
		panic(fmt.Sprintf("staking: invariant %s: %d - %d underflows", what, a, b))
	}
	return d
}
