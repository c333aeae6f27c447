package engine

import (
	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/consensus"
)

// The certificate a block carries for its parent (LastCertificate) decides
// who is paid for the parent and who missed it (downtime jailing counts
// the validators absent from it). The Machine's certificate holds the
// precommits it had when more than two thirds arrived, so with blocks as
// fast as the network allows the slowest honest validator would be absent
// from nearly every one. The driver therefore keeps collecting precommits
// for the committed block after the height ends, as CometBFT's LastCommit
// does, and a proposer includes every one it has.

// lastCommit holds the precommits for the last committed block beyond its
// certificate. Bounded by the set's size.
type lastCommit struct {
	signers map[chain.Address]bool
	extra   []chain.CommitSig
}

// resetLastCommit starts collecting for the certificate just loaded.
func (e *Driver) resetLastCommit() {
	e.late = lastCommit{signers: make(map[chain.Address]bool)}
	if e.lastCert == nil {
		return
	}
	for _, p := range e.lastCert.Precommits {
		e.late.signers[p.Validator] = true
	}
}

// latePrecommit takes a precommit of the last committed height: one for
// the committed block and round, by a member of that height's set, with a
// valid signature, not yet held. It reports whether the vote was of the
// last height at all (then the Machine never sees it).
func (e *Driver) latePrecommit(v *chain.Vote) bool {
	if v == nil || v.Type != chain.Precommit || v.Height+1 != e.height {
		return false
	}
	c := e.lastCert
	if c == nil || v.Round != c.Round || v.BlockHash != c.BlockHash || e.late.signers[v.Validator] {
		return true
	}
	set, err := e.store.ValidatorSet(c.Height)
	if err != nil {
		return true
	}
	if _, ok := set.StakeOf(v.Validator); !ok {
		return true
	}
	if err := v.VerifyWith(e.chainID, e.cfg.Machine.Recoverer); err != nil {
		return true
	}
	e.late.signers[v.Validator] = true
	e.late.extra = append(e.late.extra, chain.CommitSig{Validator: v.Validator, Signature: v.Signature})
	return true
}

// keepLatePrecommits takes, when a height ends, the precommits for the
// decided block the driver holds but the certificate lacks (they arrived
// in the same batch as the deciding one).
func (e *Driver) keepLatePrecommits(votes []*chain.Vote) {
	for _, v := range votes {
		e.latePrecommit(v)
	}
}

// parentCertificate is the certificate a block built now carries: the
// committed one with every precommit collected since.
func (e *Driver) parentCertificate() *chain.Certificate {
	c := e.lastCert
	if c == nil || len(e.late.extra) == 0 {
		return c
	}
	all := append(append([]chain.CommitSig(nil), c.Precommits...), e.late.extra...)
	return chain.NewCertificate(c.Height, c.Round, c.BlockHash, all)
}

// lateVote routes a peer's vote of the last committed height to the
// collection above; it reports whether it did.
func (e *Driver) lateVote(in consensus.Input) bool {
	v, ok := in.(consensus.VoteReceived)
	return ok && e.latePrecommit(v.Vote)
}
