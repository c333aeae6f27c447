package fuzztest

import (
	"errors"
	"runtime"
	"testing"
)

// AllocatedBytes returns the bytes of heap f allocates, as the difference of
// runtime.MemStats.TotalAlloc around it (ReadMemStats flushes every
// per-processor cache, so the figure is exact to the size class). Memory that
// other goroutines allocate meanwhile counts too: call it from a test that
// does not run in parallel with others, as fuzz targets and their seed runs
// do not.
func AllocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Bound is a decoder's allocation budget: at most PerByte bytes of heap per
// input byte, plus Fixed bytes whatever the input (the decoded value's
// skeleton and an error's message).
type Bound struct {
	PerByte uint64
	Fixed   uint64
}

// Limit is the budget for an input of n bytes.
func (b Bound) Limit(n int) uint64 { return b.PerByte*uint64(n) + b.Fixed }

// remeasures is how many more times CheckAllocs runs a decode that went
// over its bound before failing, keeping the least it allocated.
const remeasures = 2

// CheckAllocs runs decode and fails t if it allocated more than bound allows
// for input. It returns the bytes decode allocated. decode must be
// repeatable: a decode over the bound runs again, up to remeasures times,
// and the least it allocated counts, so that a goroutine an earlier test
// left running cannot fail the check (a decoder's own allocation is the
// same every time).
func CheckAllocs(t testing.TB, bound Bound, input []byte, decode func()) uint64 {
	t.Helper()
	limit := bound.Limit(len(input))
	got := AllocatedBytes(decode)
	for i := 0; i < remeasures && got > limit; i++ {
		got = min(got, AllocatedBytes(decode))
	}
	if got > limit {
		t.Fatalf("decoding %d bytes allocated %d bytes, more than the bound %d (%d per byte + %d)",
			len(input), got, limit, bound.PerByte, bound.Fixed)
	}
	return got
}

// CheckError fails t unless err wraps one of kinds, the sentinel errors
// the decoder documents for bad input.
func CheckError(t testing.TB, err error, kinds ...error) {
	t.Helper()
	for _, k := range kinds {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("error %q (%T) wraps none of %v", err, err, kinds)
}
