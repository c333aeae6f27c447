package consensus

import (
	"math"
	"time"
)

// Timeouts grow linearly with the round, base + round*delta, so that after
// the network stabilises some round's timeouts exceed the message delay
// (the paper's assumption for liveness). The result saturates instead of
// overflowing.
func growTimeout(base, delta time.Duration, round uint32) time.Duration {
	if delta <= 0 || round == 0 {
		return base
	}
	if uint64(round) > uint64(math.MaxInt64-base)/uint64(delta) {
		return math.MaxInt64
	}
	return base + time.Duration(round)*delta
}

func (c *Config) timeoutPropose(round uint32) time.Duration {
	return growTimeout(c.TimeoutPropose, c.TimeoutProposeDelta, round)
}

func (c *Config) timeoutPrevote(round uint32) time.Duration {
	return growTimeout(c.TimeoutPrevote, c.TimeoutPrevoteDelta, round)
}

func (c *Config) timeoutPrecommit(round uint32) time.Duration {
	return growTimeout(c.TimeoutPrecommit, c.TimeoutPrecommitDelta, round)
}

// scheduleTimeout emits ScheduleTimeout for the current height and round.
func (m *Machine) scheduleTimeout(step RoundStep, d time.Duration) {
	m.emit(ScheduleTimeout{Height: m.height, Round: m.round, Step: step, Duration: d})
}

// onTimeout handles an elapsed timeout. A timeout for another height,
// round or step than the one it was scheduled for is stale and ignored.
func (m *Machine) onTimeout(in TimeoutFired) {
	if m.set == nil || in.Height != m.height || m.decided || in.Round != m.round {
		return
	}
	switch in.Step {
	case StepNewHeight:
		if m.step != StepNewHeight {
			return
		}
		switch m.wait {
		case waitInterval:
			m.endIntervalWait()
		case waitTxs:
			m.enterNewRound(0) // the empty-block deadline passed
		}
	case StepPropose:
		if m.step == StepPropose { // lines 57-60: OnTimeoutPropose
			m.enterPrevote(zeroHash)
		}
	case StepPrevote:
		if m.step == StepPrevote { // lines 61-64: OnTimeoutPrevote
			m.enterPrecommit(zeroHash)
		}
	case StepPrecommit:
		if m.step >= StepPropose && m.step <= StepPrecommit && m.round < math.MaxUint32 { // lines 65-67: OnTimeoutPrecommit
			m.enterNewRound(m.round + 1)
		}
	}
}

// The new-height wait.
//
// A height starts in StepNewHeight. The Machine leaves it for round 0's
// propose step when the first of these happens:
//
//   - its own wait ends: the block interval (Config.BlockInterval after
//     LastBlockTime) has passed, or a full batch of transactions waits
//     (NewHeight.TxsBatch or TxsAvailable.Batch), and, with
//     SkipEmptyBlocks, transactions are
//     available (NewHeight.TxsAvailable or a TxsAvailable input) or the
//     empty-block deadline (EmptyBlockInterval after LastBlockTime; never if
//     zero) has passed;
//   - a valid proposal of this height arrives (any round): the proposer has
//     started, and joining it at once keeps other validators from timing
//     out while this one waits for transactions of its own;
//   - votes of this height from more than one third of the stake arrive;
//   - messages of a round r > 0 from more than one third of the stake
//     arrive (line 55): it enters round r directly.
//
// Every validator waits, not only the proposer, so that no propose timeout
// runs while the proposer waits for transactions (as in CometBFT). Votes
// and proposals received during the wait are stored and counted; a decision
// (line 49) can happen during the wait.
//
// Both waits are ScheduleTimeout{Height, 0, StepNewHeight}: the first covers
// the block interval; when it fires and the Machine must still wait for
// transactions, a second one covers the rest of the empty-block deadline.

// beginNewHeightWait starts the wait of a height that NewHeight started.
func (m *Machine) beginNewHeightWait(in NewHeight) {
	intervalEnd := in.LastBlockTime.Add(m.cfg.BlockInterval)
	waitFrom := in.Now
	if intervalEnd.After(waitFrom) {
		waitFrom = intervalEnd
	}
	m.txWait = 0
	if m.cfg.SkipEmptyBlocks && m.cfg.EmptyBlockInterval > 0 {
		m.txWait = in.LastBlockTime.Add(m.cfg.EmptyBlockInterval).Sub(waitFrom)
	}
	if remaining := intervalEnd.Sub(in.Now); remaining > 0 && !(in.TxsBatch && in.TxsAvailable) {
		m.wait = waitInterval
		m.scheduleTimeout(StepNewHeight, remaining)
		return
	}
	m.endIntervalWait()
}

// endIntervalWait follows the block interval: wait for transactions, or
// start round 0.
func (m *Machine) endIntervalWait() {
	if m.cfg.SkipEmptyBlocks && !m.txsAvailable {
		switch {
		case m.cfg.EmptyBlockInterval == 0:
			m.wait = waitTxs // no deadline: only transactions or peers end it
			return
		case m.txWait > 0:
			m.wait = waitTxs
			m.scheduleTimeout(StepNewHeight, m.txWait)
			return
		}
	}
	m.enterNewRound(0)
}
