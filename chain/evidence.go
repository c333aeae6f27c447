package chain

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// ErrNotEquivocation means two votes (or two proposals) are not a double
// sign.
var ErrNotEquivocation = errors.New("votes are not an equivocation")

// ErrUnknownEvidenceKind means encoded evidence carries a kind tag this
// version does not know.
var ErrUnknownEvidenceKind = errors.New("unknown evidence kind")

// MaxEvidenceBytes bounds one encoded piece of evidence. Two proposals
// (some 140 bytes each) and their kind tag fit as well as two votes.
const MaxEvidenceBytes = 2 * MaxVoteBytes

// EvidenceKind says what a piece of evidence proves.
type EvidenceKind uint8

// Evidence kinds. The kind is the version tag of the encoding: a double
// vote is encoded as the list [A, B] of its two votes, the form evidence
// had before proposals could be evidence, so evidence already in blocks
// keeps its encoding and hash; every other kind is encoded as
// [kind, A, B], the kind first, as an integer.
const (
	// DoubleVote: two votes of one validator, of the same type, height and
	// round, for different blocks (one may be nil).
	DoubleVote EvidenceKind = iota
	// DoubleProposal: two proposals of one validator for the same height
	// and round, with different blocks or POL rounds. An honest validator
	// signs a proposal only as the round's proposer, and only one
	// (validator.Guard refuses a second), so two prove misbehaviour
	// whoever the round's proposer was.
	DoubleProposal
)

func (k EvidenceKind) String() string {
	switch k {
	case DoubleVote:
		return "double_vote"
	case DoubleProposal:
		return "double_proposal"
	}
	return fmt.Sprintf("EvidenceKind(%d)", uint8(k))
}

// Evidence is proof that a validator double-signed. For DoubleVote, A and B
// are the two votes, A the one whose block hash sorts lower; for
// DoubleProposal, PA and PB are the two proposals, PA the one whose
// (block hash, POL round) sorts lower, and A and B are zero. The order
// makes the encoding canonical.
type Evidence struct {
	Kind   EvidenceKind
	A, B   Vote
	PA, PB Proposal
}

// NewEvidence orders two conflicting votes canonically.
func NewEvidence(a, b *Vote) *Evidence {
	if bytes.Compare(a.BlockHash[:], b.BlockHash[:]) > 0 {
		a, b = b, a
	}
	return &Evidence{A: *a, B: *b}
}

// NewProposalEvidence orders two conflicting proposals canonically.
func NewProposalEvidence(a, b *Proposal) *Evidence {
	if compareProposals(a, b) > 0 {
		a, b = b, a
	}
	return &Evidence{Kind: DoubleProposal, PA: *a, PB: *b}
}

// compareProposals orders proposals by block hash, then POL round.
func compareProposals(a, b *Proposal) int {
	if c := bytes.Compare(a.BlockHash[:], b.BlockHash[:]); c != 0 {
		return c
	}
	switch {
	case a.POLRound < b.POLRound:
		return -1
	case a.POLRound > b.POLRound:
		return 1
	}
	return 0
}

// Validator is the equivocating validator.
func (e *Evidence) Validator() Address {
	if e.Kind == DoubleProposal {
		return e.PA.Proposer
	}
	return e.A.Validator
}

// Height is the height of the double sign.
func (e *Evidence) Height() uint64 {
	if e.Kind == DoubleProposal {
		return e.PA.Height
	}
	return e.A.Height
}

// Round is the round of the double sign.
func (e *Evidence) Round() uint32 {
	if e.Kind == DoubleProposal {
		return e.PA.Round
	}
	return e.A.Round
}

// Hash identifies the evidence.
func (e *Evidence) Hash() Hash { return crypto.Keccak256Hash(e.Encode()) }

// Encode returns the canonical encoding of e.
func (e *Evidence) Encode() []byte { return mustEncode(e) }

// EncodeRLP implements rlp.Encoder: [A, B] for a double vote, [kind, PA,
// PB] for a double proposal.
func (e *Evidence) EncodeRLP(w io.Writer) error {
	switch e.Kind {
	case DoubleVote:
		return rlp.Encode(w, []any{&e.A, &e.B})
	case DoubleProposal:
		return rlp.Encode(w, []any{uint8(e.Kind), &e.PA, &e.PB})
	}
	return fmt.Errorf("evidence: %w: %d", ErrUnknownEvidenceKind, e.Kind)
}

// DecodeRLP implements rlp.Decoder. A list whose first element is a list
// is a double vote; otherwise the first element is the kind, which must
// not be DoubleVote (that kind has one encoding only).
func (e *Evidence) DecodeRLP(s *rlp.Stream) error {
	if _, err := s.List(); err != nil {
		return err
	}
	kind, _, err := s.Kind()
	if err != nil {
		return err
	}
	var out Evidence
	if kind == rlp.List {
		if err := s.Decode(&out.A); err != nil {
			return err
		}
		if err := s.Decode(&out.B); err != nil {
			return err
		}
	} else {
		tag, err := s.Uint8()
		if err != nil {
			return err
		}
		if EvidenceKind(tag) != DoubleProposal {
			return fmt.Errorf("%w: tag %d", ErrUnknownEvidenceKind, tag)
		}
		out.Kind = DoubleProposal
		if err := s.Decode(&out.PA); err != nil {
			return err
		}
		if err := s.Decode(&out.PB); err != nil {
			return err
		}
	}
	if err := s.ListEnd(); err != nil {
		return err
	}
	*e = out
	return nil
}

// Verify checks that e proves a double sign on chainID by a member of set
// (the validator set of e's height).
func (e *Evidence) Verify(chainID string, set StakeSet) error { return e.VerifyWith(chainID, set, nil) }

// VerifyWith is Verify recovering the two signers through rec (Recover if
// nil).
func (e *Evidence) VerifyWith(chainID string, set StakeSet, rec Recoverer) error {
	switch e.Kind {
	case DoubleVote:
		return e.verifyVotes(chainID, set, rec)
	case DoubleProposal:
		return e.verifyProposals(chainID, set, rec)
	}
	return fmt.Errorf("evidence: %w: %d", ErrUnknownEvidenceKind, e.Kind)
}

func (e *Evidence) verifyVotes(chainID string, set StakeSet, rec Recoverer) error {
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

func (e *Evidence) verifyProposals(chainID string, set StakeSet, rec Recoverer) error {
	a, b := &e.PA, &e.PB
	if a.Proposer != b.Proposer || a.Height != b.Height || a.Round != b.Round {
		return fmt.Errorf("evidence: %w: proposals of different proposers, heights or rounds", ErrNotEquivocation)
	}
	if compareProposals(a, b) >= 0 {
		return fmt.Errorf("evidence: %w: same proposal, or not in canonical order", ErrNotEquivocation)
	}
	if _, ok := set.StakeOf(a.Proposer); !ok {
		return fmt.Errorf("evidence: %w: %s", ErrUnknownValidator, FormatAddress(a.Proposer))
	}
	if err := a.VerifyWith(chainID, rec); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if err := b.VerifyWith(chainID, rec); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// DecodeEvidence decodes canonical evidence of any kind. It does not verify
// signatures.
func DecodeEvidence(b []byte) (*Evidence, error) {
	if len(b) > MaxEvidenceBytes {
		return nil, fmt.Errorf("evidence: %w: %d bytes", ErrOversized, len(b))
	}
	e := new(Evidence)
	if err := rlp.DecodeBytes(b, e); err != nil {
		if errors.Is(err, ErrUnknownEvidenceKind) || errors.Is(err, ErrInvalidFields) {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		return nil, fmt.Errorf("evidence: %w: %v", ErrMalformed, err)
	}
	if err := e.checkDecoded(); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return e, nil
}

// checkDecoded applies to both votes (or proposals) the checks DecodeVote
// (DecodeProposal) makes, so that evidence carries only what a peer could
// have sent on its own.
func (e *Evidence) checkDecoded() error {
	if e.Kind == DoubleProposal {
		if err := e.PA.ValidateBasic(); err != nil {
			return fmt.Errorf("proposal a: %w", err)
		}
		if err := e.PB.ValidateBasic(); err != nil {
			return fmt.Errorf("proposal b: %w", err)
		}
		return nil
	}
	if err := e.A.checkDecoded(); err != nil {
		return fmt.Errorf("vote a: %w", err)
	}
	if err := e.B.checkDecoded(); err != nil {
		return fmt.Errorf("vote b: %w", err)
	}
	return nil
}
