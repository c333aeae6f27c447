package chain

import (
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// VoteType distinguishes the two voting steps of a round.
type VoteType uint8

// Vote types. The zero value is invalid.
const (
	Prevote VoteType = 1 + iota
	Precommit
)

func (t VoteType) String() string {
	switch t {
	case Prevote:
		return "prevote"
	case Precommit:
		return "precommit"
	}
	return fmt.Sprintf("VoteType(%d)", uint8(t))
}

// MaxVoteBytes bounds an encoded vote.
const MaxVoteBytes = 256

// Vote is a validator's signed prevote or precommit for a block hash, or for
// nil (the zero hash) at a height and round.
type Vote struct {
	Type      VoteType
	Height    uint64
	Round     uint32
	BlockHash Hash // zero: a vote for nil
	Validator Address
	Signature Signature
}

// IsNil reports whether v votes for no block.
func (v *Vote) IsNil() bool { return v.BlockHash == (Hash{}) }

// VoteSignHash is the digest a validator signs for a vote:
// keccak256(rlp(["vote", chainID, type, height, round, blockHash])).
//
// The RLP list [DomainVote, chainID, t, height, round, block] is written
// field by field, not through reflection: every vote received is hashed at
// least once, and this is the hot path of vote handling.
func VoteSignHash(chainID string, t VoteType, height uint64, round uint32, block Hash) Hash {
	w := rlp.NewEncoderBuffer(nil)
	l := w.List()
	w.WriteString(DomainVote)
	w.WriteString(chainID)
	w.WriteUint64(uint64(t))
	w.WriteUint64(height)
	w.WriteUint64(uint64(round))
	w.WriteBytes(block[:])
	w.ListEnd(l)
	var buf [160]byte
	b := w.AppendToBytes(buf[:0])
	_ = w.Flush() // no destination: only returns the buffer to its pool
	return crypto.Keccak256Hash(b)
}

// SignHash returns the digest v's validator signs on chain chainID.
func (v *Vote) SignHash(chainID string) Hash {
	return VoteSignHash(chainID, v.Type, v.Height, v.Round, v.BlockHash)
}

// Verify checks that v is well formed and signed by v.Validator for chainID.
func (v *Vote) Verify(chainID string) error { return v.VerifyWith(chainID, nil) }

// VerifyWith is Verify recovering the signer through rec (Recover if nil).
func (v *Vote) VerifyWith(chainID string, rec Recoverer) error {
	if v.Type != Prevote && v.Type != Precommit {
		return fmt.Errorf("vote: %w: type %d", ErrInvalidFields, v.Type)
	}
	if err := verifySignerWith(rec, v.SignHash(chainID), &v.Signature, v.Validator); err != nil {
		return fmt.Errorf("vote %s h=%d r=%d by %s: %w", v.Type, v.Height, v.Round, FormatAddress(v.Validator), err)
	}
	return nil
}

// Encode returns the canonical encoding of v.
func (v *Vote) Encode() []byte { return mustEncode(v) }

// DecodeVote decodes a canonical vote. It does not verify the signature.
func DecodeVote(b []byte) (*Vote, error) {
	if len(b) > MaxVoteBytes {
		return nil, fmt.Errorf("vote: %w: %d bytes, limit %d", ErrOversized, len(b), MaxVoteBytes)
	}
	v := new(Vote)
	if err := rlp.DecodeBytes(b, v); err != nil {
		return nil, fmt.Errorf("vote: %w: %v", ErrMalformed, err)
	}
	if err := v.checkDecoded(); err != nil {
		return nil, fmt.Errorf("vote: %w", err)
	}
	return v, nil
}

// checkDecoded checks what the encoding alone does not: the vote type. Every
// decoder of a vote, standalone or inside evidence, applies it.
func (v *Vote) checkDecoded() error {
	if v.Type != Prevote && v.Type != Precommit {
		return fmt.Errorf("%w: type %d", ErrInvalidFields, v.Type)
	}
	return nil
}

func mustEncode(v any) []byte {
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		panic(fmt.Sprintf("chain: encode %T: %v", v, err))
	}
	return b
}
