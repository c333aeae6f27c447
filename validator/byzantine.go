package validator

import (
	"errors"
	"fmt"

	"github.com/quorumchain/quorumchain/chain"
)

// ByzantineMode is how a test network's validator is told to misbehave
// (`quorumchain testnet byzantine`). The signer holds it; the consensus
// driver reads it before each signature.
type ByzantineMode uint32

// Byzantine modes.
const (
	// ByzantineOff is an honest validator.
	ByzantineOff ByzantineMode = iota
	// ByzantineEquivocate signs and broadcasts, with each honest prevote
	// and precommit, a second one of the same height, round and type for
	// another block (or for nil when the honest one is for a block).
	ByzantineEquivocate
	// ByzantineDoublePropose broadcasts a second proposal after each of
	// its own.
	ByzantineDoublePropose
	// ByzantineNilVotes prevotes and precommits nil, always.
	ByzantineNilVotes
	// ByzantineSilent signs and sends nothing.
	ByzantineSilent
)

var byzantineNames = [...]string{"off", "equivocate", "double-propose", "nil-votes", "silent"}

func (m ByzantineMode) String() string {
	if int(m) < len(byzantineNames) {
		return byzantineNames[m]
	}
	return fmt.Sprintf("ByzantineMode(%d)", uint32(m))
}

// ByzantineModes lists the modes' names, off first.
func ByzantineModes() []string { return byzantineNames[:] }

// Errors of the Byzantine switch.
var (
	ErrUnknownByzantineMode = errors.New("unknown byzantine mode")
	// ErrByzantineDisabled is SetByzantine's refusal on a signer that was
	// not made switchable with AllowByzantine.
	ErrByzantineDisabled = errors.New("byzantine modes are not enabled on this signer (signer.testnet_byzantine)")
	// ErrEquivocateDisabled is SignConflictingVote's refusal outside
	// ByzantineEquivocate.
	ErrEquivocateDisabled = errors.New("refusing to sign a conflicting vote: not equivocating")
)

// ParseByzantineMode parses a mode's name.
func ParseByzantineMode(s string) (ByzantineMode, error) {
	for i, n := range byzantineNames {
		if n == s {
			return ByzantineMode(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want one of %v)", ErrUnknownByzantineMode, s, byzantineNames)
}

// AllowByzantine lets SetByzantine switch the signer's mode at run time.
// It exists for test networks only (the node's signer.testnet_byzantine).
// Call it before the signer is shared.
func (s *LocalSigner) AllowByzantine() { s.byzantineAllowed = true }

// SetByzantine switches the signer's mode; ErrByzantineDisabled unless
// AllowByzantine was called. Whatever the mode, the guard records only
// the signatures an honest validator could have made (SignVote,
// SignProposal): after ByzantineOff the signer never signs anything
// conflicting with them.
func (s *LocalSigner) SetByzantine(m ByzantineMode) error {
	if !s.byzantineAllowed {
		return ErrByzantineDisabled
	}
	if int(m) >= len(byzantineNames) {
		return fmt.Errorf("%w: %d", ErrUnknownByzantineMode, uint32(m))
	}
	s.mode.Store(uint32(m))
	return nil
}

// Byzantine returns the signer's mode.
func (s *LocalSigner) Byzantine() ByzantineMode { return ByzantineMode(s.mode.Load()) }

// SignConflictingVote signs v, a vote for the height, round and type of
// the last vote the guard recorded but for another block: an
// equivocation. It refuses with ErrEquivocateDisabled unless the mode is
// ByzantineEquivocate, and with ErrConflict when the last signature was not
// a vote of v's height, round and type, or was v itself. The guard's
// record stays the honest vote.
func (s *LocalSigner) SignConflictingVote(chainID string, v *chain.Vote) error {
	if s.Byzantine() != ByzantineEquivocate {
		return ErrEquivocateDisabled
	}
	if v.Validator != s.addr {
		return fmt.Errorf("validator: vote is for %s, signer is %s", chain.FormatAddress(v.Validator), chain.FormatAddress(s.addr))
	}
	last := s.guard.Last()
	digest := v.SignHash(chainID)
	if last.Step != StepOfVote(v.Type) || last.Height != v.Height || last.Round != v.Round || last.SignHash == digest {
		return fmt.Errorf("%w: conflicting %s h=%d r=%d does not follow an honest one", ErrConflict, v.Type, v.Height, v.Round)
	}
	sig, err := s.sign(digest)
	if err != nil {
		return err
	}
	v.Signature = sig
	return nil
}
