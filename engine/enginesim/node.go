package enginesim

import (
	"context"
	"crypto/ecdsa"
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

// disk is what a validator keeps across crashes.
type disk struct {
	store  *store.Store
	signer *validator.MemoryState
	synced []logRecord
}

type logRecord struct {
	height uint64
	in     consensus.Input
}

// slot is what a validator may sign once: (height, round, step).
type slot struct {
	height uint64
	round  uint32
	step   string
}

// validatorNode is one honest validator: a disk, and while up, a process
// running an engine.Driver over it.
type validatorNode struct {
	s    *sim
	id   int
	key  *ecdsa.PrivateKey
	addr chain.Address
	disk *disk

	silent  bool // never runs
	up      bool
	inc     uint64 // incarnation: bumped by every crash, stales timers and ticks
	driver  *engine.Driver
	pending []logRecord // appended, not synced: lost in a crash
	timers  map[consensus.TimeoutFired]uint64

	signed         map[slot]chain.Hash // every signature it released, across incarnations
	replayRejected int
	replayErrs     []string
}

// errCrash is what a fault point panics with.
type errCrash struct{}

// errWrite is a failed disk write.
var errWrite = errors.New("enginesim: disk write failed")

// fault is called before every disk write and network send of the
// process: before GST it may crash the process there, or fail the write.
func (v *validatorNode) fault(write bool) error {
	s := v.s
	if s.now >= s.cfg.GST {
		return nil
	}
	if s.rng.Float64() < s.cfg.Crash/4 {
		panic(errCrash{})
	}
	if write && s.rng.Float64() < s.cfg.WriteFail {
		s.rep.WriteFails++
		return errWrite
	}
	return nil
}

// start brings the process up from the disk.
func (v *validatorNode) start() {
	s := v.s
	v.up, v.pending, v.timers = true, nil, make(map[consensus.TimeoutFired]uint64)
	state, err := v.disk.store.LoadState(s.doc.Params)
	if err != nil {
		s.violation("v%d: load state: %v", v.id, err)
		return
	}
	signer, err := validator.NewLocalSigner(v.key, signerState{v})
	if err != nil {
		s.violation("v%d: signer: %v", v.id, err)
		return
	}
	cfg := engine.Config{
		ChainID: ChainID, GenesisTime: Genesis, MaxBlockTxs: 100,
		Machine: consensus.Config{
			TimeoutPropose: 300 * time.Millisecond, TimeoutProposeDelta: 100 * time.Millisecond,
			TimeoutPrevote: 200 * time.Millisecond, TimeoutPrevoteDelta: 100 * time.Millisecond,
			TimeoutPrecommit: 200 * time.Millisecond, TimeoutPrecommitDelta: 100 * time.Millisecond,
			BlockInterval: 50 * time.Millisecond,
			Recoverer:     s.sigs,
		},
	}
	deps := engine.Deps{
		Store: storeOf{v}, Mempool: emptyPool{}, Log: logOf{v}, Signer: signer,
		Gossip: gossipOf{v}, Sink: sinkOf{v}, Clock: clock{s}, Timers: timersOf{v},
		Logger: slog.New(replayWatch{v}),
	}
	v.driver, err = engine.New(cfg, deps, state)
	if err != nil {
		s.violation("v%d: driver: %v", v.id, err)
		return
	}
	inc := v.inc
	v.call(func() error { return v.driver.Start(context.Background()) })
	v.tick(inc, 250*time.Millisecond, func() error { return v.driver.StatusTick() })
	v.tick(inc, 500*time.Millisecond, func() error { v.driver.RoundTick(); return nil })
}

// tick calls f every period while this incarnation lives.
func (v *validatorNode) tick(inc uint64, period time.Duration, f func() error) {
	s := v.s
	jitter := time.Duration(s.rng.Int64N(int64(period)))
	var next func()
	next = func() {
		if !v.up || v.inc != inc {
			return
		}
		v.call(f)
		s.schedule(s.now+period, next)
	}
	s.schedule(s.now+jitter, next)
}

// call runs f on the process: a crash or a halt takes it down.
func (v *validatorNode) call(f func() error) {
	if !v.up || v.driver == nil {
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
		v.s.rep.Crashes++
		v.down()
	case errors.Is(err, engine.ErrHalt) && errors.Is(err, errWrite):
		v.down()
	default:
		v.s.violation("v%d halted: %v", v.id, err)
		v.down()
	}
}

func (errCrash) Error() string { return "crash" }

// down kills the process: its memory and unsynced log records are lost;
// it restarts after a while.
func (v *validatorNode) down() {
	s := v.s
	v.up = false
	v.inc++
	v.driver, v.pending, v.timers = nil, nil, nil
	d := s.cfg.RestartMin + time.Duration(s.rng.Int64N(int64(s.cfg.RestartMax-s.cfg.RestartMin)+1))
	s.schedule(s.now+d, func() {
		s.rep.Restarts++
		v.start()
	})
}

// The driver's dependencies, each a view of the validator.

type storeOf struct{ v *validatorNode }

func (st storeOf) Height() uint64                         { return st.v.disk.store.Height() }
func (st storeOf) Header(h uint64) (*chain.Header, error) { return st.v.disk.store.Header(h) }
func (st storeOf) Certificate(h uint64) (*chain.Certificate, error) {
	return st.v.disk.store.Certificate(h)
}
func (st storeOf) ValidatorSet(h uint64) (*staking.ValidatorSet, error) {
	return st.v.disk.store.ValidatorSet(h)
}
func (st storeOf) CommitBlock(fb *store.FinalBlock) error {
	if err := st.v.fault(true); err != nil {
		return err
	}
	return st.v.disk.store.CommitBlock(fb)
}

type logOf struct{ v *validatorNode }

func (l logOf) Append(h uint64, in consensus.Input) error {
	if err := l.v.fault(true); err != nil {
		return err
	}
	l.v.pending = append(l.v.pending, logRecord{h, in})
	return nil
}

func (l logOf) Sync() error {
	if err := l.v.fault(true); err != nil {
		return err
	}
	l.v.disk.synced = append(l.v.disk.synced, l.v.pending...)
	l.v.pending = nil
	return nil
}

func (l logOf) Reset(committed uint64) error {
	if err := l.v.fault(true); err != nil {
		return err
	}
	var keep []logRecord
	for _, r := range append(l.v.disk.synced, l.v.pending...) {
		if r.height > committed {
			keep = append(keep, r)
		}
	}
	l.v.disk.synced, l.v.pending = keep, nil
	return nil
}

func (l logOf) ReadAll(h uint64) ([]consensus.Input, error) {
	var out []consensus.Input
	for _, r := range l.v.disk.synced {
		if r.height == h {
			out = append(out, r.in)
		}
	}
	return out, nil
}

// signerState is the signer's record on the disk; a save may fail.
type signerState struct{ v *validatorNode }

func (ss signerState) Load() (validator.LastSigned, error) { return ss.v.disk.signer.Load() }
func (ss signerState) Save(l validator.LastSigned) error {
	if err := ss.v.fault(true); err != nil {
		return err
	}
	return ss.v.disk.signer.Save(l)
}

type timersOf struct{ v *validatorNode }

func (t timersOf) Schedule(a consensus.ScheduleTimeout) {
	v, s := t.v, t.v.s
	key := consensus.TimeoutFired{Height: a.Height, Round: a.Round, Step: a.Step}
	s.seq++
	seq := s.seq
	v.timers[key] = seq
	inc := v.inc
	s.schedule(s.now+a.Duration, func() {
		if !v.up || v.inc != inc || v.timers[key] != seq {
			return // the process died, or the timer was replaced or stopped
		}
		delete(v.timers, key)
		v.call(func() error { return v.driver.Timeout(key) })
	})
}

func (t timersOf) StopBelow(h uint64) {
	for k := range t.v.timers {
		if k.Height < h {
			delete(t.v.timers, k)
		}
	}
}

// emptyPool is a mempool with nothing to propose.
type emptyPool struct{}

func (emptyPool) Sender(chain.Hash) (chain.Address, bool)                  { return chain.Address{}, false }
func (emptyPool) Reap(int) []*chain.Tx                                     { return nil }
func (emptyPool) Size() int                                                { return 0 }
func (emptyPool) SetState(staking.AccountReader)                           {}
func (emptyPool) Update([]chain.Hash, staking.AccountReader) (evicted int) { return 0 }

type sinkOf struct{ v *validatorNode }

func (sinkOf) ProposalSeen(*chain.Proposal, *chain.Block)           {}
func (sinkOf) VoteCounted(*chain.Vote, uint64, consensus.VoteTally) {}
func (sinkOf) ValidatorsChanged(uint64, *staking.ValidatorSet)      {}
func (sinkOf) Stepped(consensus.RoundState)                         {}
func (k sinkOf) Finalized(b *chain.Block, c *chain.Certificate, _, _ uint64, _ *chain.ExecResult, _ uint32, _ time.Time) {
	k.v.s.committed(k.v, b, c)
}

// gossipOf is the validator's network: every send goes through the fault
// point and the simulated network.
type gossipOf struct{ v *validatorNode }

// sign records a signature the validator released, failing the run on a
// second, different one for the same slot.
func (g gossipOf) signed(sl slot, hash chain.Hash) {
	v := g.v
	if old, ok := v.signed[sl]; ok && old != hash {
		v.s.violation("v%d signed two different %s at h=%d r=%d: %s and %s", v.id, sl.step, sl.height, sl.round, chain.FormatHash(old), chain.FormatHash(hash))
	}
	v.signed[sl] = hash
}

func (g gossipOf) all(deliver func(*validatorNode) error) {
	_ = g.v.fault(false)
	for j := range g.v.s.vals {
		if j != g.v.id {
			g.v.s.send(j, deliver)
		}
	}
}

func (g gossipOf) one(peer p2p.NodeID, deliver func(*validatorNode) error) bool {
	_ = g.v.fault(false)
	j, ok := g.v.s.indexOf(peer)
	if ok {
		g.v.s.send(j, deliver)
	}
	return ok
}

func (g gossipOf) from() p2p.NodeID { return g.v.s.peerID(g.v.id) }

func (g gossipOf) BroadcastProposal(p *chain.Proposal, b *chain.Block) {
	if p.Proposer == g.v.addr {
		g.signed(slot{p.Height, p.Round, "proposal"}, p.BlockHash)
	}
	from := g.from()
	g.all(func(t *validatorNode) error {
		return t.driver.Receive(from, consensus.ProposalReceived{Proposal: p, Block: b})
	})
}

func (g gossipOf) BroadcastVote(vt *chain.Vote) {
	if vt.Validator == g.v.addr {
		g.signed(slot{vt.Height, vt.Round, vt.Type.String()}, vt.BlockHash)
	}
	from := g.from()
	g.all(func(t *validatorNode) error { return t.driver.Receive(from, consensus.VoteReceived{Vote: vt}) })
}

func (g gossipOf) BroadcastEvidence(e *chain.Evidence) {
	g.all(func(t *validatorNode) error { t.driver.Evidence(e); return nil })
}

func (g gossipOf) BroadcastStatus(height uint64) {
	from := g.from()
	g.all(func(t *validatorNode) error { return t.driver.PeerStatus(from, height) })
}

func (g gossipOf) RequestBlock(peer p2p.NodeID, height uint64) bool {
	asker := g.v.id
	return g.one(peer, func(t *validatorNode) error {
		b, err := t.disk.store.Block(height)
		if err != nil {
			return nil // not here: the asker tries another peer later
		}
		c, err := t.disk.store.Certificate(height)
		if err != nil {
			return nil
		}
		from := t.s.peerID(t.id)
		t.s.send(asker, func(r *validatorNode) error {
			return r.driver.Receive(from, consensus.CommitReceived{Block: b, Certificate: c})
		})
		return nil
	})
}

func (g gossipOf) SendRoundStatus(st *p2p.RoundStatus) {
	from := g.from()
	g.all(func(t *validatorNode) error { t.driver.PeerRoundStatus(from, st); return nil })
}

func (g gossipOf) SendProposal(peer p2p.NodeID, p *chain.Proposal, b *chain.Block) {
	from := g.from()
	g.one(peer, func(t *validatorNode) error {
		return t.driver.Receive(from, consensus.ProposalReceived{Proposal: p, Block: b})
	})
}

func (g gossipOf) SendVotes(peer p2p.NodeID, votes []*chain.Vote) {
	from := g.from()
	g.one(peer, func(t *validatorNode) error {
		for _, vt := range votes {
			if err := t.driver.Receive(from, consensus.VoteReceived{Vote: vt}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (g gossipOf) SendConsensus(peer p2p.NodeID, proposals []consensus.ProposalReceived, votes []*chain.Vote) {
	for _, p := range proposals {
		g.SendProposal(peer, p.Proposal, p.Block)
	}
	if len(votes) > 0 {
		g.SendVotes(peer, votes)
	}
}

// describe is the validator's state, for a failure report.
func (v *validatorNode) describe() string {
	if v.silent {
		return fmt.Sprintf("v%d silent", v.id)
	}
	if !v.up || v.driver == nil {
		return fmt.Sprintf("v%d down, committed %d", v.id, v.disk.store.Height())
	}
	rs := v.driver.Snapshot().Round
	last, _ := v.disk.signer.Load()
	return fmt.Sprintf("v%d committed %d, at h=%d r=%d %s locked=%d valid=%d prevotes %d/%d %v precommits %d/%d; last signed h=%d r=%d %s %s",
		v.id, v.disk.store.Height(), rs.Height, rs.Round, rs.Step, rs.LockedRound, rs.ValidRound,
		rs.Prevotes.VotedStake, rs.Prevotes.TotalStake, rs.Prevotes.Blocks, rs.Precommits.VotedStake, rs.Precommits.TotalStake,
		last.Height, last.Round, last.Step, chain.FormatHash(last.SignHash))
}
