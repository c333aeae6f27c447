package consensus

import (
	"errors"
	"fmt"

	"github.com/quorumchain/quorumchain/chain"
)

// onVote verifies and counts a vote of the current height. Checks run from
// cheapest to dearest so that a vote already counted, or from a
// non-validator, costs no signature recovery:
//
//  1. height: the next height's is buffered if its signer is a member of
//     that height's set, within the signer's allowance (unless fromFuture
//     says the vote is being taken out of that buffer), older ones and any vote after
//     the decision are ignored;
//  2. membership (rejected), round window (ignored beyond it);
//  3. duplicate of the counted vote, or an equivocation already reported:
//     ignored without verifying;
//  4. signature (rejected if bad);
//  5. counted; a conflict with the counted vote emits EvidenceFound once
//     per (validator, round, type) and the first vote stays counted.
func (m *Machine) onVote(in VoteReceived, fromFuture bool) {
	v := in.Vote
	if v == nil {
		m.reject(in, fmt.Errorf("%w: nil vote", ErrMalformedInput))
		return
	}
	if m.set == nil || v.Height > m.height {
		if v.Height == m.height+1 && !fromFuture && m.future.addVote(in, m.height+1, m.nextSet) {
			m.accept()
		}
		return
	}
	if v.Height < m.height || m.decided {
		return
	}
	if v.Type != chain.Prevote && v.Type != chain.Precommit {
		m.reject(in, fmt.Errorf("%w: vote type %d", ErrMalformedInput, v.Type))
		return
	}
	idx, ok := m.index[v.Validator]
	if !ok {
		m.reject(in, fmt.Errorf("%w: vote by %s at h=%d", ErrUnknownValidator, chain.FormatAddress(v.Validator), v.Height))
		return
	}
	if !m.votes.admissible(idx, v.Round, m.round) {
		return
	}
	if rv := m.votes.round(v.Round); rv != nil {
		set := rv.set(v.Type)
		if old := set.get(idx); old != nil {
			// Duplicates, and conflicts beyond what the set counts, are
			// dropped before the signature is checked.
			if old.BlockHash == v.BlockHash || set.hasConflicting(v.Validator, v.BlockHash) ||
				set.conflicting(v.Validator) >= maxConflictingVotes {
				return
			}
		}
	}
	if err := m.verifyVote(v); err != nil {
		m.reject(in, fmt.Errorf("%w: %w", ErrBadSignature, err))
		return
	}
	m.countVote(idx, v)
}

// countVote adds a verified vote of validator idx, reports an equivocation,
// and applies the round skip (line 55) and the end of the new-height wait.
func (m *Machine) countVote(idx int, v *chain.Vote) {
	rv := m.votes.admit(idx, v.Round, m.round)
	if rv == nil {
		return
	}
	added, err := m.votes.add(rv, idx, v)
	var conflict *ConflictingVoteError
	switch {
	case errors.As(err, &conflict):
		if rv.set(v.Type).hasConflicting(v.Validator, v.BlockHash) {
			m.accept() // counted toward its own block
		}
		key := conflictKey{idx: idx, round: v.Round, typ: v.Type}
		if !m.reported[key] {
			m.reported[key] = true
			m.emit(EvidenceFound{Evidence: conflict.Evidence()})
		}
		return
	case err != nil:
		panic(fmt.Sprintf("consensus: invariant vote-set-add-error: %v", err))
	case !added:
		return
	}
	m.accept()
	switch {
	case v.Round > m.round && m.isOneThird(rv.senderStake):
		m.enterNewRound(v.Round) // line 55: f+1 messages of a higher round
	case m.step == StepNewHeight && m.isOneThird(m.votes.senderStake):
		m.enterNewRound(0) // more than a third of the stake has started the height
	}
}

// signVote asks the Signer for the local validator's vote of the current
// height and round, once per (round, type). A follower signs nothing.
func (m *Machine) signVote(t chain.VoteType, hash chain.Hash) {
	if m.selfIdx < 0 {
		return
	}
	for i := range m.voteRequests {
		if r := &m.voteRequests[i]; r.Type == t && r.Round == m.round {
			panic(fmt.Sprintf("consensus: invariant one-vote-per-step: %s at h=%d r=%d requested twice", t, m.height, m.round))
		}
	}
	v := chain.Vote{Type: t, Height: m.height, Round: m.round, BlockHash: hash, Validator: m.cfg.Self}
	m.voteRequests = append(m.voteRequests, v)
	req := v
	m.emit(SignVote{Vote: &req})
}

// onOwnVote takes a vote the Signer signed in answer to SignVote, emits its
// broadcast, then counts it. It is broadcast even after the decision: other
// validators may need it.
func (m *Machine) onOwnVote(in OwnVote) {
	v := in.Vote
	if v == nil {
		m.reject(in, fmt.Errorf("%w: nil own vote", ErrMalformedInput))
		return
	}
	if m.set == nil || v.Height != m.height {
		return
	}
	i := m.findVoteRequest(v.Type, v.Round)
	if i < 0 || m.voteRequests[i].BlockHash != v.BlockHash || v.Validator != m.cfg.Self {
		m.reject(in, fmt.Errorf("%w: %s h=%d r=%d", ErrNotRequested, v.Type, v.Height, v.Round))
		return
	}
	if err := m.verifyVote(v); err != nil {
		m.reject(in, fmt.Errorf("%w: own vote: %w", ErrBadSignature, err))
		return
	}
	m.markVoteAnswered(i)
	m.emit(BroadcastVote{Vote: v})
	if !m.decided {
		m.countVote(m.selfIdx, v)
	}
}

// onSignRefused drops the refused request: the Machine carries on without
// that signature (the round's timeouts still move it forward).
func (m *Machine) onSignRefused(in SignRefused) {
	if m.set == nil || in.Height != m.height {
		return
	}
	if in.Step == StepPropose {
		if p := m.proposalRequest; p != nil && p.Round == in.Round {
			m.proposalRequest = nil
		}
		return
	}
	if t, ok := in.Step.VoteType(); ok {
		if i := m.findVoteRequest(t, in.Round); i >= 0 {
			m.markVoteAnswered(i)
		}
	}
}

// findVoteRequest returns the index of the unanswered request for (type,
// round), or -1.
func (m *Machine) findVoteRequest(t chain.VoteType, round uint32) int {
	for i := range m.voteRequests {
		if r := &m.voteRequests[i]; r.Type == t && r.Round == round && r.Validator != (chain.Address{}) {
			return i
		}
	}
	return -1
}

// markVoteAnswered keeps the request's (type, round) so that the Machine
// never asks twice, but clears its validator so it matches no answer.
func (m *Machine) markVoteAnswered(i int) { m.voteRequests[i].Validator = chain.Address{} }

// verifySigner checks that sig over digest was made by want, through
// Config.Recoverer when one is set.
func (m *Machine) verifySigner(digest chain.Hash, sig *chain.Signature, want chain.Address) error {
	if m.cfg.Recoverer == nil {
		got, err := chain.Recover(digest, sig)
		return signerMatches(got, want, err)
	}
	got, err := m.cfg.Recoverer.Recover(digest, sig)
	return signerMatches(got, want, err)
}

func signerMatches(got, want chain.Address, err error) error {
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: recovered %s, want %s", chain.ErrWrongSigner, chain.FormatAddress(got), chain.FormatAddress(want))
	}
	return nil
}

// verifyVote is chain.Vote.Verify through verifySigner.
func (m *Machine) verifyVote(v *chain.Vote) error {
	if v.Type != chain.Prevote && v.Type != chain.Precommit {
		return fmt.Errorf("vote: %w: type %d", chain.ErrInvalidFields, v.Type)
	}
	return m.verifySigner(v.SignHash(m.cfg.ChainID), &v.Signature, v.Validator)
}

// verifyProposal is chain.Proposal.Verify through verifySigner.
func (m *Machine) verifyProposal(p *chain.Proposal) error {
	if err := p.ValidateBasic(); err != nil {
		return err
	}
	return m.verifySigner(p.SignHash(m.cfg.ChainID), &p.Signature, p.Proposer)
}
