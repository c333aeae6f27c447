package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/validator"
)

// syncBackoff is the least virtual time between two block-sync requests of
// one validator (except right after a new height, when it asks at once).
const syncBackoff = 200 * time.Millisecond

// final is a committed block with its certificate.
type final struct {
	block *chain.Block
	cert  *chain.Certificate
	hash  chain.Hash
}

// proposalMsg is a signed proposal with its block.
type proposalMsg struct {
	p *chain.Proposal
	b *chain.Block
}

// node is an honest validator: a consensus.Machine driven like the real
// node drives it, a LocalSigner with double-sign protection, a store of
// final blocks and a write-ahead log of the current height's inputs.
//
// Persistent state (what survives a crash): signerState, finals, wal and
// walHeight. Everything else is memory and is lost.
type node struct {
	s  *sim
	id int

	// disk
	signerState *validator.MemoryState
	finals      []final // finals[h-1] is height h
	walHeight   uint64
	wal         []consensus.Input

	// memory
	up          bool
	inc         uint32 // incarnation: bumped by each crash, stales timers
	m           *consensus.Machine
	signer      *validator.LocalSigner
	height      uint64 // the height the Machine works on
	round       uint32 // highest round entered at height, as seen from actions
	roundKnown  bool
	heightStart time.Duration
	heard       []*chain.Vote // votes of the current height given to the Machine, by round
	heardSlot   map[voteSlot]bool
	proposals   []proposalMsg // proposals of the current height, one per round, first seen
	evidence    []*chain.Evidence
	evSeen      map[chain.Hash]bool
	seenHeight  uint64 // highest height seen in a message
	lastSync    time.Duration
	pending     []consensus.Input
	crashAfter  int // actions left before an injected crash in this event; -1: none
}

func newNode(s *sim, id int) *node {
	return &node{s: s, id: id, signerState: &validator.MemoryState{}, crashAfter: -1}
}

func (n *node) addr() chain.Address { return n.s.vals[n.id].addr }

func (n *node) machineConfig() consensus.Config {
	c := n.s.cfg.Consensus
	c.ChainID = ChainID
	c.Self = n.addr()
	// Every Machine of the run verifies signatures through the checker's
	// cache: a signature is recovered once per run, not once per Machine.
	c.Recoverer = &n.s.check
	return c
}

// start brings the node up from its persistent state: at the first start
// that is nothing; after a crash the WAL of the current height is replayed.
func (n *node) start() {
	s := n.s
	signer, err := validator.NewLocalSigner(s.vals[n.id].key, n.signerState)
	if err != nil {
		panic("sim: signer: " + err.Error())
	}
	n.up = true
	n.signer = signer
	n.m = consensus.NewMachine(n.machineConfig())
	n.height = uint64(len(n.finals)) + 1
	n.round, n.roundKnown = 0, false
	n.heightStart = s.now
	n.heard, n.heardSlot, n.proposals, n.pending = nil, make(map[voteSlot]bool), nil, nil
	n.evidence, n.evSeen = nil, make(map[chain.Hash]bool)
	n.seenHeight, n.lastSync = 0, -syncBackoff
	n.crashAfter = -1
	n.scheduleGossip()
	if n.walHeight == n.height && len(n.wal) > 0 {
		n.replay()
		return
	}
	n.run(n.newHeight())
}

// newHeight is the NewHeight input that starts the height after the last
// final block.
func (n *node) newHeight() consensus.NewHeight {
	last := Genesis
	if k := len(n.finals); k > 0 {
		last = time.UnixMilli(int64(n.finals[k-1].block.Header.Time)).UTC()
	}
	h := uint64(len(n.finals)) + 1
	return consensus.NewHeight{Height: h, Validators: n.s.setAt(h), LastBlockTime: last, Now: n.s.clock()}
}

func (n *node) scheduleGossip() {
	g := n.s.cfg.Net.Gossip
	if g <= 0 {
		return
	}
	d := g*3/4 + time.Duration(n.s.rng.Int64N(int64(g/2)+1))
	n.s.schedule(&event{at: n.s.now + d, kind: evGossip, node: n.id, inc: n.inc})
}

// run handles one event's input: it is logged and stepped, the actions are
// carried out, and inputs they produce (signatures, checks, built blocks,
// the next NewHeight) are handled in turn. The node may crash at a random
// action boundary of the event (Net.Crash).
func (n *node) run(in consensus.Input) {
	s := n.s
	n.crashAfter = -1
	if s.cfg.Net.Crash > 0 && s.now < s.cfg.Net.GST && s.rng.Float64() < s.cfg.Net.Crash {
		n.crashAfter = s.rng.IntN(6)
	}
	n.pending = append(n.pending[:0], in)
	for len(n.pending) > 0 {
		in := n.pending[0]
		n.pending = n.pending[1:]
		n.step(in)
		if !n.up {
			return
		}
	}
	if n.crashAfter >= 0 {
		n.crash()
	}
}

// step persists in to the WAL, steps the Machine and carries out its actions.
func (n *node) step(in consensus.Input) {
	carried := n.logInput(in)
	acts, outcome := n.m.StepOutcome(in)
	n.observe(in, outcome)
	for _, c := range carried {
		n.observe(c, consensus.Accepted) // the Machine counts its buffered inputs at NewHeight
	}
	n.s.trace.step(n.s.now, n.id, in, acts)
	for _, a := range acts {
		if n.crashAfter == 0 {
			n.crash()
			return
		}
		if n.crashAfter > 0 {
			n.crashAfter--
		}
		n.do(a)
	}
}

// logInput appends in to the write-ahead log. NewHeight starts the log of
// its height, which carries over the inputs of that height logged before
// it (see carryOver).
func (n *node) logInput(in consensus.Input) (carried []consensus.Input) {
	if nh, ok := in.(consensus.NewHeight); ok {
		carried = carryOver(n.wal, nh.Height, len(n.s.vals))
		n.wal = append(append(make([]consensus.Input, 0, 1+len(carried)), in), carried...)
		n.walHeight = nh.Height
		return carried
	}
	n.wal = append(n.wal, in)
	return nil
}

// observe keeps the memory the node needs for gossip and block sync: of
// received proposals and votes, only those the Machine accepted, which are
// all a node relays.
func (n *node) observe(in consensus.Input, outcome consensus.Outcome) {
	switch in.(type) {
	case consensus.VoteReceived, consensus.ProposalReceived:
		if outcome != consensus.Accepted {
			return
		}
	}
	switch in := in.(type) {
	case consensus.NewHeight:
		n.height = in.Height
		n.round, n.roundKnown = 0, false
		n.heightStart = n.s.now
		n.heard, n.proposals = n.heard[:0], n.proposals[:0]
		clear(n.heardSlot)
	case consensus.OwnVote:
		n.hear(in.Vote)
	case consensus.VoteReceived:
		n.hear(in.Vote)
	case consensus.OwnProposal:
		if in.Proposal != nil {
			n.addProposal(in.Proposal, in.Block)
		}
	case consensus.ProposalReceived:
		n.addProposal(in.Proposal, in.Block)
	}
}

func (n *node) addProposal(p *chain.Proposal, b *chain.Block) {
	if p == nil || p.Height != n.height || b == nil || p.Round > n.round+futureRounds {
		return
	}
	for i := range n.proposals {
		if n.proposals[i].p.Round == p.Round {
			return
		}
	}
	n.proposals = append(n.proposals, proposalMsg{p: p, b: b})
}

// noteRound tracks the round the Machine entered and tells the Byzantine
// validators (an omniscient adversary) that this validator is now at
// (h, r).
func (n *node) noteRound(h uint64, r uint32) {
	if h != n.height || (n.roundKnown && r <= n.round) {
		return
	}
	n.round, n.roundKnown = r, true
	n.s.lastNewRound = n.s.now
	for _, b := range n.s.byz {
		if b != nil {
			b.onEnter(n, h, r)
		}
	}
}

// do carries out one action of the Machine.
func (n *node) do(a consensus.Action) {
	s := n.s
	switch a := a.(type) {
	case consensus.ScheduleTimeout:
		if a.Step != consensus.StepNewHeight {
			n.noteRound(a.Height, a.Round)
		}
		if a.Step == consensus.StepPropose && a.Height == n.height && s.setAt(a.Height).Proposer(a.Round) == n.addr() {
			s.onPropose(n, a.Height, a.Duration)
		}
		s.schedule(&event{at: s.now + a.Duration, kind: evTimeout, node: n.id, inc: n.inc,
			tmo: consensus.TimeoutFired{Height: a.Height, Round: a.Round, Step: a.Step}})
	case consensus.BuildBlock:
		n.noteRound(a.Height, a.Round)
		n.pending = append(n.pending, consensus.BlockBuilt{Height: a.Height, Round: a.Round, Block: n.build(a.Height)})
	case consensus.CheckBlock:
		in := consensus.BlockChecked{Height: a.Height, Hash: a.Block.Hash(), Valid: true}
		if err := s.validate(n, a.Height, a.Block); err != nil {
			in.Valid, in.Reason = false, err.Error()
		}
		n.pending = append(n.pending, in)
	case consensus.SignVote:
		n.noteRound(a.Vote.Height, a.Vote.Round)
		v := *a.Vote
		if err := n.signer.SignVote(context.Background(), ChainID, &v); err != nil {
			s.rep.SignRefused++
			n.pending = append(n.pending, consensus.SignRefused{Height: v.Height, Round: v.Round, Step: consensus.VoteStep(v.Type), Reason: err.Error()})
			return
		}
		s.check.signedVote(n, &v)
		n.pending = append(n.pending, consensus.OwnVote{Vote: &v})
	case consensus.SignProposal:
		p := *a.Proposal
		if err := n.signer.SignProposal(context.Background(), ChainID, &p); err != nil {
			s.rep.SignRefused++
			n.pending = append(n.pending, consensus.SignRefused{Height: p.Height, Round: p.Round, Step: consensus.StepPropose, Reason: err.Error()})
			return
		}
		s.check.signedProposal(n, &p)
		n.pending = append(n.pending, consensus.OwnProposal{Proposal: &p, Block: a.Block})
	case consensus.BroadcastVote:
		n.broadcast(&message{kind: msgVote, vote: a.Vote})
	case consensus.BroadcastProposal:
		n.broadcast(&message{kind: msgProposal, proposal: a.Proposal, block: a.Block})
	case consensus.Finalize:
		n.finalize(a.Block, a.Certificate)
	case consensus.EvidenceFound:
		n.addEvidence(a.Evidence)
	case consensus.RejectedInput:
		s.rep.RejectedInputs++
		s.check.rejected(n, a)
	}
}

// broadcast sends m to every other validator.
func (n *node) broadcast(m *message) {
	m.from = n.id
	for to := range n.s.vals {
		if to != n.id {
			n.s.send(m, to)
		}
	}
}

// build makes the block this validator proposes at height h.
func (n *node) build(h uint64) *chain.Block {
	var parent *final
	if h > 1 && uint64(len(n.finals)) >= h-1 {
		parent = &n.finals[h-2]
	}
	included := n.s.includedEvidence(n)
	var ev []*chain.Evidence
	for _, e := range n.evidence {
		if len(ev) < 10 && e.Height() < h && !included[e.Hash()] {
			ev = append(ev, e)
		}
	}
	return n.s.makeBlock(h, n.addr(), parent, n.s.blockTime(parent), ev)
}

// finalize commits a decided block and starts the next height.
func (n *node) finalize(b *chain.Block, c *chain.Certificate) {
	s := n.s
	h := b.Header.Height
	if !s.check.finalized(n, b, c) {
		return
	}
	n.finals = append(n.finals, final{block: b, cert: c, hash: c.BlockHash})
	s.onFinalize(n, h, c)
	n.pending = append(n.pending, n.newHeight())
	if n.seenHeight > h+1 {
		n.requestSync(true)
	}
}

func (n *node) addEvidence(e *chain.Evidence) {
	s := n.s
	s.check.evidence(n, e)
	if h := e.Hash(); !n.evSeen[h] {
		n.evSeen[h] = true
		n.evidence = append(n.evidence, e)
	}
}

// receive handles a message delivered to this (live) validator.
func (n *node) receive(m *message) {
	s := n.s
	switch m.kind {
	case msgVote:
		n.behind(m.vote.Height)
		n.run(consensus.VoteReceived{Vote: m.vote})
	case msgProposal:
		n.behind(m.proposal.Height)
		n.run(consensus.ProposalReceived{Proposal: m.proposal, Block: m.block})
	case msgSyncRequest:
		s.trace.msg(s.now, n.id, m)
		if h := m.height; h >= 1 && h <= uint64(len(n.finals)) {
			f := n.finals[h-1]
			s.rep.SyncServed++
			s.send(&message{kind: msgSyncResponse, from: n.id, block: f.block, cert: f.cert}, m.from)
		}
	case msgSyncResponse:
		s.trace.msg(s.now, n.id, m)
		if m.cert != nil && m.cert.Height == n.height && uint64(len(n.finals)) < n.height {
			n.run(consensus.CommitReceived{Block: m.block, Certificate: m.cert})
		}
	}
}

// behind notes the height of a message and asks a peer for the final block
// of the current height when the network is ahead of us.
func (n *node) behind(h uint64) {
	if h > n.seenHeight {
		n.seenHeight = h
	}
	if h > n.height {
		n.requestSync(false)
	}
}

// requestSync asks a random other validator for the final block and
// certificate of the current height (block sync). Requests are rate
// limited unless now is set.
func (n *node) requestSync(now bool) {
	s := n.s
	if !now && s.now-n.lastSync < syncBackoff {
		return
	}
	if len(s.vals) < 2 {
		return
	}
	n.lastSync = s.now
	to := s.rng.IntN(len(s.vals) - 1)
	if to >= n.id {
		to++
	}
	s.rep.SyncRequests++
	s.send(&message{kind: msgSyncRequest, from: n.id, height: n.height}, to)
}

// gossip models the p2p gossip layer (CometBFT's gossipVotesRoutine and
// gossipDataRoutine): every Gossip period each honest validator sends every
// live honest peer at its height the proposals and votes of that height it
// has heard (own, honest or Byzantine, conflicting ones included) and the
// peer has not, at most gossipBatch a peer per period; and a peer at a
// lower height the final block and certificate of the peer's height. The
// peer's state is read directly where the node learns it from the peer's
// RoundStatus (which rounds it is at and which votes it has).
//
// Votes go in this order, so that the ones that unlock progress never wait
// behind the rest:
//
//  1. the prevotes of the rounds that justify this validator's lock and
//     valid value, and of the POL round of the proposal at the peer's
//     round (as CometBFT's gossipVotesForHeight sends ProposalPOLRound);
//  2. the rest, newest and oldest alternately, so that a stream of new
//     rounds never starves an old round's votes.
//
// After GST this delivers every vote and proposal to every honest
// validator, however many were lost before.
func (n *node) gossip() {
	s := n.s
	n.scheduleGossip()
	s.rep.GossipRounds++
	for j, peer := range s.nodes {
		if peer == nil || j == n.id || !peer.up {
			continue
		}
		if peer.height < n.height {
			f := n.finals[peer.height-1]
			s.send(&message{kind: msgSyncResponse, from: n.id, block: f.block, cert: f.cert}, j)
			continue
		}
		if peer.height != n.height {
			continue
		}
		n.gossipTo(j, peer)
	}
}

// gossipTo sends peer (at this validator's height) what it lacks.
func (n *node) gossipTo(j int, peer *node) {
	s := n.s
	window := peer.round + futureRounds
	budget := gossipBatch
	for i := range n.proposals {
		pm := &n.proposals[i]
		if pm.p.Round <= window && !peer.hasProposal(pm.p.Round) {
			s.send(&message{kind: msgProposal, from: n.id, proposal: pm.p, block: pm.b}, j)
			budget--
		}
	}
	lacks := func(v *chain.Vote) bool { return v.Round <= window && !peer.heardSlot[slotOf(v)] }
	sent := make(map[voteSlot]bool)
	send := func(v *chain.Vote) {
		sent[slotOf(v)] = true
		s.send(&message{kind: msgVote, from: n.id, vote: v}, j)
		budget--
	}
	prio := n.priorityRounds(peer.round)
	for _, v := range n.heard {
		if budget <= 0 {
			return
		}
		if v.Type == chain.Prevote && slices.Contains(prio, v.Round) && lacks(v) {
			send(v)
		}
	}
	// Newest and oldest alternate by what is sent, not by what is looked
	// at, so that the oldest end, mostly delivered already, keeps its turns.
	lo, hi := 0, len(n.heard)-1
	next := func(newest bool) *chain.Vote {
		for lo <= hi {
			var v *chain.Vote
			if newest {
				v, hi = n.heard[hi], hi-1
			} else {
				v, lo = n.heard[lo], lo+1
			}
			if lacks(v) && !sent[slotOf(v)] {
				return v
			}
		}
		return nil
	}
	for newest := true; budget > 0; newest = !newest {
		v := next(newest)
		if v == nil {
			return
		}
		send(v)
	}
}

// priorityRounds lists the rounds whose prevotes gossip sends first: this
// validator's locked and valid rounds, and the POL round of the proposal
// it holds for the peer's round.
func (n *node) priorityRounds(peerRound uint32) []uint32 {
	var out []uint32
	if n.m != nil {
		rs := n.m.RoundState()
		if rs.Height == n.height {
			for _, r := range []int32{rs.LockedRound, rs.ValidRound} {
				if r >= 0 {
					out = append(out, uint32(r))
				}
			}
		}
	}
	for i := range n.proposals {
		if p := n.proposals[i].p; p.Round == peerRound && p.POLRound >= 0 {
			out = append(out, uint32(p.POLRound))
		}
	}
	return out
}

// futureRounds is how far past its round a Machine stores messages
// (consensus.futureRoundWindow); gossip sends nothing further ahead.
const futureRounds = 4

// gossipBatch bounds the messages gossip sends one peer per period.
const gossipBatch = 128

// voteSlot identifies a distinct vote: an equivocator's two votes of one
// round and type are two slots, and both are gossiped (the paper's gossip
// delivers every message; CometBFT fetches them with VoteSetMaj23).
type voteSlot struct {
	round uint32
	typ   chain.VoteType
	val   chain.Address
	block chain.Hash
}

func slotOf(v *chain.Vote) voteSlot { return voteSlot{v.Round, v.Type, v.Validator, v.BlockHash} }

func (n *node) hasProposal(r uint32) bool {
	for i := range n.proposals {
		if n.proposals[i].p.Round == r {
			return true
		}
	}
	return false
}

// hear records a vote of the current height the Machine was given, kept
// sorted by round for gossip.
func (n *node) hear(v *chain.Vote) {
	if v == nil || v.Height != n.height || n.s.cfg.Net.Gossip <= 0 {
		return
	}
	k := slotOf(v)
	if n.heardSlot[k] {
		return
	}
	n.heardSlot[k] = true
	i := len(n.heard)
	for i > 0 && n.heard[i-1].Round > v.Round {
		i--
	}
	n.heard = append(n.heard, nil)
	copy(n.heard[i+1:], n.heard[i:])
	n.heard[i] = v
}

// crash drops all memory: the Machine, the signer object (its state
// stays), timers (by incarnation) and queued inputs.
func (n *node) crash() {
	s := n.s
	s.rep.Crashes++
	s.trace.add(s.now, n.id, "crash", "")
	n.up = false
	n.inc++
	n.m, n.signer = nil, nil
	n.pending = nil
	n.crashAfter = -1
	d := s.cfg.Net.RestartMin
	if span := s.cfg.Net.RestartMax - s.cfg.Net.RestartMin; span > 0 {
		d += time.Duration(s.rng.Int64N(int64(span) + 1))
	}
	s.schedule(&event{at: s.now + d, kind: evRestart, node: n.id})
}

func (n *node) restart() {
	s := n.s
	s.rep.Restarts++
	s.trace.add(s.now, n.id, "restart", "")
	n.start()
}

// describe summarises the validator for a failure trace.
func (n *node) describe() string {
	if !n.up {
		return fmt.Sprintf("down, %d final blocks", len(n.finals))
	}
	rs := n.m.RoundState()
	tally := func(t consensus.VoteTally) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%d/%d", t.VotedStake, t.TotalStake)
		for _, bs := range t.Blocks {
			fmt.Fprintf(&b, " %s:%d", short(bs.Hash), bs.Stake)
		}
		return b.String()
	}
	return fmt.Sprintf("h=%d r=%d %s proposer=%s locked=%d/%s valid=%d/%s prevotes[%s] precommits[%s] finals=%d heard=%d proposals=%d",
		rs.Height, rs.Round, rs.Step, n.s.trace.who(rs.Proposer), rs.LockedRound, short(rs.LockedBlock), rs.ValidRound, short(rs.ValidBlock),
		tally(rs.Prevotes), tally(rs.Precommits), len(n.finals), len(n.heard), len(n.proposals))
}
