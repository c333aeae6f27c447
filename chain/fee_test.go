package chain

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"
)

// TestDecodeTxFeeRejects covers every way the fee field can be malformed:
// the decoder refuses each with ErrMalformed.
func TestDecodeTxFeeRejects(t *testing.T) {
	tx := signedTx(t, testKey(t, 1), testChain, TxTransfer, 1, Address{7}, 10)
	encodeWithFee := func(fee rlp.RawValue) []byte {
		b, err := rlp.EncodeToBytes([]any{tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, fee, tx.Sig})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	noFee, err := rlp.EncodeToBytes([]any{tx.ChainID, tx.Kind, tx.Nonce, tx.To, tx.Amount, tx.Sig})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		enc  []byte
	}{
		{"no fee field (the encoding before fees)", noFee},
		{"fee with a leading zero byte", encodeWithFee(rlp.RawValue{0x82, 0x00, 0x05})},
		{"fee of 9 bytes", encodeWithFee(rlp.RawValue{0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0})},
		{"fee as a list", encodeWithFee(rlp.RawValue{0xc1, 0x05})},
		{"fee zero written as 0x00", encodeWithFee(rlp.RawValue{0x00})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeTx(tc.enc)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeTx: got %+v, %v; want ErrMalformed", got, err)
			}
		})
	}
	// The canonical encoding of the same fields decodes.
	if _, err := DecodeTx(encodeWithFee(rlp.RawValue{0x80})); err != nil {
		t.Fatalf("canonical zero fee: %v", err)
	}
}

// TestTxFeeIsSigned: the fee is part of the sign-bytes, so a relay cannot
// lower or raise it without changing the sender.
func TestTxFeeIsSigned(t *testing.T) {
	k := testKey(t, 1)
	tx := &Tx{ChainID: testChain, Kind: TxTransfer, Nonce: 0, To: Address{7}, Amount: 10, Fee: 5}
	if err := tx.SignWith(func(h Hash) (Signature, error) { return Sign(k, h) }); err != nil {
		t.Fatal(err)
	}
	want := PubkeyAddress(&k.PublicKey)
	dec, err := DecodeTx(tx.Encode())
	if err != nil || dec.Fee != 5 {
		t.Fatalf("round trip: got %+v, %v", dec, err)
	}
	for _, fee := range []uint64{0, 4, 6, 1 << 63} {
		m := *tx
		m.Fee = fee
		if from, err := m.Sender(); err == nil && from == want {
			t.Errorf("fee %d: still recovers the signer", fee)
		}
	}
}
