package sim

import (
	"flag"
	"os"
	"testing"
)

var (
	flagSeed     = flag.Uint64("seed", 0, "TestReplay: the seed to replay")
	flagScenario = flag.String("scenario", "", "TestReplay: the scenario of the seed (random, above, below)")
)

// TestReplay replays one seed with its full trace:
//
//	go test ./consensus/sim -run TestReplay -seed=N -v
func TestReplay(t *testing.T) {
	if *flagSeed == 0 {
		t.Skip("give -seed=N (and -scenario=NAME unless random)")
	}
	cfg, err := ScenarioConfig(*flagScenario, *flagSeed)
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		cfg.TraceTo = os.Stdout
	}
	r, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Trace = nil
	r.WriteText(os.Stdout)
	if r.Failed() {
		t.Fail()
	}
}
