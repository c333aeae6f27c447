package chain

import (
	"fmt"

	"github.com/ethereum/go-ethereum/rlp"
)

// TxStatus is the outcome of a transaction in a block.
type TxStatus uint8

// Outcomes. A rejected transaction pays its fee and uses its nonce but
// changes nothing else; its receipt says why it failed.
const (
	TxAccepted TxStatus = 1 + iota
	TxRejected
)

func (s TxStatus) String() string {
	switch s {
	case TxAccepted:
		return "accepted"
	case TxRejected:
		return "rejected"
	}
	return fmt.Sprintf("TxStatus(%d)", uint8(s))
}

// Receipt records what a transaction did when its block executed.
type Receipt struct {
	TxHash Hash
	Status TxStatus
	// Code is a stable machine-readable reason for a rejection, such as
	// "bad_nonce" or "insufficient_balance"; empty when accepted.
	Code string
	// Error is the human-readable reason, empty when accepted.
	Error string
	// From is the sender recovered from the signature.
	From Address
	// Fee is what the sender paid, whether the transaction was accepted or
	// rejected.
	Fee uint64
}

// Encode returns the canonical encoding of r.
func (r *Receipt) Encode() []byte { return mustEncode(r) }

// DecodeReceipt decodes a receipt.
func DecodeReceipt(b []byte) (*Receipt, error) {
	r := new(Receipt)
	if err := rlp.DecodeBytes(b, r); err != nil {
		return nil, fmt.Errorf("receipt: %w: %v", ErrMalformed, err)
	}
	if r.Status != TxAccepted && r.Status != TxRejected {
		return nil, fmt.Errorf("receipt: %w: status %d", ErrInvalidFields, r.Status)
	}
	return r, nil
}
