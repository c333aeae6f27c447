package validator

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/accounts/keystore"

	"github.com/quorumchain/quorumchain/chain"
)

// Signer signs consensus messages for one validator, with double-sign
// protection. SignVote and SignProposal fill in the signature field, or
// return an error and leave the object unchanged. They may block (a remote
// signer waits for its operator) until ctx is done.
type Signer interface {
	Address() chain.Address
	SignVote(ctx context.Context, chainID string, v *chain.Vote) error
	SignProposal(ctx context.Context, chainID string, p *chain.Proposal) error
}

// LocalSigner signs with a private key held in memory.
type LocalSigner struct {
	key   *ecdsa.PrivateKey
	addr  chain.Address
	guard *Guard
	// doublePropose lets SignSecondProposal sign; see AllowDoublePropose.
	doublePropose bool
	// byzantineAllowed lets SetByzantine switch mode (byzantine.go).
	byzantineAllowed bool
	mode             atomic.Uint32 // a ByzantineMode
	// onSign, when set, learns every signature the key makes (OnSign).
	onSign func(digest chain.Hash, sig chain.Signature)
}

// ErrDoubleProposeDisabled is SignSecondProposal's refusal on a signer
// that was not made Byzantine with AllowDoublePropose.
var ErrDoubleProposeDisabled = errors.New("refusing to sign a second proposal: double proposing is not enabled")

// AllowDoublePropose makes the signer Byzantine for good (as the mode
// ByzantineDoublePropose does until switched off): SignSecondProposal will
// sign a second, conflicting proposal for the height and round of the
// last proposal it signed. It exists for test networks only (the node's
// signer.testnet_double_propose), to show that a double proposer is
// caught and slashed; nothing else about the guard changes. Call it before
// the signer is shared.
func (s *LocalSigner) AllowDoublePropose() { s.doublePropose = true }

// SignSecondProposal signs p, a proposal for the height and round of the
// last proposal the guard recorded but for another block or POL round: a
// double proposal. It refuses with ErrDoubleProposeDisabled unless
// AllowDoublePropose was called or the mode is ByzantineDoublePropose, and with ErrConflict when the last
// signature was not a proposal of p's height and round, or was p itself.
// The guard's record stays the first proposal, so the signer's votes are
// protected as before.
func (s *LocalSigner) SignSecondProposal(chainID string, p *chain.Proposal) error {
	if !s.doublePropose && s.Byzantine() != ByzantineDoublePropose {
		return ErrDoubleProposeDisabled
	}
	if p.Proposer != s.addr {
		return fmt.Errorf("validator: proposal is for %s, signer is %s", chain.FormatAddress(p.Proposer), chain.FormatAddress(s.addr))
	}
	last := s.guard.Last()
	digest := p.SignHash(chainID)
	if last.Step != StepProposal || last.Height != p.Height || last.Round != p.Round || last.SignHash == digest {
		return fmt.Errorf("%w: second proposal h=%d r=%d does not follow a first one", ErrConflict, p.Height, p.Round)
	}
	sig, err := s.sign(digest)
	if err != nil {
		return err
	}
	p.Signature = sig
	return nil
}

// NewLocalSigner returns a signer for key guarded by state.
func NewLocalSigner(key *ecdsa.PrivateKey, state StateStore) (*LocalSigner, error) {
	g, err := NewGuard(state)
	if err != nil {
		return nil, err
	}
	return &LocalSigner{key: key, addr: chain.PubkeyAddress(&key.PublicKey), guard: g}, nil
}

// Address implements Signer.
func (s *LocalSigner) Address() chain.Address { return s.addr }

// Guard exposes the signer's double-sign guard (for inspection).
func (s *LocalSigner) Guard() *Guard { return s.guard }

// OnSign makes the signer call fn with the digest and the signature each
// time its key makes one (a signature the guard hands out again from its
// record is not made again, so not reported). The node uses it to remember
// its own signatures as verified, so that the consensus Machine's check of
// its own votes and proposals costs no recovery. Call it before the signer
// is shared.
func (s *LocalSigner) OnSign(fn func(digest chain.Hash, sig chain.Signature)) { s.onSign = fn }

func (s *LocalSigner) sign(d chain.Hash) (chain.Signature, error) {
	sig, err := chain.Sign(s.key, d)
	if err == nil && s.onSign != nil {
		s.onSign(d, sig)
	}
	return sig, err
}

// SignVote implements Signer.
func (s *LocalSigner) SignVote(_ context.Context, chainID string, v *chain.Vote) error {
	if v.Validator != s.addr {
		return fmt.Errorf("validator: vote is for %s, signer is %s", chain.FormatAddress(v.Validator), chain.FormatAddress(s.addr))
	}
	sig, err := s.guard.Sign(v.Height, v.Round, StepOfVote(v.Type), v.SignHash(chainID), s.sign)
	if err != nil {
		return err
	}
	v.Signature = sig
	return nil
}

// SignProposal implements Signer.
func (s *LocalSigner) SignProposal(_ context.Context, chainID string, p *chain.Proposal) error {
	if p.Proposer != s.addr {
		return fmt.Errorf("validator: proposal is for %s, signer is %s", chain.FormatAddress(p.Proposer), chain.FormatAddress(s.addr))
	}
	sig, err := s.guard.Sign(p.Height, p.Round, StepProposal, p.SignHash(chainID), s.sign)
	if err != nil {
		return err
	}
	p.Signature = sig
	return nil
}

// LoadKeyFile decrypts a go-ethereum keystore v3 file.
func LoadKeyFile(path, password string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	k, err := keystore.DecryptKey(b, password)
	if err != nil {
		return nil, fmt.Errorf("decrypt key file %s: %w", path, err)
	}
	return k.PrivateKey, nil
}

// ReadPassword returns the password from file (trailing newline trimmed) or,
// if file is empty, from the environment variable env.
func ReadPassword(file, env string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if v, ok := os.LookupEnv(env); ok {
		return v, nil
	}
	return "", fmt.Errorf("no password: give --password-file or set %s", env)
}

func encodeHex(b []byte) string { return "0x" + hex.EncodeToString(b) }

func decodeHex(s string, n int) ([]byte, error) {
	s = strings.TrimPrefix(s, "0x")
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) != n {
		return nil, fmt.Errorf("want %d bytes, got %d", n, len(b))
	}
	return b, nil
}
