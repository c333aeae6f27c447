package consensus

import "github.com/quorumchain/quorumchain/chain"

// enterPrevote moves to the prevote step and asks the Signer for a prevote
// for hash (zero: nil). Lines 24, 26, 30, 32 and 59.
func (m *Machine) enterPrevote(hash chain.Hash) {
	m.step = StepPrevote
	m.signVote(chain.Prevote, hash)
}

// uponPolkaAny is line 34: upon 2f+1 PREVOTE(h, round, ∗) while step =
// prevote for the first time, schedule timeoutPrevote.
func (m *Machine) uponPolkaAny() bool {
	if m.step != StepPrevote || m.prevoteWaitScheduled {
		return false
	}
	rv := m.votes.round(m.round)
	if rv == nil || !rv.prevotes.hasTwoThirdsAny() {
		return false
	}
	m.prevoteWaitScheduled = true
	m.scheduleTimeout(StepPrevote, m.cfg.timeoutPrevote(m.round))
	return true
}

// uponPolkaBlock is lines 36-43: upon PROPOSAL(h, round, v, ∗) and 2f+1
// PREVOTE(h, round, id(v)) while valid(v) ∧ step ≥ prevote for the first
// time: if still at prevote, lock v and precommit it; in any case v becomes
// the valid value, which a later proposer of ours re-proposes.
func (m *Machine) uponPolkaBlock() bool {
	if m.polkaBlockSeen || (m.step != StepPrevote && m.step != StepPrecommit) {
		return false
	}
	p := m.proposals[m.round]
	if p == nil {
		return false
	}
	rv := m.votes.round(m.round)
	if rv == nil || !rv.prevotes.hasTwoThirdsFor(p.BlockHash) {
		return false
	}
	e := m.blocks[p.BlockHash]
	if valid, known := m.validity(e); !valid || !known {
		return false
	}
	m.polkaBlockSeen = true
	if m.step == StepPrevote {
		m.becomeLocked(e) // lines 38-39
		m.enterPrecommit(e.hash)
	}
	m.validValue, m.validHash, m.validRound = e.block, e.hash, int32(m.round) // lines 42-43
	return true
}

// becomeLocked sets lockedValue and lockedRound (lines 38-39).
func (m *Machine) becomeLocked(e *blockEntry) {
	m.lockedValue, m.lockedHash, m.lockedRound = e.block, e.hash, int32(m.round)
}

// uponPolkaNil is lines 44-46: upon 2f+1 PREVOTE(h, round, nil) while step
// = prevote, precommit nil.
func (m *Machine) uponPolkaNil() bool {
	if m.step != StepPrevote {
		return false
	}
	rv := m.votes.round(m.round)
	if rv == nil {
		return false
	}
	if h, ok := rv.prevotes.twoThirdsMajority(); !ok || h != (chain.Hash{}) {
		return false
	}
	m.enterPrecommit(chain.Hash{})
	return true
}
