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

// maxHeld bounds the sign requests the silent mode holds back.
const maxHeld = 16

// hold keeps a sign request of the Machine unanswered (the silent mode):
// the validator is like one whose signer does not answer. Once the mode
// is switched off, releaseHeld signs what is still wanted, so that a round
// that waits for this validator's vote (with half the stake silent, no
// timeout can fire) goes on.
func (e *Driver) hold(a consensus.Action) {
	if len(e.held) == maxHeld {
		e.held = append(e.held[:0], e.held[1:]...)
	}
	e.held = append(e.held, a)
}

// releaseHeld signs, once the validator is no longer silent, the held
// requests of the current height, oldest first (the Machine ignores those
// of rounds it left); those of other heights are dropped.
func (e *Driver) releaseHeld() error {
	if len(e.held) == 0 || e.byzantine() == validator.ByzantineSilent {
		return nil
	}
	held := e.held
	e.held = nil
	for _, a := range held {
		var h uint64
		switch a := a.(type) {
		case consensus.SignVote:
			h = a.Vote.Height
		case consensus.SignProposal:
			h = a.Proposal.Height
		}
		if h != e.height {
			continue
		}
		e.log.Info("signing a request held back while silent", "height", h)
		if err := e.do(a); err != nil {
			return err
		}
	}
	return e.drain()
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
