package chain

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"
)

func signedProposal(t testing.TB, n int64, chainID string, h uint64, r uint32, pol int32, block Hash) *Proposal {
	t.Helper()
	k := testKey(t, n)
	p := &Proposal{Height: h, Round: r, POLRound: pol, BlockHash: block, Proposer: PubkeyAddress(&k.PublicKey)}
	sig, err := Sign(k, p.SignHash(chainID))
	if err != nil {
		t.Fatal(err)
	}
	p.Signature = sig
	return p
}

// A double vote keeps the encoding evidence had before it had kinds: the
// list of its two votes, so the hash of evidence in stored blocks is
// unchanged.
func TestDoubleVoteEvidenceKeepsItsEncoding(t *testing.T) {
	k := testKey(t, 1)
	ev := NewEvidence(signedVote(t, k, testChain, Precommit, 4, 1, Hash{9}), signedVote(t, k, testChain, Precommit, 4, 1, Hash{}))
	legacy, err := rlp.EncodeToBytes([]any{&ev.A, &ev.B})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ev.Encode(), legacy) {
		t.Fatalf("double vote encoding changed:\n got %x\nwant %x", ev.Encode(), legacy)
	}
	dec, err := DecodeEvidence(legacy)
	if err != nil || dec.Kind != DoubleVote || dec.A != ev.A || dec.B != ev.B {
		t.Fatalf("decode legacy: got (%+v, %v)", dec, err)
	}
}

func TestProposalEvidenceRoundTrip(t *testing.T) {
	a := signedProposal(t, 1, testChain, 4, 2, NoPOLRound, Hash{9})
	b := signedProposal(t, 1, testChain, 4, 2, 1, Hash{9}) // same block, other POL round
	ev := NewProposalEvidence(b, a)
	if ev.PA.POLRound != NoPOLRound {
		t.Fatalf("not in canonical order: %+v", ev)
	}
	if ev.Validator() != a.Proposer || ev.Height() != 4 || ev.Round() != 2 {
		t.Fatalf("validator/height/round: %s %d %d", FormatAddress(ev.Validator()), ev.Height(), ev.Round())
	}
	enc := ev.Encode()
	if len(enc) > MaxEvidenceBytes {
		t.Fatalf("encoding of %d bytes exceeds MaxEvidenceBytes %d", len(enc), MaxEvidenceBytes)
	}
	dec, err := DecodeEvidence(enc)
	if err != nil {
		t.Fatal(err)
	}
	if *dec != *ev || dec.Hash() != ev.Hash() {
		t.Fatalf("round trip: got %+v, want %+v", dec, ev)
	}
	set := stakeMap{a.Proposer: 10}
	if err := dec.Verify(testChain, set); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

func TestDecodeEvidenceRejections(t *testing.T) {
	a := signedProposal(t, 1, testChain, 4, 2, NoPOLRound, Hash{1})
	b := signedProposal(t, 1, testChain, 4, 2, NoPOLRound, Hash{2})
	enc := func(items ...any) []byte {
		out, err := rlp.EncodeToBytes(items)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	badPOL := *b
	badPOL.POLRound = 5 // not below round 2
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"unknown kind tag", enc(uint8(2), a, b), ErrUnknownEvidenceKind},
		{"double vote tagged explicitly", enc(uint8(0), a, b), ErrUnknownEvidenceKind},
		{"non-canonical tag", nil, ErrMalformed},
		{"trailing element", enc(uint8(DoubleProposal), a, b, uint8(1)), ErrMalformed},
		{"one proposal only", enc(uint8(DoubleProposal), a), ErrMalformed},
		{"tag only", enc(uint8(DoubleProposal)), ErrMalformed},
		{"empty list", enc(), ErrMalformed},
		{"proposal not a list", enc(uint8(DoubleProposal), []byte{1}, b), ErrMalformed},
		{"pol round not below round", enc(uint8(DoubleProposal), a, &badPOL), ErrInvalidFields},
		{"oversized", bytes.Repeat([]byte{0x80}, MaxEvidenceBytes+1), ErrOversized},
	}
	// A non-canonical tag: 0x81 0x01 is 1 written as a one-byte string.
	cases[2].in = encodeList(t, []byte{0x81, 0x01}, mustEncode(a), mustEncode(b))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeEvidence(tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// encodeList frames already encoded items as an RLP list.
func encodeList(t testing.TB, items ...[]byte) []byte {
	t.Helper()
	var body []byte
	for _, it := range items {
		body = append(body, it...)
	}
	var list []byte
	switch n := len(body); {
	case n < 56:
		list = []byte{byte(0xc0 + n)}
	case n < 256:
		list = []byte{0xf8, byte(n)}
	default:
		t.Fatalf("encodeList: %d bytes", n)
	}
	return append(list, body...)
}

func TestVerifyProposalEvidenceRejections(t *testing.T) {
	set := stakeMap{PubkeyAddress(&testKey(t, 1).PublicKey): 10, PubkeyAddress(&testKey(t, 2).PublicKey): 10}
	prop := func(n int64, chainID string, h uint64, r uint32, pol int32, block Hash) *Proposal {
		return signedProposal(t, n, chainID, h, r, pol, block)
	}
	cases := []struct {
		name string
		ev   func() *Evidence
		want error
	}{
		{"same proposal twice", func() *Evidence {
			p := prop(1, testChain, 4, 1, NoPOLRound, Hash{1})
			return &Evidence{Kind: DoubleProposal, PA: *p, PB: *p}
		}, ErrNotEquivocation},
		{"not in canonical order", func() *Evidence {
			ev := NewProposalEvidence(prop(1, testChain, 4, 1, NoPOLRound, Hash{1}), prop(1, testChain, 4, 1, NoPOLRound, Hash{2}))
			ev.PA, ev.PB = ev.PB, ev.PA
			return ev
		}, ErrNotEquivocation},
		{"different proposers", func() *Evidence {
			return NewProposalEvidence(prop(1, testChain, 4, 1, NoPOLRound, Hash{1}), prop(2, testChain, 4, 1, NoPOLRound, Hash{2}))
		}, ErrNotEquivocation},
		{"different heights", func() *Evidence {
			return NewProposalEvidence(prop(1, testChain, 4, 1, NoPOLRound, Hash{1}), prop(1, testChain, 5, 1, NoPOLRound, Hash{2}))
		}, ErrNotEquivocation},
		{"different rounds", func() *Evidence {
			return NewProposalEvidence(prop(1, testChain, 4, 1, NoPOLRound, Hash{1}), prop(1, testChain, 4, 2, NoPOLRound, Hash{2}))
		}, ErrNotEquivocation},
		{"unknown proposer", func() *Evidence {
			return NewProposalEvidence(prop(3, testChain, 4, 1, NoPOLRound, Hash{1}), prop(3, testChain, 4, 1, NoPOLRound, Hash{2}))
		}, ErrUnknownValidator},
		{"other chain", func() *Evidence {
			return NewProposalEvidence(prop(1, "other-chain", 4, 1, NoPOLRound, Hash{1}), prop(1, "other-chain", 4, 1, NoPOLRound, Hash{2}))
		}, ErrWrongSigner},
		{"forged second proposal", func() *Evidence {
			ev := NewProposalEvidence(prop(1, testChain, 4, 1, NoPOLRound, Hash{1}), prop(1, testChain, 4, 1, NoPOLRound, Hash{2}))
			ev.PB.Signature = prop(2, testChain, 4, 1, NoPOLRound, ev.PB.BlockHash).Signature
			return ev
		}, ErrWrongSigner},
		{"empty block hash", func() *Evidence {
			p := prop(1, testChain, 4, 1, NoPOLRound, Hash{})
			return NewProposalEvidence(p, prop(1, testChain, 4, 1, NoPOLRound, Hash{2}))
		}, ErrInvalidFields},
		{"unknown kind", func() *Evidence {
			ev := NewProposalEvidence(prop(1, testChain, 4, 1, NoPOLRound, Hash{1}), prop(1, testChain, 4, 1, NoPOLRound, Hash{2}))
			ev.Kind = 7
			return ev
		}, ErrUnknownEvidenceKind},
	}
	valid := NewProposalEvidence(prop(1, testChain, 4, 1, NoPOLRound, Hash{1}), prop(1, testChain, 4, 1, NoPOLRound, Hash{2}))
	if err := valid.Verify(testChain, set); err != nil {
		t.Fatalf("valid control: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.ev().Verify(testChain, set); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
