package validator

import (
	"crypto/ecdsa"
	"errors"
	"path/filepath"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

const requestChain = "quorum-request-test"

// newRequestSigner returns a signer whose Guard lives in a file of a
// temporary directory, and the file's path.
func newRequestSigner(t *testing.T, key *ecdsa.PrivateKey) (*RequestSigner, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signer_state.json")
	return reopenRequestSigner(t, key, path), path
}

// reopenRequestSigner loads the Guard from path again, as after a restart.
func reopenRequestSigner(t *testing.T, key *ecdsa.PrivateKey, path string) *RequestSigner {
	t.Helper()
	g, err := NewGuard(FileState{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return NewRequestSigner(requestChain, key, g)
}

func voteRequest(addr chain.Address, typ chain.VoteType, height uint64, round uint32, block *chain.Hash) *Request {
	var b chain.Hash
	if block != nil {
		b = *block
	}
	return &Request{Validator: addr, Kind: typ.String(), Height: height, Round: round, Block: block,
		SignHash: chain.VoteSignHash(requestChain, typ, height, round, b)}
}

func proposalRequest(addr chain.Address, height uint64, round uint32, pol int32, block chain.Hash) *Request {
	return &Request{Validator: addr, Kind: "proposal", Height: height, Round: round, Block: &block, POLRound: &pol,
		SignHash: chain.ProposalSignHash(requestChain, height, round, pol, block)}
}

func TestRequestSignerSigns(t *testing.T) {
	s, _ := newRequestSigner(t, testKey(t, 20))
	blockA := chain.Hash{0xaa}
	for _, r := range []*Request{
		proposalRequest(s.Address(), 5, 0, chain.NoPOLRound, blockA),
		voteRequest(s.Address(), chain.Prevote, 5, 0, &blockA),
		voteRequest(s.Address(), chain.Precommit, 5, 0, &blockA),
		voteRequest(s.Address(), chain.Prevote, 5, 1, nil), // nil vote
		proposalRequest(s.Address(), 5, 2, 0, blockA),      // re-proposal with a POL round
		voteRequest(s.Address(), chain.Prevote, 6, 0, &blockA),
	} {
		sig, err := s.Sign(r, r.Height-1)
		if err != nil {
			t.Fatalf("%s h=%d r=%d: %v", r.Kind, r.Height, r.Round, err)
		}
		if got, err := chain.Recover(r.SignHash, &sig); err != nil || got != s.Address() {
			t.Errorf("%s h=%d r=%d: signature recovers to %s (%v)", r.Kind, r.Height, r.Round, chain.FormatAddress(got), err)
		}
	}
}

func TestRequestSignerRefuses(t *testing.T) {
	blockA, blockB := chain.Hash{0xaa}, chain.Hash{0xbb}
	pol := func(p int32) *int32 { return &p }
	tests := []struct {
		name string
		req  func(addr chain.Address) *Request
		tip  uint64 // verified tip (default 4)
		want error
	}{
		{"opaque hash: signHash not the digest of the fields", func(a chain.Address) *Request {
			r := voteRequest(a, chain.Prevote, 5, 0, &blockA)
			r.SignHash = chain.Hash{0x01}
			return r
		}, 0, ErrRefused},
		{"signHash of another block", func(a chain.Address) *Request {
			r := voteRequest(a, chain.Precommit, 5, 0, &blockA)
			r.Block = &blockB
			return r
		}, 0, ErrRefused},
		{"signHash of another vote type", func(a chain.Address) *Request {
			r := voteRequest(a, chain.Precommit, 5, 0, &blockA)
			r.Kind = "prevote"
			return r
		}, 0, ErrRefused},
		{"signHash of another chain", func(a chain.Address) *Request {
			r := voteRequest(a, chain.Prevote, 5, 0, &blockA)
			r.SignHash = chain.VoteSignHash("other-chain", chain.Prevote, 5, 0, blockA)
			return r
		}, 0, ErrRefused},
		{"signHash of another POL round", func(a chain.Address) *Request {
			r := proposalRequest(a, 5, 2, 1, blockA)
			r.POLRound = pol(0)
			return r
		}, 0, ErrRefused},
		{"proposal without POL round", func(a chain.Address) *Request {
			r := proposalRequest(a, 5, 0, chain.NoPOLRound, blockA)
			r.POLRound = nil
			return r
		}, 0, ErrRefused},
		{"proposal with POL round not below its round", func(a chain.Address) *Request {
			return proposalRequest(a, 5, 1, 1, blockA)
		}, 0, ErrRefused},
		{"proposal of no block", func(a chain.Address) *Request {
			return proposalRequest(a, 5, 0, chain.NoPOLRound, chain.Hash{})
		}, 0, ErrRefused},
		{"vote with a POL round", func(a chain.Address) *Request {
			r := voteRequest(a, chain.Prevote, 5, 0, &blockA)
			r.POLRound = pol(-1)
			return r
		}, 0, ErrRefused},
		{"unknown kind", func(a chain.Address) *Request {
			r := voteRequest(a, chain.Prevote, 5, 0, &blockA)
			r.Kind = "commit"
			return r
		}, 0, ErrRefused},
		{"another validator's request", func(chain.Address) *Request {
			return voteRequest(chain.Address{0x01}, chain.Prevote, 5, 0, &blockA)
		}, 0, ErrRefused},
		{"height beyond the verified tip plus one", func(a chain.Address) *Request {
			return voteRequest(a, chain.Prevote, 7, 0, &blockA)
		}, 5, ErrBeyondVerifiedTip},
		{"height 2^63 with a verified tip of 5", func(a chain.Address) *Request {
			return voteRequest(a, chain.Prevote, 1<<63, 0, &blockA)
		}, 5, ErrBeyondVerifiedTip},
		{"height 2^64-1 with a verified tip of 5", func(a chain.Address) *Request {
			return voteRequest(a, chain.Prevote, 1<<64-1, 0, &blockA)
		}, 5, ErrBeyondVerifiedTip},
		// After signing prevote h=5 r=0 for block A (below):
		{"conflicting request at the same height, round and step", func(a chain.Address) *Request {
			return voteRequest(a, chain.Prevote, 5, 0, &blockB)
		}, 0, ErrConflict},
		{"nil vote where a block was signed", func(a chain.Address) *Request {
			return voteRequest(a, chain.Prevote, 5, 0, nil)
		}, 0, ErrConflict},
		{"step before the last signed", func(a chain.Address) *Request {
			return proposalRequest(a, 5, 0, chain.NoPOLRound, blockA)
		}, 0, ErrRegression},
		{"height before the last signed", func(a chain.Address) *Request {
			return voteRequest(a, chain.Precommit, 4, 3, &blockA)
		}, 0, ErrRegression},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newRequestSigner(t, testKey(t, 21))
			if _, err := s.Sign(voteRequest(s.Address(), chain.Prevote, 5, 0, &blockA), 4); err != nil {
				t.Fatal(err)
			}
			before := s.Guard().Last()
			tip := tt.tip
			if tip == 0 {
				tip = 4
			}
			_, err := s.Sign(tt.req(s.Address()), tip)
			if !IsRefusal(err) || !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want a refusal wrapping %v", err, tt.want)
			}
			if after := s.Guard().Last(); after != before {
				t.Errorf("refused request moved the guard: %+v, was %+v", after, before)
			}
		})
	}
}

// TestRequestSignerBeyondTipDoesNotMoveGuard: a request at height 2^63
// from a lying node is refused, and the next real request is signed.
func TestRequestSignerBeyondTipDoesNotMoveGuard(t *testing.T) {
	s, path := newRequestSigner(t, testKey(t, 22))
	block := chain.Hash{0x11}
	if _, err := s.Sign(voteRequest(s.Address(), chain.Precommit, 9, 0, &block), 8); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(voteRequest(s.Address(), chain.Prevote, 1<<63, 0, &block), 9); !errors.Is(err, ErrBeyondVerifiedTip) {
		t.Fatalf("height 2^63: got %v, want %v", err, ErrBeyondVerifiedTip)
	}
	restarted := reopenRequestSigner(t, testKey(t, 22), path)
	if last := restarted.Guard().Last(); last.Height != 9 {
		t.Fatalf("guard at height %d after the refused request, want 9", last.Height)
	}
	if _, err := restarted.Sign(voteRequest(s.Address(), chain.Prevote, 10, 0, &block), 9); err != nil {
		t.Fatalf("next real request: %v", err)
	}
}

func TestRequestSignerResignsIdentical(t *testing.T) {
	key := testKey(t, 23)
	s, path := newRequestSigner(t, key)
	block := chain.Hash{0xaa}
	r := voteRequest(s.Address(), chain.Precommit, 9, 2, &block)
	first, err := s.Sign(r, 8)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.Sign(r, 8); err != nil || again != first {
		t.Errorf("identical request signed again: %x (%v), want %x", again, err, first)
	}
	restarted := reopenRequestSigner(t, key, path)
	if again, err := restarted.Sign(r, 8); err != nil || again != first {
		t.Errorf("after restart: %x (%v), want %x", again, err, first)
	}
	other := chain.Hash{0xbb}
	if _, err := restarted.Sign(voteRequest(s.Address(), chain.Precommit, 9, 2, &other), 8); !errors.Is(err, ErrConflict) {
		t.Errorf("conflicting request after restart: %v, want %v", err, ErrConflict)
	}
}
