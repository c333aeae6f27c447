package chain

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// Address is a 20-byte account or validator address: keccak256(pubkey)[12:].
type Address = common.Address

// Hash is a 32-byte Keccak-256 hash.
type Hash = common.Hash

// SignatureLength is the size of a recoverable signature [R || S || V].
const SignatureLength = 65

// Signature is a recoverable secp256k1 signature [R || S || V], V in {0, 1}.
type Signature [SignatureLength]byte

// Domain tags separate the sign-bytes of each kind of signed object.
const (
	DomainTx       = "tx"
	DomainVote     = "vote"
	DomainProposal = "proposal"
)

var (
	// ErrBadSignature means a signature is malformed, non-canonical (high S),
	// or does not recover to the claimed signer.
	ErrBadSignature = errors.New("bad signature")
	// ErrWrongSigner means a signature is valid but made by another key.
	ErrWrongSigner = errors.New("signature from wrong signer")
)

var (
	secp256k1N     = crypto.S256().Params().N
	secp256k1HalfN = new(big.Int).Rsh(secp256k1N, 1)
)

// FormatAddress writes an address as 0x followed by 40 lowercase hex digits.
func FormatAddress(a Address) string { return hexutil.Encode(a[:]) }

// FormatHash writes a hash as 0x followed by 64 lowercase hex digits.
func FormatHash(h Hash) string { return hexutil.Encode(h[:]) }

// ParseAddress parses 0x + 40 hex digits (either case) into an Address.
func ParseAddress(s string) (Address, error) {
	if len(s) != 42 || (s[:2] != "0x" && s[:2] != "0X") {
		return Address{}, fmt.Errorf("malformed address %q: want 0x followed by 40 hex digits", s)
	}
	b, err := hexutil.Decode("0x" + s[2:])
	if err != nil {
		return Address{}, fmt.Errorf("malformed address %q: %w", s, err)
	}
	return common.BytesToAddress(b), nil
}

// ParseHash parses 0x + 64 hex digits into a Hash.
func ParseHash(s string) (Hash, error) {
	if len(s) != 66 || (s[:2] != "0x" && s[:2] != "0X") {
		return Hash{}, fmt.Errorf("malformed hash %q: want 0x followed by 64 hex digits", s)
	}
	b, err := hexutil.Decode("0x" + s[2:])
	if err != nil {
		return Hash{}, fmt.Errorf("malformed hash %q: %w", s, err)
	}
	return common.BytesToHash(b), nil
}

// PubkeyAddress returns the address of a public key.
func PubkeyAddress(pub *ecdsa.PublicKey) Address { return crypto.PubkeyToAddress(*pub) }

// Sign signs digest with key, producing a canonical low-S signature.
func Sign(key *ecdsa.PrivateKey, digest Hash) (Signature, error) {
	raw, err := crypto.Sign(digest[:], key)
	if err != nil {
		return Signature{}, fmt.Errorf("sign: %w", err)
	}
	var sig Signature
	copy(sig[:], raw)
	return sig, nil
}

// CheckCanonical rejects signatures whose R, S or V are out of range, and
// high-S signatures, which would make signed objects malleable.
func (sig *Signature) CheckCanonical() error {
	v := sig[64]
	if v > 1 {
		return fmt.Errorf("%w: recovery id %d", ErrBadSignature, v)
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:64])
	if r.Sign() == 0 || s.Sign() == 0 || r.Cmp(secp256k1N) >= 0 || s.Cmp(secp256k1N) >= 0 {
		return fmt.Errorf("%w: r or s out of range", ErrBadSignature)
	}
	if s.Cmp(secp256k1HalfN) > 0 {
		return fmt.Errorf("%w: high s", ErrBadSignature)
	}
	return nil
}

// Recover returns the address that produced sig over digest. It rejects
// non-canonical signatures.
func Recover(digest Hash, sig *Signature) (Address, error) {
	if err := sig.CheckCanonical(); err != nil {
		return Address{}, err
	}
	pub, err := crypto.Ecrecover(digest[:], sig[:])
	if err != nil {
		return Address{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	var a Address
	copy(a[:], crypto.Keccak256(pub[1:])[12:])
	return a, nil
}

// verifySigner checks that sig over digest was made by want.
func verifySigner(digest Hash, sig *Signature, want Address) error {
	return verifySignerWith(nil, digest, sig, want)
}

// Recoverer recovers the signer of a digest, typically through a cache of
// signatures already verified (a peer's vote arrives many times, and every
// certificate repeats votes already counted). A nil Recoverer stands for
// Recover.
type Recoverer interface {
	Recover(digest Hash, sig *Signature) (Address, error)
}

// verifySignerWith is verifySigner recovering through rec (Recover if nil).
func verifySignerWith(rec Recoverer, digest Hash, sig *Signature, want Address) error {
	var got Address
	var err error
	if rec != nil {
		got, err = rec.Recover(digest, sig)
	} else {
		got, err = Recover(digest, sig)
	}
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: recovered %s, want %s", ErrWrongSigner, FormatAddress(got), FormatAddress(want))
	}
	return nil
}
