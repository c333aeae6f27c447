package chain

import (
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// Block limits.
const (
	MaxBlockBytes    = 8 << 20
	MaxBlockTxs      = 50_000
	MaxBlockEvidence = 100
)

// Header is the hashed part of a block. Its hash is the block hash.
type Header struct {
	ChainID            string
	Height             uint64
	Time               uint64 // unix milliseconds, chosen by the proposer
	ParentHash         Hash   // zero at height 1
	Proposer           Address
	TxRoot             Hash // MerkleRoot of the transaction hashes
	EvidenceRoot       Hash // MerkleRoot of the evidence hashes
	StateHash          Hash // ledger state after executing this block
	ValidatorsHash     Hash // validator set of this height
	NextValidatorsHash Hash // validator set of the next height
	LastCertHash       Hash // hash of LastCertificate; zero at height 1
}

// Hash is keccak256 of the header's encoding.
func (h *Header) Hash() Hash { return crypto.Keccak256Hash(mustEncode(h)) }

// Block is a header with its transactions, evidence, and the finality
// certificate of its parent.
type Block struct {
	Header          Header
	Txs             []*Tx
	Evidence        []*Evidence
	LastCertificate *Certificate `rlp:"nil"`
}

// Hash is the header hash.
func (b *Block) Hash() Hash { return b.Header.Hash() }

// Encode returns the canonical encoding of b.
func (b *Block) Encode() []byte { return mustEncode(b) }

// TxHashes returns the hash of every transaction, in block order.
func (b *Block) TxHashes() []Hash {
	hs := make([]Hash, len(b.Txs))
	for i, tx := range b.Txs {
		hs[i] = tx.Hash()
	}
	return hs
}

// EvidenceHashes returns the hash of every piece of evidence, in order.
func (b *Block) EvidenceHashes() []Hash {
	hs := make([]Hash, len(b.Evidence))
	for i, e := range b.Evidence {
		hs[i] = e.Hash()
	}
	return hs
}

// ValidateBasic checks what needs no state: chain id, commitments to the
// transactions, evidence and last certificate, and that the last certificate
// is for the parent. txHashes may be nil, or the precomputed TxHashes().
func (b *Block) ValidateBasic(chainID string, txHashes []Hash) error {
	h := &b.Header
	if h.ChainID != chainID {
		return fmt.Errorf("block h=%d: %w: got %q, want %q", h.Height, ErrWrongChain, h.ChainID, chainID)
	}
	if h.Height == 0 {
		return fmt.Errorf("block: %w: height 0", ErrInvalidFields)
	}
	if len(b.Txs) > MaxBlockTxs || len(b.Evidence) > MaxBlockEvidence {
		return fmt.Errorf("block h=%d: %w: %d txs, %d evidence", h.Height, ErrOversized, len(b.Txs), len(b.Evidence))
	}
	if txHashes == nil {
		txHashes = b.TxHashes()
	}
	if root := MerkleRoot(txHashes); root != h.TxRoot {
		return fmt.Errorf("block h=%d: %w: tx root %s, header says %s", h.Height, ErrInvalidFields, FormatHash(root), FormatHash(h.TxRoot))
	}
	if root := MerkleRoot(b.EvidenceHashes()); root != h.EvidenceRoot {
		return fmt.Errorf("block h=%d: %w: evidence root mismatch", h.Height, ErrInvalidFields)
	}
	if h.Height == 1 {
		if b.LastCertificate != nil || h.LastCertHash != (Hash{}) || h.ParentHash != (Hash{}) {
			return fmt.Errorf("block h=1: %w: first block has no parent or last certificate", ErrInvalidFields)
		}
		return nil
	}
	c := b.LastCertificate
	if c == nil {
		return fmt.Errorf("block h=%d: %w: missing last certificate", h.Height, ErrInvalidFields)
	}
	if c.Height != h.Height-1 || c.BlockHash != h.ParentHash {
		return fmt.Errorf("block h=%d: %w: last certificate is for h=%d %s, parent is %s",
			h.Height, ErrCertMismatch, c.Height, FormatHash(c.BlockHash), FormatHash(h.ParentHash))
	}
	if c.Hash() != h.LastCertHash {
		return fmt.Errorf("block h=%d: %w: last certificate hash", h.Height, ErrCertMismatch)
	}
	return nil
}

// DecodeBlock decodes a canonical block. It checks the encoding and sizes;
// see ValidateBasic and execution for the rest. It hashes every
// transaction's bytes once, in parallel, for Tx.Hash.
func DecodeBlock(b []byte) (*Block, error) {
	if len(b) > MaxBlockBytes {
		return nil, fmt.Errorf("block: %w: %d bytes, limit %d", ErrOversized, len(b), MaxBlockBytes)
	}
	blk := new(Block)
	if err := rlp.DecodeBytes(b, blk); err != nil {
		return nil, fmt.Errorf("block: %w: %v", ErrMalformed, err)
	}
	if len(blk.Txs) > MaxBlockTxs || len(blk.Evidence) > MaxBlockEvidence {
		return nil, fmt.Errorf("block: %w: %d txs, %d evidence", ErrOversized, len(blk.Txs), len(blk.Evidence))
	}
	for i, tx := range blk.Txs {
		if err := tx.checkDecoded(); err != nil {
			return nil, fmt.Errorf("block: tx %d: %w", i, err)
		}
	}
	for i, e := range blk.Evidence {
		if err := e.checkDecoded(); err != nil {
			return nil, fmt.Errorf("block: evidence %d: %w", i, err)
		}
	}
	if err := sealTxs(b, blk.Txs); err != nil {
		return nil, err
	}
	return blk, nil
}

// sealTxs gives each of txs, just decoded from the canonical block
// encoding enc, the hash of its own bytes there. The seals share one
// allocation.
func sealTxs(enc []byte, txs []*Tx) error {
	if len(txs) == 0 {
		return nil
	}
	raws, err := splitBlockTxs(enc, len(txs))
	if err != nil {
		return fmt.Errorf("block: %w: %v", ErrMalformed, err) // cannot happen for bytes rlp decoded
	}
	seals := make([]txSeal, len(txs))
	parallelFor(len(txs), func(i int) {
		seals[i] = txSeal{fields: txs[i].unsealed(), hash: crypto.Keccak256Hash(raws[i])}
		txs[i].sealed = &seals[i]
	})
	return nil
}

// splitBlockTxs returns the encoding of each of the ntx transactions of
// the block encoding enc, sharing enc's memory.
func splitBlockTxs(enc []byte, ntx int) ([][]byte, error) {
	content, _, err := rlp.SplitList(enc)
	if err != nil {
		return nil, err
	}
	_, _, rest, err := rlp.Split(content) // the header
	if err != nil {
		return nil, err
	}
	list, _, err := rlp.SplitList(rest)
	if err != nil {
		return nil, err
	}
	raws := make([][]byte, 0, ntx)
	for len(list) > 0 && len(raws) < ntx {
		_, _, next, err := rlp.Split(list)
		if err != nil {
			return nil, err
		}
		raws = append(raws, list[:len(list)-len(next)])
		list = next
	}
	if len(raws) != ntx || len(list) != 0 {
		return nil, fmt.Errorf("%d transactions split, %d decoded", len(raws), ntx)
	}
	return raws, nil
}

// MerkleRoot is the root of a binary Merkle tree over leaves, with
// domain-separated leaf (0x00) and inner (0x01) nodes, an odd node promoted
// unchanged, and the zero hash for no leaves.
func MerkleRoot(leaves []Hash) Hash {
	if len(leaves) == 0 {
		return Hash{}
	}
	// One hasher for every node: Keccak256Hash would allocate one each.
	k := crypto.NewKeccakState()
	var buf [1 + 2*len(Hash{})]byte
	hash := func(in []byte) (h Hash) {
		k.Reset()
		k.Write(in)
		k.Read(h[:])
		return h
	}
	level := make([]Hash, len(leaves))
	for i, l := range leaves {
		buf[0] = 0
		copy(buf[1:], l[:])
		level[i] = hash(buf[:33])
	}
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			buf[0] = 1
			copy(buf[1:], level[i][:])
			copy(buf[33:], level[i+1][:])
			next = append(next, hash(buf[:]))
		}
		level = next
	}
	return level[0]
}
