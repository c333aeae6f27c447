package consensus

import (
	"fmt"
	"math/bits"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// uponDecision is lines 49-54: upon PROPOSAL(h, r, v, ∗) and 2f+1
// PRECOMMIT(h, r, id(v)) at any round r while undecided, if valid(v),
// decide v. The block may come from any proposal of the height (or a
// commit from block sync); it must be checked valid first. A certificate
// received by block sync (CommitReceived) is decided the same way.
func (m *Machine) uponDecision() bool {
	if c := m.commit; c != nil {
		e := m.blocks[c.Certificate.BlockHash]
		if valid, _ := m.validity(e); valid {
			m.enterCommit(e.block, c.Certificate)
			return true
		}
	}
	for _, r := range m.votes.precommitQuorums {
		pcs := m.votes.round(r).precommits
		hash, ok := pcs.twoThirdsMajority()
		if !ok || hash == (chain.Hash{}) {
			panic("consensus: invariant precommit-quorum-recorded")
		}
		e := m.blocks[hash]
		if e == nil {
			continue // block not seen yet: wait for its proposal or a commit
		}
		if valid, _ := m.validity(e); valid {
			m.enterCommit(e.block, chain.NewCertificate(m.height, r, hash, pcs.commitSigs(hash)))
			return true
		}
	}
	return false
}

// enterCommit decides b with certificate c: the Machine emits Finalize and
// stays in StepCommit until the next NewHeight.
func (m *Machine) enterCommit(b *chain.Block, c *chain.Certificate) {
	if signed := m.certifiedStake(c); !staking.HasQuorum(signed, m.stakeTotal) {
		panic(fmt.Sprintf("consensus: invariant certificate-quorum: h=%d r=%d signed %d of %d", c.Height, c.Round, signed, m.stakeTotal))
	}
	m.step = StepCommit
	m.decided = true
	m.commit = nil
	m.emit(Finalize{Block: b, Certificate: c})
}

// certifiedStake sums the stake of c's signers.
func (m *Machine) certifiedStake(c *chain.Certificate) uint64 {
	var sum, carry uint64
	for _, p := range c.Precommits {
		idx, ok := m.index[p.Validator]
		if !ok {
			panic("consensus: invariant certificate-signer-in-set")
		}
		sum, carry = bits.Add64(sum, m.stakes[idx], 0)
		if carry != 0 {
			panic("consensus: invariant stake-no-overflow")
		}
	}
	return sum
}

// onCommitReceived handles a block and certificate from block sync: it
// verifies the certificate against the height's validator set and decides
// the block once CheckBlock says it is valid.
func (m *Machine) onCommitReceived(in CommitReceived) {
	b, c := in.Block, in.Certificate
	if b == nil || c == nil {
		m.reject(in, fmt.Errorf("%w: commit without block or certificate", ErrMalformedInput))
		return
	}
	if m.set == nil || c.Height != m.height || m.decided {
		return
	}
	hash := b.Hash()
	if hash != c.BlockHash || b.Header.Height != c.Height {
		m.reject(in, fmt.Errorf("%w: certificate h=%d for %s, block h=%d %s", ErrBlockMismatch,
			c.Height, chain.FormatHash(c.BlockHash), b.Header.Height, chain.FormatHash(hash)))
		return
	}
	if _, err := c.VerifyWith(m.cfg.ChainID, m.set, m.cfg.Recoverer); err != nil {
		m.reject(in, fmt.Errorf("%w: %w", ErrBadCertificate, err))
		return
	}
	if e := m.blocks[hash]; e != nil && e.status == blockInvalid {
		m.reject(in, fmt.Errorf("%w: h=%d %s", ErrInvalidBlock, c.Height, chain.FormatHash(hash)))
		return
	}
	m.addBlock(b, hash, c.Round, blockUnchecked)
	m.commit = &in
}
