package sim

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is the outcome of one run.
type Report struct {
	Seed       uint64
	Scenario   string
	Validators int
	Stakes     []uint64
	Byzantine  []int       // indexes of the Byzantine validators
	Behaviours []Behaviour // behaviour of each, in Byzantine order
	// Groups is the honest stake of coalition groups 1 and 2 (coalition runs).
	Groups                     [2]uint64
	TotalStake, ByzantineStake uint64
	LivenessExpected           bool // honest stake above two thirds
	Net                        NetConfig
	Heights                    int        // target
	LateJoins                  []LateJoin // validators that started late

	Completed        bool   // every honest validator finalized Heights heights
	HeightsFinalized uint64 // the lowest final height among honest validators
	MaxHeight        uint64 // the highest
	// Rounds[r] counts the heights first decided at round r.
	Rounds []int

	FinalityP50, FinalityP99 time.Duration // virtual, NewHeight to Finalize per honest validator and height
	MaxGapAfterGST           time.Duration // longest wait for a new top height after GST
	VirtualTime              time.Duration

	Events                                                               int
	MessagesSent, MessagesDropped, MessagesDuplicated, MessagesDelivered int
	GossipRounds, SyncRequests, SyncServed                               int
	Crashes, Restarts, Replays, ReplayedInputs                           int
	WriteFailures, RejectedInputs, ByzantineSigned                       int
	Evidence                                                             int // distinct pieces of evidence found by honest drivers
	ProposalEvidence                                                     int // of which double proposals
	// SupplyChecks counts the committed heights whose ledger was checked
	// for conservation; DowntimeJailed the Silent validators found jailed
	// and out of the set once the chain ran past the downtime window.
	SupplyChecks, DowntimeJailed int

	Violations []Violation
	// Trace is the last events (Config.TraceLen) of a failing run, or every
	// event with Config.TraceAll.
	Trace []string
}

// LateJoin is a validator that started late, with an empty disk.
type LateJoin struct {
	Node int
	At   time.Duration
}

// Failed reports whether the run broke an invariant.
func (r *Report) Failed() bool { return len(r.Violations) > 0 }

// MeanRound is the mean round at which heights were first decided.
func (r *Report) MeanRound() float64 {
	var n, sum int
	for round, c := range r.Rounds {
		n += c
		sum += round * c
	}
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}

// MaxRound is the highest round at which a height was first decided.
func (r *Report) MaxRound() int { return max(len(r.Rounds)-1, 0) }

// WriteText writes the report for humans; a failing report ends with the
// command that replays it and its trace.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format+"\n", args...) }
	status := "ok"
	if r.Failed() {
		status = "FAILED"
	} else if !r.Completed {
		status = "incomplete"
	}
	p("seed %d: %s", r.Seed, status)
	p("validators %d, stakes %v, total %d", r.Validators, r.Stakes, r.TotalStake)
	if len(r.Byzantine) > 0 {
		var bs []string
		for i, b := range r.Byzantine {
			bs = append(bs, fmt.Sprintf("n%d:%s", b, r.Behaviours[i]))
		}
		p("byzantine %s, stake %d/%d (liveness expected: %v)", strings.Join(bs, " "), r.ByzantineStake, r.TotalStake, r.LivenessExpected)
		if r.Groups != [2]uint64{} {
			p("coalition honest groups: stake %d | %d", r.Groups[0], r.Groups[1])
		}
	} else {
		p("byzantine none")
	}
	p("net %s", r.Net)
	p("heights %d/%d finalized by every honest validator (top %d), virtual time %v, events %d",
		r.HeightsFinalized, r.Heights, r.MaxHeight, r.VirtualTime, r.Events)
	p("rounds per height: mean %.2f, max %d, histogram %v", r.MeanRound(), r.MaxRound(), r.Rounds)
	p("finality latency p50 %v p99 %v; max gap after GST %v", r.FinalityP50, r.FinalityP99, r.MaxGapAfterGST)
	p("messages sent %d, dropped %d, duplicated %d, delivered to honest %d; gossip rounds %d; sync requests %d, served %d",
		r.MessagesSent, r.MessagesDropped, r.MessagesDuplicated, r.MessagesDelivered, r.GossipRounds, r.SyncRequests, r.SyncServed)
	for _, l := range r.LateJoins {
		p("n%d joined late at %v", l.Node, l.At)
	}
	p("crashes %d, failed writes %d, restarts %d, log replays %d (%d inputs); inputs rejected %d; evidence %d (%d double proposals)",
		r.Crashes, r.WriteFailures, r.Restarts, r.Replays, r.ReplayedInputs, r.RejectedInputs, r.Evidence, r.ProposalEvidence)
	p("ledger checked at %d heights; %d silent validators jailed for downtime", r.SupplyChecks, r.DowntimeJailed)
	for _, v := range r.Violations {
		p("VIOLATION %s", v)
	}
	if r.Failed() {
		sc := ""
		if r.Scenario != "" {
			sc = " -scenario=" + r.Scenario
		}
		p("replay: go test ./consensus/sim -run TestReplay -seed=%d%s -v", r.Seed, sc)
	}
	if len(r.Trace) > 0 {
		p("trace (%d events):", len(r.Trace))
		for _, l := range r.Trace {
			p("  %s", l)
		}
	}
	return bw.Flush()
}
