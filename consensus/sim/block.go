package sim

import (
	"errors"
	"fmt"

	"github.com/quorumchain/quorumchain/chain"
)

// blockTime is the header time a proposer at the current virtual time
// gives a block on top of parent: its clock in unix milliseconds, but
// always after the parent's time.
func (s *sim) blockTime(parent *final) uint64 {
	t := uint64(s.clock().UnixMilli())
	if parent != nil && t <= parent.block.Header.Time {
		t = parent.block.Header.Time + 1
	}
	return t
}

// makeBlock builds a block of height h by proposer on parent (nil at
// height 1). There are no transactions (TxRoot is MerkleRoot(nil)); the
// evidence is the proposer's pool. The state hash is zero: the simulator
// executes nothing.
func (s *sim) makeBlock(h uint64, proposer chain.Address, parent *final, t uint64, ev []*chain.Evidence) *chain.Block {
	set := s.setAt(h)
	b := &chain.Block{
		Header: chain.Header{
			ChainID:            ChainID,
			Height:             h,
			Time:               t,
			Proposer:           proposer,
			TxRoot:             chain.MerkleRoot(nil),
			ValidatorsHash:     set.Hash(),
			NextValidatorsHash: s.setAt(h + 1).Hash(),
		},
		Evidence: ev,
	}
	b.Header.EvidenceRoot = chain.MerkleRoot(b.EvidenceHashes())
	if parent != nil {
		b.Header.ParentHash = parent.hash
		b.LastCertificate = parent.cert
		b.Header.LastCertHash = parent.cert.Hash()
	}
	return b
}

// includedEvidence is the set of evidence hashes in n's final blocks.
func (s *sim) includedEvidence(n *node) map[chain.Hash]bool {
	m := make(map[chain.Hash]bool)
	for _, f := range n.finals {
		for _, e := range f.block.Evidence {
			m[e.Hash()] = true
		}
	}
	return m
}

var errSim = errors.New("invalid block")

// validate is the block check of an honest validator at height h (its
// answer to CheckBlock, and the validity invariant of final blocks):
// ValidateBasic, height, parent hash and time against n's own final
// blocks, proposer and validator-set hashes, the last certificate verified
// against the parent's set, and every piece of evidence verified.
func (s *sim) validate(n *node, h uint64, b *chain.Block) error {
	hd := &b.Header
	if hd.Height != h {
		return fmt.Errorf("%w: height %d, want %d", errSim, hd.Height, h)
	}
	if err := b.ValidateBasic(ChainID, nil); err != nil {
		return err
	}
	set := s.setAt(h)
	if _, ok := set.StakeOf(hd.Proposer); !ok {
		return fmt.Errorf("%w: proposer %s is not a validator", errSim, chain.FormatAddress(hd.Proposer))
	}
	if hd.ValidatorsHash != set.Hash() || hd.NextValidatorsHash != s.setAt(h+1).Hash() {
		return fmt.Errorf("%w: validator set hashes", errSim)
	}
	if hd.StateHash != (chain.Hash{}) {
		return fmt.Errorf("%w: state hash", errSim)
	}
	if h > 1 {
		if uint64(len(n.finals)) < h-1 {
			return fmt.Errorf("%w: parent h=%d not final here", errSim, h-1)
		}
		parent := &n.finals[h-2]
		if hd.ParentHash != parent.hash {
			return fmt.Errorf("%w: parent %s, want %s", errSim, chain.FormatHash(hd.ParentHash), chain.FormatHash(parent.hash))
		}
		if hd.Time <= parent.block.Header.Time {
			return fmt.Errorf("%w: time %d not after parent's %d", errSim, hd.Time, parent.block.Header.Time)
		}
		if err := s.check.verifyCert(b.LastCertificate, h-1); err != nil {
			return fmt.Errorf("last certificate: %w", err)
		}
	}
	for _, e := range b.Evidence {
		if e.Height() >= h {
			return fmt.Errorf("%w: evidence of height %d", errSim, e.Height())
		}
		if err := s.check.verifyEvidence(e); err != nil {
			return err
		}
	}
	return nil
}
