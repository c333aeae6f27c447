package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/validator"
)

// Gossip is what the driver needs from the peer network. Every method
// queues and returns; none blocks.
type Gossip interface {
	BroadcastProposal(p *chain.Proposal, b *chain.Block)
	BroadcastVote(v *chain.Vote)
	BroadcastEvidence(e *chain.Evidence)
	BroadcastStatus(height uint64)
	RequestBlock(peer p2p.NodeID, height uint64) bool
	// SendRoundStatus tells every peer what the driver holds of its
	// height; SendProposal and SendVotes answer one peer's RoundStatus
	// with what it lacks (see catchup.go).
	SendRoundStatus(st *p2p.RoundStatus)
	SendProposal(peer p2p.NodeID, p *chain.Proposal, b *chain.Block)
	SendVotes(peer p2p.NodeID, votes []*chain.Vote)
	// SendConsensus sends one peer the proposals and votes of the current
	// height, so that a peer that connects mid-height catches up.
	SendConsensus(peer p2p.NodeID, proposals []consensus.ProposalReceived, votes []*chain.Vote)
	// Misbehaved reports a peer that sent what no honest node sends (a
	// block-sync answer with a bad certificate); the network disconnects
	// it, and may ban it for a while.
	Misbehaved(peer p2p.NodeID, err error)
}

// Sink receives what the driver does, for events and metrics.
type Sink interface {
	ProposalSeen(p *chain.Proposal, b *chain.Block)
	VoteCounted(v *chain.Vote, stake uint64, tally consensus.VoteTally)
	Finalized(b *chain.Block, c *chain.Certificate, signedStake, totalStake uint64, res *chain.ExecResult, rounds uint32, finalizedAt time.Time)
	ValidatorsChanged(height uint64, set *staking.ValidatorSet)
	Stepped(rs consensus.RoundState)
	// Rejected reports an input the Machine rejected (an invalid vote,
	// proposal or commit, or an answer it did not ask for); replay is set
	// for a logged input rejected while the log is replayed at start,
	// which only a corrupt log or a bug can cause.
	Rejected(in consensus.Input, err error, replay bool)
}

// Store is the chain store as the driver uses it (chain/store.Store).
type Store interface {
	Height() uint64
	Header(h uint64) (*chain.Header, error)
	Certificate(h uint64) (*chain.Certificate, error)
	ValidatorSet(h uint64) (*staking.ValidatorSet, error)
	CommitBlock(fb *store.FinalBlock) error
}

// Mempool is the transaction pool as the driver uses it: it reaps
// transactions for blocks, knows their recovered senders, and is re-checked
// against each committed state.
type Mempool interface {
	chain.SenderCache
	Reap(max int) []*chain.Tx
	Size() int
	// SetState gives the pool the committed state it admits against.
	SetState(state staking.AccountReader)
	// Update drops included transactions and re-checks the rest.
	Update(included []chain.Hash, state staking.AccountReader) (evicted int)
}

// Log is the consensus write-ahead log; the node uses engine/wal's Log.
type Log interface {
	// Append logs an input of height (the current one, or the next for a
	// proposal or vote that arrived early).
	Append(height uint64, in consensus.Input) error
	// Sync makes everything appended durable.
	Sync() error
	// Reset drops the records of committed and lower heights. The records
	// it keeps may be lost in a crash until the next Sync returns.
	Reset(committed uint64) error
	// ReadAll returns the inputs logged for height, in order.
	ReadAll(height uint64) ([]consensus.Input, error)
}

// Clock reads the time. The driver reads it for block times, sync
// decisions and finality timestamps; it never waits on it.
type Clock interface{ Now() time.Time }

// Timers arms consensus timeouts for the caller, which feeds each one back
// with Driver.Timeout when it fires.
type Timers interface {
	// Schedule arms a timeout, replacing one of the same height, round
	// and step.
	Schedule(a consensus.ScheduleTimeout)
	// StopBelow stops every timeout of a height below height.
	StopBelow(height uint64)
}

// SignRequester asks a signer that answers later (a remote signer waiting
// on its operator). The caller feeds the answer back with Driver.Signed:
// OwnVote, OwnProposal or SignRefused.
type SignRequester interface {
	RequestVote(v *chain.Vote)
	RequestProposal(p *chain.Proposal, b *chain.Block)
}

// Deps are the driver's connections to the outside.
type Deps struct {
	Store   Store
	Mempool Mempool
	Log     Log
	// Signer signs for the local validator, or is nil for a node that only
	// follows. With Requester set, signatures are asked through it instead
	// and Signer only names the validator.
	Signer    validator.Signer
	Requester SignRequester
	Gossip    Gossip
	Sink      Sink
	Clock     Clock
	Timers    Timers
	Logger    *slog.Logger
}

// Config is the driver's configuration.
type Config struct {
	ChainID     string
	Machine     consensus.Config
	MaxBlockTxs int
	// BatchTxs is how many waiting transactions make a full batch, for
	// which a proposer does not wait out the block interval
	// (consensus.TxsAvailable); zero: the interval is always waited.
	BatchTxs int
	// GenesisTime is the time of height 0, the lower bound of block 1's.
	GenesisTime time.Time
	// MaxLoggedProposalBytes and MaxLoggedVoteBytes bound, per height, the
	// log bytes of peers' proposals and of peers' votes (admission.go);
	// zero takes the defaults, DefaultMaxLoggedProposalBytes and
	// DefaultMaxLoggedVoteBytes.
	MaxLoggedProposalBytes, MaxLoggedVoteBytes int64
	// DoublePropose makes a Byzantine proposer, for test networks only:
	// after each of its proposals the driver broadcasts a second one, for
	// a block one millisecond later, signed through the signer's
	// SignSecondProposal (see byzantine.go). Honest peers report it as
	// evidence and the chain slashes and jails the validator.
	DoublePropose bool
}

// checkedBlock is a block of the current height executed on a fork of the
// committed state.
type checkedBlock struct {
	fork *staking.State
	res  *chain.ExecResult
	err  error
}

// Snapshot is what RPC readers see of the driver; replaced whole after
// every change, never mutated.
type Snapshot struct {
	Height     uint64 // latest final height
	Hash       chain.Hash
	Header     *chain.Header
	State      *staking.State // committed state at Height; read-only
	Validators *staking.ValidatorSet
	Round      consensus.RoundState
	Syncing    bool
}

// Driver owns the consensus Machine, the committed state, the log and the
// calls to the signer. It is not safe for concurrent use: one goroutine
// calls its methods; Snapshot may be read from any.
type Driver struct {
	chainID   string
	cfg       Config
	log       *slog.Logger
	store     Store
	mempool   Mempool
	signer    validator.Signer
	requester SignRequester
	wal       Log
	net       Gossip
	obs       Sink
	clock     Clock
	timers    Timers
	evpool    *evidencePool
	machine   *consensus.Machine
	snap      atomic.Pointer[Snapshot]

	ctx      context.Context
	state    *staking.State // committed, at height-1
	height   uint64         // height being decided
	vals     *staking.ValidatorSet
	nextVals *staking.ValidatorSet // membership of height+1 (see admission.go)
	// heightShare and nextShare are what peers' inputs of the current and
	// the next height take in the log (see admission.go).
	heightShare, nextShare logShare
	lastHeader             *chain.Header // of height-1; nil at height 1
	lastCert               *chain.Certificate
	late                   lastCommit // precommits for lastCert's block beyond it (lastcommit.go)
	genesisMs              uint64
	startedAt              time.Time // when this height started, for sync decisions
	queue                  []consensus.Input
	checked                map[chain.Hash]*checkedBlock
	seenVotes              map[voteKey]struct{}

	// decided holds the tallies of the round that decided height-1, for
	// the votes event of the precommit that completed its quorum.
	decided decidedRound

	// heightProposals and heightVotes are the accepted proposals and votes
	// of the current height, own ones included, for peers that connect.
	heightProposals []consensus.ProposalReceived
	heightVotes     []*chain.Vote
	have            catchupState // what heightProposals and heightVotes hold, for RoundStatus
	// nextProposals and nextVotes are the accepted ones of the next height,
	// which the Machine buffers and counts when that height starts; they
	// join heightProposals and heightVotes then, so that catch-up serves
	// them too.
	nextProposals []consensus.ProposalReceived
	nextVotes     []*chain.Vote
	sync          *syncer
	// syncRejected is set when the Machine rejects a block-sync answer
	// (see SyncTick).
	syncRejected error
	// lostVote is the signer's last vote of this height, released before a
	// restart and not yet re-sent (see ownvote.go).
	lostVote *validator.LastSigned
	// held are the sign requests the silent Byzantine mode left
	// unanswered (byzantine.go).
	held []consensus.Action
	// toldTxs and toldBatch are the heights whose Machine knows that
	// transactions, and a full batch of them, wait (see TxsAvailable).
	toldTxs, toldBatch uint64
}

// ErrHalt wraps failures that must stop the node: a store or log write
// that did not reach disk, a signer that could not persist its state, or a
// state divergence. After one, the driver must not be used again.
var ErrHalt = errors.New("halting")

// New returns a driver over the committed state (at the store's height)
// and publishes the stored chain, so that readers see it before Start.
func New(cfg Config, deps Deps, state *staking.State) (*Driver, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxLoggedProposalBytes <= 0 {
		cfg.MaxLoggedProposalBytes = DefaultMaxLoggedProposalBytes
	}
	if cfg.MaxLoggedVoteBytes <= 0 {
		cfg.MaxLoggedVoteBytes = DefaultMaxLoggedVoteBytes
	}
	mcfg := cfg.Machine
	mcfg.ChainID = cfg.ChainID
	if deps.Signer != nil {
		mcfg.Self = deps.Signer.Address()
	}
	e := &Driver{
		chainID: cfg.ChainID, cfg: cfg, log: deps.Logger, store: deps.Store, mempool: deps.Mempool,
		signer: deps.Signer, requester: deps.Requester, wal: deps.Log, net: deps.Gossip, obs: deps.Sink,
		clock: deps.Clock, timers: deps.Timers, evpool: newEvidencePool(), machine: consensus.NewMachine(mcfg),
		state: state, genesisMs: uint64(cfg.GenesisTime.UnixMilli()), sync: newSyncer(),
	}
	if err := e.publishStored(); err != nil {
		return nil, err
	}
	return e, nil
}

// Snapshot returns the latest published view of the chain and round.
func (e *Driver) Snapshot() *Snapshot { return e.snap.Load() }

// Height returns the height being decided.
func (e *Driver) Height() uint64 { return e.height }

// Start begins the height after the stored chain, replaying the log of
// that height if there is one. ctx bounds the signer's calls.
func (e *Driver) Start(ctx context.Context) error {
	e.ctx = ctx
	e.noteLastSigned(e.store.Height() + 1)
	return e.startHeight(true)
}

// Receive handles a proposal, vote or block-sync commit from a peer. A
// proposal or vote that fails admission (admission.go) is dropped without
// a trace.
func (e *Driver) Receive(peer p2p.NodeID, in consensus.Input) error {
	switch in := in.(type) {
	case consensus.ProposalReceived:
		if !e.admit(in) {
			return nil
		}
	case consensus.VoteReceived:
		if e.lateVote(in) {
			return nil // a precommit of the last height, for the next block's certificate
		}
		if !e.admit(in) {
			return nil
		}
		if _, dup := e.seenVotes[keyOf(in.Vote)]; dup {
			return nil // accepted before
		}
	case consensus.CommitReceived:
		if in.Block == nil || in.Certificate == nil {
			return nil
		}
		e.sync.received(peer, in.Block.Header.Height, in)
		return e.SyncTick()
	}
	return e.step(in)
}

// Signed feeds back the answer of a SignRequester: OwnVote, OwnProposal or
// SignRefused.
func (e *Driver) Signed(in consensus.Input) error { return e.step(in) }

// Timeout feeds a fired timeout.
func (e *Driver) Timeout(t consensus.TimeoutFired) error { return e.step(t) }

// TxsAvailable tells the driver that transactions were added to the
// mempool. Only what can change the Machine's course reaches it (and its
// log): the first news of transactions in a height's new-height wait, and
// then that a full batch waits; at any other step it would be ignored.
func (e *Driver) TxsAvailable() error {
	if e.machine.RoundState().Step != consensus.StepNewHeight {
		return nil
	}
	any, batch := e.pending()
	if !any || e.toldTxs == e.height && (e.toldBatch == e.height || !batch) {
		return nil
	}
	e.toldTxs = e.height
	if batch {
		e.toldBatch = e.height
	}
	return e.step(consensus.TxsAvailable{Batch: batch})
}

// pending tells whether the mempool holds transactions, and whether it
// holds a full batch (Config.BatchTxs; never when that is zero).
func (e *Driver) pending() (any, batch bool) {
	n := e.mempool.Size()
	return n > 0, e.cfg.BatchTxs > 0 && n >= e.cfg.BatchTxs
}

// PeerStatus records a peer's latest final height and requests blocks
// from it when it is ahead.
func (e *Driver) PeerStatus(peer p2p.NodeID, height uint64) error {
	e.sync.peerHeight(peer, height)
	return e.SyncTick()
}

// PeerConnected sends a newly connected peer what the driver holds of the
// current height.
func (e *Driver) PeerConnected(peer p2p.NodeID) {
	e.net.SendConsensus(peer, e.heightProposals, e.heightVotes)
}

// PeerGone forgets a disconnected peer.
func (e *Driver) PeerGone(peer p2p.NodeID) { e.sync.peerGone(peer) }

// Evidence verifies and keeps evidence a peer sent, and gossips it if new.
func (e *Driver) Evidence(ev *chain.Evidence) { e.addEvidence(ev, true) }

// StatusTick announces the latest final height and advances block sync;
// it also signs what a validator held back while silent, once it is not.
// The caller calls it every few hundred milliseconds.
func (e *Driver) StatusTick() error {
	if err := e.releaseHeld(); err != nil {
		return err
	}
	e.net.BroadcastStatus(e.height - 1)
	return e.SyncTick()
}

// Stop stops the timers of every height.
func (e *Driver) Stop() { e.timers.StopBelow(^uint64(0)) }

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

// step feeds in, and every input its actions produce, through the Machine.
func (e *Driver) step(in consensus.Input) error {
	e.queue = append(e.queue, in)
	return e.drain()
}

// drain steps the queued inputs, and those their actions queue, in order,
// logging each one the Machine took (see logged) before its actions are
// carried out, then publishes the round state.
func (e *Driver) drain() error {
	for len(e.queue) > 0 {
		in := e.queue[0]
		e.queue = e.queue[1:]
		actions, outcome := e.machine.StepOutcome(in)
		if logged(in, outcome) {
			if err := e.wal.Append(inputHeight(in, e.height), in); err != nil {
				return fmt.Errorf("%w: %w", ErrHalt, err)
			}
			e.countLogged(in)
		}
		for _, a := range actions {
			if err := e.do(a); err != nil {
				return err
			}
		}
		e.afterInput(in, outcome)
	}
	e.publish()
	if e.lostVote != nil {
		return e.recoverLastVote() // a block it may be for may have arrived
	}
	return nil
}

func (e *Driver) do(a consensus.Action) error {
	switch a := a.(type) {
	case consensus.ScheduleTimeout:
		e.timers.Schedule(a)
	case consensus.BuildBlock:
		blk, err := e.buildBlock(a.Height)
		if err != nil {
			return fmt.Errorf("%w: build block h=%d: %w", ErrHalt, a.Height, err)
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
		} else if e.untimely(a.Block) {
			r.Untimely = true
			e.log.Info("proposed block's time is ahead of the local clock: no prevote for it", "height", a.Height, "round", a.Round, "time", a.Block.Header.Time, "drift", maxClockDrift)
		}
		e.queue = append(e.queue, r)
	case consensus.SignVote:
		return e.signVote(a.Vote)
	case consensus.SignProposal:
		return e.signProposal(a.Proposal, a.Block)
	case consensus.BroadcastVote:
		e.sendVote(a.Vote)
	case consensus.BroadcastProposal:
		e.sendProposal(a.Proposal, a.Block)
		if e.doubleProposing() {
			e.doublePropose(a.Proposal, a.Block)
		}
	case consensus.Finalize:
		return e.finalize(a.Block, a.Certificate)
	case consensus.EvidenceFound:
		e.log.Warn("double sign detected", "kind", a.Evidence.Kind.String(), "validator", chain.FormatAddress(a.Evidence.Validator()), "height", a.Evidence.Height())
		e.addEvidence(a.Evidence, true)
	case consensus.RejectedInput:
		if _, ok := a.Input.(consensus.CommitReceived); ok {
			if errors.Is(a.Err, consensus.ErrInvalidBlock) {
				return fmt.Errorf("%w: a block certified by more than two thirds of the stake fails execution here (state divergence): %w", ErrHalt, a.Err)
			}
			e.syncRejected = a.Err
		}
		e.log.Debug("input rejected", "height", e.height, "err", a.Err)
		e.obs.Rejected(a.Input, a.Err, false)
	}
	return nil
}

// afterInput relays a proposal or vote the Machine accepted (stored,
// counted or buffered), so that peers not directly connected to its author
// get it, and publishes it; what the Machine ignored or rejected goes no
// further.
func (e *Driver) afterInput(in consensus.Input, outcome consensus.Outcome) {
	if outcome != consensus.Accepted {
		return
	}
	switch in := in.(type) {
	case consensus.VoteReceived:
		// Only accepted votes are remembered, so the set is bounded by
		// what the Machine keeps, whatever peers send.
		if in.Vote.Height >= e.height {
			e.seenVotes[keyOf(in.Vote)] = struct{}{}
		}
		e.sendVote(in.Vote)
	case consensus.ProposalReceived:
		e.sendProposal(in.Proposal, in.Block)
	}
}

// sendVote broadcasts a vote (own or relayed), keeps it for catch-up and
// publishes it.
func (e *Driver) sendVote(v *chain.Vote) {
	e.net.BroadcastVote(v)
	e.keepVote(v)
	e.voteEvent(v)
}

// sendProposal broadcasts a proposal (own or relayed), keeps it for
// catch-up and publishes it.
func (e *Driver) sendProposal(p *chain.Proposal, b *chain.Block) {
	e.net.BroadcastProposal(p, b)
	e.keepProposal(p, b)
	e.obs.ProposalSeen(p, b)
}

// Bounds on what is kept of a height for peers that connect mid-height.
const (
	maxKeptProposals = 16
	maxKeptVotes     = 4096
)

func (e *Driver) keepVote(v *chain.Vote) {
	if v.Height == e.height+1 && len(e.nextVotes) < maxKeptVotes {
		e.nextVotes = append(e.nextVotes, v)
		return
	}
	if v.Height != e.height || len(e.heightVotes) >= maxKeptVotes {
		return
	}
	idx, ok := e.vals.Index(v.Validator)
	if !ok {
		return
	}
	stake, _ := e.vals.StakeOf(v.Validator)
	e.heightVotes = append(e.heightVotes, v)
	e.have.addVote(idx, stake, v)
}

func (e *Driver) keepProposal(p *chain.Proposal, b *chain.Block) {
	if p.Height == e.height+1 && len(e.nextProposals) < maxKeptProposals {
		e.nextProposals = append(e.nextProposals, consensus.ProposalReceived{Proposal: p, Block: b})
		return
	}
	if p.Height == e.height && len(e.heightProposals) < maxKeptProposals {
		e.heightProposals = append(e.heightProposals, consensus.ProposalReceived{Proposal: p, Block: b})
		e.have.addProposal(p.Round)
	}
}

func (e *Driver) voteEvent(v *chain.Vote) {
	if v.Height != e.height {
		e.decidedVoteEvent(v)
		return
	}
	stake, _ := e.vals.StakeOf(v.Validator)
	rs := e.machine.RoundState()
	if rs.Round != v.Round {
		e.obs.VoteCounted(v, stake, consensus.VoteTally{TotalStake: e.vals.TotalStake()})
		return
	}
	t := rs.Prevotes
	if v.Type == chain.Precommit {
		t = rs.Precommits
	}
	e.obs.VoteCounted(v, stake, t)
}

// syncBeforeSigning makes the log durable before the signer signs. Then
// every input that led to a signature is on disk before the signature
// exists: the lock a precommit expresses survives a crash, and so does the
// block a vote or proposal is for. The signer refuses to sign anything
// else for a slot it signed, or for an earlier one, so a restarted node
// must be able to ask for exactly what it signed before: with this sync,
// every signature but the last has its record in the log (the next sync
// carries it), and the last is recovered from the signer's record
// (ownvote.go).
func (e *Driver) syncBeforeSigning() error {
	if err := e.wal.Sync(); err != nil {
		return fmt.Errorf("%w: %w", ErrHalt, err)
	}
	return nil
}

func (e *Driver) signVote(v *chain.Vote) error {
	if err := e.syncBeforeSigning(); err != nil {
		return err
	}
	if e.requester != nil {
		e.requester.RequestVote(v)
		return nil
	}
	switch mode := e.byzantine(); {
	case mode == validator.ByzantineSilent:
		e.hold(consensus.SignVote{Vote: v})
		return nil
	case mode == validator.ByzantineNilVotes && !v.IsNil():
		return e.signNilVote(v)
	}
	t0 := e.clock.Now()
	if err := e.signer.SignVote(e.ctx, e.chainID, v); err != nil {
		return e.signFailed(err, v.Height, v.Round, consensus.VoteStep(v.Type))
	}
	e.log.Debug("signed vote", "height", v.Height, "type", v.Type, "took", e.clock.Now().Sub(t0))
	e.queue = append(e.queue, consensus.OwnVote{Vote: v})
	if e.byzantine() == validator.ByzantineEquivocate {
		e.equivocate(v)
	}
	return nil
}

func (e *Driver) signProposal(p *chain.Proposal, b *chain.Block) error {
	if err := e.syncBeforeSigning(); err != nil {
		return err
	}
	if e.requester != nil {
		e.requester.RequestProposal(p, b)
		return nil
	}
	if e.byzantine() == validator.ByzantineSilent {
		e.hold(consensus.SignProposal{Proposal: p, Block: b})
		return nil
	}
	if err := e.signer.SignProposal(e.ctx, e.chainID, p); err != nil {
		return e.signFailed(err, p.Height, p.Round, consensus.StepPropose)
	}
	e.queue = append(e.queue, consensus.OwnProposal{Proposal: p, Block: b})
	return nil
}

func (e *Driver) signFailed(err error, h uint64, r uint32, s consensus.RoundStep) error {
	if errors.Is(err, validator.ErrConflict) || errors.Is(err, validator.ErrRegression) {
		e.log.Warn("signer refused", "height", h, "round", r, "step", s, "err", err)
		e.queue = append(e.queue, consensus.SignRefused{Height: h, Round: r, Step: s, Reason: err.Error()})
		return nil
	}
	// The signer could not persist its state: signing on would risk a double sign.
	return fmt.Errorf("%w: signer: %w", ErrHalt, err)
}

func (e *Driver) publish() {
	old := e.snap.Load()
	s := *old
	s.Round = e.machine.RoundState()
	s.Syncing = e.sync.syncing(e.height)
	e.snap.Store(&s)
	e.obs.Stepped(s.Round)
}
