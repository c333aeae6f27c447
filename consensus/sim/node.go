package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/validator"
)

// node is an honest validator: a disk that survives crashes, and while it
// is up, a process running the node's own consensus driver
// (engine.Driver) over that disk, fed by the simulated network, clock and
// timers as package node feeds it in production.
//
// The disk is a real chain store (cometbft-db's in-memory backend), the
// signer's double-sign record and the node's consensus log (see disk.go), each
// behind fault points: before GST the process may crash before or after
// any write or send, and a write may fail, which halts the driver.
type node struct {
	s    *sim
	id   int
	disk *disk

	up      bool
	joined  bool   // started at least once (late joiners start after time 0)
	inc     uint32 // incarnation: bumped by every crash, stales timers and ticks
	driver  *engine.Driver
	timers  map[consensus.TimeoutFired]uint64
	crashAt int // fault points left before an injected crash in this event; -1: none

	done    bool   // its store reached Config.Heights
	checked uint64 // the highest stored block the checker has seen

	height      uint64 // the height the driver works on, from its round state
	round       uint32
	roundKnown  bool
	heightStart time.Duration
}

// errCrash is what a fault point panics with to crash the process.
type errCrash struct{}

func (errCrash) Error() string { return "crash" }

// errWrite is a failed disk write.
var errWrite = errors.New("sim: disk write failed")

func (n *node) addr() chain.Address { return n.s.vals[n.id].addr }

func (n *node) peerID() p2p.NodeID { return p2p.NodeID(n.addr()) }

// fault is a fault point, met before and after every disk write and
// before every network send of the process: before GST the event's
// injected crash may strike here, and a write may fail.
func (n *node) fault(write bool) error {
	s := n.s
	if s.now >= s.cfg.Net.GST {
		return nil
	}
	if n.crashAt == 0 {
		panic(errCrash{})
	}
	if n.crashAt > 0 {
		n.crashAt--
	}
	if write && s.cfg.Net.WriteFail > 0 && s.rng.Float64() < s.cfg.Net.WriteFail {
		s.rep.WriteFailures++
		return errWrite
	}
	return nil
}

// start brings the process up from the disk: the driver loads the
// committed state and replays the log of the height after it.
func (n *node) start() {
	s := n.s
	n.up, n.joined = true, true
	n.timers = make(map[consensus.TimeoutFired]uint64)
	n.roundKnown, n.heightStart = false, s.now
	n.disk.restart(s)
	// Blocks committed by an earlier incarnation that crashed before its
	// sink saw them are checked now.
	for h := n.checked + 1; h <= n.disk.store.Height(); h++ {
		b, err := n.disk.store.Block(h)
		if err != nil {
			s.violate(Violation{Kind: "store", Node: n.id, Height: h, Detail: err.Error()})
			return
		}
		c, err := n.disk.store.Certificate(h)
		if err != nil {
			s.violate(Violation{Kind: "store", Node: n.id, Height: h, Detail: err.Error()})
			return
		}
		s.check.finalized(n, b, c)
	}
	state, err := n.disk.store.LoadState(s.doc.Params)
	if err != nil {
		s.violate(Violation{Kind: "restart", Node: n.id, Detail: "load state: " + err.Error()})
		return
	}
	local, err := validator.NewLocalSigner(s.vals[n.id].key, signerState{n})
	if err != nil {
		s.violate(Violation{Kind: "restart", Node: n.id, Detail: "signer: " + err.Error()})
		return
	}
	signer := knownSigner{local, &s.check}
	mc := s.cfg.Consensus
	mc.Recoverer = &s.check // one signature cache for every validator of the run
	cfg := engine.Config{ChainID: ChainID, GenesisTime: Genesis, MaxBlockTxs: 100, Machine: mc}
	deps := engine.Deps{
		Store: storeOf{n}, Mempool: emptyPool{}, Log: logOf{n}, Signer: signer,
		Gossip: gossipOf{n}, Sink: sinkOf{n}, Clock: clock{s}, Timers: timersOf{n},
		Logger: slog.New(slog.DiscardHandler),
	}
	if n.driver, err = engine.New(cfg, deps, state); err != nil {
		s.violate(Violation{Kind: "restart", Node: n.id, Detail: "driver: " + err.Error()})
		return
	}
	logged, err := n.disk.log.ReadAll(n.disk.store.Height() + 1)
	if err != nil {
		s.violate(Violation{Kind: "restart", Node: n.id, Detail: "read log: " + err.Error()})
		return
	}
	if len(logged) > 0 {
		s.rep.Replays++
		s.rep.ReplayedInputs += len(logged)
	}
	n.height = n.disk.store.Height() + 1
	n.call(func() error { return n.driver.Start(context.Background()) })
	if !n.up {
		return
	}
	// The peers see the connection come up: each side sends the other
	// what it holds of its height (PeerConnected).
	for _, p := range s.nodes {
		if p != nil && p != n && p.up {
			p.call(func() error { p.driver.PeerConnected(n.peerID()); return nil })
			n.call(func() error { n.driver.PeerConnected(p.peerID()); return nil })
		}
	}
	if g := s.cfg.Net.Gossip; g > 0 {
		n.schedule(g/2, tickStatus)
		n.schedule(g, tickRound)
	}
}

// schedule arms a tick of this incarnation after a jittered period.
func (n *node) schedule(period time.Duration, what tick) {
	s := n.s
	d := period*3/4 + time.Duration(s.rng.Int64N(int64(period/2)+1))
	s.schedule(&event{at: s.now + d, kind: evTick, node: n.id, inc: n.inc, tick: what})
}

// onTick runs a periodic task of the process: the status broadcast that
// drives block sync, or the round status that drives catch-up gossip.
func (n *node) onTick(what tick) {
	g := n.s.cfg.Net.Gossip
	switch what {
	case tickStatus:
		n.schedule(g/2, tickStatus)
		n.event(func() error { return n.driver.StatusTick() })
	case tickRound:
		n.schedule(g, tickRound)
		n.s.rep.GossipRounds++
		n.event(func() error { n.driver.RoundTick(); return nil })
	}
}

// event runs one event of the process; before GST, with probability
// Net.Crash, the process crashes at one of the event's first fault
// points, or at its end.
func (n *node) event(f func() error) {
	s := n.s
	n.crashAt = -1
	if s.cfg.Net.Crash > 0 && s.now < s.cfg.Net.GST && s.rng.Float64() < s.cfg.Net.Crash {
		n.crashAt = s.rng.IntN(6)
	}
	n.call(f)
	if n.up && n.crashAt >= 0 {
		n.crash()
	}
	n.crashAt = -1
}

// call runs f on the process: a crash or a halt takes it down.
func (n *node) call(f func() error) {
	if !n.up || n.driver == nil {
		return
	}
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(errCrash); !ok {
					panic(r)
				}
				err = errCrash{}
			}
		}()
		return f()
	}()
	switch {
	case err == nil:
	case errors.As(err, &errCrash{}):
		n.crash()
	case errors.Is(err, engine.ErrHalt) && errors.Is(err, errWrite):
		// A write failed: the driver halted without signing anything that
		// depended on it; the operator restarts the node.
		n.s.trace.add(n.s.now, n.id, "halt", err.Error())
		n.down()
	default:
		n.s.violate(Violation{Kind: "halt", Node: n.id, Height: n.height, Round: n.round, Detail: err.Error()})
		n.down()
	}
}

// crash kills the process at a fault point.
func (n *node) crash() {
	n.s.rep.Crashes++
	n.s.trace.add(n.s.now, n.id, "crash", "")
	n.down()
}

// down takes the process down: its memory and the disk's unsynced writes
// are lost, the peers see the connection drop, and it restarts after
// uniform [RestartMin, RestartMax].
func (n *node) down() {
	s := n.s
	n.up = false
	n.inc++
	n.driver, n.timers = nil, nil
	n.crashAt = -1
	n.disk.crash(s)
	for _, p := range s.nodes {
		if p != nil && p != n && p.up {
			p.call(func() error { p.driver.PeerGone(n.peerID()); return nil })
		}
	}
	d := s.cfg.Net.RestartMin
	if span := s.cfg.Net.RestartMax - s.cfg.Net.RestartMin; span > 0 {
		d += time.Duration(s.rng.Int64N(int64(span) + 1))
	}
	s.schedule(&event{at: s.now + d, kind: evRestart, node: n.id})
}

func (n *node) restart() {
	s := n.s
	s.rep.Restarts++
	s.trace.add(s.now, n.id, "restart", fmt.Sprintf("store at h=%d", n.disk.store.Height()))
	n.start()
}

// noteRound tracks the round the driver entered and tells the Byzantine
// validators (an omniscient adversary) that this validator is now at
// (h, r) with the given proposer.
func (n *node) noteRound(rs consensus.RoundState) {
	s := n.s
	if rs.Height != n.height {
		n.height, n.roundKnown, n.heightStart = rs.Height, false, s.now
	}
	if rs.Step == consensus.StepNewHeight || (n.roundKnown && rs.Round <= n.round) {
		return
	}
	n.round, n.roundKnown = rs.Round, true
	s.lastNewRound = s.now
	s.trace.add(s.now, n.id, "round", fmt.Sprintf("h=%d r=%d proposer %s", rs.Height, rs.Round, s.trace.who(rs.Proposer)))
	for _, b := range s.byz {
		if b != nil {
			b.onEnter(n, rs.Height, rs.Round, rs.Proposer)
		}
	}
}

// describe summarises the validator for a failure report.
func (n *node) describe() string {
	if !n.up || n.driver == nil {
		return fmt.Sprintf("down, store at h=%d", n.disk.store.Height())
	}
	rs := n.driver.Snapshot().Round
	tally := func(t consensus.VoteTally) string {
		out := fmt.Sprintf("%d/%d", t.VotedStake, t.TotalStake)
		for _, bs := range t.Blocks {
			out += fmt.Sprintf(" %s:%d", short(bs.Hash), bs.Stake)
		}
		return out
	}
	last, _ := n.disk.signer.Load()
	return fmt.Sprintf("store h=%d, at h=%d r=%d %s proposer=%s locked=%d/%s valid=%d/%s prevotes[%s] precommits[%s]; last signed h=%d r=%d %s",
		n.disk.store.Height(), rs.Height, rs.Round, rs.Step, n.s.trace.who(rs.Proposer), rs.LockedRound, short(rs.LockedBlock),
		rs.ValidRound, short(rs.ValidBlock), tally(rs.Prevotes), tally(rs.Precommits), last.Height, last.Round, last.Step)
}

// knownSigner is the validator's signer; the run's signature cache learns
// every signature it releases, as it does every Byzantine one, so the
// Machines' verification of honest votes costs no recovery.
type knownSigner struct {
	*validator.LocalSigner
	c *checker
}

func (k knownSigner) SignVote(ctx context.Context, chainID string, v *chain.Vote) error {
	if err := k.LocalSigner.SignVote(ctx, chainID, v); err != nil {
		return err
	}
	k.c.knownSig(v.SignHash(chainID), v.Signature, v.Validator)
	return nil
}

func (k knownSigner) SignProposal(ctx context.Context, chainID string, p *chain.Proposal) error {
	if err := k.LocalSigner.SignProposal(ctx, chainID, p); err != nil {
		return err
	}
	k.c.knownSig(p.SignHash(chainID), p.Signature, p.Proposer)
	return nil
}

// clock is the wall clock every simulated process reads.
type clock struct{ s *sim }

func (c clock) Now() time.Time { return c.s.clock() }

// storeOf is the chain store as the driver sees it; commits pass fault
// points before and after the write.
type storeOf struct{ n *node }

func (st storeOf) Height() uint64                         { return st.n.disk.store.Height() }
func (st storeOf) Header(h uint64) (*chain.Header, error) { return st.n.disk.store.Header(h) }
func (st storeOf) Certificate(h uint64) (*chain.Certificate, error) {
	return st.n.disk.store.Certificate(h)
}
func (st storeOf) ValidatorSet(h uint64) (*staking.ValidatorSet, error) {
	return st.n.disk.store.ValidatorSet(h)
}
func (st storeOf) CommitBlock(fb *store.FinalBlock) error {
	if err := st.n.fault(true); err != nil {
		return err
	}
	if err := st.n.disk.store.CommitBlock(fb); err != nil {
		return err
	}
	return st.n.fault(false)
}

// signerState is the signer's double-sign record on the disk. Every
// record saved is checked against what this validator saved before for
// the same slot, across incarnations: a second, different sign hash is a
// double sign.
type signerState struct{ n *node }

func (ss signerState) Load() (validator.LastSigned, error) { return ss.n.disk.signer.Load() }
func (ss signerState) Save(l validator.LastSigned) error {
	if err := ss.n.fault(true); err != nil {
		return err
	}
	if err := ss.n.disk.signer.Save(l); err != nil {
		return err
	}
	ss.n.s.check.signedRecord(ss.n, l)
	return ss.n.fault(false)
}

type timersOf struct{ n *node }

func (t timersOf) Schedule(a consensus.ScheduleTimeout) {
	n, s := t.n, t.n.s
	key := consensus.TimeoutFired{Height: a.Height, Round: a.Round, Step: a.Step}
	s.seq++
	n.timers[key] = s.seq
	if a.Step == consensus.StepPropose && n.driver != nil {
		if set := n.driver.Snapshot().Validators; set != nil && n.driver.Height() == a.Height && set.Proposer(a.Round) == n.addr() {
			s.onPropose(n, a.Height, a.Duration)
		}
	}
	s.schedule(&event{at: s.now + a.Duration, kind: evTimeout, node: n.id, inc: n.inc, tmo: key, timer: s.seq})
}

func (t timersOf) StopBelow(h uint64) {
	for k := range t.n.timers {
		if k.Height < h {
			delete(t.n.timers, k)
		}
	}
}

// onTimeout fires a timeout unless it was replaced or stopped since.
func (n *node) onTimeout(e *event) {
	if n.timers[e.tmo] != e.timer {
		return
	}
	delete(n.timers, e.tmo)
	n.s.trace.add(n.s.now, n.id, "timeout", fmt.Sprintf("h=%d r=%d %s", e.tmo.Height, e.tmo.Round, e.tmo.Step))
	n.event(func() error { return n.driver.Timeout(e.tmo) })
}

// emptyPool is a mempool with nothing to propose: simulated blocks carry
// evidence but no transactions.
type emptyPool struct{}

func (emptyPool) Sender(chain.Hash) (chain.Address, bool)                  { return chain.Address{}, false }
func (emptyPool) Reap(int) []*chain.Tx                                     { return nil }
func (emptyPool) Size() int                                                { return 0 }
func (emptyPool) SetState(staking.AccountReader)                           {}
func (emptyPool) Update([]chain.Hash, staking.AccountReader) (evicted int) { return 0 }

// sinkOf receives what the driver does: round changes (the adversary's
// cue), final blocks and rejected inputs, each checked.
type sinkOf struct{ n *node }

func (sinkOf) ProposalSeen(*chain.Proposal, *chain.Block)           {}
func (sinkOf) VoteCounted(*chain.Vote, uint64, consensus.VoteTally) {}
func (sinkOf) ValidatorsChanged(uint64, *staking.ValidatorSet)      {}
func (k sinkOf) Stepped(rs consensus.RoundState)                    { k.n.noteRound(rs) }
func (k sinkOf) Finalized(b *chain.Block, c *chain.Certificate, _, _ uint64, res *chain.ExecResult, _ uint32, _ time.Time) {
	k.n.s.check.finalized(k.n, b, c)
	k.n.s.check.ledger(k.n, b.Header.Height, res)
}
func (k sinkOf) Rejected(in consensus.Input, err error, replay bool) {
	k.n.s.rep.RejectedInputs++
	k.n.s.check.rejected(k.n, in, err, replay)
}
