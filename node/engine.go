package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/validator"
)

// gossip is what the engine needs from the peer network.
type gossip interface {
	BroadcastProposal(p *chain.Proposal, b *chain.Block)
	BroadcastVote(v *chain.Vote)
	BroadcastEvidence(e *chain.Evidence)
	BroadcastStatus(height uint64)
	RequestBlock(peer p2p.NodeID, height uint64) bool
	// SendRoundStatus tells every peer what the engine holds of its
	// height; SendProposal and SendVotes answer one peer's RoundStatus
	// with what it lacks (see catchup.go).
	SendRoundStatus(st *p2p.RoundStatus)
	SendProposal(peer p2p.NodeID, p *chain.Proposal, b *chain.Block)
	SendVotes(peer p2p.NodeID, votes []*chain.Vote)
	// SendConsensus sends one peer the proposals and votes of the current
	// height, so that a peer that connects mid-height catches up.
	SendConsensus(peer p2p.NodeID, proposals []consensus.ProposalReceived, votes []*chain.Vote)
}

// observer receives what the engine does, for events and metrics.
type observer interface {
	proposalSeen(p *chain.Proposal, b *chain.Block)
	voteCounted(v *chain.Vote, stake uint64, tally consensus.VoteTally)
	finalized(b *chain.Block, c *chain.Certificate, signedStake, totalStake uint64, res *chain.ExecResult, rounds uint32, finalizedAt time.Time)
	validatorsChanged(height uint64, set *staking.ValidatorSet)
	stepped(rs consensus.RoundState)
}

// inbound is a message for the consensus goroutine from another goroutine.
type inbound struct {
	peer p2p.NodeID // zero for local sources
	in   consensus.Input
	// Exactly one of in, status, roundStatus, evidence, connected, gone is set.
	status      *peerStatus
	roundStatus *p2p.RoundStatus
	evidence    *chain.Evidence
	connected   bool // the peer connected
	gone        bool // the peer disconnected
}

type peerStatus struct{ height uint64 }

// checkedBlock is a block of the current height executed on a fork of the
// committed state.
type checkedBlock struct {
	fork *staking.State
	res  *chain.ExecResult
	err  error
}

// snapshot is what RPC readers see of the engine; replaced whole after
// every change, never mutated.
type snapshot struct {
	height     uint64 // latest final height
	hash       chain.Hash
	header     *chain.Header
	state      *staking.State // committed state at height; read-only
	validators *staking.ValidatorSet
	round      consensus.RoundState
	syncing    bool
}

// engine owns the consensus Machine, the committed state, the WAL and the
// signer. Only its goroutine (run) touches its fields.
type engine struct {
	chainID string
	cfg     ConsensusConfig
	log     *slog.Logger
	store   *store.Store
	mempool *Mempool
	signer  validator.Signer // nil: not a validator
	remote  bool             // signer blocks on an operator: sign off the goroutine
	wal     *WAL
	net     gossip
	obs     observer
	evpool  *evidencePool
	machine *consensus.Machine

	inbox    chan inbound
	timeouts chan consensus.TimeoutFired
	clock    clock
	timers   map[timerKey]timer
	signing  sync.WaitGroup // remote signing requests in flight
	snap     atomic.Pointer[snapshot]

	ctx        context.Context
	state      *staking.State // committed, at height-1
	height     uint64         // height being decided
	vals       *staking.ValidatorSet
	lastHeader *chain.Header // of height-1; nil at height 1
	lastCert   *chain.Certificate
	genesisMs  uint64
	startedAt  time.Time // when this height started, for sync decisions
	queue      []consensus.Input
	checked    map[chain.Hash]*checkedBlock
	seenVotes  map[voteKey]struct{}
	// heightProposals and heightVotes are the accepted proposals and votes
	// of the current height, own ones included, for peers that connect.
	heightProposals []consensus.ProposalReceived
	heightVotes     []*chain.Vote
	have            catchupState // what heightProposals and heightVotes hold, for RoundStatus
	sync            *syncer
}

const (
	inboxSize   = 8192
	timeoutSize = 256
)

// errHalt wraps failures that must stop the node: a store or WAL write that
// did not reach disk, or a state divergence.
var errHalt = errors.New("halting")

func (e *engine) push(ctx context.Context, m inbound) bool {
	select {
	case e.inbox <- m:
		return true
	case <-ctx.Done():
		return false
	default:
		return false // full: gossip is lossy; the sender's rebroadcast or block sync recovers
	}
}

// run drives consensus until ctx is done or a fatal error occurs.
func (e *engine) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel() // ends remote signing requests still waiting
		e.signing.Wait()
		e.stopTimers(math.MaxUint64)
	}()
	e.ctx = ctx
	if err := e.startHeight(true); err != nil {
		return err
	}
	statusTick := time.NewTicker(syncStatusInterval)
	defer statusTick.Stop()
	roundTick := time.NewTicker(roundStatusInterval)
	defer roundTick.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case m := <-e.inbox:
			err = e.handle(m)
		case t := <-e.timeouts:
			e.fired(t)
			err = e.step(t)
		case <-e.mempool.TxsAvailable():
			err = e.step(consensus.TxsAvailable{})
		case <-statusTick.C:
			e.net.BroadcastStatus(e.height - 1)
			err = e.syncTick()
		case <-roundTick.C:
			e.sendRoundStatus()
		}
		if err != nil {
			return err
		}
	}
}

func (e *engine) handle(m inbound) error {
	switch {
	case m.status != nil:
		e.sync.peerHeight(m.peer, m.status.height)
		return e.syncTick()
	case m.gone:
		e.sync.peerGone(m.peer)
		return nil
	case m.roundStatus != nil:
		e.peerRoundStatus(m.peer, m.roundStatus)
		return nil
	case m.connected:
		e.net.SendConsensus(m.peer, e.heightProposals, e.heightVotes)
		return nil
	case m.evidence != nil:
		e.addEvidence(m.evidence, true)
		return nil
	}
	switch in := m.in.(type) {
	case consensus.VoteReceived:
		if in.Vote.Height != e.height && in.Vote.Height != e.height+1 {
			return nil
		}
		key := voteKey{in.Vote.SignHash(e.chainID), in.Vote.Signature}
		if _, dup := e.seenVotes[key]; dup {
			return nil
		}
		e.seenVotes[key] = struct{}{}
	case consensus.CommitReceived:
		e.sync.received(in.Block.Header.Height, in)
		return e.syncTick()
	}
	return e.step(m.in)
}

// inputHeight is the height an input belongs to: a vote or proposal of the
// next height, which the Machine buffers, is logged under that height so
// that it survives the WAL reset when the current height commits.
func inputHeight(in consensus.Input, current uint64) uint64 {
	switch in := in.(type) {
	case consensus.VoteReceived:
		if in.Vote.Height > current {
			return in.Vote.Height
		}
	case consensus.ProposalReceived:
		if in.Proposal.Height > current {
			return in.Proposal.Height
		}
	}
	return current
}

// voteKey identifies a signed vote exactly: its sign-bytes and signature.
type voteKey struct {
	signHash chain.Hash
	sig      chain.Signature
}

// step feeds in, and every input its actions produce, through the Machine.
func (e *engine) step(in consensus.Input) error {
	e.queue = append(e.queue, in)
	return e.drain()
}

// drain logs and steps the queued inputs, and those their actions queue, in
// order, then publishes the round state.
func (e *engine) drain() error {
	for len(e.queue) > 0 {
		in := e.queue[0]
		e.queue = e.queue[1:]
		if err := e.wal.Append(inputHeight(in, e.height), in); err != nil {
			return fmt.Errorf("%w: %v", errHalt, err)
		}
		actions, outcome := e.machine.StepOutcome(in)
		for _, a := range actions {
			if err := e.do(a); err != nil {
				return err
			}
		}
		e.afterInput(in, outcome)
	}
	e.publish()
	return nil
}

func (e *engine) do(a consensus.Action) error {
	switch a := a.(type) {
	case consensus.ScheduleTimeout:
		e.schedule(a)
	case consensus.BuildBlock:
		blk, err := e.buildBlock(a.Height)
		if err != nil {
			return fmt.Errorf("%w: build block h=%d: %v", errHalt, a.Height, err)
		}
		e.queue = append(e.queue, consensus.BlockBuilt{Height: a.Height, Round: a.Round, Block: blk})
	case consensus.CheckBlock:
		t0 := e.clock.Now()
		cb := e.checkBlock(a.Block)
		e.log.Debug("checked block", "height", a.Height, "txs", len(a.Block.Txs), "took", e.clock.Now().Sub(t0))
		r := consensus.BlockChecked{Height: a.Height, Hash: a.Block.Hash(), Valid: cb.err == nil}
		if cb.err != nil {
			r.Reason = cb.err.Error()
			e.log.Info("proposed block is invalid", "height", a.Height, "round", a.Round, "err", cb.err)
		}
		e.queue = append(e.queue, r)
	case consensus.SignVote:
		return e.signVote(a.Vote)
	case consensus.SignProposal:
		return e.signProposal(a.Proposal, a.Block)
	case consensus.BroadcastVote:
		e.net.BroadcastVote(a.Vote)
		e.keepVote(a.Vote)
		e.voteEvent(a.Vote)
	case consensus.BroadcastProposal:
		e.net.BroadcastProposal(a.Proposal, a.Block)
		e.keepProposal(a.Proposal, a.Block)
		e.obs.proposalSeen(a.Proposal, a.Block)
	case consensus.Finalize:
		return e.finalize(a.Block, a.Certificate)
	case consensus.EvidenceFound:
		e.log.Warn("double sign detected", "validator", chain.FormatAddress(a.Evidence.Validator()), "height", a.Evidence.Height())
		e.addEvidence(a.Evidence, true)
	case consensus.RejectedInput:
		if _, ok := a.Input.(consensus.CommitReceived); ok && errors.Is(a.Err, consensus.ErrInvalidBlock) {
			return fmt.Errorf("%w: a block certified by more than two thirds of the stake fails execution here (state divergence): %v", errHalt, a.Err)
		}
		e.log.Debug("input rejected", "height", e.height, "err", a.Err)
	}
	return nil
}

// afterInput relays a proposal or vote the Machine accepted (stored,
// counted or buffered), so that peers not directly connected to its author
// get it, and publishes it; what the Machine ignored or rejected goes no
// further.
func (e *engine) afterInput(in consensus.Input, outcome consensus.Outcome) {
	if outcome != consensus.Accepted {
		return
	}
	switch in := in.(type) {
	case consensus.VoteReceived:
		e.net.BroadcastVote(in.Vote)
		e.keepVote(in.Vote)
		e.voteEvent(in.Vote)
	case consensus.ProposalReceived:
		e.net.BroadcastProposal(in.Proposal, in.Block)
		e.keepProposal(in.Proposal, in.Block)
		e.obs.proposalSeen(in.Proposal, in.Block)
	}
}

// Bounds on what is kept of a height for peers that connect mid-height.
const (
	maxKeptProposals = 16
	maxKeptVotes     = 4096
)

func (e *engine) keepVote(v *chain.Vote) {
	if v.Height != e.height || len(e.heightVotes) >= maxKeptVotes {
		return
	}
	idx, ok := e.vals.Index(v.Validator)
	if !ok {
		return
	}
	e.heightVotes = append(e.heightVotes, v)
	e.have.addVote(idx, v)
}

func (e *engine) keepProposal(p *chain.Proposal, b *chain.Block) {
	if p.Height == e.height && len(e.heightProposals) < maxKeptProposals {
		e.heightProposals = append(e.heightProposals, consensus.ProposalReceived{Proposal: p, Block: b})
		e.have.addProposal(p.Round)
	}
}

func (e *engine) voteEvent(v *chain.Vote) {
	if v.Height != e.height {
		return
	}
	stake, _ := e.vals.StakeOf(v.Validator)
	rs := e.machine.RoundState()
	if rs.Round != v.Round {
		e.obs.voteCounted(v, stake, consensus.VoteTally{TotalStake: e.vals.TotalStake()})
		return
	}
	t := rs.Prevotes
	if v.Type == chain.Precommit {
		t = rs.Precommits
	}
	e.obs.voteCounted(v, stake, t)
}

func (e *engine) signVote(v *chain.Vote) error {
	// The lock (lockedValue, lockedRound) changes only when the Machine
	// precommits, so the inputs that led to a lock are durable once the WAL
	// is synced before every precommit. Prevotes and proposals never depend
	// on inputs whose loss could make a restarted node less locked than it
	// was; the signer's own fsync'd record prevents double signs.
	if v.Type == chain.Precommit {
		if err := e.wal.Sync(); err != nil {
			return fmt.Errorf("%w: %v", errHalt, err)
		}
	}
	if e.remote {
		e.signing.Go(func() {
			e.signRemote(func(ctx context.Context) (consensus.Input, error) {
				if err := e.signer.SignVote(ctx, e.chainID, v); err != nil {
					return nil, err
				}
				return consensus.OwnVote{Vote: v}, nil
			}, v.Height, v.Round, consensus.VoteStep(v.Type))
		})
		return nil
	}
	t0 := e.clock.Now()
	if err := e.signer.SignVote(e.ctx, e.chainID, v); err != nil {
		return e.signFailed(err, v.Height, v.Round, consensus.VoteStep(v.Type))
	}
	e.log.Debug("signed vote", "height", v.Height, "type", v.Type, "took", e.clock.Now().Sub(t0))
	e.queue = append(e.queue, consensus.OwnVote{Vote: v})
	return nil
}

func (e *engine) signProposal(p *chain.Proposal, b *chain.Block) error {
	if e.remote {
		e.signing.Go(func() {
			e.signRemote(func(ctx context.Context) (consensus.Input, error) {
				if err := e.signer.SignProposal(ctx, e.chainID, p); err != nil {
					return nil, err
				}
				return consensus.OwnProposal{Proposal: p, Block: b}, nil
			}, p.Height, p.Round, consensus.StepPropose)
		})
		return nil
	}
	if err := e.signer.SignProposal(e.ctx, e.chainID, p); err != nil {
		return e.signFailed(err, p.Height, p.Round, consensus.StepPropose)
	}
	e.queue = append(e.queue, consensus.OwnProposal{Proposal: p, Block: b})
	return nil
}

// remoteSignTimeout bounds how long one request waits for a remote signer;
// a stale answer is ignored by the Machine anyway.
const remoteSignTimeout = 10 * time.Minute

func (e *engine) signRemote(sign func(context.Context) (consensus.Input, error), h uint64, r uint32, s consensus.RoundStep) {
	ctx, cancel := context.WithTimeout(e.ctx, remoteSignTimeout)
	defer cancel()
	in, err := sign(ctx)
	if err != nil {
		if e.ctx.Err() != nil {
			return
		}
		in = consensus.SignRefused{Height: h, Round: r, Step: s, Reason: err.Error()}
	}
	select {
	case e.inbox <- inbound{in: in}:
	case <-e.ctx.Done():
	}
}

func (e *engine) signFailed(err error, h uint64, r uint32, s consensus.RoundStep) error {
	if errors.Is(err, validator.ErrConflict) || errors.Is(err, validator.ErrRegression) {
		e.log.Warn("signer refused", "height", h, "round", r, "step", s, "err", err)
		e.queue = append(e.queue, consensus.SignRefused{Height: h, Round: r, Step: s, Reason: err.Error()})
		return nil
	}
	// The signer could not persist its state: signing on would risk a double sign.
	return fmt.Errorf("%w: signer: %v", errHalt, err)
}

func (e *engine) publish() {
	old := e.snap.Load()
	s := *old
	s.round = e.machine.RoundState()
	s.syncing = e.sync.syncing(e.height)
	e.snap.Store(&s)
	e.obs.stepped(s.round)
}
