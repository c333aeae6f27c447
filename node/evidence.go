package node

import (
	"errors"
	"fmt"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/p2p"
)

// Peers' evidence is verified here, on the peer's own goroutine, through
// the shared signature cache, never on the consensus goroutine: a flood of
// evidence with bad signatures costs the flooder's connection (the error
// wraps p2p.ErrInvalidPeerData, and the Switch disconnects it), not the
// consensus loop's time. Only verified evidence reaches the loop, where
// the driver's own check finds both signatures in the cache.

// errEvidenceUnusable marks evidence that cannot be checked or used here
// yet or any more (a height whose validator set this node does not have);
// it is dropped without blaming the peer, which may be ahead of us.
var errEvidenceUnusable = errors.New("evidence of a height this node cannot check")

// verifyEvidence checks ev against the validator set of its height, as the
// store holds it (sets through Height()+1).
func (n *network) verifyEvidence(ev *chain.Evidence) error {
	if ev == nil {
		return fmt.Errorf("%w: empty evidence", p2p.ErrInvalidPeerData)
	}
	h := ev.Height()
	if h == 0 || h > n.store.Height()+1 {
		return fmt.Errorf("%w: h=%d", errEvidenceUnusable, h)
	}
	set, err := n.store.ValidatorSet(h)
	if err != nil {
		return fmt.Errorf("%w: h=%d: %v", errEvidenceUnusable, h, err)
	}
	if err := ev.VerifyWith(n.chainID, set, n.sigs); err != nil {
		return fmt.Errorf("%w: evidence h=%d: %v", p2p.ErrInvalidPeerData, h, err)
	}
	return nil
}

// receiveEvidence hands verified evidence to the consensus loop; invalid
// evidence is an error that disconnects the peer.
func (n *network) receiveEvidence(from p2p.NodeID, ev *chain.Evidence) error {
	if err := n.verifyEvidence(ev); err != nil {
		if errors.Is(err, errEvidenceUnusable) {
			return nil
		}
		return err
	}
	return n.deliver(inbound{peer: from, evidence: ev})
}
