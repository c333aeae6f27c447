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

// CheckAllocs runs decode once and fails t if it allocated more than bound
// allows for input. It returns the bytes decode allocated.
func CheckAllocs(t testing.TB, bound Bound, input []byte, decode func()) uint64 {
	t.Helper()
	got := AllocatedBytes(decode)
	if limit := bound.Limit(len(input)); got > limit {
		t.Fatalf("decoding %d bytes allocated %d bytes, more than the bound %d (%d per byte + %d)",
			len(input), got, limit, bound.PerByte, bound.Fixed)
	}
	return got
}

// CheckError fails t unless err wraps one of the sentinels kinds, the
// errors the decoder documents for bad input.
func CheckError(t testing.TB, err error, kinds ...error) {
	t.Helper()
	for _, k := range kinds {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("error %q (%T) wraps none of %v", err, err, kinds)
}
