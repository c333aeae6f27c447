package p2p

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

// The evidence message carries both kinds of evidence: a double vote in its
// original encoding and a double proposal in the kind-tagged one.
func TestEvidenceMessageCarriesBothKinds(t *testing.T) {
	k1 := testKey(t, 1)
	v := signedVote(t, k1, chain.Prevote, 4, 1, chain.Hash{9})
	votes := chain.NewEvidence(v, signedVote(t, k1, chain.Prevote, 4, 1, chain.Hash{}))
	blk := makeBlock(t, k1, 4, 3, nil)
	p1 := proposalFor(t, k1, blk, 1)
	p2 := *p1
	p2.BlockHash = chain.Hash{7}
	sig, err := chain.Sign(k1, p2.SignHash(testChain))
	if err != nil {
		t.Fatal(err)
	}
	p2.Signature = sig
	props := chain.NewProposalEvidence(p1, &p2)
	for _, ev := range []*chain.Evidence{votes, props} {
		m, err := Decode(Encode(&EvidenceMessage{Evidence: ev}))
		if err != nil {
			t.Fatalf("%s: %v", ev.Kind, err)
		}
		got, ok := m.(*EvidenceMessage)
		if !ok || got.Evidence.Kind != ev.Kind || got.Evidence.Hash() != ev.Hash() {
			t.Fatalf("%s: decoded %T %+v", ev.Kind, m, m)
		}
	}
}
