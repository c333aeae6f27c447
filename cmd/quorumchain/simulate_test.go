package main

import (
	"encoding/json"
	"testing"
)

// TestSimulateCommand runs the simulator through the CLI: a faulty network
// with Byzantine validators below a third finishes every height, the same
// seed prints the same report, and bad flags are refused. (That a coalition
// above a third is caught is consensus/sim's TestThresholdAboveOneThird.)
func TestSimulateCommand(t *testing.T) {
	args := []string{"simulate", "--validators", "5", "--byzantine-stake", "0.3", "--seed", "11", "--heights", "6",
		"--net", "latency=5-40ms,drop=0.1,gst=3s,crash=0.02,writefail=0.01", "--output", "json"}
	out := quorumchain(t, args...).ok(t)
	var rep struct {
		Completed        bool
		HeightsFinalized uint64
		Violations       []any
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("simulate --output json: %v\n%s", err, out)
	}
	if !rep.Completed || rep.HeightsFinalized < 6 || len(rep.Violations) != 0 {
		t.Fatalf("got completed=%v, %d heights, %d violations; want every height and none", rep.Completed, rep.HeightsFinalized, len(rep.Violations))
	}
	if again := quorumchain(t, args...).ok(t); again != out {
		t.Fatal("the same seed printed two different reports")
	}

	quorumchain(t, "simulate", "--net", "writefail=2").fails(t, "--net")
	quorumchain(t, "simulate", "--behaviour", "nobody").fails(t, "--behaviour")
}
