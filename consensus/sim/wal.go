package sim

import (
	"github.com/quorumchain/quorumchain/consensus"
)

// replay rebuilds a restarted validator's Machine from the write-ahead log
// of its current height (NewHeight first, then the next-height inputs the
// Machine had buffered before it, then every input in the order it was
// fed). Every input reached the log before the Machine saw it, so the fresh
// Machine reaches the state of the crashed one.
//
// What happens to the actions the replay produces:
//
//   - Requests (ScheduleTimeout, BuildBlock, CheckBlock, SignVote,
//     SignProposal) that a later logged input answers (TimeoutFired,
//     BlockBuilt, BlockChecked, OwnVote/OwnProposal/SignRefused) were carried
//     out before the crash and are dropped. The others were lost in the
//     crash and are carried out now, in order: timers are re-armed with their
//     full duration from the restart, blocks are built or checked again, and
//     signatures are requested again. Re-signing is safe: the signer returns
//     the identical signature for the identical last request, and refuses
//     (SignRefused) anything that regresses or conflicts.
//   - Broadcasts are not re-sent: the gossip timer re-sends the validator's
//     latest votes and proposal, which are rebuilt from the log.
//   - A Finalize (possible when the crash fell between the decision and its
//     commit) is carried out: it commits and starts the next height.
//   - EvidenceFound is recorded again (idempotent); RejectedInput is ignored.
func (n *node) replay() {
	s := n.s
	logged := append([]consensus.Input(nil), n.wal...)
	s.rep.Replays++
	s.rep.ReplayedInputs += len(logged)
	var todo []consensus.Action
	for _, in := range logged {
		todo = removeAnswered(todo, in)
		n.observe(in)
		acts := n.m.Step(in)
		s.trace.replay(s.now, n.id, in, acts)
		for _, a := range acts {
			switch a := a.(type) {
			case consensus.ScheduleTimeout, consensus.BuildBlock, consensus.CheckBlock,
				consensus.SignVote, consensus.SignProposal, consensus.Finalize:
				todo = append(todo, a)
			case consensus.EvidenceFound:
				n.addEvidence(a.Evidence)
			case consensus.RejectedInput:
				s.check.rejected(n, a) // a replay that diverges shows here
			}
		}
	}
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
// so they belong to that height's log, right after NewHeight. The filter
// mirrors consensus.futureBuffer: at most futureProposalsMax proposals, the
// first vote per (validator, round, type), at most max(futureVotesMin,
// futureVotesPerValidator*validators) votes. Without this, a crash early in
// a height loses a proposal the Machine had acted on, and the replay
// diverges (the Machine then rejects its own prevote as unrequested).
func carryOver(log []consensus.Input, height uint64, validators int) []consensus.Input {
	const (
		futureVotesPerValidator = 4
		futureVotesMin          = 64
		futureProposalsMax      = 4
	)
	var out []consensus.Input
	proposals, votes := 0, 0
	seen := make(map[voteSlot]bool)
	for _, in := range log {
		switch in := in.(type) {
		case consensus.ProposalReceived:
			if in.Proposal != nil && in.Block != nil && in.Proposal.Height == height && proposals < futureProposalsMax {
				proposals++
				out = append(out, in)
			}
		case consensus.VoteReceived:
			if v := in.Vote; v != nil && v.Height == height && votes < max(futureVotesMin, futureVotesPerValidator*validators) {
				k := voteSlot{round: v.Round, typ: v.Type, val: v.Validator}
				if !seen[k] {
					seen[k] = true
					votes++
					out = append(out, in)
				}
			}
		}
	}
	return out
}

// removeAnswered drops from todo the request that input in answers.
func removeAnswered(todo []consensus.Action, in consensus.Input) []consensus.Action {
	match := func(a consensus.Action) bool {
		switch in := in.(type) {
		case consensus.TimeoutFired:
			t, ok := a.(consensus.ScheduleTimeout)
			return ok && t.Height == in.Height && t.Round == in.Round && t.Step == in.Step
		case consensus.BlockBuilt:
			b, ok := a.(consensus.BuildBlock)
			return ok && b.Height == in.Height && b.Round == in.Round
		case consensus.BlockChecked:
			c, ok := a.(consensus.CheckBlock)
			return ok && c.Height == in.Height && c.Block.Hash() == in.Hash
		case consensus.OwnVote:
			v, ok := a.(consensus.SignVote)
			return ok && in.Vote != nil && v.Vote.Type == in.Vote.Type && v.Vote.Height == in.Vote.Height && v.Vote.Round == in.Vote.Round
		case consensus.OwnProposal:
			p, ok := a.(consensus.SignProposal)
			return ok && in.Proposal != nil && p.Proposal.Height == in.Proposal.Height && p.Proposal.Round == in.Proposal.Round
		case consensus.SignRefused:
			switch a := a.(type) {
			case consensus.SignProposal:
				return in.Step == consensus.StepPropose && a.Proposal.Height == in.Height && a.Proposal.Round == in.Round
			case consensus.SignVote:
				t, ok := in.Step.VoteType()
				return ok && a.Vote.Type == t && a.Vote.Height == in.Height && a.Vote.Round == in.Round
			}
		}
		return false
	}
	for i, a := range todo {
		if match(a) {
			return append(todo[:i], todo[i+1:]...)
		}
	}
	return todo
}
