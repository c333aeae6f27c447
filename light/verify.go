package light

import (
	"errors"
	"fmt"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// Reasons a header does not verify. Each wraps ErrInvalid.
var (
	// ErrInvalid is wrapped by every verification failure.
	ErrInvalid = errors.New("light: does not verify")
	// ErrWrongChain: the header is for another chain id.
	ErrWrongChain = fmt.Errorf("%w: wrong chain", ErrInvalid)
	// ErrHeightMismatch: the source answered another height than asked,
	// or the certificate is for another height than its header.
	ErrHeightMismatch = fmt.Errorf("%w: height mismatch", ErrInvalid)
	// ErrCertificateMismatch: the certificate is for another block.
	ErrCertificateMismatch = fmt.Errorf("%w: certificate is for another block", ErrInvalid)
	// ErrBadCertificate: the certificate does not verify against the
	// header's validator set (unknown signer, bad signature, no quorum).
	ErrBadCertificate = fmt.Errorf("%w: bad certificate", ErrInvalid)
	// ErrParentMismatch: the header's parent hash is not the trusted
	// header's hash.
	ErrParentMismatch = fmt.Errorf("%w: parent hash does not link", ErrInvalid)
	// ErrValidatorsMismatch: a validator set does not hash to what the
	// header, or its trusted predecessor, commits to.
	ErrValidatorsMismatch = fmt.Errorf("%w: validator set mismatch", ErrInvalid)
	// ErrTimeNotAfter: the header's time is not after the trusted time.
	ErrTimeNotAfter = fmt.Errorf("%w: time not after the trusted header", ErrInvalid)
	// ErrNotEnoughTrust: a skip is not allowed (too far, or the trusted
	// set's signers hold no more than a third of its stake). The client
	// bisects; on its own it is not a sign of an attack.
	ErrNotEnoughTrust = fmt.Errorf("%w: not enough trusted stake signed to skip", ErrInvalid)
	// ErrMalformed: a source's answer cannot be decoded.
	ErrMalformed = errors.New("light: malformed answer")
)

// SignedHeader is a block header with its block's finality certificate.
type SignedHeader struct {
	Header      chain.Header
	Certificate *chain.Certificate
}

// Hash is the block hash.
func (sh *SignedHeader) Hash() chain.Hash { return sh.Header.Hash() }

// Trusted is a verified point of a chain: the signed header at Height
// (nil at the genesis root, height 0), the validator set of Height (nil at
// the root) and that of Height+1, which the header commits to. Values are
// immutable once built.
type Trusted struct {
	Height         uint64
	Hash           chain.Hash // zero at the root
	Time           uint64     // header time in unix ms; genesis time at the root
	Signed         *SignedHeader
	Validators     *staking.ValidatorSet
	NextValidators *staking.ValidatorSet
}

// checkCertified verifies sh against vals on its own: chain id, the
// certificate is for exactly this header, vals hashes to the header's
// ValidatorsHash and the certificate is a quorum of vals.
func checkCertified(chainID string, sh *SignedHeader, vals *staking.ValidatorSet) error {
	h := &sh.Header
	if h.ChainID != chainID {
		return fmt.Errorf("%w: header h=%d is for chain %q, want %q", ErrWrongChain, h.Height, h.ChainID, chainID)
	}
	c := sh.Certificate
	if c == nil {
		return fmt.Errorf("%w: header h=%d has no certificate", ErrBadCertificate, h.Height)
	}
	if c.Height != h.Height {
		return fmt.Errorf("%w: certificate h=%d for header h=%d", ErrHeightMismatch, c.Height, h.Height)
	}
	if hash := h.Hash(); c.BlockHash != hash {
		return fmt.Errorf("%w: h=%d certificate for %s, header hashes to %s", ErrCertificateMismatch, h.Height, chain.FormatHash(c.BlockHash), chain.FormatHash(hash))
	}
	if vals == nil {
		return fmt.Errorf("%w: h=%d: no validator set", ErrValidatorsMismatch, h.Height)
	}
	if got := vals.Hash(); got != h.ValidatorsHash {
		return fmt.Errorf("%w: h=%d set hashes to %s, header commits to %s", ErrValidatorsMismatch, h.Height, chain.FormatHash(got), chain.FormatHash(h.ValidatorsHash))
	}
	if _, err := c.Verify(chainID, vals); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCertificate, err)
	}
	return nil
}

// VerifyAdjacent verifies sh, the signed header of trusted.Height+1, with
// vals, the validator set it claims: it must link to trusted (parent hash,
// later time), its set must be the one trusted committed to, and its
// certificate a quorum of that set.
func VerifyAdjacent(chainID string, trusted *Trusted, sh *SignedHeader, vals *staking.ValidatorSet) error {
	h := &sh.Header
	if h.Height != trusted.Height+1 {
		return fmt.Errorf("%w: header h=%d is not adjacent to trusted h=%d", ErrHeightMismatch, h.Height, trusted.Height)
	}
	if h.Time <= trusted.Time {
		return fmt.Errorf("%w: h=%d time %d, trusted h=%d time %d", ErrTimeNotAfter, h.Height, h.Time, trusted.Height, trusted.Time)
	}
	if h.ParentHash != trusted.Hash {
		return fmt.Errorf("%w: h=%d parent %s, trusted h=%d is %s", ErrParentMismatch, h.Height, chain.FormatHash(h.ParentHash), trusted.Height, chain.FormatHash(trusted.Hash))
	}
	if want := trusted.NextValidators.Hash(); h.ValidatorsHash != want {
		return fmt.Errorf("%w: h=%d commits to set %s, trusted h=%d named %s for it", ErrValidatorsMismatch, h.Height, chain.FormatHash(h.ValidatorsHash), trusted.Height, chain.FormatHash(want))
	}
	return checkCertified(chainID, sh, vals)
}

// VerifySkipping verifies sh, a signed header above trusted.Height+1, with
// vals, the validator set it claims: its time must be after trusted's, its
// certificate a quorum of vals, it must lie at most trustingBlocks above
// trusted, and its precommits must include members of trusted's next set
// holding more than a third of that set's stake. ErrNotEnoughTrust means
// the skip is not allowed (bisect); any other error means sh is invalid.
func VerifySkipping(chainID string, trusted *Trusted, sh *SignedHeader, vals *staking.ValidatorSet, trustingBlocks uint64) error {
	h := &sh.Header
	if h.Height <= trusted.Height+1 {
		return fmt.Errorf("%w: header h=%d is not above trusted h=%d+1", ErrHeightMismatch, h.Height, trusted.Height)
	}
	if h.Time <= trusted.Time {
		return fmt.Errorf("%w: h=%d time %d, trusted h=%d time %d", ErrTimeNotAfter, h.Height, h.Time, trusted.Height, trusted.Time)
	}
	if err := checkCertified(chainID, sh, vals); err != nil {
		return err
	}
	if dist := h.Height - trusted.Height; dist > trustingBlocks {
		return fmt.Errorf("%w: h=%d is %d heights above trusted h=%d, more than the trusting window of %d", ErrNotEnoughTrust, h.Height, dist, trusted.Height, trustingBlocks)
	}
	set := trusted.NextValidators
	var signed uint64
	for _, p := range sh.Certificate.Precommits {
		if stake, ok := set.StakeOf(p.Validator); ok {
			signed += stake // members' stakes sum to at most staking.MaxSupply
		}
	}
	if !staking.HasOneThird(signed, set.TotalStake()) {
		return fmt.Errorf("%w: h=%d signed by %d of the %d stake trusted at h=%d", ErrNotEnoughTrust, h.Height, signed, set.TotalStake(), trusted.Height+1)
	}
	return nil
}

// trust makes a Trusted point of a verified signed header, given the set
// of its next height (which must hash to its NextValidatorsHash).
func trust(sh *SignedHeader, vals, next *staking.ValidatorSet) (*Trusted, error) {
	if next == nil || next.Hash() != sh.Header.NextValidatorsHash {
		return nil, fmt.Errorf("%w: h=%d next set does not hash to the header's nextValidatorsHash %s", ErrValidatorsMismatch, sh.Header.Height+1, chain.FormatHash(sh.Header.NextValidatorsHash))
	}
	return &Trusted{Height: sh.Header.Height, Hash: sh.Hash(), Time: sh.Header.Time, Signed: sh, Validators: vals, NextValidators: next}, nil
}
