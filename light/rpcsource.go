package light

import (
	"context"
	"fmt"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/staking"
)

// MaxValidators bounds a validator set decoded from a source.
const MaxValidators = chain.MaxCertificateSigners

// Caller is the part of an rpc.Client an RPCSource uses.
type Caller interface {
	Call(ctx context.Context, method string, params, result any) error
}

// RPCSource is a Source over a node's JSON-RPC: chain_getBlock for signed
// headers and chain_getValidators for sets.
type RPCSource struct{ c Caller }

// NewRPCSource returns a source calling c.
func NewRPCSource(c Caller) *RPCSource { return &RPCSource{c: c} }

// SignedHeader implements Source.
func (s *RPCSource) SignedHeader(ctx context.Context, height uint64) (*SignedHeader, error) {
	var p rpc.BlockParams
	if height != 0 {
		p.Height = &height
	}
	var b rpc.BlockResult
	if err := s.c.Call(ctx, rpc.MethodGetBlock, p, &b); err != nil {
		return nil, err
	}
	return SignedHeaderFromRPC(&b)
}

// Validators implements Source.
func (s *RPCSource) Validators(ctx context.Context, height uint64) (*staking.ValidatorSet, error) {
	var v rpc.ValidatorsResult
	if err := s.c.Call(ctx, rpc.MethodGetValidators, rpc.ValidatorsParams{Height: &height}, &v); err != nil {
		return nil, err
	}
	return ValidatorSetFromRPC(&v, height)
}

// HeaderFromRPC rebuilds a header from its JSON form and checks that it
// hashes to the hash the node gave. Times must be whole milliseconds from
// 1970 on.
func HeaderFromRPC(r *rpc.HeaderResult) (chain.Header, error) {
	ms := r.Time.UnixMilli()
	if ms < 0 || !time.UnixMilli(ms).Equal(r.Time) {
		return chain.Header{}, fmt.Errorf("%w: header h=%d time %s is not a whole millisecond after 1970", ErrMalformed, r.Height, r.Time)
	}
	h := chain.Header{ChainID: r.ChainID, Height: r.Height, Time: uint64(ms), ParentHash: r.ParentHash, Proposer: r.Proposer,
		TxRoot: r.TxRoot, EvidenceRoot: r.EvidenceRoot, StateHash: r.StateHash, ValidatorsHash: r.ValidatorsHash,
		NextValidatorsHash: r.NextValidatorsHash, LastCertHash: r.LastCertHash}
	if got := h.Hash(); got != r.Hash {
		return chain.Header{}, fmt.Errorf("%w: header h=%d fields hash to %s, node says %s", ErrMalformed, r.Height, chain.FormatHash(got), chain.FormatHash(r.Hash))
	}
	return h, nil
}

// HeaderToRPC is the JSON form of h.
func HeaderToRPC(h *chain.Header) rpc.HeaderResult {
	return rpc.HeaderResult{Hash: h.Hash(), ChainID: h.ChainID, Height: h.Height, Time: time.UnixMilli(int64(h.Time)).UTC(),
		ParentHash: h.ParentHash, Proposer: h.Proposer, TxRoot: h.TxRoot, EvidenceRoot: h.EvidenceRoot, StateHash: h.StateHash,
		ValidatorsHash: h.ValidatorsHash, NextValidatorsHash: h.NextValidatorsHash, LastCertHash: h.LastCertHash}
}

// CertificateFromRPC rebuilds a certificate from its JSON form (as
// chain_getBlock gives it: with height, block hash and signatures). It
// checks the shape only; Verify checks the signatures.
func CertificateFromRPC(r *rpc.CertificateResult) (*chain.Certificate, error) {
	if r.BlockHash == nil || r.Height == 0 {
		return nil, fmt.Errorf("%w: certificate without height or block hash", ErrMalformed)
	}
	if len(r.Signers) > chain.MaxCertificateSigners {
		return nil, fmt.Errorf("%w: certificate h=%d has %d signers, limit %d", ErrMalformed, r.Height, len(r.Signers), chain.MaxCertificateSigners)
	}
	if len(r.Signatures) != len(r.Signers) {
		return nil, fmt.Errorf("%w: certificate h=%d has %d signers and %d signatures", ErrMalformed, r.Height, len(r.Signers), len(r.Signatures))
	}
	c := &chain.Certificate{Height: r.Height, Round: r.Round, BlockHash: *r.BlockHash, Precommits: make([]chain.CommitSig, len(r.Signers))}
	for i, a := range r.Signers {
		if len(r.Signatures[i]) != chain.SignatureLength {
			return nil, fmt.Errorf("%w: certificate h=%d signature %d is %d bytes, want %d", ErrMalformed, r.Height, i, len(r.Signatures[i]), chain.SignatureLength)
		}
		c.Precommits[i].Validator = a
		copy(c.Precommits[i].Signature[:], r.Signatures[i])
	}
	return c, nil
}

// CertificateToRPC is the JSON form of c; set (may be nil) is the block's
// validator set, for the stake figures.
func CertificateToRPC(c *chain.Certificate, set *staking.ValidatorSet) *rpc.CertificateResult {
	bh := c.BlockHash
	r := &rpc.CertificateResult{Height: c.Height, Round: c.Round, BlockHash: &bh, Signers: c.Signers(), Signatures: make([]rpc.HexBytes, len(c.Precommits))}
	for i := range c.Precommits {
		r.Signatures[i] = rpc.HexBytes(c.Precommits[i].Signature[:])
		if set != nil {
			stake, _ := set.StakeOf(c.Precommits[i].Validator)
			r.SignedStake += rpc.Amount(stake)
		}
	}
	if set != nil {
		r.TotalStake = rpc.Amount(set.TotalStake())
	}
	return r
}

// SignedHeaderFromRPC rebuilds a signed header from a chain_getBlock
// result (its transactions are not needed).
func SignedHeaderFromRPC(b *rpc.BlockResult) (*SignedHeader, error) {
	h, err := HeaderFromRPC(&b.Header)
	if err != nil {
		return nil, err
	}
	if b.Certificate == nil {
		return nil, fmt.Errorf("%w: block h=%d without certificate", ErrMalformed, h.Height)
	}
	c, err := CertificateFromRPC(b.Certificate)
	if err != nil {
		return nil, err
	}
	return &SignedHeader{Header: h, Certificate: c}, nil
}

// ValidatorSetFromRPC rebuilds the validator set of height from a
// chain_getValidators result. Proposer priorities are not kept: the set's
// hash, which headers commit to, does not cover them.
func ValidatorSetFromRPC(v *rpc.ValidatorsResult, height uint64) (*staking.ValidatorSet, error) {
	if v.Height != height {
		return nil, fmt.Errorf("%w: asked the validators of h=%d, got h=%d", ErrMalformed, height, v.Height)
	}
	if len(v.Validators) > MaxValidators {
		return nil, fmt.Errorf("%w: %d validators at h=%d, limit %d", ErrMalformed, len(v.Validators), height, MaxValidators)
	}
	vals := make([]staking.Validator, len(v.Validators))
	for i, r := range v.Validators {
		vals[i] = staking.Validator{Address: r.Address, Stake: uint64(r.Stake)}
	}
	set, err := staking.NewValidatorSet(vals)
	if err != nil {
		return nil, fmt.Errorf("%w: validators at h=%d: %w", ErrMalformed, height, err)
	}
	return set, nil
}
