package node

import "github.com/quorumchain/quorumchain/chain"

// admissible is the peer path's share of the driver's admission rule
// (engine/admission.go), checked before any signature is recovered: a
// proposal or vote must be of the height being decided (the store's height
// + 1) or the next one, and one of the height being decided must be signed
// by a member of its validator set (the store has that set; the next
// height's membership the driver checks against its committed state).
// Anything else is dropped here, unverified and unrelayed, without blaming
// the peer: a late vote of an honest peer is merely old.
func (n *network) admissible(height uint64, signer chain.Address) bool {
	current := n.store.Height() + 1
	switch height {
	case current:
		set, err := n.store.ValidatorSet(current)
		if err != nil {
			return false
		}
		_, ok := set.Index(signer)
		return ok
	case current + 1:
		return true
	}
	return false
}

// admissibleVote is admissible for a vote, which may also be a precommit
// of the last committed height by a member of that height's set: the
// driver adds those to the certificate its next proposal carries
// (engine/lastcommit.go), so that a validator that was merely slower than
// the quorum is not counted as missing.
func (n *network) admissibleVote(v *chain.Vote) bool {
	if committed := n.store.Height(); v.Type == chain.Precommit && committed > 0 && v.Height == committed {
		set, err := n.store.ValidatorSet(committed)
		if err != nil {
			return false
		}
		_, ok := set.Index(v.Validator)
		return ok
	}
	return n.admissible(v.Height, v.Validator)
}
