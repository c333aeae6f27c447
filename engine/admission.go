package engine

import (
	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/staking"
)

// Admission. A peer's proposal or vote reaches the Machine only if
//
//   - it is of the height being decided or of the next one: the Machine
//     keeps nothing else, so nothing else may cost a log write or a relay;
//   - its signer is a member of that height's validator set: the set of
//     the current height is in the store, and the membership of the next
//     one is the committed state's PendingValidators (staking selects a
//     set one height before it serves), so both are known without trusting
//     the peer;
//   - the height's log still has room for it (see below).
//
// Everything else is dropped here: not stepped, not logged, not relayed.
// What passes is logged only if the Machine accepted it (stored, counted
// or buffered), right after the step and before any of its actions is
// carried out, so the log is synced before the signatures it leads to
// (syncBeforeSigning) as before, and a replay of the log rebuilds the
// same Machine: an input the Machine ignored or rejected changed nothing.
//
// The log's byte bound. Per height, the records of peers' proposals may
// take Config.MaxLoggedProposalBytes and those of peers' votes
// Config.MaxLoggedVoteBytes (by default six blocks of the largest size,
// and 4 MiB, some 20,000 votes); once a height's share is used up, further peers'
// proposals (or votes) of that height are dropped before the Machine sees
// them (the reject policy: gossip and catch-up offer them again, and a
// height that needs more than this is one that Byzantine members are
// stretching over many rounds). The driver's own inputs (its timeouts,
// block checks, signatures, NewHeight, synced commits) are never refused:
// they are a few small records per round, plus the blocks it builds, and
// the log must hold whatever led to a signature. So a height's log holds
// at most the two shares, one record over each, and the driver's own
// records (TestHonestHeightLogBytes measures an honest height's).
const (
	DefaultMaxLoggedProposalBytes = 6 * chain.MaxBlockBytes
	DefaultMaxLoggedVoteBytes     = 4 << 20
	// voteRecordBytes bounds the log record of a vote: type, height,
	// round, block hash, validator and signature, RLP-framed.
	voteRecordBytes = 192
	// proposalRecordOverhead bounds what a proposal record adds to its
	// block's encoding.
	proposalRecordOverhead = 256
)

// logShare is what peers' inputs of one height take in the log.
type logShare struct{ proposals, votes int64 }

// member reports whether signer is in the validator set of height h, the
// current or the next one.
func (e *Driver) member(h uint64, signer chain.Address) bool {
	var set *staking.ValidatorSet
	switch h {
	case e.height:
		set = e.vals
	case e.height + 1:
		set = e.nextVals
	}
	if set == nil {
		return false
	}
	_, ok := set.Index(signer)
	return ok
}

// admit applies the admission rules to a peer's proposal or vote and
// reports whether the Machine may see it.
func (e *Driver) admit(in consensus.Input) bool {
	switch in := in.(type) {
	case consensus.ProposalReceived:
		p := in.Proposal
		if p == nil || in.Block == nil || !e.member(p.Height, p.Proposer) {
			return false
		}
		return e.share(p.Height).proposals < e.cfg.MaxLoggedProposalBytes
	case consensus.VoteReceived:
		v := in.Vote
		if v == nil || !e.member(v.Height, v.Validator) {
			return false
		}
		return e.share(v.Height).votes < e.cfg.MaxLoggedVoteBytes
	}
	return true
}

// share returns the log share of height h (the current or the next).
func (e *Driver) share(h uint64) *logShare {
	if h == e.height+1 {
		return &e.nextShare
	}
	return &e.heightShare
}

// countLogged adds a logged peer proposal or vote to its height's share.
func (e *Driver) countLogged(in consensus.Input) {
	switch in := in.(type) {
	case consensus.ProposalReceived:
		e.share(in.Proposal.Height).proposals += int64(len(in.Block.Encode())) + proposalRecordOverhead
	case consensus.VoteReceived:
		e.share(in.Vote.Height).votes += voteRecordBytes
	}
}

// logged reports whether an input the Machine stepped with outcome goes
// into the log: a peer's proposal or vote only if accepted, any other
// input (the driver's own) unless rejected.
func logged(in consensus.Input, outcome consensus.Outcome) bool {
	switch in.(type) {
	case consensus.ProposalReceived, consensus.VoteReceived:
		return outcome == consensus.Accepted
	}
	return outcome != consensus.Rejected
}

// voteKey identifies a signed vote exactly: the fields its signature
// covers (the chain id is the driver's) and the signature. Building it
// costs no hashing, so a duplicate is dropped for the price of a map
// lookup.
type voteKey struct {
	typ       chain.VoteType
	height    uint64
	round     uint32
	block     chain.Hash
	validator chain.Address
	sig       chain.Signature
}

func keyOf(v *chain.Vote) voteKey {
	return voteKey{v.Type, v.Height, v.Round, v.BlockHash, v.Validator, v.Signature}
}
