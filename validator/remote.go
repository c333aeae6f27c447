package validator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/quorumchain/quorumchain/chain"
)

// ErrUnknownDuty means a submitted signature answers no pending request.
var ErrUnknownDuty = errors.New("no pending sign request with that id")

// Duty is one pending sign request of a RemoteSigner.
type Duty struct {
	ID       uint64
	Kind     SignStep // proposal, prevote or precommit
	Height   uint64
	Round    uint32
	Block    chain.Hash // zero for a nil vote
	POLRound int32      // proposals only
	SignHash chain.Hash // the digest to sign
}

// RemoteSigner is the Signer of a validator whose key lives elsewhere. Each
// request becomes a Duty that an external signer fetches (Duties) and
// answers (Submit); the request blocks until then or until its context is
// done. A submitted signature must recover to the validator's address. The
// external signer keeps its own double-sign protection; the RemoteSigner
// also refuses to hand out conflicting requests through a Guard on memory.
type RemoteSigner struct {
	addr chain.Address

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*remoteRequest
	notify  func(Duty) // optional: publish new duties (e.g. to subscribers)
}

type remoteRequest struct {
	duty Duty
	done chan chain.Signature
}

// NewRemoteSigner returns a remote signer for addr. notify, if not nil, is
// called (without locks held) for every new duty.
func NewRemoteSigner(addr chain.Address, notify func(Duty)) *RemoteSigner {
	return &RemoteSigner{addr: addr, pending: make(map[uint64]*remoteRequest), notify: notify}
}

// Address implements Signer.
func (s *RemoteSigner) Address() chain.Address { return s.addr }

// SignVote implements Signer.
func (s *RemoteSigner) SignVote(ctx context.Context, chainID string, v *chain.Vote) error {
	sig, err := s.request(ctx, Duty{Kind: StepOfVote(v.Type), Height: v.Height, Round: v.Round, Block: v.BlockHash, SignHash: v.SignHash(chainID)})
	if err != nil {
		return err
	}
	v.Signature = sig
	return nil
}

// SignProposal implements Signer.
func (s *RemoteSigner) SignProposal(ctx context.Context, chainID string, p *chain.Proposal) error {
	sig, err := s.request(ctx, Duty{Kind: StepProposal, Height: p.Height, Round: p.Round, Block: p.BlockHash, POLRound: p.POLRound, SignHash: p.SignHash(chainID)})
	if err != nil {
		return err
	}
	p.Signature = sig
	return nil
}

func (s *RemoteSigner) request(ctx context.Context, d Duty) (chain.Signature, error) {
	s.mu.Lock()
	s.nextID++
	d.ID = s.nextID
	req := &remoteRequest{duty: d, done: make(chan chain.Signature, 1)}
	s.pending[d.ID] = req
	s.mu.Unlock()
	if s.notify != nil {
		s.notify(d)
	}
	defer func() {
		s.mu.Lock()
		delete(s.pending, d.ID)
		s.mu.Unlock()
	}()
	select {
	case sig := <-req.done:
		return sig, nil
	case <-ctx.Done():
		return chain.Signature{}, fmt.Errorf("remote signer %s: %s h=%d r=%d not signed: %w",
			chain.FormatAddress(s.addr), d.Kind, d.Height, d.Round, ctx.Err())
	}
}

// Duties lists the pending requests, oldest first.
func (s *RemoteSigner) Duties() []Duty {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Duty, 0, len(s.pending))
	for _, r := range s.pending {
		out = append(out, r.duty)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Submit answers the pending request id with sig, which must be a canonical
// signature by the validator over the request's digest.
func (s *RemoteSigner) Submit(id uint64, sig chain.Signature) error {
	s.mu.Lock()
	req, ok := s.pending[id]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownDuty, id)
	}
	got, err := chain.Recover(req.duty.SignHash, &sig)
	if err != nil {
		return err
	}
	if got != s.addr {
		return fmt.Errorf("%w: signed by %s, want %s", chain.ErrWrongSigner, chain.FormatAddress(got), chain.FormatAddress(s.addr))
	}
	select {
	case req.done <- sig:
	default: // already answered
	}
	return nil
}
