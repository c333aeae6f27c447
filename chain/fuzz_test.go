package chain

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds returns valid encodings of every decoded kind, signed by known
// keys, used both as f.Add seeds and as the checked-in corpus.
func fuzzSeeds(t testing.TB) map[string][][]byte {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	tx := signedTx(t, k1, testChain, TxTransfer, 1, PubkeyAddress(&k2.PublicKey), 10)
	unjail := signedTx(t, k2, testChain, TxUnjail, 0, Address{}, 0)
	v := signedVote(t, k1, testChain, Prevote, 4, 1, Hash{9})
	p := &Proposal{Height: 4, Round: 1, POLRound: 0, BlockHash: Hash{9}, Proposer: PubkeyAddress(&k1.PublicKey)}
	sig, err := Sign(k1, p.SignHash(testChain))
	if err != nil {
		t.Fatal(err)
	}
	p.Signature = sig
	cert := certFor(t, testChain, 3, 0, Hash{8}, k1, k2)
	ev := NewEvidence(v, signedVote(t, k1, testChain, Prevote, 4, 1, Hash{}))
	blk := &Block{Txs: []*Tx{tx, unjail}, Evidence: []*Evidence{ev}, LastCertificate: cert}
	blk.Header = Header{ChainID: testChain, Height: 4, Time: 1, ParentHash: Hash{8}, Proposer: p.Proposer,
		TxRoot: MerkleRoot(blk.TxHashes()), EvidenceRoot: MerkleRoot(blk.EvidenceHashes()), LastCertHash: cert.Hash()}
	return map[string][][]byte{
		"FuzzDecodeTx":          {tx.Encode(), unjail.Encode()},
		"FuzzDecodeVote":        {v.Encode()},
		"FuzzDecodeProposal":    {p.Encode()},
		"FuzzDecodeCertificate": {cert.Encode()},
		"FuzzDecodeEvidence":    {ev.Encode()},
		"FuzzDecodeBlock":       {blk.Encode()},
	}
}

// TestWriteFuzzCorpus regenerates testdata/fuzz when QUORUM_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("QUORUM_WRITE_CORPUS") != "1" {
		t.Skip("set QUORUM_WRITE_CORPUS=1 to regenerate testdata/fuzz")
	}
	for name, seeds := range fuzzSeeds(t) {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func addSeeds(f *testing.F, name string) {
	for _, s := range fuzzSeeds(f)[name] {
		f.Add(s)
	}
}

func FuzzDecodeTx(f *testing.F) {
	addSeeds(f, "FuzzDecodeTx")
	orig := fuzzSeeds(f)["FuzzDecodeTx"]
	signers := map[Address][]byte{}
	for _, o := range orig {
		tx, err := DecodeTx(o)
		if err != nil {
			f.Fatal(err)
		}
		from, err := tx.Sender()
		if err != nil {
			f.Fatal(err)
		}
		signers[from] = o
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := DecodeTx(b)
		if err != nil {
			return
		}
		if enc := tx.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("accepted non-canonical encoding:\n in %x\nout %x", b, enc)
		}
		from, err := tx.Sender()
		if err != nil {
			return
		}
		if o, ok := signers[from]; ok && !bytes.Equal(o, b) && tx.ValidateBasic(testChain) == nil {
			t.Fatalf("mutated transaction verifies as signed by %s", FormatAddress(from))
		}
	})
}

func FuzzDecodeVote(f *testing.F) {
	addSeeds(f, "FuzzDecodeVote")
	orig := fuzzSeeds(f)["FuzzDecodeVote"][0]
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeVote(b)
		if err != nil {
			return
		}
		if enc := v.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("accepted non-canonical encoding")
		}
		if !bytes.Equal(b, orig) && v.Verify(testChain) == nil && v.Validator == PubkeyAddress(&testKey(t, 1).PublicKey) {
			o, err := DecodeVote(orig)
			if err != nil {
				t.Fatal(err)
			}
			if o.SignHash(testChain) != v.SignHash(testChain) {
				t.Fatalf("mutated vote verifies")
			}
		}
	})
}

func FuzzDecodeProposal(f *testing.F) {
	addSeeds(f, "FuzzDecodeProposal")
	orig := fuzzSeeds(f)["FuzzDecodeProposal"][0]
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeProposal(b)
		if err != nil {
			return
		}
		if enc := p.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("accepted non-canonical encoding")
		}
		if !bytes.Equal(b, orig) && p.Verify(testChain) == nil {
			o, err := DecodeProposal(orig)
			if err != nil {
				t.Fatal(err)
			}
			if p.Proposer == o.Proposer && p.SignHash(testChain) != o.SignHash(testChain) {
				t.Fatalf("mutated proposal verifies")
			}
		}
	})
}

func FuzzDecodeCertificate(f *testing.F) {
	addSeeds(f, "FuzzDecodeCertificate")
	k1, k2 := testKey(f, 1), testKey(f, 2)
	set := stakeMap{PubkeyAddress(&k1.PublicKey): 1, PubkeyAddress(&k2.PublicKey): 1}
	orig, err := DecodeCertificate(fuzzSeeds(f)["FuzzDecodeCertificate"][0])
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCertificate(b)
		if err != nil {
			return
		}
		if enc := c.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("accepted non-canonical encoding")
		}
		if _, err := c.Verify(testChain, set); err == nil {
			if c.Height != orig.Height || c.Round != orig.Round || c.BlockHash != orig.BlockHash {
				t.Fatalf("mutated certificate verifies for h=%d r=%d %s", c.Height, c.Round, FormatHash(c.BlockHash))
			}
		}
	})
}

func FuzzDecodeEvidence(f *testing.F) {
	addSeeds(f, "FuzzDecodeEvidence")
	k1 := testKey(f, 1)
	set := stakeMap{PubkeyAddress(&k1.PublicKey): 1}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEvidence(b)
		if err != nil {
			return
		}
		if enc := e.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("accepted non-canonical encoding")
		}
		if e.Verify(testChain, set) == nil && (e.A.Verify(testChain) != nil || e.B.Verify(testChain) != nil) {
			t.Fatalf("evidence with an invalid vote verifies")
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	addSeeds(f, "FuzzDecodeBlock")
	orig, err := DecodeBlock(fuzzSeeds(f)["FuzzDecodeBlock"][0])
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := DecodeBlock(b)
		if err != nil {
			return
		}
		if enc := blk.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("accepted non-canonical encoding")
		}
		// A block that still passes ValidateBasic with the original header
		// must carry exactly the original transactions and evidence.
		if blk.Header == orig.Header && blk.ValidateBasic(testChain, nil) == nil {
			if MerkleRoot(blk.TxHashes()) != MerkleRoot(orig.TxHashes()) {
				t.Fatalf("mutated transactions pass the header's tx root")
			}
		}
	})
}
