package chain

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/quorumchain/quorumchain/internal/fuzztest"
)

// decodeBound is what every decoder of this package may allocate: the
// decoded value is at most a few times its encoding (a 94-byte transaction
// becomes a 144-byte Tx, its chain id and a slot in a slice that grows by
// doubling), plus a fixed amount for the error or the value's skeleton.
var decodeBound = fuzztest.Bound{PerByte: 8, Fixed: 8 << 10}

// decodeErrors are the sentinels a decoder's error may wrap.
var decodeErrors = []error{ErrMalformed, ErrOversized, ErrInvalidFields, ErrUnknownKind, ErrUnknownEvidenceKind}

// fuzzSeeds returns valid encodings of every decoded kind, signed by known
// keys, used both as f.Add seeds and as the checked-in corpus. They are kept
// small: the fuzzer minimizes every new interesting input, in a time
// quadratic in its length, and does not count that time as executions.
func fuzzSeeds(t testing.TB) map[string][][]byte {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	tx := signedTx(t, k1, testChain, TxTransfer, 1, PubkeyAddress(&k2.PublicKey), 10)
	unjail := signedTx(t, k2, testChain, TxUnjail, 0, Address{}, 0)
	paid := &Tx{ChainID: testChain, Kind: TxStake, Nonce: 2, To: PubkeyAddress(&k2.PublicKey), Amount: 10, Fee: 300}
	paidSig, err := Sign(k1, paid.SignHash())
	if err != nil {
		t.Fatal(err)
	}
	paid.Sig = paidSig
	claim := signedTx(t, k1, testChain, TxClaim, 3, PubkeyAddress(&k2.PublicKey), 0)
	commission := signedTx(t, k2, testChain, TxSetCommission, 1, Address{}, 50_000_000_000_000_000)
	v := signedVote(t, k1, testChain, Prevote, 4, 1, Hash{9})
	p := &Proposal{Height: 4, Round: 1, POLRound: 0, BlockHash: Hash{9}, Proposer: PubkeyAddress(&k1.PublicKey)}
	sig, err := Sign(k1, p.SignHash(testChain))
	if err != nil {
		t.Fatal(err)
	}
	p.Signature = sig
	cert := certFor(t, testChain, 3, 0, Hash{8}, k1, k2)
	ev := NewEvidence(v, signedVote(t, k1, testChain, Prevote, 4, 1, Hash{}))
	p2 := &Proposal{Height: 4, Round: 1, POLRound: NoPOLRound, BlockHash: Hash{9}, Proposer: p.Proposer}
	if p2.Signature, err = Sign(k1, p2.SignHash(testChain)); err != nil {
		t.Fatal(err)
	}
	pev := NewProposalEvidence(p, p2)
	// A block at height 4 with evidence and its parent's certificate, and a
	// first block with one transaction.
	blk := &Block{Txs: []*Tx{tx}, Evidence: []*Evidence{ev, pev}, LastCertificate: certFor(t, testChain, 3, 0, Hash{8}, k1)}
	blk.Header = Header{ChainID: testChain, Height: 4, Time: 1, ParentHash: Hash{8}, Proposer: p.Proposer,
		TxRoot: MerkleRoot(blk.TxHashes()), EvidenceRoot: MerkleRoot(blk.EvidenceHashes()), LastCertHash: blk.LastCertificate.Hash()}
	first := &Block{Txs: []*Tx{unjail}}
	first.Header = Header{ChainID: testChain, Height: 1, Time: 1, Proposer: p.Proposer, TxRoot: MerkleRoot(first.TxHashes())}
	return map[string][][]byte{
		"FuzzDecodeTx":          {tx.Encode(), unjail.Encode(), paid.Encode(), claim.Encode(), commission.Encode()},
		"FuzzDecodeVote":        {v.Encode()},
		"FuzzDecodeProposal":    {p.Encode()},
		"FuzzDecodeCertificate": {cert.Encode()},
		"FuzzDecodeEvidence":    {ev.Encode(), pev.Encode()},
		"FuzzDecodeBlock":       {blk.Encode(), first.Encode()},
	}
}

// TestWriteFuzzCorpus regenerates testdata/fuzz when QUORUM_WRITE_CORPUS=1.
// Inputs kept there because they found a bug are named after the bug and
// are not touched.
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

// encoder is what every decoded kind is.
type encoder interface{ Encode() []byte }

// fuzzDecoder is the shape of every decoding target of this package: decode
// within decodeBound; a rejection wraps one of decodeErrors; an accepted
// input is canonical (it re-encodes to the same bytes) and decodes again to
// an equal value; and check, if any, holds for the value. check must stay
// cheap: no signature recovery (see TestMutatedSignedObjectsDoNotVerify).
func fuzzDecoder[T encoder](f *testing.F, name string, decode func([]byte) (T, error), check func(t *testing.T, v T)) {
	seeds := fuzzSeeds(f)[name]
	for _, s := range seeds {
		// Decoding each seed once also fills rlp's type cache, which is
		// allocated on first use and is not the decoder's to account for.
		if _, err := decode(s); err != nil {
			f.Fatalf("seed %x: %v", s, err)
		}
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v T
		var err error
		fuzztest.CheckAllocs(t, decodeBound, b, func() { v, err = decode(b) })
		if err != nil {
			fuzztest.CheckError(t, err, decodeErrors...)
			return
		}
		enc := v.Encode()
		if !bytes.Equal(enc, b) {
			t.Fatalf("accepted non-canonical encoding:\n in %x\nout %x", b, enc)
		}
		again, err := decode(enc)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, v) {
			t.Fatalf("decode→encode→decode changed the value:\n got %+v\nwant %+v", again, v)
		}
		if check != nil {
			check(t, v)
		}
	})
}

func FuzzDecodeTx(f *testing.F) {
	fuzzDecoder(f, "FuzzDecodeTx", DecodeTx, func(t *testing.T, tx *Tx) {
		if got, want := tx.Hash(), freshHash(tx); got != want {
			t.Fatalf("decoded tx hash %s, its encoding's %s", FormatHash(got), FormatHash(want))
		}
		if err := tx.ValidateBasic(testChain); err != nil {
			fuzztest.CheckError(t, err, ErrWrongChain, ErrInvalidFields, ErrUnknownKind, ErrBadSignature)
		}
	})
}

func FuzzDecodeVote(f *testing.F) {
	fuzzDecoder(f, "FuzzDecodeVote", DecodeVote, nil)
}

func FuzzDecodeProposal(f *testing.F) {
	fuzzDecoder(f, "FuzzDecodeProposal", DecodeProposal, nil)
}

func FuzzDecodeCertificate(f *testing.F) {
	fuzzDecoder(f, "FuzzDecodeCertificate", DecodeCertificate, nil)
}

// FuzzDecodeEvidence also checks that evidence holds only what DecodeVote
// (DecodeProposal) accepts on its own.
func FuzzDecodeEvidence(f *testing.F) {
	fuzzDecoder(f, "FuzzDecodeEvidence", DecodeEvidence, checkEvidenceVotes)
}

func checkEvidenceVotes(t *testing.T, e *Evidence) {
	if e.Kind == DoubleProposal {
		for _, p := range []*Proposal{&e.PA, &e.PB} {
			if _, err := DecodeProposal(p.Encode()); err != nil {
				t.Fatalf("evidence accepted a proposal DecodeProposal rejects: %v", err)
			}
		}
		return
	}
	for _, v := range []*Vote{&e.A, &e.B} {
		if _, err := DecodeVote(v.Encode()); err != nil {
			t.Fatalf("evidence accepted a vote DecodeVote rejects: %v", err)
		}
	}
}

// FuzzDecodeBlock also checks that a block's parts are what their own
// decoders accept, and that a block which still passes ValidateBasic with
// the original header carries exactly the original transactions.
func FuzzDecodeBlock(f *testing.F) {
	seeds := fuzzSeeds(f)["FuzzDecodeBlock"]
	origs := make(map[Header]*Block, len(seeds))
	for _, s := range seeds {
		b, err := DecodeBlock(s)
		if err != nil {
			f.Fatal(err)
		}
		origs[b.Header] = b
	}
	fuzzDecoder(f, "FuzzDecodeBlock", DecodeBlock, func(t *testing.T, blk *Block) {
		for i, tx := range blk.Txs {
			if _, err := DecodeTx(tx.Encode()); err != nil {
				t.Fatalf("block accepted tx %d that DecodeTx rejects: %v", i, err)
			}
			if got, want := tx.Hash(), freshHash(tx); got != want {
				t.Fatalf("block tx %d hash %s, its encoding's %s", i, FormatHash(got), FormatHash(want))
			}
		}
		for _, e := range blk.Evidence {
			checkEvidenceVotes(t, e)
		}
		if c := blk.LastCertificate; c != nil {
			if _, err := DecodeCertificate(c.Encode()); err != nil {
				t.Fatalf("block accepted a certificate DecodeCertificate rejects: %v", err)
			}
		}
		orig, ok := origs[blk.Header]
		if ok && blk.ValidateBasic(testChain, nil) == nil && !slices.Equal(blk.TxHashes(), orig.TxHashes()) {
			t.Fatalf("other transactions pass the header's tx root")
		}
	})
}

// TestDecodeBoundHoldsAtScale: decodeBound is not tuned to the small seeds
// alone; large valid blocks and certificates decode within it too.
func TestDecodeBoundHoldsAtScale(t *testing.T) {
	k := testKey(t, 1)
	tx := signedTx(t, k, testChain, TxTransfer, 1, Address{1}, 10)
	for _, n := range []int{1, 100, 2000} {
		blk := &Block{}
		for range n {
			blk.Txs = append(blk.Txs, tx)
		}
		blk.Header = Header{ChainID: testChain, Height: 1, TxRoot: MerkleRoot(blk.TxHashes())}
		enc := blk.Encode()
		var err error
		got := fuzztest.CheckAllocs(t, decodeBound, enc, func() { _, err = DecodeBlock(enc) })
		if err != nil {
			t.Fatalf("block of %d txs: %v", n, err)
		}
		t.Logf("block of %d txs: %d bytes decoded with %d bytes allocated", n, len(enc), got)
	}
	ps := make([]CommitSig, 1000)
	for i := range ps {
		ps[i].Validator = Address{byte(i >> 8), byte(i)}
	}
	enc := NewCertificate(1, 0, Hash{}, ps).Encode()
	var err error
	got := fuzztest.CheckAllocs(t, decodeBound, enc, func() { _, err = DecodeCertificate(enc) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("certificate of 1,000 precommits: %d bytes decoded with %d bytes allocated", len(enc), got)
}
