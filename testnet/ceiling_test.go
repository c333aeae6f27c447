package testnet

import (
	"runtime"
	"testing"
	"time"
)

// TestLatencyWindows: latencies are grouped by submission time into 10 s
// windows with their own percentiles; empty windows are left out.
func TestLatencyWindows(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	submitted := []time.Time{at(0.5), at(9.9), at(10), at(25), at(29)}
	lat := []float64{10, 30, 100, 7, 9}
	got := latencyWindows(start, submitted, lat)
	want := []LatencyWindow{
		{FromSec: 0, ToSec: 10, Count: 2, P50: 30, P99: 30},
		{FromSec: 10, ToSec: 20, Count: 1, P50: 100, P99: 100},
		{FromSec: 20, ToSec: 30, Count: 2, P50: 9, P99: 9},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d windows %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("window %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestCeiling: the ceiling is cores / (nodes × recovery), the fraction is
// finalized over it, and node CPU per transaction is counted in
// recoveries.
func TestCeiling(t *testing.T) {
	r := &BenchReport{TxPerSec: 1000, Finalized: 10_000, Rejected: 0}
	r.ceiling(50*time.Microsecond, 4, 20) // 20 CPU-seconds for 10,000 txs
	wantCeiling := float64(runtime.NumCPU()) / (4 * 50e-6)
	if d := r.CeilingTxPerSec - wantCeiling; d > 1e-6 || d < -1e-6 {
		t.Fatalf("ceiling %.3f, want %.3f", r.CeilingTxPerSec, wantCeiling)
	}
	if d := r.CeilingFraction - 1000/wantCeiling; d > 1e-9 || d < -1e-9 {
		t.Fatalf("fraction %.6f, want %.6f", r.CeilingFraction, 1000/wantCeiling)
	}
	if d := r.NodeCPUPerTxRecoveries - 40; d > 1e-9 || d < -1e-9 { // 2 ms per tx / 50 µs
		t.Fatalf("CPU per tx %.3f recoveries, want 40", r.NodeCPUPerTxRecoveries)
	}
	if r.RecoveryMicros != 50 {
		t.Fatalf("recovery %.1f µs, want 50", r.RecoveryMicros)
	}
}

// TestMeasureRecovery: one recovery takes a positive, plausible time.
func TestMeasureRecovery(t *testing.T) {
	d, err := measureRecovery()
	if err != nil {
		t.Fatal(err)
	}
	if d <= 0 || d > 100*time.Millisecond {
		t.Fatalf("one recovery measured at %v", d)
	}
}
