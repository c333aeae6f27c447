package chain

import (
	"bytes"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

const testChain = "quorum-test"

func TestKnownAddress(t *testing.T) {
	k := testKey(t, 1)
	got := FormatAddress(PubkeyAddress(&k.PublicKey))
	if want := "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"; got != want {
		t.Fatalf("address of key 0x..01: got %s, want %s", got, want)
	}
}

func TestParseAddress(t *testing.T) {
	a, err := ParseAddress("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")
	if err != nil || FormatAddress(a) != "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf" {
		t.Fatalf("got %s %v", FormatAddress(a), err)
	}
	for _, bad := range []string{"", "0x", "7e5f4552091a69125d5dfcb7b8c2659029395bdf", "0x7e5f4552091a69125d5dfcb7b8c2659029395bd", "0x7e5f4552091a69125d5dfcb7b8c2659029395bdg"} {
		if _, err := ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) accepted", bad)
		}
	}
}

func TestTxSignAndRoundTrip(t *testing.T) {
	k := testKey(t, 1)
	to := PubkeyAddress(&testKey(t, 2).PublicKey)
	for _, kind := range []TxKind{TxTransfer, TxStake, TxUnstake} {
		tx := signedTx(t, k, testChain, kind, 7, to, 1000)
		if err := tx.ValidateBasic(testChain); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		from, err := tx.Sender()
		if err != nil || from != PubkeyAddress(&k.PublicKey) {
			t.Fatalf("%s sender: got %s %v", kind, FormatAddress(from), err)
		}
		enc := tx.Encode()
		dec, err := DecodeTx(enc)
		if err != nil {
			t.Fatalf("%s decode: %v", kind, err)
		}
		if !bytes.Equal(dec.Encode(), enc) || dec.Hash() != tx.Hash() {
			t.Fatalf("%s: round trip not byte-identical", kind)
		}
	}
}

func TestTxHashStable(t *testing.T) {
	// The same fields and key always give the same signature (RFC 6979) and
	// hash: a change here is a consensus-breaking change of the encoding.
	tx := signedTx(t, testKey(t, 1), "quorum-local", TxTransfer, 0, common.HexToAddress("0x2b5ad5c4795c026514f8317c7a215e218dccd6cf"), 1)
	// Known-answer vectors: the sign-bytes spelled out in RLP by hand, and the
	// resulting digests. A change here breaks every signature ever made.
	to := common.FromHex("0x2b5ad5c4795c026514f8317c7a215e218dccd6cf")
	signBytes := append([]byte{0xe9, 0x82, 't', 'x', 0x8c}, "quorum-local"...)
	signBytes = append(signBytes, 0x01, 0x80, 0x94)
	signBytes = append(signBytes, to...)
	signBytes = append(signBytes, 0x01, 0x80) // amount 1, fee 0
	if got, want := tx.SignHash(), crypto.Keccak256Hash(signBytes); got != want {
		t.Fatalf("sign hash: got %s, want keccak(hand-encoded sign-bytes) %s", FormatHash(got), FormatHash(want))
	}
	if got := FormatHash(tx.SignHash()); got != "0x40bc0103bdd97f51b719e81fa36b11d1aa0e936fa9552fb9af61ca755fec47e8" {
		t.Fatalf("sign hash vector changed: %s", got)
	}
	if got := FormatHash(tx.Hash()); got != "0x3ee61dee372ee5fd57574441658b16b17881fc523b847444b0af8e98cd86df5b" {
		t.Fatalf("tx hash vector changed: %s", got)
	}
	again := signedTx(t, testKey(t, 1), "quorum-local", TxTransfer, 0, common.HexToAddress("0x2b5ad5c4795c026514f8317c7a215e218dccd6cf"), 1)
	if tx.Hash() != again.Hash() {
		t.Fatal("signing the same transaction twice gave different hashes")
	}
	other := signedTx(t, testKey(t, 1), "quorum-local", TxTransfer, 1, common.HexToAddress("0x2b5ad5c4795c026514f8317c7a215e218dccd6cf"), 1)
	if tx.SignHash() == other.SignHash() || tx.Hash() == other.Hash() {
		t.Fatal("nonce does not change the hash")
	}
}

func TestTxValidateBasic(t *testing.T) {
	k := testKey(t, 1)
	to := PubkeyAddress(&testKey(t, 2).PublicKey)
	cases := []struct {
		name string
		tx   *Tx
		want error
	}{
		{"wrong chain", signedTx(t, k, "other", TxTransfer, 0, to, 1), ErrWrongChain},
		{"zero amount", signedTx(t, k, testChain, TxTransfer, 0, to, 0), ErrInvalidFields},
		{"zero stake", signedTx(t, k, testChain, TxStake, 0, to, 0), ErrInvalidFields},
		{"unjail with amount", signedTx(t, k, testChain, TxUnjail, 0, Address{}, 1), ErrInvalidFields},
		{"unjail with recipient", signedTx(t, k, testChain, TxUnjail, 0, to, 0), ErrInvalidFields},
		{"unknown kind", signedTx(t, k, testChain, TxKind(9), 0, to, 1), ErrUnknownKind},
	}
	for _, c := range cases {
		if err := c.tx.ValidateBasic(testChain); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	ok := signedTx(t, k, testChain, TxUnjail, 0, Address{}, 0)
	if err := ok.ValidateBasic(testChain); err != nil {
		t.Errorf("valid unjail rejected: %v", err)
	}
}

func TestSignatureMalleabilityRejected(t *testing.T) {
	k := testKey(t, 3)
	tx := signedTx(t, k, testChain, TxTransfer, 0, Address{1}, 5)
	// Flip S to N-S and V to 1-V: still a valid ECDSA signature for the same
	// key, but high-S, so it must be rejected.
	s := new(big.Int).SetBytes(tx.Sig[32:64])
	s.Sub(secp256k1N, s)
	mal := *tx
	s.FillBytes(mal.Sig[32:64])
	mal.Sig[64] ^= 1
	if _, err := mal.Sender(); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("high-S signature: got %v, want ErrBadSignature", err)
	}
	bad := *tx
	bad.Sig[64] = 4
	if _, err := bad.Sender(); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("recovery id 4: got %v", err)
	}
	zero := *tx
	zero.Sig = Signature{}
	if _, err := zero.Sender(); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("zero signature: got %v", err)
	}
}

func TestMutatedTxNeverVerifiesAsSender(t *testing.T) {
	k := testKey(t, 4)
	want := PubkeyAddress(&k.PublicKey)
	tx := signedTx(t, k, testChain, TxTransfer, 3, Address{9}, 77)
	enc := tx.Encode()
	for i := range enc {
		for _, bit := range []byte{1, 0x80} {
			m := append([]byte(nil), enc...)
			m[i] ^= bit
			dec, err := DecodeTx(m)
			if err != nil {
				continue
			}
			if from, err := dec.Sender(); err == nil && from == want {
				t.Fatalf("byte %d flipped by %#x still verifies as the original sender", i, bit)
			}
		}
	}
}

func TestDomainSeparation(t *testing.T) {
	// The same numbers signed as different kinds or chains never share a digest.
	h := Hash{7}
	digests := map[Hash]string{
		VoteSignHash(testChain, Prevote, 1, 0, h):   "prevote",
		VoteSignHash(testChain, Precommit, 1, 0, h): "precommit",
		VoteSignHash("other", Prevote, 1, 0, h):     "prevote other chain",
		ProposalSignHash(testChain, 1, 0, -1, h):    "proposal",
	}
	if len(digests) != 4 {
		t.Fatalf("sign digests collide: %v", digests)
	}
	v := signedVote(t, testKey(t, 1), testChain, Prevote, 1, 0, h)
	if err := v.Verify("other"); !errors.Is(err, ErrWrongSigner) && !errors.Is(err, ErrBadSignature) {
		t.Fatalf("vote verified on another chain: %v", err)
	}
}

func TestVoteAndProposalRoundTrip(t *testing.T) {
	k := testKey(t, 5)
	v := signedVote(t, k, testChain, Precommit, 10, 2, Hash{1, 2, 3})
	dec, err := DecodeVote(v.Encode())
	if err != nil || *dec != *v || dec.Verify(testChain) != nil {
		t.Fatalf("vote round trip: %v", err)
	}
	nilVote := signedVote(t, k, testChain, Prevote, 10, 2, Hash{})
	if !nilVote.IsNil() || nilVote.Verify(testChain) != nil {
		t.Fatal("nil vote")
	}
	for _, pol := range []int32{NoPOLRound, 0, 2} {
		p := &Proposal{Height: 10, Round: 3, POLRound: pol, BlockHash: Hash{4}, Proposer: PubkeyAddress(&k.PublicKey)}
		sig, err := Sign(k, p.SignHash(testChain))
		if err != nil {
			t.Fatal(err)
		}
		p.Signature = sig
		enc := p.Encode()
		dp, err := DecodeProposal(enc)
		if err != nil || *dp != *p || !bytes.Equal(dp.Encode(), enc) {
			t.Fatalf("proposal pol=%d round trip: %v", pol, err)
		}
		if err := dp.Verify(testChain); err != nil {
			t.Fatalf("proposal verify: %v", err)
		}
	}
	bad := &Proposal{Height: 1, Round: 1, POLRound: 1, BlockHash: Hash{1}}
	if err := bad.ValidateBasic(); !errors.Is(err, ErrInvalidFields) {
		t.Fatalf("POLRound == Round accepted: %v", err)
	}
}

func TestCertificateVerify(t *testing.T) {
	k1, k2, k3, k4 := testKey(t, 1), testKey(t, 2), testKey(t, 3), testKey(t, 4)
	set := stakeMap{
		PubkeyAddress(&k1.PublicKey): 50,
		PubkeyAddress(&k2.PublicKey): 30,
		PubkeyAddress(&k3.PublicKey): 15,
		PubkeyAddress(&k4.PublicKey): 5,
	}
	block := Hash{0xaa}
	cases := []struct {
		name   string
		cert   *Certificate
		signed uint64
		want   error
	}{
		{"50+30 > 2/3", certFor(t, testChain, 5, 1, block, k1, k2), 80, nil},
		{"50+15+5 > 2/3", certFor(t, testChain, 5, 0, block, k3, k1, k4), 70, nil},
		{"50+15 < 2/3", certFor(t, testChain, 5, 0, block, k1, k3), 0, ErrNoQuorum},
		{"30+15+5 no quorum", certFor(t, testChain, 5, 0, block, k2, k3, k4), 0, ErrNoQuorum},
		{"other chain", certFor(t, "other", 5, 0, block, k1, k2), 0, ErrWrongSigner},
		{"unknown signer", certFor(t, testChain, 5, 0, block, k1, k2, testKey(t, 99)), 0, ErrUnknownValidator},
	}
	for _, c := range cases {
		got, err := c.cert.Verify(testChain, set)
		if !errors.Is(err, c.want) || got != c.signed {
			t.Errorf("%s: got (%d, %v), want (%d, %v)", c.name, got, err, c.signed, c.want)
		}
	}
	dup := certFor(t, testChain, 5, 0, block, k1, k2)
	dup.Precommits = append(dup.Precommits, dup.Precommits[1])
	if _, err := dup.Verify(testChain, set); !errors.Is(err, ErrDuplicateSigner) {
		t.Errorf("duplicate signer: got %v", err)
	}
	wrongBlock := certFor(t, testChain, 5, 0, block, k1, k2)
	wrongBlock.BlockHash = Hash{0xbb}
	if _, err := wrongBlock.Verify(testChain, set); !errors.Is(err, ErrWrongSigner) && !errors.Is(err, ErrBadSignature) {
		t.Errorf("signatures over another block: got %v", err)
	}
	rt, err := DecodeCertificate(dup.Encode())
	if err != nil || rt.Hash() != dup.Hash() {
		t.Errorf("certificate round trip: %v", err)
	}
}

func TestEvidence(t *testing.T) {
	k := testKey(t, 6)
	set := stakeMap{PubkeyAddress(&k.PublicKey): 10}
	a := signedVote(t, k, testChain, Prevote, 3, 1, Hash{1})
	b := signedVote(t, k, testChain, Prevote, 3, 1, Hash{2})
	ev := NewEvidence(b, a)
	if err := ev.Verify(testChain, set); err != nil {
		t.Fatalf("valid evidence: %v", err)
	}
	dec, err := DecodeEvidence(ev.Encode())
	if err != nil || dec.Hash() != ev.Hash() {
		t.Fatalf("evidence round trip: %v", err)
	}
	same := &Evidence{A: *a, B: *a}
	if err := same.Verify(testChain, set); !errors.Is(err, ErrNotEquivocation) {
		t.Fatalf("same vote twice: got %v", err)
	}
	c := signedVote(t, k, testChain, Prevote, 3, 2, Hash{3})
	if err := NewEvidence(a, c).Verify(testChain, set); !errors.Is(err, ErrNotEquivocation) {
		t.Fatalf("different rounds: got %v", err)
	}
}

func TestBlockRoundTripAndValidate(t *testing.T) {
	k := testKey(t, 1)
	prop := PubkeyAddress(&k.PublicKey)
	parent := Hash{0x11}
	last := certFor(t, testChain, 1, 0, parent, k)
	txs := []*Tx{signedTx(t, k, testChain, TxTransfer, 0, Address{2}, 5), signedTx(t, k, testChain, TxStake, 1, prop, 5)}
	blk := &Block{Txs: txs, LastCertificate: last}
	blk.Header = Header{ChainID: testChain, Height: 2, Time: 1700000000000, ParentHash: parent, Proposer: prop,
		TxRoot: MerkleRoot(blk.TxHashes()), EvidenceRoot: MerkleRoot(nil), LastCertHash: last.Hash()}
	if err := blk.ValidateBasic(testChain, nil); err != nil {
		t.Fatalf("valid block: %v", err)
	}
	enc := blk.Encode()
	dec, err := DecodeBlock(enc)
	if err != nil || dec.Hash() != blk.Hash() || !bytes.Equal(dec.Encode(), enc) {
		t.Fatalf("block round trip: %v", err)
	}
	mut := *blk
	mut.Txs = txs[:1]
	if err := mut.ValidateBasic(testChain, nil); !errors.Is(err, ErrInvalidFields) {
		t.Fatalf("dropped tx not detected: %v", err)
	}
	mut = *blk
	mut.Header.ParentHash = Hash{0x12}
	if err := mut.ValidateBasic(testChain, nil); !errors.Is(err, ErrCertMismatch) {
		t.Fatalf("parent/certificate mismatch not detected: %v", err)
	}
	if err := blk.ValidateBasic("other", nil); !errors.Is(err, ErrWrongChain) {
		t.Fatalf("wrong chain: %v", err)
	}
}

// merkleRootSpec is MerkleRoot as its doc states it, written plainly: the
// root of a block is consensus, so the fast version must match it exactly.
func merkleRootSpec(leaves []Hash) Hash {
	if len(leaves) == 0 {
		return Hash{}
	}
	level := make([]Hash, len(leaves))
	for i, l := range leaves {
		level[i] = crypto.Keccak256Hash([]byte{0}, l[:])
	}
	for len(level) > 1 {
		var next []Hash
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
			} else {
				next = append(next, crypto.Keccak256Hash([]byte{1}, level[i][:], level[i+1][:]))
			}
		}
		level = next
	}
	return level[0]
}

func TestMerkleRootMatchesItsDefinition(t *testing.T) {
	var leaves []Hash
	for n := range 70 {
		if got, want := MerkleRoot(leaves), merkleRootSpec(leaves); got != want {
			t.Fatalf("%d leaves: root %s, want %s", n, FormatHash(got), FormatHash(want))
		}
		leaves = append(leaves, crypto.Keccak256Hash([]byte{byte(n)}))
	}
	// Pinned: a change here is a change of every block's tx_root.
	if got := FormatHash(MerkleRoot(leaves[:3])); got != "0x2103d78c84b2bd3626b8706bda8d1b5679c0ec273e8bf809a86758b0f792a8b3" {
		t.Fatalf("root of 3 leaves %s", got)
	}
}

func TestMerkleRoot(t *testing.T) {
	if MerkleRoot(nil) != (Hash{}) {
		t.Fatal("empty root not zero")
	}
	a, b, c := Hash{1}, Hash{2}, Hash{3}
	roots := map[Hash]bool{MerkleRoot([]Hash{a}): true, MerkleRoot([]Hash{a, b}): true, MerkleRoot([]Hash{b, a}): true, MerkleRoot([]Hash{a, b, c}): true}
	if len(roots) != 4 {
		t.Fatal("merkle roots collide across order or length")
	}
	if MerkleRoot([]Hash{a}) == a {
		t.Fatal("leaf not domain separated")
	}
}
