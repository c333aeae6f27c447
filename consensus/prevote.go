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

// uponPolkaValid updates the valid value from a polka for a block at any
// round r with validRound < r <= round, not only the current one (lines
// 42-43 fire only while the polka's round is the current round):
//
//	upon 2f+1 PREVOTE(h, r, id(v)) with validRound < r <= round_p, while valid(v):
//	    validValue ← v; validRound ← r
//
// Without it a lock can stay hidden: a validator that prevoted late in
// round r completes a polka only it sees in round r, locks, and the
// others, having moved on, learn the polka only in a later round. None of
// them then holds a valid value that the locked validator accepts (lines
// 28-29), so only the locked validator's own turn as proposer can end the
// height, and with stake-weighted proposers that turn may be very rare.
// Once every honest validator adopts the newest polka it has seen as its
// valid value, any honest proposer after GST proposes a block with a POL
// round at least as high as every honest lock, which every honest
// validator prevotes (line 29).
//
// Safety is unaffected: the valid value only chooses what this validator
// proposes, and a receiver accepts a re-proposal only with the polka of
// its POL round in hand (line 28) and a compatible lock (line 29). The
// block may come from any proposal of the height; an unchecked block is
// checked first.
func (m *Machine) uponPolkaValid() bool {
	best := -1
	var bestEntry *blockEntry
	for _, r := range m.votes.prevotePolkas {
		if int64(r) <= int64(m.validRound) || r > m.round || int(r) <= best {
			continue
		}
		hash, ok := m.votes.round(r).prevotes.twoThirdsMajority()
		if !ok || hash == (chain.Hash{}) {
			panic("consensus: invariant prevote-polka-recorded")
		}
		e := m.blocks[hash]
		if e == nil {
			continue // block not seen yet: its proposal may still arrive
		}
		if valid, known := m.validity(e); valid && known {
			best, bestEntry = int(r), e
		}
	}
	if bestEntry == nil {
		return false
	}
	m.validValue, m.validHash, m.validRound = bestEntry.block, bestEntry.hash, int32(best)
	return true
}
