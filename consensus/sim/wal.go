package sim

import (
	"github.com/quorumchain/quorumchain/consensus"
)

// replay rebuilds a restarted validator's Machine from the write-ahead log
// of its current height (NewHeight first, then the next-height inputs the
// Machine had buffered before it, then every input in the order it was
// fed) with consensus.Replay, the algorithm the node runs at restart, and
// carries out the requests the crash lost. Broadcasts are not re-sent: the
// gossip timer re-sends what peers lack, rebuilt from the log. EvidenceFound
// is recorded again (idempotent); a RejectedInput shows a replay that
// diverged, and fails the run.
func (n *node) replay() {
	s := n.s
	logged := append([]consensus.Input(nil), n.wal...)
	s.rep.Replays++
	s.rep.ReplayedInputs += len(logged)
	todo := consensus.Replay(n.m, logged, func(in consensus.Input, acts []consensus.Action, o consensus.Outcome) {
		n.observe(in, o)
		s.trace.replay(s.now, n.id, in, acts)
		for _, a := range acts {
			switch a := a.(type) {
			case consensus.EvidenceFound:
				n.addEvidence(a.Evidence)
			case consensus.RejectedInput:
				s.check.rejected(n, a)
			}
		}
	})
	// The round the Machine reached (peers' gossip needs it).
	if rs := n.m.RoundState(); rs.Height == n.height && rs.Step != consensus.StepNewHeight {
		n.noteRound(rs.Height, rs.Round)
	}
	// The log already holds these inputs; carry out the lost requests with
	// the normal path, which logs their answers.
	n.crashAfter = -1
	n.pending = n.pending[:0]
	for _, a := range todo {
		n.do(a)
	}
	for len(n.pending) > 0 && n.up {
		in := n.pending[0]
		n.pending = n.pending[1:]
		n.step(in)
	}
}

// carryOver returns the inputs of log that the Machine buffered for height
// (the next one) before its NewHeight: it replays them when NewHeight comes,
// so they belong to that height's log, right after NewHeight. Without this,
// a crash early in a height loses a proposal the Machine had acted on, and
// the replay diverges (the Machine then rejects its own prevote as
// unrequested).
func carryOver(log []consensus.Input, height uint64, validators int) []consensus.Input {
	return consensus.NextHeightInputs(log, height, validators)
}
