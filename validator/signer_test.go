package validator

import (
	"context"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

// OnSign hears of each signature the key makes, with the digest it signed
// and its exact bytes, and of nothing the signer did not sign: not the
// guard's record handed out again, not a refused request.
func TestOnSignReportsEachNewSignature(t *testing.T) {
	k := testKey(t, 1)
	s, err := NewLocalSigner(k, &MemoryState{})
	if err != nil {
		t.Fatal(err)
	}
	type signed struct {
		digest chain.Hash
		sig    chain.Signature
	}
	var heard []signed
	s.OnSign(func(d chain.Hash, sig chain.Signature) { heard = append(heard, signed{d, sig}) })
	ctx := context.Background()

	v := vote(k, chain.Prevote, 5, 1, 0xaa)
	if err := s.SignVote(ctx, testChain, v); err != nil {
		t.Fatal(err)
	}
	if len(heard) != 1 || heard[0] != (signed{v.SignHash(testChain), v.Signature}) {
		t.Fatalf("after a vote heard %+v", heard)
	}
	if err := s.SignVote(ctx, testChain, vote(k, chain.Prevote, 5, 1, 0xaa)); err != nil {
		t.Fatal(err)
	}
	if err := s.SignVote(ctx, testChain, vote(k, chain.Prevote, 5, 1, 0xbb)); err == nil {
		t.Fatal("a conflicting prevote was signed")
	}
	if len(heard) != 1 {
		t.Fatalf("the same vote again and a refused one were reported: %d reports", len(heard))
	}
	p := &chain.Proposal{Height: 6, Round: 0, BlockHash: chain.Hash{1}, Proposer: s.Address()}
	if err := s.SignProposal(ctx, testChain, p); err != nil {
		t.Fatal(err)
	}
	if len(heard) != 2 || heard[1] != (signed{p.SignHash(testChain), p.Signature}) {
		t.Fatalf("after a proposal heard %+v", heard)
	}
	for _, h := range heard {
		if got, err := chain.Recover(h.digest, &h.sig); err != nil || got != s.Address() {
			t.Fatalf("reported signature recovers to %s, %v; want the signer %s", chain.FormatAddress(got), err, chain.FormatAddress(s.Address()))
		}
	}
}
