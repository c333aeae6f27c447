package chain

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/staking"
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

// TestValidateBasicRewardKinds covers every rejection of the claim and
// set-commission fields, and their valid forms.
func TestValidateBasicRewardKinds(t *testing.T) {
	k := testKey(t, 1)
	cases := []struct {
		name   string
		kind   TxKind
		to     Address
		amount uint64
		want   error // nil: valid
	}{
		{"claim from one validator", TxClaim, Address{7}, 0, nil},
		{"claim from every bond", TxClaim, Address{}, 0, nil},
		{"claim with an amount", TxClaim, Address{7}, 1, ErrInvalidFields},
		{"commission 0", TxSetCommission, Address{}, 0, nil},
		{"commission 1", TxSetCommission, Address{}, staking.CommissionDen, nil},
		{"commission above 1", TxSetCommission, Address{}, staking.CommissionDen + 1, ErrInvalidFields},
		{"commission with a recipient", TxSetCommission, Address{7}, 5, ErrInvalidFields},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := signedTx(t, k, testChain, c.kind, 0, c.to, c.amount)
			dec, err := DecodeTx(tx.Encode())
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			err = dec.ValidateBasic(testChain)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("ValidateBasic: got %v, want %v", err, c.want)
			}
		})
	}
	if got, err := ParseTxKind("set-commission"); err != nil || got != TxSetCommission {
		t.Fatalf("ParseTxKind(set-commission) = %v, %v", got, err)
	}
	if _, err := DecodeTx(signedTx(t, k, testChain, lastTxKind+1, 0, Address{}, 0).Encode()); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("kind past the last: got %v, want ErrUnknownKind", err)
	}
}
