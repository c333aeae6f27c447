package chain

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// freshHash is the definition of a transaction's hash, computed without
// any seal.
func freshHash(tx *Tx) Hash {
	c := tx.unsealed()
	return crypto.Keccak256Hash(c.Encode())
}

// TestDecodedTxHashIsItsBytesHash: a decoded transaction, alone or in a
// block, carries the hash of the bytes it came from, and that is the hash
// of its canonical encoding.
func TestDecodedTxHashIsItsBytesHash(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	txs := []*Tx{
		signedTx(t, k1, testChain, TxTransfer, 1, PubkeyAddress(&k2.PublicKey), 10),
		signedTx(t, k2, testChain, TxUnjail, 0, Address{}, 0),
		signedTx(t, k1, testChain, TxStake, 300, PubkeyAddress(&k2.PublicKey), 1<<40),
	}
	for i, built := range txs {
		enc := built.Encode()
		tx, err := DecodeTx(enc)
		if err != nil {
			t.Fatal(err)
		}
		if tx.sealed == nil {
			t.Fatalf("tx %d: decoded without a seal", i)
		}
		if got, want := tx.Hash(), crypto.Keccak256Hash(enc); got != want || got != built.Hash() {
			t.Fatalf("tx %d: hash %s, want %s (built: %s)", i, FormatHash(got), FormatHash(want), FormatHash(built.Hash()))
		}
	}
	blk := &Block{Txs: txs}
	blk.Header = Header{ChainID: testChain, Height: 1, TxRoot: MerkleRoot(blk.TxHashes())}
	dec, err := DecodeBlock(blk.Encode())
	if err != nil {
		t.Fatal(err)
	}
	for i, tx := range dec.Txs {
		if tx.sealed == nil {
			t.Fatalf("block tx %d: decoded without a seal", i)
		}
		if got, want := tx.Hash(), freshHash(txs[i]); got != want {
			t.Fatalf("block tx %d: hash %s, want %s", i, FormatHash(got), FormatHash(want))
		}
	}
}

// TestTxHashFollowsChanges: a decoded transaction changed afterwards, in
// any field, in place or in a copy, hashes as what it now is; an unchanged
// copy keeps the decoded hash.
func TestTxHashFollowsChanges(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	enc := signedTx(t, k1, testChain, TxTransfer, 1, PubkeyAddress(&k2.PublicKey), 10).Encode()
	orig := crypto.Keccak256Hash(enc)
	changes := map[string]func(*Tx){
		"chain id": func(tx *Tx) { tx.ChainID = "other" },
		"kind":     func(tx *Tx) { tx.Kind = TxStake },
		"nonce":    func(tx *Tx) { tx.Nonce++ },
		"to":       func(tx *Tx) { tx.To[0] ^= 1 },
		"amount":   func(tx *Tx) { tx.Amount++ },
		"fee":      func(tx *Tx) { tx.Fee++ },
		"sig":      func(tx *Tx) { tx.Sig[3] ^= 1 },
		"sign again": func(tx *Tx) {
			tx.Nonce = 9
			if err := tx.SignWith(func(h Hash) (Signature, error) { return Sign(k1, h) }); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			tx, err := DecodeTx(enc)
			if err != nil {
				t.Fatal(err)
			}
			cp := *tx
			if cp.Hash() != orig {
				t.Fatalf("unchanged copy: hash %s, want %s", FormatHash(cp.Hash()), FormatHash(orig))
			}
			change(&cp)
			if got, want := cp.Hash(), freshHash(&cp); got != want || got == orig {
				t.Fatalf("changed copy: hash %s, want %s (decoded %s)", FormatHash(got), FormatHash(want), FormatHash(orig))
			}
			if tx.Hash() != orig {
				t.Fatalf("original after its copy changed: hash %s, want %s", FormatHash(tx.Hash()), FormatHash(orig))
			}
			change(tx)
			if got, want := tx.Hash(), freshHash(tx); got != want || got == orig {
				t.Fatalf("changed in place: hash %s, want %s (decoded %s)", FormatHash(got), FormatHash(want), FormatHash(orig))
			}
		})
	}
}

// TestDecodeTxRejectsNonCanonical: the seal is the hash of the decoded
// bytes, so it is the transaction's hash only because the decoders accept
// nothing but the canonical encoding. Each variant here decodes to the
// same fields under a lax decoder.
func TestDecodeTxRejectsNonCanonical(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	tx := signedTx(t, k1, testChain, TxTransfer, 7, PubkeyAddress(&k2.PublicKey), 300)
	field := func(v any) rlp.RawValue {
		b, err := rlp.EncodeToBytes(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fields := func(replace int, raw []byte) []byte {
		fs := []rlp.RawValue{field(tx.ChainID), field(tx.Kind), field(tx.Nonce), field(tx.To), field(tx.Amount), field(tx.Fee), field(tx.Sig)}
		if replace >= 0 {
			fs[replace] = raw
		}
		return field(fs)
	}
	if canon := fields(-1, nil); string(canon) != string(tx.Encode()) {
		t.Fatalf("test's encoding %x differs from Encode %x", canon, tx.Encode())
	}
	chainLong := append([]byte{0xb8, byte(len(testChain))}, testChain...) // short string in long form
	variants := map[string][]byte{
		"nonce with a leading zero":    fields(2, []byte{0x82, 0x00, 0x07}),
		"nonce byte as a string":       fields(2, []byte{0x81, 0x07}),
		"kind byte as a string":        fields(1, []byte{0x81, 0x01}),
		"amount with a leading zero":   fields(4, []byte{0x83, 0x00, 0x01, 0x2c}),
		"chain id header in long form": fields(0, chainLong),
		"list length in two bytes":     append([]byte{0xf9, 0x00, tx.Encode()[1]}, tx.Encode()[2:]...),
		"trailing byte":                append(tx.Encode(), 0x00),
		"extra field":                  field([]rlp.RawValue{field(tx.ChainID), field(tx.Kind), field(tx.Nonce), field(tx.To), field(tx.Amount), field(tx.Fee), field(tx.Sig), field(uint64(1))}),
	}
	for name, b := range variants {
		if _, err := DecodeTx(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s (%x): got %v, want %v", name, b, err, ErrMalformed)
		}
	}
}

// TestTxSignHashMatchesReflectEncoding checks the hand-written sign-bytes
// of a transaction against the reflection encoding of the same RLP list,
// over edge values and random ones.
func TestTxSignHashMatchesReflectEncoding(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ints := []uint64{0, 1, 127, 128, 255, 256, 1 << 32, ^uint64(0)}
	chains := []string{"", "q", "quorum-local", string(make([]byte, 55)), string(make([]byte, 56)), string(make([]byte, 300))}
	check := func(tx *Tx) {
		t.Helper()
		want := rlpHash([]any{DomainTx, tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee})
		if got := tx.SignHash(); got != want {
			t.Fatalf("SignHash of %+v = %x, reflection encoding gives %x", tx, got, want)
		}
	}
	for _, c := range chains {
		for _, n := range ints {
			for _, k := range []TxKind{0, TxTransfer, lastTxKind, 127, 128, 255} {
				check(&Tx{ChainID: c, Kind: k, Nonce: n, Amount: n >> 1, Fee: ^n})
			}
		}
	}
	for range 2000 {
		tx := &Tx{ChainID: chains[r.IntN(len(chains))], Kind: TxKind(r.IntN(256)), Nonce: r.Uint64() >> r.IntN(64),
			Amount: r.Uint64() >> r.IntN(64), Fee: r.Uint64() >> r.IntN(64)}
		for i := range tx.To {
			tx.To[i] = byte(r.Uint32())
		}
		check(tx)
	}
}

func BenchmarkTxSignHash(b *testing.B) {
	tx := &Tx{ChainID: "quorum-local", Kind: TxTransfer, Nonce: 12, To: Address{1}, Amount: 1000, Fee: 300}
	b.ReportAllocs()
	for b.Loop() {
		tx.SignHash()
	}
}

func BenchmarkTxSignHashReflect(b *testing.B) {
	tx := &Tx{ChainID: "quorum-local", Kind: TxTransfer, Nonce: 12, To: Address{1}, Amount: 1000, Fee: 300}
	b.ReportAllocs()
	for b.Loop() {
		rlpHash([]any{DomainTx, tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee})
	}
}

// reflectTx has Tx's fields and no DecodeRLP: rlp decodes it by
// reflection, the reference for decodeFields.
type reflectTx struct {
	ChainID string
	Kind    TxKind
	Nonce   uint64
	To      Address
	Amount  uint64
	Fee     uint64
	Sig     Signature
}

// checkTxDecoderMatchesReflection fails t unless decodeFields and
// rlp's reflection decoder both reject b or both accept it with the same
// fields.
func checkTxDecoderMatchesReflection(t *testing.T, b []byte) {
	t.Helper()
	var got Tx
	gotErr := got.decodeFields(b)
	var want reflectTx
	wantErr := rlp.DecodeBytes(b, &want)
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("%x: decodeFields error %v, reflection error %v", b, gotErr, wantErr)
	case gotErr == nil && (reflectTx{got.ChainID, got.Kind, got.Nonce, got.To, got.Amount, got.Fee, got.Sig}) != want:
		t.Fatalf("%x: decodeFields %+v, reflection %+v", b, got, want)
	}
}

// FuzzTxDecoderMatchesReflection: the hand-written transaction decoder
// accepts exactly what the reflection decoder accepts, as the same fields.
func FuzzTxDecoderMatchesReflection(f *testing.F) {
	for _, s := range fuzzSeeds(f)["FuzzDecodeTx"] {
		f.Add(s)
	}
	f.Fuzz(checkTxDecoderMatchesReflection)
}

// TestTxDecoderMatchesReflection runs the comparison over mutations of
// valid transactions: every byte changed to edge values, truncations,
// insertions, and random changes.
func TestTxDecoderMatchesReflection(t *testing.T) {
	k1 := testKey(t, 1)
	tx := signedTx(t, k1, testChain, TxTransfer, 300, Address{7}, 1<<40)
	enc := func(fields ...any) []byte {
		b, err := rlp.EncodeToBytes(fields)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	nineBytes := []byte{1, 0, 0, 0, 0, 0, 0, 0, 0}
	for _, b := range [][]byte{
		enc(tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee, tx.Sig),
		enc(tx.ChainID, uint64(256), tx.Nonce, tx.To, tx.Amount, tx.Fee, tx.Sig),
		enc(tx.ChainID, uint64(255), tx.Nonce, tx.To, tx.Amount, tx.Fee, tx.Sig),
		enc(tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee, tx.Sig, uint64(1)),
		enc(tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee, tx.Sig, []any{}),
		enc(tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee),
		enc(tx.ChainID, tx.Kind, tx.Nonce, tx.To[:19], tx.Amount, tx.Fee, tx.Sig),
		enc(tx.ChainID, tx.Kind, tx.Nonce, append(tx.To[:], 1), tx.Amount, tx.Fee, tx.Sig),
		enc(tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee, tx.Sig[:64]),
		enc(tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee, []any{tx.Sig}),
		enc("", tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee, tx.Sig),
		enc("q", tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee, tx.Sig),
		enc([]any{}, tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee, tx.Sig),
		enc(tx.ChainID, tx.Kind, tx.Nonce, tx.To, ^uint64(0), ^uint64(0), tx.Sig),
		enc(tx.ChainID, tx.Kind, nineBytes, tx.To, tx.Amount, tx.Fee, tx.Sig),
		enc(tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, nineBytes, tx.Sig),
		append(enc(tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Fee, tx.Sig), 0x80),
		{}, {0xc0}, {0x80},
	} {
		checkTxDecoderMatchesReflection(t, b)
	}
	r := rand.New(rand.NewPCG(5, 6))
	edges := []byte{0x00, 0x01, 0x7f, 0x80, 0x81, 0xb7, 0xb8, 0xb9, 0xbf, 0xc0, 0xf7, 0xf8, 0xf9, 0xff}
	for _, s := range fuzzSeeds(t)["FuzzDecodeTx"] {
		checkTxDecoderMatchesReflection(t, s)
		for i := range s {
			for _, e := range edges {
				m := slices.Clone(s)
				m[i] = e
				checkTxDecoderMatchesReflection(t, m)
			}
			checkTxDecoderMatchesReflection(t, s[:i])
			checkTxDecoderMatchesReflection(t, slices.Insert(slices.Clone(s), i, edges[r.IntN(len(edges))]))
		}
		for range 2000 {
			m := slices.Clone(s)
			for range 1 + r.IntN(3) {
				m[r.IntN(len(m))] = byte(r.Uint32())
			}
			checkTxDecoderMatchesReflection(t, m)
		}
	}
}
