package engine

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

func conflicting(v chain.Address, h uint64, round uint32, n int) *chain.Evidence {
	a := &chain.Vote{Type: chain.Prevote, Height: h, Round: round, BlockHash: chain.Hash{0, byte(n), byte(n >> 8)}, Validator: v}
	b := &chain.Vote{Type: chain.Prevote, Height: h, Round: round, BlockHash: chain.Hash{1, byte(n), byte(n >> 8)}, Validator: v}
	return chain.NewEvidence(a, b)
}

// TestEvidenceDedupByValidatorHeight: the pool keeps one piece of evidence
// per (validator, height), the first; any number of further conflicting
// pairs of the same double sign add nothing, so they cannot fill the pool
// and crowd out another validator's evidence.
func TestEvidenceDedupByValidatorHeight(t *testing.T) {
	p := newEvidencePool()
	x, y := chain.Address{0xa}, chain.Address{0xb}
	first := conflicting(x, 5, 0, 0)
	if !p.add(first) {
		t.Fatal("the first piece of evidence was not kept")
	}
	for i := 1; i < 3*maxPendingEvidence; i++ {
		if p.add(conflicting(x, 5, uint32(i%7), i)) {
			t.Fatalf("pair %d of the same double sign was kept", i)
		}
	}
	other := conflicting(y, 5, 0, 0)
	if !p.add(other) {
		t.Fatal("another validator's evidence was refused")
	}
	got := p.pending(6)
	if len(got) != 2 || got[0].Hash() != first.Hash() || got[1].Hash() != other.Hash() {
		t.Fatalf("pending: %d pieces, want the first of x and y's", len(got))
	}
	p.committed(got[:1])
	if p.add(conflicting(x, 5, 9, 9999)) {
		t.Fatal("evidence of a committed double sign was kept")
	}
}
