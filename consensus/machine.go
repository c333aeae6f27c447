package consensus

import (
	"errors"
	"fmt"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// Errors carried by RejectedInput. Match them with errors.Is; signature and
// certificate failures wrap the chain package's errors as well.
var (
	ErrUnknownInput     = errors.New("unknown input type")
	ErrMalformedInput   = errors.New("malformed input")
	ErrUnknownValidator = errors.New("sender is not in the validator set")
	ErrWrongProposer    = errors.New("proposal is not from the round's proposer")
	ErrBlockMismatch    = errors.New("block does not match its proposal or certificate")
	ErrBadSignature     = errors.New("bad signature")
	ErrBadCertificate   = errors.New("certificate does not verify")
	ErrInvalidBlock     = errors.New("certified block is invalid")
	ErrNotRequested     = errors.New("signed object does not answer a pending request")
	ErrStaleHeight      = errors.New("height does not increase")
)

// blockStatus is what the Machine knows of a block's validity (the paper's
// valid(v)), learnt through CheckBlock / BlockChecked.
type blockStatus uint8

const (
	blockUnchecked blockStatus = iota // CheckBlock not yet asked
	blockPending                      // CheckBlock asked, no answer yet
	blockValid
	blockInvalid
)

// blockEntry is a block of the current height seen in a proposal, built
// locally, or carried by a certificate.
type blockEntry struct {
	block  *chain.Block
	hash   chain.Hash
	round  uint32 // round where it was first seen, for CheckBlock
	status blockStatus
	// untimely: valid, but its time is too far ahead of the local clock
	// (see BlockChecked): no prevote for it as a proposal.
	untimely bool
}

// waitPhase is what a Machine in StepNewHeight waits for.
type waitPhase uint8

const (
	waitNone     waitPhase = iota
	waitInterval           // the block interval since the last block
	waitTxs                // TxsAvailable, at most until the empty-block deadline
)

// conflictKey identifies a (validator, round, vote type) whose equivocation
// was already reported, or with proposal set a (proposer, round) whose
// double proposal was.
type conflictKey struct {
	idx      int
	round    uint32
	typ      chain.VoteType
	proposal bool
}

// Machine is the consensus state machine of one node (Algorithm 1 of the
// paper with stake). It is not safe for concurrent use: one goroutine owns
// it and calls Step; RoundState snapshots may be published to others.
type Machine struct {
	cfg Config

	// Set by NewHeight.
	height     uint64
	set        *staking.ValidatorSet // nil before the first NewHeight
	stakes     []uint64              // by validator index (order of set.Validators())
	stakeTotal uint64
	index      map[chain.Address]int
	selfIdx    int // index of cfg.Self in the set, -1 if not a validator

	round    uint32
	step     RoundStep
	proposer chain.Address // of (height, round)

	lockedValue *chain.Block
	lockedHash  chain.Hash
	lockedRound int32
	validValue  *chain.Block
	validHash   chain.Hash
	validRound  int32

	votes     *heightVoteSet
	proposals map[uint32]*chain.Proposal // one per round, the first valid one
	blocks    map[chain.Hash]*blockEntry
	reported  map[conflictKey]bool
	decided   bool
	commit    *CommitReceived // verified, waiting for its block to be checked

	// First-time guards of the current round, reset by enterNewRound.
	prevoteWaitScheduled   bool // line 34
	polkaBlockSeen         bool // line 36
	precommitWaitScheduled bool // line 47

	// Requests to the Signer and the block builder not yet answered.
	voteRequests    []chain.Vote
	proposalRequest *chain.Proposal
	buildRequest    *BuildBlock

	// StepNewHeight waiting; see timeout.go.
	wait         waitPhase
	txWait       time.Duration
	txsAvailable bool

	// nextSet is the validator set of height+1 (NewHeight.NextValidators):
	// only its members' early messages are buffered.
	nextSet *staking.ValidatorSet
	future  futureBuffer

	out      []Action
	accepted bool // the input being stepped was stored or counted (see StepOutcome)
}

// NewMachine returns a Machine waiting for its first NewHeight. Messages
// that arrive before it are ignored (no validator set is known yet).
func NewMachine(cfg Config) *Machine {
	return &Machine{cfg: cfg, lockedRound: -1, validRound: -1, selfIdx: -1}
}

// Outcome says what the Machine did with an input.
type Outcome uint8

// Outcomes of StepOutcome.
const (
	// Accepted: a proposal or vote was stored, counted (an equivocator's
	// further vote included) or buffered for the next height. Only
	// accepted proposals and votes are worth relaying.
	Accepted Outcome = 1 + iota
	// Ignored: a stale, duplicate, far-future or otherwise unusable input
	// (and every input that is not a proposal or a vote and was not
	// rejected). Nothing of it was kept.
	Ignored
	// Rejected: invalid; a RejectedInput action says why.
	Rejected
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Ignored:
		return "ignored"
	case Rejected:
		return "rejected"
	}
	return "outcome?"
}

// StepOutcome is Step that also reports what became of in.
func (m *Machine) StepOutcome(in Input) ([]Action, Outcome) {
	m.accepted = false
	acts := m.Step(in)
	for _, a := range acts {
		if r, ok := a.(RejectedInput); ok && r.Input == in {
			return acts, Rejected
		}
	}
	switch in.(type) {
	case VoteReceived, ProposalReceived:
		if m.accepted {
			return acts, Accepted
		}
	}
	return acts, Ignored
}

func (m *Machine) accept() { m.accepted = true }

// Step feeds one input to the Machine and returns the actions the caller
// must perform, in order. The returned slice is owned by the caller.
func (m *Machine) Step(in Input) []Action {
	switch in := in.(type) {
	case NewHeight:
		m.onNewHeight(in)
	case ProposalReceived:
		m.onProposal(in, false)
	case VoteReceived:
		m.onVote(in, false)
	case TimeoutFired:
		m.onTimeout(in)
	case BlockChecked:
		m.onBlockChecked(in)
	case BlockBuilt:
		m.onBlockBuilt(in)
	case OwnVote:
		m.onOwnVote(in)
	case OwnProposal:
		m.onOwnProposal(in)
	case SignRefused:
		m.onSignRefused(in)
	case TxsAvailable:
		m.onTxsAvailable(in)
	case CommitReceived:
		m.onCommitReceived(in)
	default:
		m.reject(in, fmt.Errorf("%w: %T", ErrUnknownInput, in))
	}
	m.upon()
	out := m.out
	m.out = nil
	return out
}

func (m *Machine) emit(a Action) { m.out = append(m.out, a) }

func (m *Machine) reject(in Input, err error) { m.emit(RejectedInput{Input: in, Err: err}) }

// onNewHeight starts a height: it resets the round state, starts the
// new-height wait and replays the messages buffered for this height.
func (m *Machine) onNewHeight(in NewHeight) {
	if in.Validators == nil || in.Validators.Len() == 0 || in.Height == 0 {
		m.reject(in, fmt.Errorf("%w: new height %d without validators", ErrMalformedInput, in.Height))
		return
	}
	if m.set != nil && in.Height <= m.height {
		m.reject(in, fmt.Errorf("%w: new height %d at height %d", ErrStaleHeight, in.Height, m.height))
		return
	}
	vals := in.Validators.Validators()
	m.height = in.Height
	m.set = in.Validators
	m.nextSet = in.NextValidators
	m.stakes = make([]uint64, len(vals))
	m.index = make(map[chain.Address]int, len(vals))
	m.selfIdx = -1
	for i, v := range vals {
		m.stakes[i] = v.Stake
		m.index[v.Address] = i
		if v.Address == m.cfg.Self && m.cfg.Self != (chain.Address{}) {
			m.selfIdx = i
		}
	}
	m.stakeTotal = in.Validators.TotalStake()
	m.round = 0
	m.step = StepNewHeight
	m.proposer = m.set.Proposer(0)
	m.lockedValue, m.lockedHash, m.lockedRound = nil, chain.Hash{}, -1
	m.validValue, m.validHash, m.validRound = nil, chain.Hash{}, -1
	m.votes = newHeightVoteSet(m.height, m.stakes, m.stakeTotal)
	m.proposals = make(map[uint32]*chain.Proposal)
	m.blocks = make(map[chain.Hash]*blockEntry)
	m.reported = make(map[conflictKey]bool)
	m.decided = false
	m.commit = nil
	m.prevoteWaitScheduled, m.polkaBlockSeen, m.precommitWaitScheduled = false, false, false
	m.voteRequests = nil
	m.proposalRequest = nil
	m.buildRequest = nil
	m.txsAvailable = in.TxsAvailable

	m.beginNewHeightWait(in)
	for _, buffered := range m.future.take(m.height) {
		switch b := buffered.(type) {
		case ProposalReceived:
			m.onProposal(b, true)
		case VoteReceived:
			m.onVote(b, true)
		default:
			panic(fmt.Sprintf("consensus: invariant future-buffer-kind: %T", buffered))
		}
	}
}

// addBlock records a block of the current height, returning its entry.
func (m *Machine) addBlock(b *chain.Block, hash chain.Hash, round uint32, status blockStatus) *blockEntry {
	e := m.blocks[hash]
	if e == nil {
		e = &blockEntry{block: b, hash: hash, round: round, status: status}
		m.blocks[hash] = e
	} else if status == blockValid && e.status != blockInvalid {
		e.status = blockValid
	}
	return e
}

// validity reports valid(v) for a block: known is false while the block is
// not yet checked, and asks for the check once.
func (m *Machine) validity(e *blockEntry) (valid, known bool) {
	switch e.status {
	case blockValid:
		return true, true
	case blockInvalid:
		return false, true
	case blockUnchecked:
		m.requestCheck(e)
	}
	return false, false
}

// requestCheck emits CheckBlock for e once per block hash and height.
func (m *Machine) requestCheck(e *blockEntry) {
	if e.status == blockUnchecked {
		e.status = blockPending
		m.emit(CheckBlock{Height: m.height, Round: e.round, Block: e.block})
	}
}

func (m *Machine) onBlockChecked(in BlockChecked) {
	if m.set == nil || in.Height != m.height {
		return
	}
	e := m.blocks[in.Hash]
	if e == nil || e.status == blockValid || e.status == blockInvalid {
		return
	}
	if !in.Valid {
		e.status = blockInvalid
		if m.commit != nil && m.commit.Certificate.BlockHash == in.Hash {
			m.reject(*m.commit, fmt.Errorf("%w: h=%d %s: %s", ErrInvalidBlock, in.Height, chain.FormatHash(in.Hash), in.Reason))
			m.commit = nil
		}
		return
	}
	e.status = blockValid
	e.untimely = in.Untimely
}

func (m *Machine) onTxsAvailable(in TxsAvailable) {
	m.txsAvailable = true
	if m.set == nil || m.step != StepNewHeight {
		return
	}
	switch {
	case m.wait == waitTxs:
		m.enterNewRound(0)
	case m.wait == waitInterval && in.Batch:
		m.endIntervalWait() // a full batch waits: the interval is not waited out
	}
}

// upon evaluates the paper's upon rules against the current state until
// none fires. Each rule is guarded by its step or a first-time flag, so the
// loop ends.
func (m *Machine) upon() {
	if m.set == nil {
		return
	}
	for !m.decided {
		if m.uponDecision() { // line 49, at any step and round
			return
		}
		if m.step == StepNewHeight {
			return
		}
		fired := m.uponProposal() || // lines 22 and 28
			m.uponPolkaAny() || // line 34
			m.uponPolkaBlock() || // line 36
			m.uponPolkaNil() || // line 44
			m.uponPrecommitAny() || // line 47
			m.uponPolkaValid() // lines 42-43 for a polka completed late
		if !fired {
			return
		}
	}
}

// isOneThird reports 3*stake > total for the current height.
func (m *Machine) isOneThird(stake uint64) bool { return staking.HasOneThird(stake, m.stakeTotal) }
