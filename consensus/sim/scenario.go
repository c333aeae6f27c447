package sim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// RandomConfig derives a whole run from seed alone, so that the seed of a
// failing run replays it: 4-7 validators (8-13 in a tenth of the runs) with
// random stakes, Byzantine validators holding at most 33/100 of the stake
// (strictly below a third) with a random behaviour, 4-7 heights, a random
// network (latency, drops, duplicates, partitions, GST, crashes, failing
// disk writes), sometimes timeouts short against the latency or no block
// interval, and sometimes an honest validator that joins late.
func RandomConfig(seed uint64) Config {
	r := rand.New(rand.NewPCG(seed, 0x5eed5eed5eed5eed))
	c := Config{Seed: seed, Validators: 4 + r.IntN(4), Heights: 4 + r.IntN(4)}
	if r.IntN(10) == 0 {
		c.Validators = 8 + r.IntN(6)
	}
	if r.IntN(4) > 0 {
		c.ByzantineStake = Fraction{33, 100}
		c.Behaviour = Behaviour(r.IntN(int(Coalition) + 1))
	}
	nc := DefaultNet
	nc.LatencyMin = time.Duration(1+r.IntN(10)) * time.Millisecond
	nc.LatencyMax = nc.LatencyMin + time.Duration(r.IntN(100))*time.Millisecond
	if r.IntN(3) > 0 { // an asynchronous period until GST
		nc.GST = time.Duration(500+r.IntN(8000)) * time.Millisecond
		if r.IntN(2) == 0 {
			nc.Drop = float64(1+r.IntN(30)) / 100
		}
		if r.IntN(2) == 0 {
			nc.Partition = time.Duration(300+r.IntN(2000)) * time.Millisecond
		}
	}
	if r.IntN(3) == 0 {
		nc.Dup = float64(1+r.IntN(10)) / 100
	}
	if nc.GST > 0 && r.IntN(2) == 0 {
		nc.Crash = float64(1+r.IntN(20)) / 1000
	}
	c.Net = nc
	c.Consensus = DefaultConsensus
	switch r.IntN(4) {
	case 0: // timeouts short against the latency: many rounds before GST
		c.Consensus.TimeoutPropose = time.Duration(20+r.IntN(80)) * time.Millisecond
		c.Consensus.TimeoutProposeDelta = time.Duration(10+r.IntN(50)) * time.Millisecond
		c.Consensus.TimeoutPrevote = time.Duration(10+r.IntN(50)) * time.Millisecond
		c.Consensus.TimeoutPrevoteDelta = time.Duration(10+r.IntN(50)) * time.Millisecond
		c.Consensus.TimeoutPrecommit = c.Consensus.TimeoutPrevote
		c.Consensus.TimeoutPrecommitDelta = c.Consensus.TimeoutPrevoteDelta
	case 1:
		c.Consensus.BlockInterval = 0
	}
	if nc.GST > 0 && r.IntN(2) == 0 { // failing disk writes until GST
		c.Net.WriteFail = float64(1+r.IntN(10)) / 1000
	}
	if r.IntN(4) == 0 { // a validator that joins late and catches up
		c.Late = 1
	}
	return c
}

// CoalitionConfig is the threshold scenario: a coalition of Byzantine
// validators, a partition of the honest ones until GST, and stakes that put
// the Byzantine share just above one third (above = true: 334 of 1000,
// honest groups of 333 and 333) or just below it (333 of 1000, honest
// groups of 334 and 333). Above, both honest groups can reach a quorum with
// the coalition, so two different blocks can be decided; below, neither
// pair of groups can.
func CoalitionConfig(seed uint64, above bool) Config {
	c := Config{
		Seed: seed, Validators: 5, Heights: 3, Behaviour: Coalition,
		Byzantine: []int{4},
		Net:       DefaultNet,
		Scenario:  "below",
	}
	if above {
		c.Stakes = []uint64{167, 167, 166, 166, 334}
		c.Scenario = "above"
	} else {
		c.Stakes = []uint64{167, 167, 167, 166, 333}
	}
	r := rand.New(rand.NewPCG(seed, 0xc0a1))
	c.Net.LatencyMin = time.Duration(1+r.IntN(10)) * time.Millisecond
	c.Net.LatencyMax = c.Net.LatencyMin + time.Duration(r.IntN(60))*time.Millisecond
	c.Net.GST = time.Duration(2000+r.IntN(4000)) * time.Millisecond
	if r.IntN(2) == 0 {
		c.Net.Drop = float64(r.IntN(10)) / 100
	}
	return c
}

// LivenessConfig is RandomConfig with a hostile network until GST at 8s:
// 40% drops, a new partition about every second, crashes.
func LivenessConfig(seed uint64) Config {
	c := RandomConfig(seed)
	c.Heights = 5
	c.Net.GST = 8 * time.Second
	c.Net.Drop = 0.4
	c.Net.Partition = time.Second
	c.Net.Crash = 0.01
	c.Scenario = "liveness"
	return c
}

// CrashConfig is RandomConfig with frequent crashes (5% of events) until
// GST at 10s.
func CrashConfig(seed uint64) Config {
	c := RandomConfig(seed)
	c.Net.GST = 10 * time.Second
	c.Net.Crash = 0.05
	c.Scenario = "crash"
	return c
}

// DowntimeConfig is the downtime scenario: Silent Byzantine validators
// below a third of the stake, a downtime window of 6-11 certificates
// (half of them may be missed), and enough heights to run three past the
// window on a network without faults, so that the checker's downtime rule
// (every Silent validator jailed and out of the set) is exercised.
func DowntimeConfig(seed uint64) Config {
	r := rand.New(rand.NewPCG(seed, 0xd0d0))
	w := uint64(6 + r.IntN(6))
	c := Config{
		Seed: seed, Validators: 4 + r.IntN(4), Heights: int(w) + 3,
		ByzantineStake: Fraction{33, 100}, Behaviour: Silent,
		DowntimeWindow: w, DowntimeMaxMissed: w / 2,
		Net: DefaultNet, Consensus: DefaultConsensus, Scenario: "downtime",
	}
	c.Net.LatencyMin = time.Duration(1+r.IntN(5)) * time.Millisecond
	c.Net.LatencyMax = c.Net.LatencyMin + time.Duration(r.IntN(30))*time.Millisecond
	return c
}

// ScenarioConfig returns the configuration a scenario name and seed stand
// for: "" or "random" (RandomConfig), "above" and "below"
// (CoalitionConfig), "liveness", "crash" and "downtime".
func ScenarioConfig(name string, seed uint64) (Config, error) {
	switch name {
	case "", "random":
		return RandomConfig(seed), nil
	case "above":
		return CoalitionConfig(seed, true), nil
	case "below":
		return CoalitionConfig(seed, false), nil
	case "liveness":
		return LivenessConfig(seed), nil
	case "crash":
		return CrashConfig(seed), nil
	case "downtime":
		return DowntimeConfig(seed), nil
	}
	return Config{}, fmt.Errorf("sim: unknown scenario %q (known: random, above, below, liveness, crash, downtime)", name)
}
