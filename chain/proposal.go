package chain

import (
	"fmt"
	"io"
	"math"

	"github.com/ethereum/go-ethereum/rlp"
)

// MaxProposalBytes bounds an encoded proposal (without its block).
const MaxProposalBytes = 256

// NoPOLRound is the POLRound of a proposal that carries no proof-of-lock:
// the value is proposed fresh rather than re-proposed from an earlier round.
const NoPOLRound int32 = -1

// Proposal is a proposer's signed statement that BlockHash is its proposal
// for (Height, Round). POLRound is the round of the prevote quorum that made
// the value valid when it is re-proposed (the paper's validRound), or
// NoPOLRound.
type Proposal struct {
	Height    uint64
	Round     uint32
	POLRound  int32
	BlockHash Hash
	Proposer  Address
	Signature Signature
}

// proposalRLP is the wire form: POLRound+1 so that NoPOLRound encodes as 0.
type proposalRLP struct {
	Height    uint64
	Round     uint32
	POLRound1 uint32
	BlockHash Hash
	Proposer  Address
	Signature Signature
}

// EncodeRLP implements rlp.Encoder.
func (p *Proposal) EncodeRLP(w io.Writer) error {
	return rlp.Encode(w, &proposalRLP{p.Height, p.Round, uint32(p.POLRound + 1), p.BlockHash, p.Proposer, p.Signature})
}

// DecodeRLP implements rlp.Decoder.
func (p *Proposal) DecodeRLP(s *rlp.Stream) error {
	var w proposalRLP
	if err := s.Decode(&w); err != nil {
		return err
	}
	if w.POLRound1 > math.MaxInt32 {
		return fmt.Errorf("%w: pol round %d", ErrInvalidFields, int64(w.POLRound1)-1)
	}
	*p = Proposal{w.Height, w.Round, int32(w.POLRound1) - 1, w.BlockHash, w.Proposer, w.Signature}
	return nil
}

// ProposalSignHash is the digest a proposer signs:
// keccak256(rlp(["proposal", chainID, height, round, polRound+1, blockHash])).
func ProposalSignHash(chainID string, height uint64, round uint32, polRound int32, block Hash) Hash {
	return rlpHash([]any{DomainProposal, chainID, height, round, uint32(polRound + 1), block})
}

// SignHash returns the digest p's proposer signs on chain chainID.
func (p *Proposal) SignHash(chainID string) Hash {
	return ProposalSignHash(chainID, p.Height, p.Round, p.POLRound, p.BlockHash)
}

// ValidateBasic checks field ranges: a POL round lies before the round.
func (p *Proposal) ValidateBasic() error {
	if p.POLRound < NoPOLRound || (p.POLRound >= 0 && uint32(p.POLRound) >= p.Round) {
		return fmt.Errorf("proposal: %w: pol round %d not below round %d", ErrInvalidFields, p.POLRound, p.Round)
	}
	if p.BlockHash == (Hash{}) {
		return fmt.Errorf("proposal: %w: empty block hash", ErrInvalidFields)
	}
	return nil
}

// Verify checks that p is well formed and signed by p.Proposer for chainID.
func (p *Proposal) Verify(chainID string) error { return p.VerifyWith(chainID, nil) }

// VerifyWith is Verify recovering the signer through rec (Recover if nil).
func (p *Proposal) VerifyWith(chainID string, rec Recoverer) error {
	if err := p.ValidateBasic(); err != nil {
		return err
	}
	if err := verifySignerWith(rec, p.SignHash(chainID), &p.Signature, p.Proposer); err != nil {
		return fmt.Errorf("proposal h=%d r=%d by %s: %w", p.Height, p.Round, FormatAddress(p.Proposer), err)
	}
	return nil
}

// Encode returns the canonical encoding of p.
func (p *Proposal) Encode() []byte { return mustEncode(p) }

// DecodeProposal decodes a canonical proposal. It does not verify the signature.
func DecodeProposal(b []byte) (*Proposal, error) {
	if len(b) > MaxProposalBytes {
		return nil, fmt.Errorf("proposal: %w: %d bytes, limit %d", ErrOversized, len(b), MaxProposalBytes)
	}
	p := new(Proposal)
	if err := rlp.DecodeBytes(b, p); err != nil {
		return nil, fmt.Errorf("proposal: %w: %v", ErrMalformed, err)
	}
	if err := p.ValidateBasic(); err != nil {
		return nil, err
	}
	return p, nil
}
