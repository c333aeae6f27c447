package node

import (
	"time"

	"github.com/quorumchain/quorumchain/consensus"
)

// How far the propose timeout stretches to the proposals' lateness: the
// latest proposalDelays delays are remembered, the timeout becomes
// proposeStretch times the longest of them, and never more than
// maxProposeStretch times the configured timeout.
const (
	proposalDelays    = 8
	proposeStretch    = 2
	maxProposeStretch = 8
)

// proposeWait stretches the propose timeout to how late proposals have
// lately arrived. The configured timeout_propose suits a chain with little
// to do; a block of 10,000 transactions, built and checked while the cores
// also admit transactions, can reach validators after it, and the round is
// then lost to nil prevotes although its proposer was only slow. A delay
// is the time from this node arming a round's propose timeout to the
// round's proposal reaching its consensus goroutine; a proposal that never
// comes adds none, so a crashed proposer's rounds still time out as
// configured. A Byzantine proposer that proposes late on purpose can
// stretch the timeout to at most maxProposeStretch times the configured
// one, and only for the next proposalDelays proposals. It touches timing
// only, never what is voted.
type proposeWait struct {
	armed  map[timerKey]time.Time // propose timeouts armed, not yet met by their proposal
	delays [proposalDelays]time.Duration
	next   int
}

func newProposeWait() *proposeWait { return &proposeWait{armed: make(map[timerKey]time.Time)} }

// arm notes that the propose timeout of height and round was armed at now
// (the first time only: a replay re-arms it) and returns the duration to
// arm it for, base stretched to the recent delays.
func (w *proposeWait) arm(height uint64, round uint32, base time.Duration, now time.Time) time.Duration {
	k := timerKey{height, round, consensus.StepPropose}
	if _, ok := w.armed[k]; !ok {
		w.armed[k] = now
	}
	longest := time.Duration(0)
	for _, d := range w.delays {
		longest = max(longest, d)
	}
	return max(base, min(proposeStretch*longest, maxProposeStretch*base))
}

// arrived notes that the proposal of height and round reached the
// consensus goroutine at now.
func (w *proposeWait) arrived(height uint64, round uint32, now time.Time) {
	k := timerKey{height, round, consensus.StepPropose}
	at, ok := w.armed[k]
	if !ok {
		return // before this node reached the round, or seen already
	}
	delete(w.armed, k)
	w.delays[w.next] = max(now.Sub(at), 0)
	w.next = (w.next + 1) % proposalDelays
}

// forgetBelow drops the rounds of the heights below height.
func (w *proposeWait) forgetBelow(height uint64) {
	for k := range w.armed {
		if k.height < height {
			delete(w.armed, k)
		}
	}
}
