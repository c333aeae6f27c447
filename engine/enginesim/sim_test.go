package enginesim

import (
	"flag"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	flagRuns  = flag.Int("runs", 300, "TestSimulate: number of seeds")
	flagFirst = flag.Uint64("first", 1, "TestSimulate: first seed")
	flagSeed  = flag.Uint64("seed", 0, "TestReplay: the seed to replay")
)

// TestSimulate runs the driver in many seeded networks with message loss,
// crashes at any point, lost unsynced log records and failing disk writes
// until GST, and in about half of them a validator with less than a third
// of the stake that never runs, and requires agreement, quorum certificates, no double sign,
// no replay rejection, and every validator at the target height within the
// bound after GST.
func TestSimulate(t *testing.T) {
	n := *flagRuns
	start := time.Now()
	reports := make([]*Report, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				r, err := Run(Random(*flagFirst + uint64(i)))
				if err != nil {
					t.Error(err)
					return
				}
				reports[i] = r
			}
		})
	}
	wg.Wait()
	var crashes, fails, restarts, failed, silentRuns int
	var slowest time.Duration
	for _, r := range reports {
		if r == nil {
			continue
		}
		crashes += r.Crashes
		if r.Silent > 0 {
			silentRuns++
		}
		fails += r.WriteFails
		restarts += r.Restarts
		slowest = max(slowest, r.VirtualEnd-r.Config.GST)
		if r.Failed() {
			failed++
			if failed <= 3 {
				t.Errorf("%s", r)
			}
		}
	}
	el := time.Since(start)
	t.Logf("%d runs in %v (%.0f runs/s): %d failed; %d crashes, %d failed writes, %d restarts, %d runs with a silent validator; slowest finish %v after GST",
		n, el.Round(time.Millisecond), float64(n)/el.Seconds(), failed, crashes, fails, restarts, silentRuns, slowest)
	if crashes == 0 || fails == 0 || silentRuns == 0 {
		t.Errorf("the runs injected %d crashes, %d failed writes and %d silent validators: the faults are not reaching the driver", crashes, fails, silentRuns)
	}
}

// TestDeterministic: a seed replays to the same report.
func TestDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		a, err := Run(Random(seed))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Run(Random(seed))
		if err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Fatalf("seed %d ran twice differently:\n%s\n%s", seed, a, b)
		}
	}
}

// TestReplay runs one seed and prints its report:
//
//	go test ./engine/enginesim -run TestReplay -seed=N -v
func TestReplay(t *testing.T) {
	if *flagSeed == 0 {
		t.Skip("give -seed=N")
	}
	r, err := Run(Random(*flagSeed))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", r)
	if r.Failed() {
		t.Fail()
	}
}
