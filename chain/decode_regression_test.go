package chain

import (
	"errors"
	"testing"
)

// Regression tests for bugs the fuzz targets found. The inputs that found
// them are kept under testdata/fuzz, named after the bug.

// DecodeEvidence decoded its two votes without DecodeVote's type check, so
// evidence could carry a "vote" of a type no validator signs
// (testdata/fuzz/FuzzDecodeEvidence/vote-type-out-of-range).
func TestDecodeEvidenceRejectsVoteTypeOutOfRange(t *testing.T) {
	k := testKey(t, 1)
	for _, typ := range []VoteType{0, Precommit + 1, 48} {
		a := signedVote(t, k, testChain, typ, 4, 1, Hash{9})
		b := signedVote(t, k, testChain, typ, 4, 1, Hash{})
		ev := NewEvidence(a, b)
		if _, err := DecodeEvidence(ev.Encode()); !errors.Is(err, ErrInvalidFields) {
			t.Fatalf("evidence of votes of type %d: got %v, want ErrInvalidFields", typ, err)
		}
		if _, err := DecodeVote(a.Encode()); !errors.Is(err, ErrInvalidFields) {
			t.Fatalf("vote of type %d: got %v, want ErrInvalidFields", typ, err)
		}
	}
	valid := NewEvidence(signedVote(t, k, testChain, Precommit, 4, 1, Hash{9}), signedVote(t, k, testChain, Precommit, 4, 1, Hash{}))
	if _, err := DecodeEvidence(valid.Encode()); err != nil {
		t.Fatalf("valid evidence: %v", err)
	}
}

// DecodeBlock took the same path for the evidence it carries.
func TestDecodeBlockRejectsEvidenceWithVoteTypeOutOfRange(t *testing.T) {
	k := testKey(t, 1)
	ev := NewEvidence(signedVote(t, k, testChain, 7, 4, 1, Hash{9}), signedVote(t, k, testChain, 7, 4, 1, Hash{}))
	blk := &Block{Evidence: []*Evidence{ev}}
	blk.Header = Header{ChainID: testChain, Height: 1, EvidenceRoot: MerkleRoot(blk.EvidenceHashes())}
	if _, err := DecodeBlock(blk.Encode()); !errors.Is(err, ErrInvalidFields) {
		t.Fatalf("block with evidence of type-7 votes: got %v, want ErrInvalidFields", err)
	}
}
