package chain

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/staking"
)

// TxKind says what a transaction does.
type TxKind uint8

// Transaction kinds. The zero value is invalid so that a missing kind is an
// error rather than a transfer.
const (
	TxTransfer      TxKind = 1 + iota // move Amount to To
	TxStake                           // bond Amount to validator To
	TxUnstake                         // begin unbonding Amount from validator To
	TxUnjail                          // return the sender, a jailed validator, to candidacy
	TxClaim                           // withdraw rewards of the bond to validator To (zero: of every bond)
	TxSetCommission                   // set the sender's commission to Amount/staking.CommissionDen
)

// lastTxKind is the highest valid kind.
const lastTxKind = TxSetCommission

var txKindNames = [...]string{TxTransfer: "transfer", TxStake: "stake", TxUnstake: "unstake", TxUnjail: "unjail",
	TxClaim: "claim", TxSetCommission: "set-commission"}

func (k TxKind) String() string {
	if k >= TxTransfer && k <= lastTxKind {
		return txKindNames[k]
	}
	return fmt.Sprintf("TxKind(%d)", uint8(k))
}

// ParseTxKind is the inverse of TxKind.String.
func ParseTxKind(s string) (TxKind, error) {
	for k := TxTransfer; k <= lastTxKind; k++ {
		if txKindNames[k] == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown transaction kind %q", s)
}

// Limits on transactions.
const (
	// MaxTxBytes bounds an encoded transaction.
	MaxTxBytes = 512
	// MaxChainIDLength bounds a chain id.
	MaxChainIDLength = 64
)

// Transaction validation errors.
var (
	ErrMalformed     = errors.New("malformed encoding")
	ErrOversized     = errors.New("oversized")
	ErrWrongChain    = errors.New("wrong chain id")
	ErrUnknownKind   = errors.New("unknown transaction kind")
	ErrInvalidFields = errors.New("invalid fields")
)

// Tx is a signed transaction. The sender is not a field: it is the address
// recovered from Sig over SignHash.
type Tx struct {
	ChainID string
	Kind    TxKind
	Nonce   uint64
	To      Address // transfer: recipient; stake, unstake, claim: validator (claim: zero for all); unjail, set-commission: zero
	Amount  uint64  // transfer, stake, unstake: positive; set-commission: the rate's numerator; unjail, claim: zero
	// Fee is paid by the sender to the block's proposer whenever the
	// transaction is in a block, even if its execution fails. It must be
	// at least the chain's min_fee.
	Fee uint64
	Sig Signature

	// sealed is the hash of the encoding the transaction was decoded
	// from, with a copy of the fields it belongs to. Only the decoders set
	// it, before the Tx is returned and shared, and nothing writes it after,
	// so readers on any goroutine may use it. Hash trusts it only while the
	// fields still equal the copy: a transaction changed after decoding (a
	// field set, SignWith, a modified copy) is hashed afresh, so the result
	// is always keccak256 of the canonical encoding. RLP ignores the field.
	sealed *txSeal
}

// txSeal is a decoded transaction's hash and the fields it was computed from.
type txSeal struct {
	fields Tx // with sealed nil
	hash   Hash
}

// SignHash is the digest the sender signs: keccak256(rlp(["tx", chainID, kind, nonce, to, amount, fee])).
//
// The list is written field by field, not through reflection: every node
// computes it for every transaction, to recover the sender.
func (tx *Tx) SignHash() Hash {
	w := rlp.NewEncoderBuffer(nil)
	l := w.List()
	w.WriteString(DomainTx)
	w.WriteString(tx.ChainID)
	w.WriteUint64(uint64(tx.Kind))
	w.WriteUint64(tx.Nonce)
	w.WriteBytes(tx.To[:])
	w.WriteUint64(tx.Amount)
	w.WriteUint64(tx.Fee)
	w.ListEnd(l)
	var buf [160]byte
	b := w.AppendToBytes(buf[:0])
	_ = w.Flush() // no destination: only returns the buffer to its pool
	return crypto.Keccak256Hash(b)
}

// Encode returns the canonical encoding of the signed transaction.
func (tx *Tx) Encode() []byte {
	b, err := rlp.EncodeToBytes(tx)
	if err != nil {
		panic(fmt.Sprintf("chain: encode tx: %v", err)) // only fixed-size fields: cannot fail
	}
	return b
}

// Hash identifies the signed transaction: keccak256 of its encoding. For a
// decoded transaction it is the hash computed from the decoded bytes, which
// are the canonical encoding (the decoders accept no other), so it costs no
// encoding and no hashing.
func (tx *Tx) Hash() Hash {
	if s := tx.sealed; s != nil && s.fields == tx.unsealed() {
		return s.hash
	}
	return crypto.Keccak256Hash(tx.Encode())
}

// unsealed is a copy of tx's fields without its seal.
func (tx *Tx) unsealed() Tx {
	c := *tx
	c.sealed = nil
	return c
}

// seal records h, the keccak256 of the canonical encoding tx was just
// decoded from. Only a decoder may call it, before tx is shared.
func (tx *Tx) seal(h Hash) { tx.sealed = &txSeal{fields: tx.unsealed(), hash: h} }

// SignTx fills tx.Sig using key.
func (tx *Tx) SignWith(signer func(Hash) (Signature, error)) error {
	sig, err := signer(tx.SignHash())
	if err != nil {
		return err
	}
	tx.Sig = sig
	return nil
}

// Sender recovers the address that signed tx.
func (tx *Tx) Sender() (Address, error) {
	a, err := Recover(tx.SignHash(), &tx.Sig)
	if err != nil {
		return Address{}, fmt.Errorf("tx sender: %w", err)
	}
	return a, nil
}

// ValidateBasic checks everything that needs no state and no signature
// recovery: known kind, field ranges, chain id, canonical signature values.
func (tx *Tx) ValidateBasic(chainID string) error {
	if tx.ChainID != chainID {
		return fmt.Errorf("%w: got %q, want %q", ErrWrongChain, tx.ChainID, chainID)
	}
	switch tx.Kind {
	case TxTransfer, TxStake, TxUnstake:
		if tx.Amount == 0 {
			return fmt.Errorf("%w: %s amount must be positive", ErrInvalidFields, tx.Kind)
		}
	case TxUnjail:
		if tx.Amount != 0 || tx.To != (Address{}) {
			return fmt.Errorf("%w: unjail carries no recipient and no amount", ErrInvalidFields)
		}
	case TxClaim:
		if tx.Amount != 0 {
			return fmt.Errorf("%w: claim carries no amount", ErrInvalidFields)
		}
	case TxSetCommission:
		if tx.To != (Address{}) {
			return fmt.Errorf("%w: set-commission carries no recipient", ErrInvalidFields)
		}
		if tx.Amount > staking.CommissionDen {
			return fmt.Errorf("%w: commission %d/%d above 1", ErrInvalidFields, tx.Amount, staking.CommissionDen)
		}
	default:
		return fmt.Errorf("%w: %d", ErrUnknownKind, tx.Kind)
	}
	return tx.Sig.CheckCanonical()
}

// DecodeTx decodes a canonical signed transaction. It checks the encoding and
// field ranges, not the signature or the chain id (see ValidateBasic). It
// hashes b once, for Hash: b is canonical, or it would be rejected.
func DecodeTx(b []byte) (*Tx, error) {
	if len(b) > MaxTxBytes {
		return nil, fmt.Errorf("tx: %w: %d bytes, limit %d", ErrOversized, len(b), MaxTxBytes)
	}
	tx := new(Tx)
	if err := tx.decodeFields(b); err != nil {
		return nil, fmt.Errorf("tx: %w: %v", ErrMalformed, err)
	}
	if err := tx.checkDecoded(); err != nil {
		return nil, fmt.Errorf("tx: %w", err)
	}
	tx.seal(crypto.Keccak256Hash(b))
	return tx, nil
}

// DecodeRLP implements rlp.Decoder, so that a block's transactions are
// decoded by decodeFields too. It checks the encoding only (see
// checkDecoded).
func (tx *Tx) DecodeRLP(s *rlp.Stream) error {
	raw, err := s.Raw()
	if err != nil {
		return err
	}
	return tx.decodeFields(raw)
}

// decodeFields decodes the canonical encoding b, the RLP list [chainID,
// kind, nonce, to, amount, fee, sig] and nothing after it, into tx's
// fields, without reflection. It accepts exactly what rlp.DecodeBytes
// accepts for the same fields (TestTxDecoderMatchesReflection): canonical
// sizes and integers, a kind of one byte, To and Sig of their exact
// lengths, seven fields.
func (tx *Tx) decodeFields(b []byte) error {
	body, rest, err := rlp.SplitList(b)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%d bytes after the transaction", len(rest))
	}
	chainID, body, err := rlp.SplitString(body)
	if err != nil {
		return fmt.Errorf("chain id: %w", err)
	}
	kind, body, err := splitUint(body, "kind")
	if err != nil {
		return err
	}
	if kind > 0xff {
		return fmt.Errorf("kind: %d does not fit a byte", kind)
	}
	nonce, body, err := splitUint(body, "nonce")
	if err != nil {
		return err
	}
	body, err = splitFixed(body, tx.To[:], "to")
	if err != nil {
		return err
	}
	amount, body, err := splitUint(body, "amount")
	if err != nil {
		return err
	}
	fee, body, err := splitUint(body, "fee")
	if err != nil {
		return err
	}
	body, err = splitFixed(body, tx.Sig[:], "signature")
	if err != nil {
		return err
	}
	if len(body) != 0 {
		return errors.New("more than seven fields")
	}
	tx.ChainID, tx.Kind, tx.Nonce, tx.Amount, tx.Fee = string(chainID), TxKind(kind), nonce, amount, fee
	return nil
}

// splitUint decodes the canonical RLP integer at the start of b and
// returns what follows it; an error names the field.
func splitUint(b []byte, name string) (uint64, []byte, error) {
	v, rest, err := rlp.SplitUint64(b)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", name, err)
	}
	return v, rest, nil
}

// splitFixed decodes the RLP string at the start of b, which must be
// exactly len(dst) bytes, into dst, and returns what follows it.
func splitFixed(b, dst []byte, name string) ([]byte, error) {
	v, rest, err := rlp.SplitString(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(v) != len(dst) {
		return nil, fmt.Errorf("%s: %d bytes, want %d", name, len(v), len(dst))
	}
	copy(dst, v)
	return rest, nil
}

func (tx *Tx) checkDecoded() error {
	if len(tx.ChainID) == 0 || len(tx.ChainID) > MaxChainIDLength {
		return fmt.Errorf("%w: chain id length %d", ErrInvalidFields, len(tx.ChainID))
	}
	if tx.Kind < TxTransfer || tx.Kind > lastTxKind {
		return fmt.Errorf("%w: %d", ErrUnknownKind, tx.Kind)
	}
	return nil
}

func rlpHash(v any) Hash {
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		panic(fmt.Sprintf("chain: encode sign-bytes: %v", err))
	}
	return crypto.Keccak256Hash(b)
}
