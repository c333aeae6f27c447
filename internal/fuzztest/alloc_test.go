package fuzztest

import (
	"errors"
	"fmt"
	"testing"
)

var sink []byte

func TestAllocatedBytesCountsTheHeap(t *testing.T) {
	// The counter is the whole process's: another goroutine (the test
	// runner's, the runtime's) may allocate during a measurement, so the
	// least of a few is the one that measures f alone.
	got := ^uint64(0)
	for range 5 {
		got = min(got, AllocatedBytes(func() { sink = make([]byte, 1<<20) }))
	}
	if got < 1<<20 || got > 1<<20+4096 {
		t.Fatalf("got at least %d bytes for a 1 MiB allocation in 5 measurements, want about %d", got, 1<<20)
	}
	least := ^uint64(0)
	for range 5 {
		least = min(least, AllocatedBytes(func() {}))
	}
	if least > 1024 {
		t.Fatalf("got at least %d bytes for no allocation in 5 measurements", least)
	}
}

func TestCheckAllocsFailsOverTheBound(t *testing.T) {
	b := Bound{PerByte: 2, Fixed: 1024}
	if b.Limit(100) != 1224 {
		t.Fatalf("limit for 100 bytes: got %d, want 1224", b.Limit(100))
	}
	ft := &fakeT{}
	CheckAllocs(ft, b, make([]byte, 100), func() { sink = make([]byte, 64<<10) })
	if !ft.failed {
		t.Fatal("64 KiB for 100 input bytes passed a bound of 1224 bytes")
	}
	ft = &fakeT{}
	CheckAllocs(ft, Bound{PerByte: 2, Fixed: 64 << 10}, make([]byte, 100), func() { sink = make([]byte, 100) })
	if ft.failed {
		t.Fatalf("100 bytes failed a 64 KiB bound: %s", ft.msg)
	}
}

func TestCheckAllocsIgnoresAOneOffAllocation(t *testing.T) {
	runs := 0
	ft := &fakeT{}
	got := CheckAllocs(ft, Bound{PerByte: 1, Fixed: 1024}, nil, func() {
		if runs++; runs == 1 {
			sink = make([]byte, 1<<20) // as if another goroutine allocated meanwhile
		}
	})
	if ft.failed || got > 1024 {
		t.Fatalf("an allocation that did not repeat failed the check: %d bytes, %s", got, ft.msg)
	}
	if runs != 2 {
		t.Fatalf("decode ran %d times, want 2 (once, then once more over the bound)", runs)
	}
}

func TestCheckErrorMatchesWrappedSentinels(t *testing.T) {
	errA, errB := errors.New("a"), errors.New("b")
	ft := &fakeT{}
	CheckError(ft, fmt.Errorf("ctx: %w", errB), errA, errB)
	if ft.failed {
		t.Fatalf("wrapped sentinel rejected: %s", ft.msg)
	}
	CheckError(ft, errors.New("b"), errA, errB)
	if !ft.failed {
		t.Fatal("an unwrapped error with the same text passed")
	}
}

// fakeT records a failure instead of stopping the test.
type fakeT struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = fmt.Sprintf(format, args...)
}
