package chain

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sync"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/staking"
)

// StakeSet is the view of a validator set that certificate and evidence
// verification need. staking.ValidatorSet implements it.
type StakeSet interface {
	StakeOf(Address) (uint64, bool)
	TotalStake() uint64
}

// Certificate errors.
var (
	ErrNoQuorum         = errors.New("precommits do not carry more than two thirds of the stake")
	ErrUnknownValidator = errors.New("signer is not in the validator set")
	ErrDuplicateSigner  = errors.New("signers not strictly increasing (duplicate or unsorted)")
	ErrCertMismatch     = errors.New("certificate does not match block")
)

// MaxCertificateSigners bounds the precommits in one certificate.
const MaxCertificateSigners = 10_000

// CommitSig is one precommit of a certificate: the vote is implied by the
// certificate's height, round and block hash.
type CommitSig struct {
	Validator Address
	Signature Signature
}

// Certificate is the finality certificate of a block: precommits for
// BlockHash at (Height, Round) from validators holding more than two thirds
// of the stake of the block's validator set. Precommits are sorted by
// validator address, strictly increasing, so the encoding is canonical.
type Certificate struct {
	Height     uint64
	Round      uint32
	BlockHash  Hash
	Precommits []CommitSig
}

// Hash is keccak256 of the certificate's encoding.
func (c *Certificate) Hash() Hash { return crypto.Keccak256Hash(c.Encode()) }

// Encode returns the canonical encoding of c.
func (c *Certificate) Encode() []byte { return mustEncode(c) }

// Signers lists the validators whose precommits c carries, in order.
func (c *Certificate) Signers() []Address {
	out := make([]Address, len(c.Precommits))
	for i := range c.Precommits {
		out[i] = c.Precommits[i].Validator
	}
	return out
}

// Vote reconstructs the i-th precommit as a Vote.
func (c *Certificate) Vote(i int) *Vote {
	p := c.Precommits[i]
	return &Vote{Type: Precommit, Height: c.Height, Round: c.Round, BlockHash: c.BlockHash, Validator: p.Validator, Signature: p.Signature}
}

// NewCertificate builds a certificate from precommits for one (height, round,
// block), sorting them by validator. It does not verify them.
func NewCertificate(height uint64, round uint32, block Hash, precommits []CommitSig) *Certificate {
	ps := append([]CommitSig(nil), precommits...)
	sortCommitSigs(ps)
	return &Certificate{Height: height, Round: round, BlockHash: block, Precommits: ps}
}

func sortCommitSigs(ps []CommitSig) {
	// insertion sort is fine for validator-sized slices and keeps this allocation-free
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && bytes.Compare(ps[j-1].Validator[:], ps[j].Validator[:]) > 0; j-- {
			ps[j-1], ps[j] = ps[j], ps[j-1]
		}
	}
}

// Verify checks c against the validator set of its height on chain chainID
// and returns the stake that signed. It requires distinct signers in
// increasing order, each a member of set, each signature a precommit for
// (c.Height, c.Round, c.BlockHash), and 3*signed > 2*total.
func (c *Certificate) Verify(chainID string, set StakeSet) (uint64, error) {
	return c.VerifyWith(chainID, set, nil)
}

// VerifyWith is Verify recovering signers through rec: with a cache of
// verified signatures, a certificate whose precommits were counted as
// votes costs no recovery. With rec nil the signatures are recovered in
// parallel.
func (c *Certificate) VerifyWith(chainID string, set StakeSet, rec Recoverer) (uint64, error) {
	if c.BlockHash == (Hash{}) {
		return 0, fmt.Errorf("certificate h=%d: %w: nil block", c.Height, ErrInvalidFields)
	}
	if len(c.Precommits) > MaxCertificateSigners {
		return 0, fmt.Errorf("certificate h=%d: %w: %d precommits", c.Height, ErrOversized, len(c.Precommits))
	}
	var signed uint64
	for i := range c.Precommits {
		p := &c.Precommits[i]
		if i > 0 && bytes.Compare(c.Precommits[i-1].Validator[:], p.Validator[:]) >= 0 {
			return 0, fmt.Errorf("certificate h=%d: %w at index %d", c.Height, ErrDuplicateSigner, i)
		}
		stake, ok := set.StakeOf(p.Validator)
		if !ok {
			return 0, fmt.Errorf("certificate h=%d: %w: %s", c.Height, ErrUnknownValidator, FormatAddress(p.Validator))
		}
		var carry uint64
		signed, carry = bits.Add64(signed, stake, 0)
		if carry != 0 {
			return 0, fmt.Errorf("certificate h=%d: signed stake overflows", c.Height)
		}
	}
	if !staking.HasQuorum(signed, set.TotalStake()) {
		return 0, fmt.Errorf("certificate h=%d: %w: signed %d of %d", c.Height, ErrNoQuorum, signed, set.TotalStake())
	}
	digest := VoteSignHash(chainID, Precommit, c.Height, c.Round, c.BlockHash)
	check := func(i int) error {
		p := &c.Precommits[i]
		if err := verifySignerWith(rec, digest, &p.Signature, p.Validator); err != nil {
			return fmt.Errorf("certificate h=%d precommit of %s: %w", c.Height, FormatAddress(p.Validator), err)
		}
		return nil
	}
	if rec != nil {
		// A cache answers at once, and need not be safe for concurrent use.
		for i := range c.Precommits {
			if err := check(i); err != nil {
				return 0, err
			}
		}
		return signed, nil
	}
	if err := verifyParallel(len(c.Precommits), check); err != nil {
		return 0, err
	}
	return signed, nil
}

// parallelThreshold is the item count below which fan-out costs more than it saves.
const parallelThreshold = 8

// parallelFor runs fn(i) for i in [0, n), split into one contiguous chunk
// per core.
func parallelFor(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if n < parallelThreshold || workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// verifyParallel runs check(i) for i in [0, n) on all cores and returns the
// error with the lowest index, so results are deterministic.
func verifyParallel(n int, check func(i int) error) error {
	errs := make([]error, n)
	parallelFor(n, func(i int) { errs[i] = check(i) })
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// DecodeCertificate decodes a canonical certificate of at most maxBytes.
// It does not verify signatures (see Verify).
func DecodeCertificate(b []byte) (*Certificate, error) {
	if len(b) > MaxCertificateSigners*(SignatureLength+24)+64 {
		return nil, fmt.Errorf("certificate: %w: %d bytes", ErrOversized, len(b))
	}
	c := new(Certificate)
	if err := rlp.DecodeBytes(b, c); err != nil {
		return nil, fmt.Errorf("certificate: %w: %v", ErrMalformed, err)
	}
	return c, nil
}
