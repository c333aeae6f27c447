package engine

import (
	"github.com/quorumchain/quorumchain/chain"
)

// secondProposalSigner is a signer that can be made to double-propose
// (validator.LocalSigner with AllowDoublePropose).
type secondProposalSigner interface {
	SignSecondProposal(chainID string, p *chain.Proposal) error
}

// doublePropose broadcasts, after the local proposer's proposal p of b, a
// second proposal for the same height and round: the same block one
// millisecond later, another valid block with another hash. Only a driver
// configured with Config.DoublePropose, on a test network, does this; a
// signer that refuses (the default) leaves the driver honest.
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
