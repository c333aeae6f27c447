package engine

import (
	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/validator"
)

// guarded is a signer whose double-sign guard, and so the record of its
// last signature, is local (validator.LocalSigner).
type guarded interface {
	Guard() *validator.Guard
}

// A crash can fall between the signer's release of a vote (its record is
// on disk) and the vote's log record and broadcast. After the restart the
// signer refuses any other vote for that slot, so unless that exact vote
// goes out, the validator has no vote in the round; if its stake is needed
// for any quorum, no timeout can fire and the height stalls (the
// driver-level simulator found this). So at restart the driver recovers
// the vote from the signer's record: the record holds the vote's
// sign-bytes hash, not its block, so the block is found among nil and the
// blocks the driver knows at the height, as they arrive.

// noteLastSigned remembers, at restart, a vote of height (the one the
// driver starts) the signer released.
func (e *Driver) noteLastSigned(height uint64) {
	e.lostVote = nil
	g, ok := e.signer.(guarded)
	if !ok || e.requester != nil {
		return
	}
	last := g.Guard().Last()
	if last.Height != height {
		return
	}
	if _, isVote := last.Step.VoteType(); isVote {
		e.lostVote = &last
	}
}

// recoverLastVote feeds the signer's last vote of the height to the
// Machine (and so to peers) once the block it is for is known. The Machine
// ignores it if it already counts it.
func (e *Driver) recoverLastVote() error {
	last := e.lostVote
	if last == nil {
		return nil
	}
	if last.Height != e.height {
		e.lostVote = nil
		return nil
	}
	t, _ := last.Step.VoteType()
	candidates := []chain.Hash{{}}
	for _, p := range e.heightProposals {
		candidates = append(candidates, p.Proposal.BlockHash)
	}
	for h := range e.checked {
		candidates = append(candidates, h)
	}
	for _, block := range candidates {
		if chain.VoteSignHash(e.chainID, t, last.Height, last.Round, block) != last.SignHash {
			continue
		}
		e.lostVote = nil
		v := &chain.Vote{Type: t, Height: last.Height, Round: last.Round, BlockHash: block, Validator: e.signer.Address(), Signature: last.Signature}
		e.log.Info("re-sending the last vote the signer released before a restart", "height", v.Height, "round", v.Round, "type", v.Type)
		return e.step(consensus.VoteReceived{Vote: v})
	}
	return nil
}
