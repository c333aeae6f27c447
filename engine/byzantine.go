package engine

import (
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/validator"
)

// secondProposalSigner is a signer that can be made to double-propose
// (validator.LocalSigner with AllowDoublePropose).
type secondProposalSigner interface {
	SignSecondProposal(chainID string, p *chain.Proposal) error
}

// doublePropose broadcasts, after the local proposer's proposal p of b, a
// second proposal for the same height and round: the same block one
// millisecond later, another valid block with another hash. Only a driver
// configured with Config.DoublePropose, or whose signer is in the
// double-propose mode, on a test network, does this; a signer that refuses
// (the default) leaves the driver honest.
func (e *Driver) doublePropose(p *chain.Proposal, b *chain.Block) {
	s, ok := e.signer.(secondProposalSigner)
	if !ok {
		e.log.Warn("double proposing is configured but the signer cannot double-propose")
		return
	}
	alt := *b
	alt.Header.Time++
	p2 := &chain.Proposal{Height: p.Height, Round: p.Round, POLRound: p.POLRound, BlockHash: alt.Hash(), Proposer: p.Proposer}
	if err := s.SignSecondProposal(e.chainID, p2); err != nil {
		e.log.Warn("signer refused a second proposal", "height", p.Height, "round", p.Round, "err", err)
		return
	}
	e.log.Warn("double proposing (test network switch): broadcasting a second proposal", "height", p.Height, "round", p.Round,
		"first", chain.FormatHash(p.BlockHash), "second", chain.FormatHash(p2.BlockHash))
	e.net.BroadcastProposal(p2, &alt)
}

// byzantineSigner is a signer that a test network can make misbehave at
// run time (validator.LocalSigner with AllowByzantine).
type byzantineSigner interface {
	Byzantine() validator.ByzantineMode
	SignConflictingVote(chainID string, v *chain.Vote) error
}

// byzantine returns the signer's mode: off for a signer that has none, or
// when signatures are asked of a remote signer.
func (e *Driver) byzantine() validator.ByzantineMode {
	if e.requester != nil {
		return validator.ByzantineOff
	}
	if s, ok := e.signer.(byzantineSigner); ok {
		return s.Byzantine()
	}
	return validator.ByzantineOff
}

// doubleProposing reports whether to follow each own proposal with a second.
func (e *Driver) doubleProposing() bool {
	return e.cfg.DoublePropose || e.byzantine() == validator.ByzantineDoublePropose
}

// refuseSilently answers a sign request of the Machine as a refusal, so
// that it carries on without our signature (the silent mode).
func (e *Driver) refuseSilently(h uint64, r uint32, s consensus.RoundStep) {
	e.queue = append(e.queue, consensus.SignRefused{Height: h, Round: r, Step: s, Reason: "silent (test network byzantine mode)"})
}

// signNilVote answers the Machine's request for a vote for a block with a
// signed vote for nil (the nil-votes mode): the request is refused, and the
// nil vote is counted and broadcast as if it came from a peer. The guard
// records it like any vote.
func (e *Driver) signNilVote(v *chain.Vote) error {
	e.queue = append(e.queue, consensus.SignRefused{Height: v.Height, Round: v.Round, Step: consensus.VoteStep(v.Type),
		Reason: "nil-votes (test network byzantine mode)"})
	nv := &chain.Vote{Type: v.Type, Height: v.Height, Round: v.Round, Validator: v.Validator}
	if err := e.signer.SignVote(e.ctx, e.chainID, nv); err != nil {
		return e.signFailed(err, v.Height, v.Round, consensus.VoteStep(v.Type))
	}
	e.queue = append(e.queue, consensus.VoteReceived{Vote: nv})
	return nil
}

// equivocate broadcasts, after the honest vote v, a second vote of the same
// height, round and type: for nil if v is for a block, else for a block
// hash no block has. Honest peers report the pair as evidence and the chain
// slashes and jails the validator.
func (e *Driver) equivocate(v *chain.Vote) {
	s, ok := e.signer.(byzantineSigner)
	if !ok {
		return
	}
	alt := &chain.Vote{Type: v.Type, Height: v.Height, Round: v.Round, Validator: v.Validator}
	if v.IsNil() {
		alt.BlockHash = chain.Hash(crypto.Keccak256Hash([]byte("quorumchain-equivocation"), v.BlockHash[:], v.Signature[:]))
	}
	if err := s.SignConflictingVote(e.chainID, alt); err != nil {
		e.log.Warn("signer refused a conflicting vote", "height", v.Height, "round", v.Round, "type", v.Type, "err", err)
		return
	}
	e.log.Warn("equivocating (test network byzantine mode): broadcasting a conflicting vote", "height", v.Height, "round", v.Round,
		"type", v.Type, "first", chain.FormatHash(v.BlockHash), "second", chain.FormatHash(alt.BlockHash))
	e.net.BroadcastVote(alt)
}
