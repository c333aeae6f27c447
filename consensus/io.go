package consensus

import (
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// RoundStep is a step of a round, in the order the algorithm passes through them.
type RoundStep uint8

// Steps of a height. StepNewHeight waits for the block interval and, when
// empty blocks are skipped, for transactions; StepCommit is entered once a
// block is decided and lasts until the next NewHeight.
const (
	StepNewHeight RoundStep = iota
	StepPropose
	StepPrevote
	StepPrecommit
	StepCommit
)

func (s RoundStep) String() string {
	switch s {
	case StepNewHeight:
		return "newheight"
	case StepPropose:
		return "propose"
	case StepPrevote:
		return "prevote"
	case StepPrecommit:
		return "precommit"
	case StepCommit:
		return "commit"
	}
	return "step?"
}

// VoteStep returns the step at which votes of type t are cast: StepPrecommit
// for precommits, StepPrevote otherwise. With RoundStep.VoteType it is the
// one place that relates vote types to round steps.
func VoteStep(t chain.VoteType) RoundStep {
	if t == chain.Precommit {
		return StepPrecommit
	}
	return StepPrevote
}

// VoteType returns the type of the votes cast at step s, and false if no
// vote is cast at s.
func (s RoundStep) VoteType() (chain.VoteType, bool) {
	switch s {
	case StepPrevote:
		return chain.Prevote, true
	case StepPrecommit:
		return chain.Precommit, true
	}
	return 0, false
}

// Input is an event fed to Machine.Step. Implementations are the types below.
type Input interface{ isInput() }

// Action is something the caller must do. Implementations are the types below.
type Action interface{ isAction() }

// ---- Inputs ----

// NewHeight starts a height: the previous one is durably committed (or this
// is the first height). Validators is the set of Height; LastBlockTime is the
// header time of Height-1 (genesis time at height 1), Now the caller's clock.
//
// NextValidators is the membership of Height+1 (known once Height-1 is
// committed: staking selects a set one height before it serves). The
// Machine buffers early proposals and votes of Height+1 only from its
// members; nil buffers none. Only membership counts: the stakes and
// priorities of Height+1 are taken from that height's own NewHeight.
//
// TxsAvailable (added by consensus) tells whether the mempool holds
// transactions at the start of the height; with Config.SkipEmptyBlocks the
// Machine otherwise waits for a TxsAvailable input. A TxsAvailable input
// that arrives before NewHeight does not carry over to the new height.
type NewHeight struct {
	Height         uint64
	Validators     *staking.ValidatorSet
	NextValidators *staking.ValidatorSet
	LastBlockTime  time.Time
	Now            time.Time
	TxsAvailable   bool
	// TxsBatch tells that the mempool holds a full batch at the start of
	// the height: the block interval is skipped (see TxsAvailable).
	TxsBatch bool
}

// ProposalReceived carries a proposal and its block from the network. The
// caller has decoded it; the Machine verifies the proposal signature and
// that it comes from the round's proposer.
type ProposalReceived struct {
	Proposal *chain.Proposal
	Block    *chain.Block
}

// VoteReceived carries a vote from the network (signature not yet verified).
type VoteReceived struct{ Vote *chain.Vote }

// TimeoutFired reports that a timeout scheduled with ScheduleTimeout elapsed.
type TimeoutFired struct {
	Height uint64
	Round  uint32
	Step   RoundStep
}

// BlockChecked answers CheckBlock: whether the block with this hash at this
// height is valid (executes correctly against the state after Height-1 and
// its header commitments match).
//
// Untimely marks a valid block whose time is too far ahead of the local
// clock. Validity that depends on a clock must only ever delay a prevote:
// the Machine does not prevote for an untimely block as a proposal (lines
// 22-33), but decides it like any valid block when more than two thirds of
// the stake certify it (by precommits or a block-sync certificate), so a
// node whose clock runs slow follows the chain instead of halting.
type BlockChecked struct {
	Height   uint64
	Hash     chain.Hash
	Valid    bool
	Reason   string // why not, when !Valid
	Untimely bool
}

// BlockBuilt answers BuildBlock with the block the local proposer proposes.
type BlockBuilt struct {
	Height uint64
	Round  uint32
	Block  *chain.Block
}

// OwnVote returns a vote the local Signer signed in answer to SignVote.
type OwnVote struct{ Vote *chain.Vote }

// OwnProposal returns a proposal the local Signer signed in answer to SignProposal.
type OwnProposal struct {
	Proposal *chain.Proposal
	Block    *chain.Block
}

// SignRefused reports that the Signer refused a request (it would conflict
// with something already signed, or the remote signer is absent). The
// Machine carries on without that signature.
type SignRefused struct {
	Height uint64
	Round  uint32
	Step   RoundStep
	Reason string
}

// TxsAvailable reports that the mempool holds transactions to propose.
// Batch reports that it holds a full batch (the node's batch size): the
// block interval (Config.BlockInterval) is then not waited out, so a
// loaded chain makes blocks as fast as it can while a lightly loaded one
// makes fewer, fuller ones.
type TxsAvailable struct{ Batch bool }

// CommitReceived carries a block with a certificate for it, obtained by block
// sync, for the Machine's current height. The Machine verifies the
// certificate against the height's validator set and, if valid, decides the
// block (after a BlockChecked for it says it is valid).
type CommitReceived struct {
	Block       *chain.Block
	Certificate *chain.Certificate
}

func (NewHeight) isInput()        {}
func (ProposalReceived) isInput() {}
func (VoteReceived) isInput()     {}
func (TimeoutFired) isInput()     {}
func (BlockChecked) isInput()     {}
func (BlockBuilt) isInput()       {}
func (OwnVote) isInput()          {}
func (OwnProposal) isInput()      {}
func (SignRefused) isInput()      {}
func (TxsAvailable) isInput()     {}
func (CommitReceived) isInput()   {}

// ---- Actions ----

// ScheduleTimeout asks the caller to feed TimeoutFired{Height, Round, Step}
// after Duration. Stale timeouts are ignored by the Machine.
type ScheduleTimeout struct {
	Height   uint64
	Round    uint32
	Step     RoundStep
	Duration time.Duration
}

// BuildBlock asks the caller (the local validator is the proposer) to build a
// block for Height; answer with BlockBuilt.
type BuildBlock struct {
	Height uint64
	Round  uint32
}

// CheckBlock asks the caller to validate a proposed block; answer with
// BlockChecked. The Machine asks once per block hash per height.
type CheckBlock struct {
	Height uint64
	Round  uint32
	Block  *chain.Block
}

// SignVote asks the Signer to sign Vote (Signature empty); answer with
// OwnVote or SignRefused.
type SignVote struct{ Vote *chain.Vote }

// SignProposal asks the Signer to sign Proposal; answer with OwnProposal or
// SignRefused.
type SignProposal struct {
	Proposal *chain.Proposal
	Block    *chain.Block
}

// BroadcastVote sends a signed vote (own or relayed) to the network.
type BroadcastVote struct{ Vote *chain.Vote }

// BroadcastProposal sends a signed proposal with its block to the network.
type BroadcastProposal struct {
	Proposal *chain.Proposal
	Block    *chain.Block
}

// Finalize reports the decision for a height: Block is final, Certificate
// proves it. The caller commits both durably, then starts Height+1.
type Finalize struct {
	Block       *chain.Block
	Certificate *chain.Certificate
}

// EvidenceFound reports a double sign detected among received votes (two
// votes of one validator, type and round for different blocks) or
// proposals (two proposals of the round's proposer with different blocks
// or POL rounds): Evidence is of kind chain.DoubleVote or
// chain.DoubleProposal.
type EvidenceFound struct{ Evidence *chain.Evidence }

// RejectedInput reports an input the Machine discarded because it was
// invalid (bad signature, unknown validator, wrong proposer). The caller may
// penalise the peer that sent it. Stale or duplicate inputs are ignored
// silently instead.
type RejectedInput struct {
	Input Input
	Err   error
}

func (ScheduleTimeout) isAction()   {}
func (BuildBlock) isAction()        {}
func (CheckBlock) isAction()        {}
func (SignVote) isAction()          {}
func (SignProposal) isAction()      {}
func (BroadcastVote) isAction()     {}
func (BroadcastProposal) isAction() {}
func (Finalize) isAction()          {}
func (EvidenceFound) isAction()     {}
func (RejectedInput) isAction()     {}

// Recoverer recovers the address that signed a digest, rejecting malformed
// and non-canonical signatures as chain.Recover does. The Machine verifies
// every vote and proposal through it.
type Recoverer = chain.Recoverer

// Config tunes a Machine. Durations are data: the Machine only copies them
// into ScheduleTimeout actions.
type Config struct {
	ChainID string
	// Self is the local validator's address, or the zero address for a
	// node that only follows.
	Self chain.Address

	TimeoutPropose        time.Duration // round 0; grows by TimeoutProposeDelta per round
	TimeoutProposeDelta   time.Duration
	TimeoutPrevote        time.Duration // wait after any +2/3 prevotes
	TimeoutPrevoteDelta   time.Duration
	TimeoutPrecommit      time.Duration // wait after any +2/3 precommits
	TimeoutPrecommitDelta time.Duration

	// BlockInterval is the least time between a block's time and the start
	// of the next height, unless a full batch of transactions waits
	// (NewHeight.TxsBatch, TxsAvailable.Batch). Zero starts the next
	// height at once.
	BlockInterval time.Duration
	// SkipEmptyBlocks makes the proposer wait for TxsAvailable before
	// proposing, but no longer than EmptyBlockInterval (zero: wait forever).
	SkipEmptyBlocks    bool
	EmptyBlockInterval time.Duration

	// Recoverer, when not nil, replaces chain.Recover for the signatures
	// of votes and proposals. A process that runs many Machines (the
	// simulator) shares one cache of verified signatures through it, so
	// that a signature is recovered once, not once per Machine.
	Recoverer Recoverer
}
