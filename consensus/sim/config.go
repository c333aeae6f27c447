package sim

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quorumchain/quorumchain/consensus"
)

// Behaviour is what the Byzantine validators of a run do.
type Behaviour uint8

// Byzantine behaviours.
const (
	// Mixed gives each Byzantine validator one of Equivocator, NilVoter and
	// Silent, chosen by the run's PRNG.
	Mixed Behaviour = iota
	// Equivocator, as proposer, sends two different proposals (two blocks)
	// to two halves of the network; as voter it prevotes and precommits the
	// proposed block to one half and another block (or nil) to the other,
	// and sometimes both to the same peer so that evidence is found.
	Equivocator
	// NilVoter prevotes and precommits nil in every round it sees.
	NilVoter
	// Silent never sends anything.
	Silent
	// Coalition: all Byzantine validators coordinate with a partition that
	// splits the honest validators into two groups (Byzantine validators
	// reach both) until GST. In rounds with an honest proposer they vote
	// nil, to keep rounds moving; in rounds with a Byzantine proposer they
	// propose block B1 to group 1 and B2 to group 2 and all prevote and
	// precommit B1 to group 1 and B2 to group 2. With more than one third
	// of the stake this makes the two groups decide different blocks.
	Coalition
)

var behaviourNames = []string{"mixed", "equivocator", "nil-voter", "silent", "coalition"}

func (b Behaviour) String() string {
	if int(b) < len(behaviourNames) {
		return behaviourNames[b]
	}
	return fmt.Sprintf("Behaviour(%d)", uint8(b))
}

// ParseBehaviour parses a behaviour name as written by String.
func ParseBehaviour(s string) (Behaviour, error) {
	if i := slices.Index(behaviourNames, s); i >= 0 {
		return Behaviour(i), nil
	}
	return 0, fmt.Errorf("sim: unknown behaviour %q (known: %s)", s, strings.Join(behaviourNames, ", "))
}

// Fraction is Num/Den, a share of the total stake.
type Fraction struct{ Num, Den uint64 }

func (f Fraction) String() string { return fmt.Sprintf("%d/%d", f.Num, f.Den) }

// Config describes one simulated run. The zero value of every optional field
// picks a default (see withDefaults).
type Config struct {
	Validators int      // number of validators, at least 1
	Stakes     []uint64 // stake of each validator; nil: uniform random in [1, 100] per validator

	// ByzantineStake bounds the Byzantine validators' total stake. The rule:
	// visit the validators in an order drawn from the run's PRNG (a
	// Fisher–Yates shuffle) and make each one Byzantine if the Byzantine
	// total stays within the fraction, that is if
	// (chosen + stake) * Den <= Num * total. The result is a maximal subset
	// for that order, never above the fraction. Den == 0 means no
	// Byzantine validators.
	ByzantineStake Fraction
	// Byzantine, if not nil, lists the Byzantine validators by index and
	// overrides ByzantineStake.
	Byzantine []int
	Behaviour Behaviour

	// Late honest validators (chosen by the run's PRNG) start with an
	// empty disk at a uniform time before GST (or within 3s) and catch up
	// through the driver's block sync.
	Late int

	Seed    uint64
	Heights int // the run ends once every honest validator has finalized this many heights
	Net     NetConfig
	// Scenario names the generator of this configuration, so that a report
	// can say how to replay it (TestReplay -scenario=NAME); "" is RandomConfig.
	Scenario string

	// DowntimeWindow and DowntimeMaxMissed, when the window is not zero,
	// replace the genesis parameters of downtime jailing (staking.Params).
	DowntimeWindow, DowntimeMaxMissed uint64

	// Consensus overrides the Machines' timeouts and block interval
	// (ChainID, Self and Recoverer are set by the simulator). Zero:
	// DefaultConsensus.
	Consensus consensus.Config

	// LivenessBound: after GST, with honest stake above two thirds, going
	// this long without any honest validator finalizing a block is a
	// liveness violation once every honest validator has proposed at the
	// pending height since GST, or if no round started for that long
	// (sim.stuck says why). Default 60s.
	LivenessBound time.Duration
	// MaxTime caps the virtual time of a run. Default
	// GST + 5 * (Heights+1) * LivenessBound. Not finishing by then, when
	// liveness is expected, is a violation under the same condition;
	// otherwise the report is only incomplete.
	MaxTime time.Duration
	// MaxEvents caps the events of a run (default 5,000,000), a guard
	// against a livelock burning CPU. Reaching it is a violation.
	MaxEvents int

	// TraceLen is how many of the last events a report keeps (default 200).
	TraceLen int
	// TraceAll keeps every event in Report.Trace.
	TraceAll bool
	// TraceTo, if set, receives every event as it happens.
	TraceTo io.Writer
}

// DefaultConsensus are the Machine timeouts of a simulated validator.
var DefaultConsensus = consensus.Config{
	TimeoutPropose:        400 * time.Millisecond,
	TimeoutProposeDelta:   150 * time.Millisecond,
	TimeoutPrevote:        200 * time.Millisecond,
	TimeoutPrevoteDelta:   100 * time.Millisecond,
	TimeoutPrecommit:      200 * time.Millisecond,
	TimeoutPrecommitDelta: 100 * time.Millisecond,
	BlockInterval:         100 * time.Millisecond,
}

// NetConfig is the network and fault model. See ParseNet for its text form.
type NetConfig struct {
	LatencyMin, LatencyMax time.Duration // uniform one-way delay of every message
	Drop                   float64       // probability a message is lost, before GST only
	Dup                    float64       // probability a message is delivered twice (independent delays)
	// Partition is the mean length of a partition epoch before GST: the
	// network switches among random partitions (and whole periods) every
	// uniform [Partition/2, 3*Partition/2]. Zero: no partitions (except the
	// coalition's, which is always on until GST).
	Partition time.Duration
	// GST is the global stabilization time: from then on partitions are
	// healed and no message between live validators is lost.
	GST time.Duration
	// Crash is the probability that an honest validator crashes while it
	// handles an event before GST (at a random point among the actions of
	// that event); it restarts after uniform [RestartMin, RestartMax]. From
	// GST on no validator crashes (restarts still happen), as liveness needs.
	Crash                  float64
	RestartMin, RestartMax time.Duration
	// WriteFail is the probability that a disk write of an honest
	// validator (a log append or sync, a block commit, a signer record)
	// fails before GST. The driver halts without signing anything that
	// depended on it, and the validator restarts as after a crash.
	WriteFail float64
	// Gossip is the period of each honest validator's catch-up gossip: the
	// driver's RoundTick (which sends peers a RoundStatus, answered with
	// what they lack) runs every Gossip and its StatusTick (final height,
	// block sync) every Gossip/2, each jittered ±25%. The node runs them
	// every 500ms and 250ms. Negative: neither runs.
	Gossip time.Duration
}

// DefaultNet is the network of a run whose NetConfig is zero.
var DefaultNet = NetConfig{
	LatencyMin: 5 * time.Millisecond, LatencyMax: 50 * time.Millisecond,
	RestartMin: 100 * time.Millisecond, RestartMax: 2 * time.Second,
	Gossip: 500 * time.Millisecond,
}

// netKeys documents the keys of ParseNet.
var netKeys = []string{"latency", "drop", "dup", "partition", "gst", "crash", "restart", "writefail", "gossip"}

// ParseNet parses a comma-separated list of key=value settings over
// DefaultNet:
//
//	latency=MIN-MAX   uniform message delay, e.g. 5-50ms (a unit after MAX only applies to both), or one duration
//	drop=P            probability in [0,1] a message is dropped (before GST)
//	dup=P             probability in [0,1] a message is duplicated
//	partition=D       mean partition epoch before GST (0: none)
//	gst=D             global stabilization time
//	crash=P           per-event crash probability of an honest validator (before GST)
//	restart=MIN-MAX   downtime after a crash
//	writefail=P       probability in [0,1] a disk write fails (before GST)
//	gossip=D|off      catch-up gossip period of each honest validator (off: none)
//
// Durations use time.ParseDuration. Unknown keys are an error.
func ParseNet(s string) (NetConfig, error) {
	nc := DefaultNet
	s = strings.TrimSpace(s)
	if s == "" {
		return nc, nil
	}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return NetConfig{}, fmt.Errorf("sim: network setting %q: want key=value", kv)
		}
		var err error
		switch k {
		case "latency":
			nc.LatencyMin, nc.LatencyMax, err = parseRange(v)
		case "restart":
			nc.RestartMin, nc.RestartMax, err = parseRange(v)
		case "drop":
			nc.Drop, err = parseProb(v)
		case "dup":
			nc.Dup, err = parseProb(v)
		case "crash":
			nc.Crash, err = parseProb(v)
		case "writefail":
			nc.WriteFail, err = parseProb(v)
		case "partition":
			nc.Partition, err = parseDur(v)
		case "gst":
			nc.GST, err = parseDur(v)
		case "gossip":
			if v == "off" {
				nc.Gossip = -1
				break
			}
			nc.Gossip, err = parseDur(v)
			if err == nil && nc.Gossip <= 0 {
				err = errors.New("must be positive (or off)")
			}
		default:
			return NetConfig{}, fmt.Errorf("sim: unknown network key %q (known: %s)", k, strings.Join(netKeys, ", "))
		}
		if err != nil {
			return NetConfig{}, fmt.Errorf("sim: network setting %s: %w", kv, err)
		}
	}
	return nc, nil
}

func parseDur(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, errors.New("negative duration")
	}
	return d, nil
}

// parseRange parses "D" or "MIN-MAX"; "5-50ms" gives MIN the unit of MAX.
func parseRange(s string) (lo, hi time.Duration, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		d, err := parseDur(s)
		return d, d, err
	}
	if hi, err = parseDur(b); err != nil {
		return 0, 0, err
	}
	if _, perr := strconv.ParseFloat(a, 64); perr == nil && a != "0" {
		a += strings.TrimLeft(b, "0123456789.")
	}
	if lo, err = parseDur(a); err != nil {
		return 0, 0, err
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("min %v above max %v", lo, hi)
	}
	return lo, hi, nil
}

func parseProb(s string) (float64, error) {
	p, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if p < 0 || p > 1 || p != p {
		return 0, fmt.Errorf("probability %v not in [0,1]", p)
	}
	return p, nil
}

// String writes nc in ParseNet's form.
func (nc NetConfig) String() string {
	return fmt.Sprintf("latency=%v-%v,drop=%g,dup=%g,partition=%v,gst=%v,crash=%g,restart=%v-%v,writefail=%g,gossip=%v",
		nc.LatencyMin, nc.LatencyMax, nc.Drop, nc.Dup, nc.Partition, nc.GST, nc.Crash, nc.RestartMin, nc.RestartMax, nc.WriteFail, nc.Gossip)
}

func (c Config) withDefaults() (Config, error) {
	if c.Validators < 1 {
		return c, fmt.Errorf("sim: %d validators, need at least 1", c.Validators)
	}
	if c.Stakes != nil && len(c.Stakes) != c.Validators {
		return c, fmt.Errorf("sim: %d stakes for %d validators", len(c.Stakes), c.Validators)
	}
	for i, s := range c.Stakes {
		if s == 0 {
			return c, fmt.Errorf("sim: validator %d has zero stake", i)
		}
	}
	if c.ByzantineStake.Den == 0 && c.ByzantineStake.Num != 0 {
		return c, errors.New("sim: Byzantine stake fraction with zero denominator")
	}
	if c.ByzantineStake.Den != 0 && c.ByzantineStake.Num >= c.ByzantineStake.Den {
		return c, fmt.Errorf("sim: Byzantine stake %v not below 1", c.ByzantineStake)
	}
	if c.Late < 0 || c.Late > c.Validators {
		return c, fmt.Errorf("sim: %d late validators of %d", c.Late, c.Validators)
	}
	for _, i := range c.Byzantine {
		if i < 0 || i >= c.Validators {
			return c, fmt.Errorf("sim: Byzantine index %d out of range", i)
		}
	}
	if c.Behaviour > Coalition {
		return c, fmt.Errorf("sim: unknown behaviour %d", c.Behaviour)
	}
	if c.DowntimeWindow > 0 && c.DowntimeMaxMissed >= c.DowntimeWindow {
		return c, fmt.Errorf("sim: downtime max missed %d not below the window %d", c.DowntimeMaxMissed, c.DowntimeWindow)
	}
	if c.Heights < 1 {
		return c, fmt.Errorf("sim: %d heights, need at least 1", c.Heights)
	}
	if c.Net == (NetConfig{}) {
		c.Net = DefaultNet
	}
	if c.Net.Gossip == 0 {
		c.Net.Gossip = DefaultNet.Gossip
	}
	if c.Net.LatencyMax < c.Net.LatencyMin || c.Net.RestartMax < c.Net.RestartMin {
		return c, errors.New("sim: latency or restart range has min above max")
	}
	if c.Consensus == (consensus.Config{}) {
		c.Consensus = DefaultConsensus
	}
	if c.LivenessBound <= 0 {
		c.LivenessBound = 60 * time.Second
	}
	if c.MaxTime <= 0 {
		c.MaxTime = c.Net.GST + 5*time.Duration(c.Heights+1)*c.LivenessBound
	}
	if c.MaxEvents <= 0 {
		c.MaxEvents = 5_000_000
	}
	if c.TraceLen <= 0 {
		c.TraceLen = 200
	}
	return c, nil
}
