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
