package validator

import (
	"errors"
	"fmt"
	"sync"

	"github.com/quorumchain/quorumchain/chain"
)

// SignStep orders the signed messages of one round.
type SignStep uint8

// Steps in signing order.
const (
	StepProposal SignStep = 1 + iota
	StepPrevote
	StepPrecommit
)

func (s SignStep) String() string {
	switch s {
	case StepProposal:
		return "proposal"
	case StepPrevote:
		return "prevote"
	case StepPrecommit:
		return "precommit"
	}
	return fmt.Sprintf("SignStep(%d)", uint8(s))
}

// StepOfVote maps a vote type to its signing step; SignStep.VoteType is
// its inverse.
func StepOfVote(t chain.VoteType) SignStep {
	if t == chain.Precommit {
		return StepPrecommit
	}
	return StepPrevote
}

// VoteType returns the type of the votes signed at step s, and false for
// the proposal step.
func (s SignStep) VoteType() (chain.VoteType, bool) {
	switch s {
	case StepPrevote:
		return chain.Prevote, true
	case StepPrecommit:
		return chain.Precommit, true
	}
	return 0, false
}

// Errors of double-sign protection.
var (
	ErrRegression = errors.New("refusing to sign: height/round/step is before the last signed")
	ErrConflict   = errors.New("refusing to sign: conflicts with what was already signed at this height/round/step")
)

// LastSigned is the persisted record of the last signature a validator made.
type LastSigned struct {
	Height    uint64          `json:"height,string"`
	Round     uint32          `json:"round"`
	Step      SignStep        `json:"step"`
	SignHash  chain.Hash      `json:"signHash"`
	Signature chain.Signature `json:"-"`
	SigHex    string          `json:"signature"`
}

// StateStore persists a LastSigned durably. Save returns only once the
// record is on stable storage.
type StateStore interface {
	Load() (LastSigned, error)
	Save(LastSigned) error
}

// Guard enforces double-sign protection over a StateStore. It is safe for
// concurrent use.
type Guard struct {
	mu    sync.Mutex
	store StateStore
	last  LastSigned
}

// NewGuard loads the last signed record from store.
func NewGuard(store StateStore) (*Guard, error) {
	last, err := store.Load()
	if err != nil {
		return nil, fmt.Errorf("validator: load signer state: %w", err)
	}
	return &Guard{store: store, last: last}, nil
}

// Last returns the last signed record.
func (g *Guard) Last() LastSigned {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last
}

// Sign runs sign for (height, round, step, digest) if that does not conflict
// with the last signed record, persists the new record, and only then
// returns the signature. A repeat of the last request returns the same
// signature without calling sign.
func (g *Guard) Sign(height uint64, round uint32, step SignStep, digest chain.Hash, sign func(chain.Hash) (chain.Signature, error)) (chain.Signature, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch cmpHRS(height, round, step, g.last) {
	case -1:
		return chain.Signature{}, fmt.Errorf("%w: asked h=%d r=%d %s, last signed h=%d r=%d %s",
			ErrRegression, height, round, step, g.last.Height, g.last.Round, g.last.Step)
	case 0:
		if g.last.SignHash == digest {
			return g.last.Signature, nil
		}
		return chain.Signature{}, fmt.Errorf("%w: h=%d r=%d %s", ErrConflict, height, round, step)
	}
	sig, err := sign(digest)
	if err != nil {
		return chain.Signature{}, err
	}
	next := LastSigned{Height: height, Round: round, Step: step, SignHash: digest, Signature: sig}
	if err := g.store.Save(next); err != nil {
		return chain.Signature{}, fmt.Errorf("validator: persist signer state: %w", err)
	}
	g.last = next
	return sig, nil
}

func cmpHRS(h uint64, r uint32, s SignStep, last LastSigned) int {
	switch {
	case last.Step == 0: // nothing signed yet
		return 1
	case h != last.Height:
		return cmp3(h < last.Height)
	case r != last.Round:
		return cmp3(r < last.Round)
	case s != last.Step:
		return cmp3(s < last.Step)
	}
	return 0
}

func cmp3(less bool) int {
	if less {
		return -1
	}
	return 1
}

// MemoryState is a StateStore in memory, for tests and the simulator (a
// simulated crash keeps it, as a disk would).
type MemoryState struct {
	mu   sync.Mutex
	last LastSigned
}

// Load implements StateStore.
func (m *MemoryState) Load() (LastSigned, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last, nil
}

// Save implements StateStore.
func (m *MemoryState) Save(l LastSigned) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = l
	return nil
}
