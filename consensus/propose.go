package consensus

import (
	"fmt"

	"github.com/quorumchain/quorumchain/chain"
)

// enterNewRound is the paper's StartRound(round) (lines 11-21): it moves to
// (height, round) at the propose step. If a higher round already holds
// messages from more than one third of the stake (line 55), it goes there
// instead.
func (m *Machine) enterNewRound(round uint32) {
	if r, ok := m.votes.highestSkipRound(round); ok {
		round = r
	}
	if m.step != StepNewHeight && round <= m.round {
		panic(fmt.Sprintf("consensus: invariant round-increases: enter round %d at round %d step %s", round, m.round, m.step))
	}
	m.round = round
	m.wait = waitNone
	m.prevoteWaitScheduled, m.polkaBlockSeen, m.precommitWaitScheduled = false, false, false
	m.proposer = m.set.Proposer(round)
	m.enterPropose()
}

// enterPropose is lines 13-21. Unlike the paper, the proposer also schedules
// timeoutPropose: building and signing happen outside the Machine and may
// fail (SignRefused), and the proposer must not stall the round then. Its
// own proposal, once signed, makes it prevote long before the timeout.
func (m *Machine) enterPropose() {
	m.step = StepPropose
	m.scheduleTimeout(StepPropose, m.cfg.timeoutPropose(m.round))
	if m.selfIdx < 0 || m.proposer != m.cfg.Self {
		return
	}
	if m.validValue != nil { // lines 15-16: re-propose validValue with its POL round
		m.requestProposal(m.validValue, m.validHash, m.validRound)
		return
	}
	// line 18: getValue() is asynchronous; BlockBuilt continues at line 19
	b := BuildBlock{Height: m.height, Round: m.round}
	m.buildRequest = &b
	m.emit(b)
}

// onBlockBuilt continues line 19 with the block the caller built.
func (m *Machine) onBlockBuilt(in BlockBuilt) {
	req := m.buildRequest
	if m.set == nil || req == nil || in.Height != req.Height || in.Round != req.Round {
		return // stale or unrequested: a later round asked again or moved on
	}
	if in.Block == nil || in.Block.Header.Height != m.height {
		m.reject(in, fmt.Errorf("%w: built block is nil or for another height", ErrMalformedInput))
		return
	}
	m.buildRequest = nil
	if m.decided || in.Round != m.round || m.step != StepPropose {
		return
	}
	hash := in.Block.Hash()
	m.addBlock(in.Block, hash, in.Round, blockValid) // our own block is valid by construction
	m.requestProposal(in.Block, hash, chain.NoPOLRound)
}

// requestProposal asks the Signer to sign a proposal (line 19's broadcast
// happens when the signed proposal comes back as OwnProposal).
func (m *Machine) requestProposal(b *chain.Block, hash chain.Hash, polRound int32) {
	p := chain.Proposal{Height: m.height, Round: m.round, POLRound: polRound, BlockHash: hash, Proposer: m.cfg.Self}
	m.proposalRequest = &p
	req := p
	m.emit(SignProposal{Proposal: &req, Block: b})
}

// onOwnProposal broadcasts the proposal the Signer signed and handles it as
// if received.
func (m *Machine) onOwnProposal(in OwnProposal) {
	p, b := in.Proposal, in.Block
	if p == nil || b == nil {
		m.reject(in, fmt.Errorf("%w: own proposal without proposal or block", ErrMalformedInput))
		return
	}
	if m.set == nil || p.Height != m.height {
		return
	}
	req := m.proposalRequest
	if req == nil || req.Round != p.Round || req.POLRound != p.POLRound || req.BlockHash != p.BlockHash || req.Proposer != p.Proposer {
		m.reject(in, fmt.Errorf("%w: proposal h=%d r=%d", ErrNotRequested, p.Height, p.Round))
		return
	}
	if b.Hash() != p.BlockHash {
		m.reject(in, fmt.Errorf("%w: own proposal h=%d r=%d", ErrBlockMismatch, p.Height, p.Round))
		return
	}
	if err := m.verifyProposal(p); err != nil {
		m.reject(in, fmt.Errorf("%w: %w", ErrBadSignature, err))
		return
	}
	m.proposalRequest = nil
	m.emit(BroadcastProposal{Proposal: p, Block: b})
	if m.decided || m.proposals[p.Round] != nil {
		return
	}
	m.proposals[p.Round] = p
	m.addBlock(b, p.BlockHash, p.Round, blockValid)
	m.votes.markSender(m.votes.ensureRound(p.Round), m.selfIdx)
}

// onProposal verifies and stores a proposal of the current height (any
// round up to futureRoundWindow ahead) with its block, and asks for the
// block to be checked. A proposal for the next height is buffered, if its
// proposer is a member of that height's set (see futureBuffer), unless
// fromFuture says it is being taken out of that buffer; older ones,
// duplicates and a second proposal of a round are ignored.
func (m *Machine) onProposal(in ProposalReceived, fromFuture bool) {
	p, b := in.Proposal, in.Block
	if p == nil || b == nil {
		m.reject(in, fmt.Errorf("%w: proposal without proposal or block", ErrMalformedInput))
		return
	}
	if m.set == nil || p.Height > m.height {
		if p.Height == m.height+1 && !fromFuture && m.future.addProposal(in, m.height+1, m.nextSet) {
			m.accept()
		}
		return
	}
	if p.Height < m.height {
		return
	}
	if first := m.proposals[p.Round]; first != nil {
		m.secondProposal(in, first)
		return
	}
	if m.decided {
		return
	}
	if uint64(p.Round) > uint64(m.round)+futureRoundWindow {
		return // too far ahead to be stored; votes drive a round skip
	}
	hash := b.Hash()
	if hash != p.BlockHash || b.Header.Height != p.Height {
		m.reject(in, fmt.Errorf("%w: proposal h=%d r=%d for %s, block h=%d %s", ErrBlockMismatch,
			p.Height, p.Round, chain.FormatHash(p.BlockHash), b.Header.Height, chain.FormatHash(hash)))
		return
	}
	if want := m.set.Proposer(p.Round); p.Proposer != want {
		m.reject(in, fmt.Errorf("%w: h=%d r=%d from %s, proposer is %s", ErrWrongProposer,
			p.Height, p.Round, chain.FormatAddress(p.Proposer), chain.FormatAddress(want)))
		return
	}
	idx, ok := m.index[p.Proposer]
	if !ok {
		panic("consensus: invariant proposer-in-set")
	}
	if err := m.verifyProposal(p); err != nil {
		m.reject(in, fmt.Errorf("%w: %w", ErrBadSignature, err))
		return
	}
	m.proposals[p.Round] = p
	m.accept()
	e := m.addBlock(b, hash, p.Round, blockUnchecked)
	m.requestCheck(e)
	rv := m.votes.ensureRound(p.Round)
	m.votes.markSender(rv, idx)
	switch {
	case p.Round > m.round && m.isOneThird(rv.senderStake):
		m.enterNewRound(p.Round) // line 55
	case m.step == StepNewHeight:
		m.enterNewRound(0) // a proposal ends the new-height wait (see timeout.go)
	}
}

// secondProposal handles a proposal for a round that already has one
// (first, verified and from the round's proposer). A duplicate, or one from
// another validator, is ignored. One from the same proposer for another
// block or POL round is a double proposal: its signature is verified and
// EvidenceFound reports it, once per round; the first proposal stays the
// round's. Either way the second is neither stored nor relayed.
func (m *Machine) secondProposal(in ProposalReceived, first *chain.Proposal) {
	p := in.Proposal
	if p.Proposer != first.Proposer || (p.BlockHash == first.BlockHash && p.POLRound == first.POLRound) {
		return
	}
	idx, ok := m.index[p.Proposer]
	if !ok {
		panic("consensus: invariant proposer-in-set")
	}
	key := conflictKey{idx: idx, round: p.Round, proposal: true}
	if m.reported[key] {
		return
	}
	if err := m.verifyProposal(p); err != nil {
		m.reject(in, fmt.Errorf("%w: %w", ErrBadSignature, err))
		return
	}
	m.reported[key] = true
	m.emit(EvidenceFound{Evidence: chain.NewProposalEvidence(first, p)})
}

// uponProposal is lines 22-33: in the propose step, prevote for the round's
// proposal if it is valid and compatible with the lock, else prevote nil.
// It waits while the block is being checked, and (line 28) while the
// polka of a re-proposal's POLRound has not been seen.
func (m *Machine) uponProposal() bool {
	if m.step != StepPropose {
		return false
	}
	p := m.proposals[m.round]
	if p == nil {
		return false
	}
	e := m.blocks[p.BlockHash]
	if e == nil {
		panic("consensus: invariant proposal-block-stored")
	}
	if p.POLRound == chain.NoPOLRound {
		valid, known := m.validity(e)
		if !known {
			return false
		}
		// line 23: valid(v) ∧ (lockedRound = −1 ∨ lockedValue = v); an
		// untimely block is not prevoted (see BlockChecked)
		if valid && !e.untimely && (m.lockedRound == -1 || m.lockedHash == p.BlockHash) {
			m.enterPrevote(p.BlockHash) // line 24
		} else {
			m.enterPrevote(chain.Hash{}) // line 26
		}
		return true
	}
	// line 28: PROPOSAL(h, round, v, vr) ∧ 2f+1 PREVOTE(h, vr, id(v)), 0 ≤ vr < round
	rv := m.votes.round(uint32(p.POLRound))
	if rv == nil || !rv.prevotes.hasTwoThirdsFor(p.BlockHash) {
		return false
	}
	valid, known := m.validity(e)
	if !known {
		return false
	}
	// line 29: valid(v) ∧ (lockedRound ≤ vr ∨ lockedValue = v)
	if valid && !e.untimely && (m.lockedRound <= p.POLRound || m.lockedHash == p.BlockHash) {
		m.enterPrevote(p.BlockHash) // line 30
	} else {
		m.enterPrevote(chain.Hash{}) // line 32
	}
	return true
}
