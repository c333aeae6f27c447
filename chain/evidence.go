package chain

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// ErrNotEquivocation means two votes are not a double sign.
var ErrNotEquivocation = errors.New("votes are not an equivocation")

// MaxEvidenceBytes bounds one encoded piece of evidence.
const MaxEvidenceBytes = 2 * MaxVoteBytes

// Evidence is proof that a validator double-signed: two votes of the same
// type, height and round for different blocks (one may be nil). A is the vote
// whose block hash sorts lower, so the encoding is canonical.
type Evidence struct {
	A, B Vote
}

// NewEvidence orders two conflicting votes canonically.
func NewEvidence(a, b *Vote) *Evidence {
	if bytes.Compare(a.BlockHash[:], b.BlockHash[:]) > 0 {
		a, b = b, a
	}
	return &Evidence{A: *a, B: *b}
}

// Validator is the equivocating validator.
func (e *Evidence) Validator() Address { return e.A.Validator }

// Height is the height of the double sign.
func (e *Evidence) Height() uint64 { return e.A.Height }

// Hash identifies the evidence.
func (e *Evidence) Hash() Hash { return crypto.Keccak256Hash(e.Encode()) }

// Encode returns the canonical encoding of e.
func (e *Evidence) Encode() []byte { return mustEncode(e) }

// Verify checks that e proves a double sign on chainID by a member of set
// (the validator set of e's height).
func (e *Evidence) Verify(chainID string, set StakeSet) error { return e.VerifyWith(chainID, set, nil) }

// VerifyWith is Verify recovering the two signers through rec (Recover if
// nil).
func (e *Evidence) VerifyWith(chainID string, set StakeSet, rec Recoverer) error {
	a, b := &e.A, &e.B
	if a.Validator != b.Validator || a.Type != b.Type || a.Height != b.Height || a.Round != b.Round {
		return fmt.Errorf("evidence: %w: different validator, type, height or round", ErrNotEquivocation)
	}
	if bytes.Compare(a.BlockHash[:], b.BlockHash[:]) >= 0 {
		return fmt.Errorf("evidence: %w: same block, or not in canonical order", ErrNotEquivocation)
	}
	if _, ok := set.StakeOf(a.Validator); !ok {
		return fmt.Errorf("evidence: %w: %s", ErrUnknownValidator, FormatAddress(a.Validator))
	}
	if err := a.VerifyWith(chainID, rec); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if err := b.VerifyWith(chainID, rec); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// DecodeEvidence decodes canonical evidence. It does not verify signatures.
func DecodeEvidence(b []byte) (*Evidence, error) {
	if len(b) > MaxEvidenceBytes {
		return nil, fmt.Errorf("evidence: %w: %d bytes", ErrOversized, len(b))
	}
	e := new(Evidence)
	if err := rlp.DecodeBytes(b, e); err != nil {
		return nil, fmt.Errorf("evidence: %w: %v", ErrMalformed, err)
	}
	if err := e.checkDecoded(); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return e, nil
}

// checkDecoded applies to both votes the checks DecodeVote makes, so that
// evidence carries only votes a peer could have sent on their own.
func (e *Evidence) checkDecoded() error {
	if err := e.A.checkDecoded(); err != nil {
		return fmt.Errorf("vote a: %w", err)
	}
	if err := e.B.checkDecoded(); err != nil {
		return fmt.Errorf("vote b: %w", err)
	}
	return nil
}
