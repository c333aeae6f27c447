package consensus

import (
	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

var zeroHash chain.Hash

// futureBuffer keeps proposals and votes of the next height, unverified
// (their signatures are checked when that height starts), in arrival
// order, to replay them after NewHeight. Only members of the next height's
// validator set (NewHeight.NextValidators) get in, and each has its own
// allowance: futureVotesPerSigner votes, at most one per (round, type), and
// futureProposalsPerSigner proposals. So whatever a signer sends, and
// whoever sends it, the buffer holds at most (4+2) inputs per member of
// that set, and no signer's junk takes the place of another's early votes
// (the bound used to be shared by all signers, so that the first 64 votes
// of anyone crowded the honest ones out). Beyond its allowance a signer's
// messages are dropped: gossip delivers them again once the height starts.
type futureBuffer struct {
	height  uint64
	members *staking.ValidatorSet // of height; nil: nothing is buffered
	inputs  []Input
	signers map[chain.Address]*signerAllowance
	seen    map[futureVoteKey]bool
}

// signerAllowance counts what one signer has in the buffer.
type signerAllowance struct{ votes, proposals int }

type futureVoteKey struct {
	validator chain.Address
	round     uint32
	typ       chain.VoteType
}

// Allowance of each member of the next height's set in the future buffer:
// a prevote and a precommit for two rounds, and the proposals of two
// rounds.
const (
	futureVotesPerSigner     = 4
	futureProposalsPerSigner = 2
)

// reset empties the buffer if it holds another height than height, and
// takes members as that height's set.
func (f *futureBuffer) reset(height uint64, members *staking.ValidatorSet) {
	if f.height != height {
		*f = futureBuffer{height: height, members: members}
	}
}

// signer returns the allowance of a member of the buffered height's set,
// or nil for anyone else.
func (f *futureBuffer) signer(a chain.Address) *signerAllowance {
	if f.members == nil {
		return nil
	}
	if _, ok := f.members.Index(a); !ok {
		return nil
	}
	if f.signers == nil {
		f.signers = make(map[chain.Address]*signerAllowance)
	}
	s := f.signers[a]
	if s == nil {
		s = &signerAllowance{}
		f.signers[a] = s
	}
	return s
}

// addProposal buffers a proposal of height, whose validator set is
// members; it reports whether it did.
func (f *futureBuffer) addProposal(in ProposalReceived, height uint64, members *staking.ValidatorSet) bool {
	f.reset(height, members)
	s := f.signer(in.Proposal.Proposer)
	if s == nil || s.proposals >= futureProposalsPerSigner {
		return false
	}
	s.proposals++
	f.inputs = append(f.inputs, in)
	return true
}

// addVote buffers a vote of height, whose validator set is members; it
// reports whether it did.
func (f *futureBuffer) addVote(in VoteReceived, height uint64, members *staking.ValidatorSet) bool {
	f.reset(height, members)
	s := f.signer(in.Vote.Validator)
	if s == nil || s.votes >= futureVotesPerSigner {
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
	s.votes++
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
