package validator

import (
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/quorumchain/quorumchain/chain"
)

// Refusals of a RequestSigner that are not the Guard's. Each wraps
// ErrRefused.
var (
	// ErrRefused is wrapped by every refusal of a sign request that is
	// the request's fault: signing it would be unsafe or meaningless.
	ErrRefused = errors.New("refused")
	// ErrBeyondVerifiedTip means a request's height lies beyond the
	// signer's verified chain tip plus one: the node claims a chain the
	// signer could not verify.
	ErrBeyondVerifiedTip = fmt.Errorf("%w: height beyond the verified chain tip plus one", ErrRefused)
)

// IsRefusal reports whether err is a request a signer will not sign
// (ErrRefused, ErrConflict, ErrRegression), as opposed to a failure (such
// as its state not reaching the disk) that must stop it.
func IsRefusal(err error) bool {
	return errors.Is(err, ErrRefused) || errors.Is(err, ErrConflict) || errors.Is(err, ErrRegression)
}

// Request is a sign request as a remote signer receives it from a node
// (consensus_getDuties, the duties topic): untrusted. Kind is "proposal",
// "prevote" or "precommit"; Block is nil for a nil vote; POLRound is set
// for proposals only; Validator may be zero (unspecified).
type Request struct {
	Validator chain.Address
	Kind      string
	Height    uint64
	Round     uint32
	Block     *chain.Hash
	POLRound  *int32
	SignHash  chain.Hash
}

// Digest recomputes the digest r asks for from its fields on chain chainID,
// and returns its signing step. It refuses (ErrRefused) an unknown kind, a
// proposal without a block or POL round or with a POL round not below its
// round, and a vote with a POL round. It does not compare SignHash.
func (r *Request) Digest(chainID string) (SignStep, chain.Hash, error) {
	var block chain.Hash
	if r.Block != nil {
		block = *r.Block
	}
	switch r.Kind {
	case StepProposal.String():
		if r.Block == nil || block == (chain.Hash{}) {
			return 0, chain.Hash{}, fmt.Errorf("%w: proposal without a block", ErrRefused)
		}
		if r.POLRound == nil {
			return 0, chain.Hash{}, fmt.Errorf("%w: proposal without polRound", ErrRefused)
		}
		pol := *r.POLRound
		if pol < chain.NoPOLRound || (pol >= 0 && uint32(pol) >= r.Round) {
			return 0, chain.Hash{}, fmt.Errorf("%w: proposal polRound %d not below round %d", ErrRefused, pol, r.Round)
		}
		return StepProposal, chain.ProposalSignHash(chainID, r.Height, r.Round, pol, block), nil
	case StepPrevote.String(), StepPrecommit.String():
		if r.POLRound != nil {
			return 0, chain.Hash{}, fmt.Errorf("%w: %s with a polRound", ErrRefused, r.Kind)
		}
		step := StepPrevote
		if r.Kind == StepPrecommit.String() {
			step = StepPrecommit
		}
		t, _ := step.VoteType()
		return step, chain.VoteSignHash(chainID, t, r.Height, r.Round, block), nil
	}
	return 0, chain.Hash{}, fmt.Errorf("%w: unknown kind %q", ErrRefused, r.Kind)
}

// RequestSigner is the checking half of a remote signer: it signs a node's
// requests with a key it holds, only after checking each one. It has no
// I/O but its Guard's state.
type RequestSigner struct {
	chainID string
	key     *ecdsa.PrivateKey
	addr    chain.Address
	guard   *Guard
}

// NewRequestSigner returns a signer of requests on chain chainID with key,
// under guard's double-sign protection.
func NewRequestSigner(chainID string, key *ecdsa.PrivateKey, guard *Guard) *RequestSigner {
	return &RequestSigner{chainID: chainID, key: key, addr: chain.PubkeyAddress(&key.PublicKey), guard: guard}
}

// Address is the validator the signer signs for.
func (s *RequestSigner) Address() chain.Address { return s.addr }

// ChainID is the chain the signer signs for.
func (s *RequestSigner) ChainID() string { return s.chainID }

// Guard is the signer's double-sign guard (for inspection).
func (s *RequestSigner) Guard() *Guard { return s.guard }

// Sign checks r and signs it. verifiedTip is the highest height of the
// chain the caller has verified (with a light client): a request above
// verifiedTip+1 is refused with ErrBeyondVerifiedTip before the Guard sees
// it, so it can never move the Guard. The other checks, in order: the
// request is for this validator; its fields are well formed (Digest); its
// SignHash is the digest of its fields, so an opaque hash is never signed;
// and the Guard allows it. A refusal satisfies IsRefusal; any other error
// means the signer must stop.
func (s *RequestSigner) Sign(r *Request, verifiedTip uint64) (chain.Signature, error) {
	if r.Validator != (chain.Address{}) && r.Validator != s.addr {
		return chain.Signature{}, fmt.Errorf("%w: request for validator %s, this key is %s", ErrRefused, chain.FormatAddress(r.Validator), chain.FormatAddress(s.addr))
	}
	if r.Height > verifiedTip && r.Height-verifiedTip > 1 {
		return chain.Signature{}, fmt.Errorf("%w: %s at height %d, verified tip %d", ErrBeyondVerifiedTip, r.Kind, r.Height, verifiedTip)
	}
	step, digest, err := r.Digest(s.chainID)
	if err != nil {
		return chain.Signature{}, err
	}
	if digest != r.SignHash {
		return chain.Signature{}, fmt.Errorf("%w: signHash %s does not match the request's fields (want %s): never signing an opaque hash",
			ErrRefused, chain.FormatHash(r.SignHash), chain.FormatHash(digest))
	}
	return s.guard.Sign(r.Height, r.Round, step, digest, func(h chain.Hash) (chain.Signature, error) { return chain.Sign(s.key, h) })
}
