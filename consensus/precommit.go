package consensus

import "github.com/quorumchain/quorumchain/chain"

// enterPrecommit moves to the precommit step and asks the Signer for a
// precommit for hash (zero: nil). Lines 40, 45 and 63.
func (m *Machine) enterPrecommit(hash chain.Hash) {
	m.step = StepPrecommit
	m.signVote(chain.Precommit, hash)
}

// uponPrecommitAny is line 47: upon 2f+1 PRECOMMIT(h, round, ∗) for the
// first time, schedule timeoutPrecommit, whose expiry starts the next round.
func (m *Machine) uponPrecommitAny() bool {
	if m.precommitWaitScheduled {
		return false
	}
	rv := m.votes.round(m.round)
	if rv == nil || !rv.precommits.hasTwoThirdsAny() {
		return false
	}
	m.precommitWaitScheduled = true
	m.scheduleTimeout(StepPrecommit, m.cfg.timeoutPrecommit(m.round))
	return true
}
