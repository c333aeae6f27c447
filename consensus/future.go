package consensus

import "github.com/quorumchain/quorumchain/chain"

var zeroHash chain.Hash

// futureBuffer keeps proposals and votes of the next height, unverified
// (the next validator set is not known yet), in arrival order, to replay
// them after NewHeight. It is bounded: when full, new messages are dropped
// (gossip delivers them again), and each (validator, round, type) keeps
// only its first vote.
type futureBuffer struct {
	height    uint64
	inputs    []Input
	proposals int
	seen      map[futureVoteKey]bool
}

type futureVoteKey struct {
	validator chain.Address
	round     uint32
	typ       chain.VoteType
}

// Bounds of the future buffer. Votes: futureVotesPerValidator per validator
// of the current set (a prevote and a precommit for two rounds), and at
// least futureVotesMin.
const (
	futureVotesPerValidator = 4
	futureVotesMin          = 64
	futureProposalsMax      = 4
)

// reset empties the buffer if it holds another height than height.
func (f *futureBuffer) reset(height uint64) {
	if f.height != height {
		*f = futureBuffer{height: height}
	}
}

// addProposal buffers a proposal of height; it reports whether it did.
func (f *futureBuffer) addProposal(in ProposalReceived, height uint64) bool {
	f.reset(height)
	if f.proposals >= futureProposalsMax {
		return false
	}
	f.proposals++
	f.inputs = append(f.inputs, in)
	return true
}

// addVote buffers a vote of height; it reports whether it did.
func (f *futureBuffer) addVote(in VoteReceived, height uint64, validators int) bool {
	f.reset(height)
	if len(f.inputs)-f.proposals >= max(futureVotesMin, futureVotesPerValidator*validators) {
		return false
	}
	key := futureVoteKey{in.Vote.Validator, in.Vote.Round, in.Vote.Type}
	if f.seen == nil {
		f.seen = make(map[futureVoteKey]bool)
	}
	if f.seen[key] {
		return false
	}
	f.seen[key] = true
	f.inputs = append(f.inputs, in)
	return true
}

// take returns the buffered inputs of height, in arrival order, and empties
// the buffer.
func (f *futureBuffer) take(height uint64) []Input {
	var out []Input
	if f.height == height {
		out = f.inputs
	}
	*f = futureBuffer{}
	return out
}
