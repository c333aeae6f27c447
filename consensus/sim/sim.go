package sim

import (
	"crypto/ecdsa"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/staking"
)

// ChainID is the chain id of every simulated network.
const ChainID = "quorum-sim"

// Genesis is the genesis time; virtual time t is Genesis + t.
var Genesis = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// valInfo is one validator of the run, honest or not.
type valInfo struct {
	addr  chain.Address
	key   *ecdsa.PrivateKey
	stake uint64
	byz   bool
	// side is the validator's side of the current partition: validators
	// on different non-zero sides cannot talk; side 0 reaches everyone.
	side uint8
	// group is the coalition group of an honest validator (1 or 2), 0 for
	// Byzantine validators and outside coalition runs.
	group uint8
}

// sim is the state of one run. Everything random comes from rng.
type sim struct {
	cfg  Config
	rng  *rand.Rand
	now  time.Duration
	seq  uint64
	stop bool

	queue eventQueue
	doc   *genesis.Doc
	vals  []valInfo
	byIdx map[chain.Address]int
	nodes []*node    // nil at Byzantine indexes
	byz   []*byzNode // nil at honest indexes

	honestStake, byzStake, total uint64
	liveExpected                 bool
	partitioned                  bool

	check checker
	rep   Report
	trace tracer

	// progress
	maxHeight    uint64
	firstFinal   []finalRecord // by height-1: the first honest decision
	lastFinalize time.Duration // last time any honest validator finalized
	lastNewTop   time.Duration // last time maxHeight grew
	// For the liveness check: the honest validators that proposed at
	// height maxHeight+1 once the network had settled after GST, and the
	// last time an honest validator entered a new round.
	proposed       []bool
	proposedHonest int
	rotatedBy      time.Duration // when the last of them will have had a full round
	lastNewRound   time.Duration
	latencies      []time.Duration
	doneNodes      int
}

type finalRecord struct {
	hash  chain.Hash
	round uint32
	at    time.Duration
}

// Run simulates one network as cfg describes and reports what happened.
// The error is for an invalid cfg only; safety and liveness violations are
// in Report.Violations.
func Run(cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &sim{cfg: cfg, rng: newRand(cfg.Seed)}
	s.trace.init(s)
	if err := s.setup(); err != nil {
		return nil, err
	}
	defer s.close()
	s.loop()
	return s.finish(), nil
}

// newRand is the run's only source of randomness: PCG seeded by the seed.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func (s *sim) setup() error {
	cfg := s.cfg
	n := cfg.Validators
	s.vals = make([]valInfo, n)
	s.byIdx = make(map[chain.Address]int, n)
	s.doc = genesis.New(ChainID, Genesis)
	s.doc.Params.BlockReward = simBlockReward
	if cfg.DowntimeWindow > 0 {
		s.doc.Params.DowntimeWindow, s.doc.Params.DowntimeMaxMissed = cfg.DowntimeWindow, cfg.DowntimeMaxMissed
	}
	for i := range s.vals {
		key := s.newKey()
		stake := uint64(1 + s.rng.IntN(100))
		if cfg.Stakes != nil {
			stake = cfg.Stakes[i]
		}
		a := chain.PubkeyAddress(&key.PublicKey)
		s.vals[i] = valInfo{addr: a, key: key, stake: stake}
		s.byIdx[a] = i
		if err := s.doc.AddValidator(a, stake, fmt.Sprintf("n%d", i)); err != nil {
			return fmt.Errorf("sim: genesis: %w", err)
		}
		s.total += stake
	}
	state, set, err := s.doc.InitialState()
	if err != nil {
		return fmt.Errorf("sim: genesis: %w", err)
	}

	s.chooseByzantine()
	s.honestStake = s.total - s.byzStake
	s.liveExpected = staking.HasQuorum(s.honestStake, s.total)

	s.nodes = make([]*node, n)
	s.byz = make([]*byzNode, n)
	var kinds []Behaviour
	for i := range s.vals {
		if !s.vals[i].byz {
			st, err := store.Open("", store.BackendMemDB)
			if err != nil {
				return fmt.Errorf("sim: store: %w", err)
			}
			if err := st.InitGenesis(ChainID, s.doc.Hash(), state.Entries(), set); err != nil {
				st.Close()
				return fmt.Errorf("sim: store: %w", err)
			}
			s.nodes[i] = &node{s: s, id: i, crashAt: -1, disk: newDisk(st)}
			continue
		}
		b := cfg.Behaviour
		if b == Mixed {
			b = []Behaviour{Equivocator, NilVoter, Silent}[s.rng.IntN(3)]
		}
		s.byz[i] = newByzNode(s, i, b)
		kinds = append(kinds, b)
	}
	s.rep = Report{
		Seed: cfg.Seed, Scenario: cfg.Scenario, Validators: n, Net: cfg.Net, Heights: cfg.Heights,
		TotalStake: s.total, ByzantineStake: s.byzStake, LivenessExpected: s.liveExpected,
	}
	for i := range s.vals {
		s.rep.Stakes = append(s.rep.Stakes, s.vals[i].stake)
		if s.vals[i].byz {
			s.rep.Byzantine = append(s.rep.Byzantine, i)
		}
	}
	s.rep.Behaviours = kinds
	s.check.init(s)
	s.check.genesisSupply = state.TotalSupply()

	if cfg.Behaviour == Coalition && s.byzStake > 0 {
		s.splitHonest()
	}
	if s.cfg.Net.GST > 0 && (s.cfg.Net.Partition > 0 || s.hasCoalition()) {
		s.schedule(&event{at: 0, kind: evPartition})
	}
	late := s.lateJoiners()
	for i, nd := range s.nodes {
		switch {
		case nd == nil:
		case late[i]:
			window := max(s.cfg.Net.GST, 3*time.Second)
			at := time.Duration(s.rng.Int64N(int64(window)))
			s.rep.LateJoins = append(s.rep.LateJoins, LateJoin{Node: i, At: at})
			s.schedule(&event{at: at, kind: evJoin, node: i})
		default:
			nd.start()
		}
	}
	return nil
}

// lateJoiners picks Config.Late honest validators, in PRNG order, that
// start with an empty disk some time into the run and catch up by block
// sync.
func (s *sim) lateJoiners() map[int]bool {
	late := make(map[int]bool)
	for _, i := range s.rng.Perm(len(s.vals)) {
		if len(late) < s.cfg.Late && s.nodes[i] != nil {
			late[i] = true
		}
	}
	return late
}

// close releases the validators' stores.
func (s *sim) close() {
	for _, n := range s.nodes {
		if n != nil {
			n.disk.store.Close()
		}
	}
}

// nodeID is validator i's identity on the network.
func (s *sim) nodeID(i int) p2p.NodeID { return p2p.NodeID(s.vals[i].addr) }

func (s *sim) newKey() *ecdsa.PrivateKey {
	var b [32]byte
	for {
		for i := 0; i < 32; i += 8 {
			x := s.rng.Uint64()
			for j := 0; j < 8; j++ {
				b[i+j] = byte(x >> (8 * j))
			}
		}
		if k, err := crypto.ToECDSA(b[:]); err == nil {
			return k
		}
	}
}

// chooseByzantine applies Config.Byzantine, or else the ByzantineStake rule
// documented on Config.
func (s *sim) chooseByzantine() {
	if s.cfg.Byzantine != nil {
		for _, i := range s.cfg.Byzantine {
			if !s.vals[i].byz {
				s.vals[i].byz = true
				s.byzStake += s.vals[i].stake
			}
		}
		return
	}
	f := s.cfg.ByzantineStake
	if f.Den == 0 || f.Num == 0 {
		return
	}
	order := s.rng.Perm(len(s.vals))
	for _, i := range order {
		next := s.byzStake + s.vals[i].stake
		if mulLE(next, f.Den, f.Num, s.total) {
			s.vals[i].byz = true
			s.byzStake = next
		}
	}
}

// mulLE reports a*b <= c*d without overflow.
func mulLE(a, b, c, d uint64) bool {
	ah, al := mul128(a, b)
	ch, cl := mul128(c, d)
	return ah < ch || (ah == ch && al <= cl)
}

func (s *sim) hasCoalition() bool { return s.cfg.Behaviour == Coalition && s.byzStake > 0 }

// splitHonest assigns the honest validators to coalition groups 1 and 2,
// balancing their stake: largest first (ties in PRNG order), each to the
// lighter group.
func (s *sim) splitHonest() {
	var idx []int
	for _, i := range s.rng.Perm(len(s.vals)) {
		if !s.vals[i].byz {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case s.vals[a].stake > s.vals[b].stake:
			return -1
		case s.vals[a].stake < s.vals[b].stake:
			return 1
		}
		return 0
	})
	var g1, g2 uint64
	for _, i := range idx {
		if g1 <= g2 {
			s.vals[i].group, g1 = 1, g1+s.vals[i].stake
		} else {
			s.vals[i].group, g2 = 2, g2+s.vals[i].stake
		}
	}
	s.rep.Groups = [2]uint64{g1, g2}
}

// clock is the wall time a validator reads at the current virtual time.
func (s *sim) clock() time.Time { return Genesis.Add(s.now) }

func (s *sim) loop() {
	defer func() {
		if r := recover(); r != nil {
			s.violate(Violation{Kind: "panic", Node: -1, Detail: fmt.Sprintf("%v\n%s", r, debug.Stack())})
		}
	}()
	for s.queue.Len() > 0 && !s.stop {
		e := s.next()
		if e.at > s.cfg.MaxTime {
			s.now = s.cfg.MaxTime
			break
		}
		s.now = e.at
		s.rep.Events++
		if s.rep.Events > s.cfg.MaxEvents {
			s.violate(Violation{Kind: "events", Node: -1, Detail: fmt.Sprintf("more than %d events", s.cfg.MaxEvents)})
			break
		}
		s.handle(e)
		if s.stop {
			break
		}
		s.checkLiveness()
		if s.doneNodes == len(s.nodes)-len(s.rep.Byzantine) {
			s.rep.Completed = true
			break
		}
	}
	if !s.rep.Completed && !s.stop && s.liveExpected {
		if why := s.stuck(); why != "" {
			s.violate(Violation{Kind: "liveness", Node: -1, Height: s.maxHeight + 1,
				Detail: fmt.Sprintf("run ended at %v (cap %v) before every honest validator finalized %d heights; %s", s.now, s.cfg.MaxTime, s.cfg.Heights, why)})
		}
	}
}

func (s *sim) handle(e *event) {
	switch e.kind {
	case evDeliver:
		s.deliver(e.msg, e.node)
	case evTimeout:
		if n := s.nodes[e.node]; n != nil && n.up && n.inc == e.inc {
			n.onTimeout(e)
		}
	case evTick:
		if n := s.nodes[e.node]; n != nil && n.up && n.inc == e.inc {
			n.onTick(e.tick)
		}
	case evRestart:
		s.nodes[e.node].restart()
	case evJoin:
		s.trace.add(s.now, e.node, "join", "")
		s.nodes[e.node].start()
	case evPartition:
		s.repartition()
	}
}

// checkLiveness fails the run when, after GST and with more than two
// thirds of the stake honest, no honest validator finalized anything for
// LivenessBound, and the protocol had its chance (see stuck).
func (s *sim) checkLiveness() {
	gst := s.cfg.Net.GST
	if !s.liveExpected || s.now <= gst {
		return
	}
	since := max(s.lastFinalize, gst)
	if s.now-since <= s.cfg.LivenessBound {
		return
	}
	if why := s.stuck(); why != "" {
		s.violate(Violation{Kind: "liveness", Node: -1, Height: s.maxHeight + 1,
			Detail: fmt.Sprintf("no honest validator finalized a block from %v to %v (GST %v, bound %v); %s", since, s.now, gst, s.cfg.LivenessBound, why)})
	}
}

// settled is when messages lost before GST have been gossiped again.
func (s *sim) settled() time.Duration {
	nc := &s.cfg.Net
	return nc.GST + max(nc.Gossip, 0)*5/4 + 2*nc.LatencyMax + nc.RestartMax
}

// stuck says why missing progress is a violation, or "" while it may still
// be the protocol's normal delay. Tendermint decides, after GST, once the
// honest validator with the highest valid round proposes with timeouts
// above the message delay; with stake-weighted rotation a small validator
// may wait many rounds for its turn. So the run is stuck when every honest
// validator has proposed at the pending height since the network settled
// (with a propose timeout above twice the maximum latency) and the last of
// those rounds is over, or when no honest validator entered a new round for
// LivenessBound.
func (s *sim) stuck() string {
	if s.proposedHonest == len(s.nodes)-len(s.rep.Byzantine) && s.now > s.rotatedBy {
		return "every honest validator proposed at this height since GST"
	}
	if since := max(s.lastNewRound, s.cfg.Net.GST); s.now-since > s.cfg.LivenessBound {
		return fmt.Sprintf("no honest validator entered a new round since %v", since)
	}
	return ""
}

// onPropose notes that honest n, the proposer of (h, r), starts round r
// with the given propose timeout.
func (s *sim) onPropose(n *node, h uint64, d time.Duration) {
	if h != s.maxHeight+1 || s.now < s.settled() || d <= 2*s.cfg.Net.LatencyMax {
		return
	}
	if s.proposed == nil {
		s.proposed = make([]bool, len(s.vals))
	}
	if !s.proposed[n.id] {
		s.proposed[n.id] = true
		s.proposedHonest++
		// its round: the propose timeout, prevote and precommit waits
		// (shorter), gossip and delivery
		s.rotatedBy = s.now + 3*d + max(s.cfg.Net.Gossip, 0)*5/4 + 2*s.cfg.Net.LatencyMax
	}
}

// onFinalize records progress after an honest validator committed height h.
func (s *sim) onFinalize(n *node, h uint64, cert *chain.Certificate) {
	s.lastFinalize = s.now
	if n.height == h {
		s.latencies = append(s.latencies, s.now-n.heightStart)
	}
	if h > s.maxHeight {
		if s.now > s.cfg.Net.GST {
			gap := s.now - max(s.lastNewTop, s.cfg.Net.GST)
			s.rep.MaxGapAfterGST = max(s.rep.MaxGapAfterGST, gap)
		}
		s.maxHeight = h
		s.lastNewTop = s.now
		clear(s.proposed)
		s.proposedHonest = 0
	}
	if uint64(len(s.firstFinal)) < h {
		s.firstFinal = append(s.firstFinal, finalRecord{hash: cert.BlockHash, round: cert.Round, at: s.now})
	}
	if h >= uint64(s.cfg.Heights) && !n.done {
		n.done = true
		s.doneNodes++
	}
}

func (s *sim) violate(v Violation) {
	v.At = s.now
	v.Seed = s.cfg.Seed
	s.rep.Violations = append(s.rep.Violations, v)
	s.trace.add(s.now, v.Node, "VIOLATION", v.Kind+": "+v.Detail)
	for _, n := range s.nodes {
		if n != nil {
			s.trace.add(s.now, n.id, "state", n.describe())
		}
	}
	s.stop = true
}

func (s *sim) finish() *Report {
	// A copy: a pointer into s would keep the whole simulated network
	// (drivers, queues, stores) alive as long as the report.
	rep := s.rep
	r := &rep
	r.VirtualTime = s.now
	r.MaxHeight = s.maxHeight
	r.HeightsFinalized = ^uint64(0)
	for _, n := range s.nodes {
		if n != nil {
			r.HeightsFinalized = min(r.HeightsFinalized, n.disk.store.Height())
		}
	}
	if r.HeightsFinalized == ^uint64(0) {
		r.HeightsFinalized = 0
	}
	for _, f := range s.firstFinal {
		for int(f.round) >= len(r.Rounds) {
			r.Rounds = append(r.Rounds, 0)
		}
		r.Rounds[f.round]++
	}
	if len(s.latencies) > 0 {
		l := slices.Clone(s.latencies)
		slices.Sort(l)
		r.FinalityP50 = l[(len(l)-1)*50/100]
		r.FinalityP99 = l[(len(l)-1)*99/100]
	}
	if r.Failed() || s.cfg.TraceAll {
		r.Trace = s.trace.lines()
	}
	return r
}
