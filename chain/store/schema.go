package store

import (
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// The key schema. Every key starts with a one-byte prefix; heights are 8-byte
// big-endian so that keys of one prefix sort by height.
//
//	mChainID                  -> chain id (string)
//	mGenesisHash              -> genesis hash (32 bytes)
//	mLatestHeight             -> latest committed height (8 bytes)
//	mSchemaVersion            -> schema version (8 bytes)
//	'b' height                -> block encoding (chain.Block.Encode)
//	'n' height                -> block hash (32 bytes)
//	'H' block hash            -> height (8 bytes)
//	'c' height                -> certificate this node holds for the height
//	't' tx hash               -> tx location: height (8) | index (4) | receipt encoding
//	'v' height                -> validator set of the height, with proposer priorities
//	'r' height                -> state hash after executing the block of the height
//	'f' height                -> when this node finalized the block: unix milliseconds (8 bytes)
//	's' staking key           -> staking value (the latest ledger state)
var (
	keyChainID       = []byte("mChainID")
	keyGenesisHash   = []byte("mGenesisHash")
	keyLatestHeight  = []byte("mLatestHeight")
	keySchemaVersion = []byte("mSchemaVersion")
)

// Key prefixes.
const (
	prefixBlock      byte = 'b'
	prefixBlockHash  byte = 'n'
	prefixHashHeight byte = 'H'
	prefixCert       byte = 'c'
	prefixTx         byte = 't'
	prefixValidators byte = 'v'
	prefixStateHash  byte = 'r'
	prefixFinalized  byte = 'f'
	prefixState      byte = 's'
)

// SchemaVersion is the version of the key schema and value encodings above.
const SchemaVersion = 1

// Sizes of fixed keys and values.
const (
	heightKeyLen  = 1 + 8
	hashKeyLen    = 1 + len(chain.Hash{})
	txLocationLen = 8 + 4 // height | index, followed by the receipt

	// maxStoredValidators bounds a decoded validator set.
	maxStoredValidators = 100_000
)

// Reader is the read side of a cometbft-db database or batch.
type Reader interface {
	Get(key []byte) ([]byte, error)
}

// Writer is the write side of a cometbft-db database or batch.
type Writer interface {
	Set(key, value []byte) error
	Delete(key []byte) error
}

func heightKey(prefix byte, h uint64) []byte {
	k := make([]byte, heightKeyLen)
	k[0] = prefix
	binary.BigEndian.PutUint64(k[1:], h)
	return k
}

func hashKey(prefix byte, h chain.Hash) []byte {
	return appendHashKey(make([]byte, 0, hashKeyLen), prefix, h)
}

func appendHashKey(dst []byte, prefix byte, h chain.Hash) []byte {
	dst = append(dst, prefix)
	return append(dst, h[:]...)
}

func stateKey(key []byte) []byte {
	return appendStateKey(make([]byte, 0, 1+len(key)), key)
}

func appendStateKey(dst, key []byte) []byte {
	dst = append(dst, prefixState)
	return append(dst, key...)
}

// stateRange is the [start, end) range of every state key.
func stateRange() (start, end []byte) { return []byte{prefixState}, []byte{prefixState + 1} }

func encodeHeight(h uint64) []byte { return binary.BigEndian.AppendUint64(nil, h) }

// DecodeHeight decodes an 8-byte big-endian height.
func DecodeHeight(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("height: %d bytes, want 8", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// DecodeHash decodes a 32-byte hash.
func DecodeHash(b []byte) (chain.Hash, error) {
	var h chain.Hash
	if len(b) != len(h) {
		return h, fmt.Errorf("hash: %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

// get reads key and maps absence to ErrNotFound.
func get(r Reader, key []byte) ([]byte, error) {
	v, err := r.Get(key)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, ErrNotFound
	}
	return v, nil
}

// readDecoded reads key and decodes it, wrapping errors with what: a read
// error as is, absence as ErrNotFound, bad bytes as ErrCorrupt.
func readDecoded[T any](r Reader, key []byte, what string, decode func([]byte) (T, error)) (T, error) {
	var zero T
	v, err := get(r, key)
	if err != nil {
		return zero, fmt.Errorf("store: read %s: %w", what, err)
	}
	x, err := decode(v)
	if err != nil {
		return zero, fmt.Errorf("store: read %s: %w: %w", what, ErrCorrupt, err)
	}
	return x, nil
}

// Metadata.

// ReadChainID reads the chain id written at genesis.
func ReadChainID(r Reader) (string, error) {
	return readDecoded(r, keyChainID, "chain id", func(b []byte) (string, error) { return string(b), nil })
}

// WriteChainID records the chain id.
func WriteChainID(w Writer, id string) error { return w.Set(keyChainID, []byte(id)) }

// ReadGenesisHash reads the genesis hash.
func ReadGenesisHash(r Reader) (chain.Hash, error) {
	return readDecoded(r, keyGenesisHash, "genesis hash", DecodeHash)
}

// WriteGenesisHash records the genesis hash.
func WriteGenesisHash(w Writer, h chain.Hash) error { return w.Set(keyGenesisHash, h.Bytes()) }

// ReadLatestHeight reads the height of the latest committed block (0 after
// genesis).
func ReadLatestHeight(r Reader) (uint64, error) {
	return readDecoded(r, keyLatestHeight, "latest height", DecodeHeight)
}

// WriteLatestHeight records the latest committed height.
func WriteLatestHeight(w Writer, h uint64) error { return w.Set(keyLatestHeight, encodeHeight(h)) }

// ReadSchemaVersion reads the schema version.
func ReadSchemaVersion(r Reader) (uint64, error) {
	return readDecoded(r, keySchemaVersion, "schema version", DecodeHeight)
}

// WriteSchemaVersion records SchemaVersion.
func WriteSchemaVersion(w Writer) error { return w.Set(keySchemaVersion, encodeHeight(SchemaVersion)) }

// Blocks.

// ReadBlockBytes reads the encoding of the block at height h.
func ReadBlockBytes(r Reader, h uint64) ([]byte, error) {
	v, err := get(r, heightKey(prefixBlock, h))
	if err != nil {
		return nil, fmt.Errorf("store: read block at height %d: %w", h, err)
	}
	return v, nil
}

// ReadBlock reads and decodes the block at height h, checking that it is
// the block of that height.
func ReadBlock(r Reader, h uint64) (*chain.Block, error) {
	return readDecoded(r, heightKey(prefixBlock, h), fmt.Sprintf("block at height %d", h), func(b []byte) (*chain.Block, error) {
		blk, err := chain.DecodeBlock(b)
		if err != nil {
			return nil, err
		}
		if blk.Header.Height != h {
			return nil, fmt.Errorf("block says height %d", blk.Header.Height)
		}
		return blk, nil
	})
}

// ReadHeader decodes only the header of the block at height h.
func ReadHeader(r Reader, h uint64) (*chain.Header, error) {
	return readDecoded(r, heightKey(prefixBlock, h), fmt.Sprintf("header at height %d", h), func(b []byte) (*chain.Header, error) {
		raw, err := splitHeader(b)
		if err != nil {
			return nil, err
		}
		hdr := new(chain.Header)
		if err := rlp.DecodeBytes(raw, hdr); err != nil {
			return nil, fmt.Errorf("header: %w: %v", chain.ErrMalformed, err)
		}
		if hdr.Height != h {
			return nil, fmt.Errorf("header says height %d", hdr.Height)
		}
		return hdr, nil
	})
}

// WriteBlock writes the block encoding enc of height h and the two indexes
// between its height and its hash.
func WriteBlock(w Writer, h uint64, hash chain.Hash, enc []byte) error {
	if err := w.Set(heightKey(prefixBlock, h), enc); err != nil {
		return err
	}
	if err := w.Set(heightKey(prefixBlockHash, h), hash.Bytes()); err != nil {
		return err
	}
	return w.Set(hashKey(prefixHashHeight, hash), encodeHeight(h))
}

// ReadBlockHash reads the hash of the block at height h.
func ReadBlockHash(r Reader, h uint64) (chain.Hash, error) {
	return readDecoded(r, heightKey(prefixBlockHash, h), fmt.Sprintf("block hash at height %d", h), DecodeHash)
}

// ReadHeightByHash reads the height of the block with the given hash.
func ReadHeightByHash(r Reader, hash chain.Hash) (uint64, error) {
	return readDecoded(r, hashKey(prefixHashHeight, hash), "height of block "+chain.FormatHash(hash), DecodeHeight)
}

// Certificates.

// ReadCertificate reads the certificate stored for height h.
func ReadCertificate(r Reader, h uint64) (*chain.Certificate, error) {
	return readDecoded(r, heightKey(prefixCert, h), fmt.Sprintf("certificate at height %d", h), func(b []byte) (*chain.Certificate, error) {
		c, err := chain.DecodeCertificate(b)
		if err != nil {
			return nil, err
		}
		if c.Height != h {
			return nil, fmt.Errorf("certificate says height %d", c.Height)
		}
		return c, nil
	})
}

// WriteCertificate writes the certificate encoding enc for height h.
func WriteCertificate(w Writer, h uint64, enc []byte) error {
	return w.Set(heightKey(prefixCert, h), enc)
}

// Transactions.

// TxLocation says where a final transaction is and what it did.
type TxLocation struct {
	Height  uint64
	Index   uint32 // position in the block's Txs
	Receipt chain.Receipt
}

// appendTxLocation appends the stored form of a location: height | index |
// receipt encoding.
func appendTxLocation(dst []byte, height uint64, index uint32, receiptEnc []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, height)
	dst = binary.BigEndian.AppendUint32(dst, index)
	return append(dst, receiptEnc...)
}

// EncodeTxLocation is the stored form of loc.
func EncodeTxLocation(loc *TxLocation) []byte {
	return appendTxLocation(nil, loc.Height, loc.Index, loc.Receipt.Encode())
}

// DecodeTxLocation decodes the stored form of a transaction location.
func DecodeTxLocation(b []byte) (*TxLocation, error) {
	if len(b) < txLocationLen {
		return nil, fmt.Errorf("tx location: %d bytes, want at least %d", len(b), txLocationLen)
	}
	r, err := chain.DecodeReceipt(b[txLocationLen:])
	if err != nil {
		return nil, fmt.Errorf("tx location: %w", err)
	}
	return &TxLocation{
		Height:  binary.BigEndian.Uint64(b),
		Index:   binary.BigEndian.Uint32(b[8:]),
		Receipt: *r,
	}, nil
}

// ReadTxLocation reads the location of the final transaction with the given
// hash.
func ReadTxLocation(r Reader, hash chain.Hash) (*TxLocation, error) {
	return readDecoded(r, hashKey(prefixTx, hash), "tx "+chain.FormatHash(hash), DecodeTxLocation)
}

// WriteTxLocation indexes the transaction with the given hash.
func WriteTxLocation(w Writer, hash chain.Hash, loc *TxLocation) error {
	return w.Set(hashKey(prefixTx, hash), EncodeTxLocation(loc))
}

// Validator sets.

// storedValidator is the stored form of a staking.Validator. The proposer
// priority is kept as the two's-complement bits of the int64, since RLP has
// no signed integers.
type storedValidator struct {
	Address  chain.Address
	Stake    uint64
	Priority uint64
}

// EncodeValidators is the stored form of a validator set: the RLP list of
// its validators in set order, each [address, stake, priority bits].
func EncodeValidators(set *staking.ValidatorSet) []byte {
	vals := set.Validators()
	out := make([]storedValidator, len(vals))
	for i, v := range vals {
		out[i] = storedValidator{Address: v.Address, Stake: v.Stake, Priority: uint64(v.ProposerPriority)}
	}
	b, err := rlp.EncodeToBytes(out)
	if err != nil {
		panic(fmt.Sprintf("store: encode validator set: %v", err)) // fixed-size fields only: cannot fail
	}
	return b
}

// DecodeValidatorList decodes the stored form of a validator set into its
// validators, in stored order, without building the set.
func DecodeValidatorList(b []byte) ([]staking.Validator, error) {
	var in []storedValidator
	if err := rlp.DecodeBytes(b, &in); err != nil {
		return nil, fmt.Errorf("validator set: %w: %v", chain.ErrMalformed, err)
	}
	if len(in) > maxStoredValidators {
		return nil, fmt.Errorf("validator set: %w: %d validators", chain.ErrOversized, len(in))
	}
	vals := make([]staking.Validator, len(in))
	for i, v := range in {
		vals[i] = staking.Validator{Address: v.Address, Stake: v.Stake, ProposerPriority: int64(v.Priority)}
	}
	return vals, nil
}

// DecodeValidators decodes the stored form of a validator set.
func DecodeValidators(b []byte) (*staking.ValidatorSet, error) {
	vals, err := DecodeValidatorList(b)
	if err != nil {
		return nil, err
	}
	return newValidatorSet(vals)
}

// ReadValidators reads the validator set of height h.
func ReadValidators(r Reader, h uint64) (*staking.ValidatorSet, error) {
	return readDecoded(r, heightKey(prefixValidators, h), fmt.Sprintf("validator set at height %d", h), DecodeValidators)
}

// WriteValidators writes the validator set of height h.
func WriteValidators(w Writer, h uint64, set *staking.ValidatorSet) error {
	return w.Set(heightKey(prefixValidators, h), EncodeValidators(set))
}

// State.

// ReadStateHash reads the state hash after the block of height h.
func ReadStateHash(r Reader, h uint64) (chain.Hash, error) {
	return readDecoded(r, heightKey(prefixStateHash, h), fmt.Sprintf("state hash at height %d", h), DecodeHash)
}

// WriteStateHash records the state hash after the block of height h.
func WriteStateHash(w Writer, h uint64, hash chain.Hash) error {
	return w.Set(heightKey(prefixStateHash, h), hash.Bytes())
}

// ReadFinalizedAt reads when this node finalized the block of height h, in
// unix milliseconds; ErrNotFound for blocks committed without it.
func ReadFinalizedAt(r Reader, h uint64) (uint64, error) {
	return readDecoded(r, heightKey(prefixFinalized, h), fmt.Sprintf("finalization time at height %d", h), DecodeHeight)
}

// WriteFinalizedAt records when this node finalized the block of height h.
func WriteFinalizedAt(w Writer, h uint64, unixMilli uint64) error {
	return w.Set(heightKey(prefixFinalized, h), encodeHeight(unixMilli))
}

// ReadStateEntry reads the value of one staking key of the latest state.
func ReadStateEntry(r Reader, key []byte) ([]byte, error) {
	v, err := get(r, stateKey(key))
	if err != nil {
		return nil, fmt.Errorf("store: read state entry %x: %w", key, err)
	}
	return v, nil
}

// WriteStateEntry applies one staking change: a nil Value deletes the key.
func WriteStateEntry(w Writer, kv staking.KV) error {
	if kv.Value == nil {
		return w.Delete(stateKey(kv.Key))
	}
	return w.Set(stateKey(kv.Key), kv.Value)
}

// splitHeader returns the raw header element of a block encoding.
func splitHeader(enc []byte) ([]byte, error) {
	content, _, err := rlp.SplitList(enc)
	if err != nil {
		return nil, fmt.Errorf("block: %w: %v", chain.ErrMalformed, err)
	}
	_, _, rest, err := rlp.Split(content)
	if err != nil {
		return nil, fmt.Errorf("block header: %w: %v", chain.ErrMalformed, err)
	}
	return content[:len(content)-len(rest)], nil
}
