package consensus

import (
	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// Restart after a crash. A node logs every input that changed the Machine
// (a proposal or vote the Machine accepted, any other input it did not
// reject), in the order stepped and before the input's actions are carried
// out (a write-ahead log); an input ignored or rejected changed nothing, so
// a fresh Machine fed the logged inputs in the same order reaches the
// crashed one's state. Replay is the one
// algorithm for it, used by the node and by the simulator alike.

// ReplayObserver sees each logged input as it is replayed, with the
// actions it produced and its outcome: a caller rebuilds there what it
// keeps beside the Machine (the votes it serves to peers, evidence, a
// trace). Requests and Finalize among the actions are the caller's only
// through Replay's result.
type ReplayObserver func(in Input, acts []Action, outcome Outcome)

// Replay feeds logged (a NewHeight first, then the height's inputs in the
// order they were stepped) to m, a fresh Machine, and returns the actions
// the caller must still carry out, in order:
//
//   - requests (ScheduleTimeout, BuildBlock, CheckBlock, SignVote,
//     SignProposal) that no later logged input answers (TimeoutFired,
//     BlockBuilt, BlockChecked, OwnVote / OwnProposal / SignRefused): the
//     crash lost them. Answered ones were carried out before the crash and
//     are dropped, so their logged answers are accepted as before instead
//     of being rejected as unrequested. A timer comes back with its full
//     duration; a signature is asked again, which is safe because the
//     signer returns the identical signature for the identical request and
//     refuses anything that conflicts;
//   - Finalize, when the crash fell between the decision and its commit.
//
// Broadcasts are not repeated (catch-up gossip serves what peers lack),
// and evidence and rejections reach the caller through observe, which may
// be nil.
func Replay(m *Machine, logged []Input, observe ReplayObserver) []Action {
	var todo []Action
	for _, in := range logged {
		todo = removeAnswered(todo, in)
		acts, outcome := m.StepOutcome(in)
		if observe != nil {
			observe(in, acts, outcome)
		}
		for _, a := range acts {
			switch a.(type) {
			case ScheduleTimeout, BuildBlock, CheckBlock, SignVote, SignProposal, Finalize:
				todo = append(todo, a)
			}
		}
	}
	return todo
}

// removeAnswered drops from todo the request that input in answers.
func removeAnswered(todo []Action, in Input) []Action {
	for i, a := range todo {
		if answers(in, a) {
			return append(todo[:i], todo[i+1:]...)
		}
	}
	return todo
}

// answers reports whether input in is the answer to request a.
func answers(in Input, a Action) bool {
	switch in := in.(type) {
	case TimeoutFired:
		t, ok := a.(ScheduleTimeout)
		return ok && t.Height == in.Height && t.Round == in.Round && t.Step == in.Step
	case BlockBuilt:
		b, ok := a.(BuildBlock)
		return ok && b.Height == in.Height && b.Round == in.Round
	case BlockChecked:
		c, ok := a.(CheckBlock)
		return ok && c.Height == in.Height && c.Block.Hash() == in.Hash
	case OwnVote:
		v, ok := a.(SignVote)
		return ok && in.Vote != nil && sameVoteSlot(v.Vote, in.Vote)
	case OwnProposal:
		p, ok := a.(SignProposal)
		return ok && in.Proposal != nil && p.Proposal.Height == in.Proposal.Height && p.Proposal.Round == in.Proposal.Round
	case SignRefused:
		switch a := a.(type) {
		case SignProposal:
			return in.Step == StepPropose && a.Proposal.Height == in.Height && a.Proposal.Round == in.Round
		case SignVote:
			t, ok := in.Step.VoteType()
			return ok && a.Vote.Type == t && a.Vote.Height == in.Height && a.Vote.Round == in.Round
		}
	}
	return false
}

func sameVoteSlot(a, b *chain.Vote) bool {
	return a.Type == b.Type && a.Height == b.Height && a.Round == b.Round
}

// NextHeightInputs returns, of log, the inputs of height that a Machine at
// height-1 would have buffered (the proposals and votes of the next height
// that arrived early), in the order and with the bounds of that buffer;
// members is the validator set of height (that Machine's
// NewHeight.NextValidators). A
// node whose log keeps one height's inputs carries these over to the log
// of height, right after its NewHeight: the Machine replays them there.
func NextHeightInputs(log []Input, height uint64, members *staking.ValidatorSet) []Input {
	var f futureBuffer
	for _, in := range log {
		switch in := in.(type) {
		case ProposalReceived:
			if in.Proposal != nil && in.Block != nil && in.Proposal.Height == height {
				f.addProposal(in, height, members)
			}
		case VoteReceived:
			if in.Vote != nil && in.Vote.Height == height {
				f.addVote(in, height, members)
			}
		}
	}
	return f.take(height)
}
