package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// FinalBlock is everything CommitBlock writes for one finalized block.
// CommitBlock reads it and keeps no reference to it.
type FinalBlock struct {
	Block       *chain.Block
	Certificate *chain.Certificate // the certificate this node holds for Block
	// Receipts has one receipt per transaction, in block order; Receipts[i].TxHash
	// must be the hash of Block.Txs[i].
	Receipts []chain.Receipt
	// StateChanges are the ledger changes of the block (staking.State.Changes):
	// a nil Value deletes the key.
	StateChanges []staking.KV
	// StateHash is the ledger state hash after the block; it must equal
	// Block.Header.StateHash.
	StateHash chain.Hash
	// NextValidators is the validator set of height Block.Header.Height+1,
	// with its proposer priorities; its Hash must equal
	// Block.Header.NextValidatorsHash.
	NextValidators *staking.ValidatorSet
	// FinalizedAt is when this node saw the block become final, in unix
	// milliseconds (0: not recorded). Replayed `finalized` events carry it.
	FinalizedAt uint64
}

// InitGenesis records the chain id, genesis hash, initial ledger state and
// the validator set of height 1, at height 0, in one synced batch. On a store
// already initialised with the same chain id and genesis hash it does
// nothing; with another it returns ErrGenesisMismatch.
func (s *Store) InitGenesis(chainID string, genesisHash chain.Hash, state []staking.KV, validators *staking.ValidatorSet) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return fmt.Errorf("store: init genesis: %w", ErrClosed)
	}
	if chainID == "" || validators == nil {
		return fmt.Errorf("store: init genesis: empty chain id or nil validator set")
	}
	if s.initDone.Load() {
		gotHash, err := ReadGenesisHash(s.db)
		if err != nil {
			return err
		}
		gotID, err := ReadChainID(s.db)
		if err != nil {
			return err
		}
		if gotHash != genesisHash || gotID != chainID {
			return fmt.Errorf("store: init genesis: %w: store has chain %q genesis %s, got chain %q genesis %s",
				ErrGenesisMismatch, gotID, chain.FormatHash(gotHash), chainID, chain.FormatHash(genesisHash))
		}
		return nil
	}
	b := s.db.NewBatch()
	defer closeBatch(b, &err)
	err = errors.Join(
		WriteSchemaVersion(b),
		WriteChainID(b, chainID),
		WriteGenesisHash(b, genesisHash),
		WriteValidators(b, 1, validators),
		WriteLatestHeight(b, 0),
	)
	if err == nil {
		err = fillState(b, state)
	}
	if err != nil {
		return fmt.Errorf("store: init genesis: build batch: %w", err)
	}
	if err := b.WriteSync(); err != nil {
		return fmt.Errorf("store: init genesis: write: %w", err)
	}
	s.height.Store(0)
	s.initDone.Store(true)
	return nil
}

// CommitBlock writes one finalized block atomically: the block and its hash
// indexes, the certificate, the transaction index with receipts, the
// validator set of the next height, the state changes, the state hash and
// the new latest height, in a single batch written with WriteSync. After a
// crash the store holds either all of the block or none of it.
//
// It refuses, writing nothing, a block that is not exactly Height()+1
// (*HeightError), a store without genesis (ErrNotInitialized), and a
// FinalBlock whose parts disagree (ErrInvalidBlock). An error from the
// database is fatal for the node: the block may or may not be on disk until
// the store is reopened.
//
// A transaction included again after it was indexed (possible only as a
// rejected duplicate) keeps its first receipt, unless the new one is an
// acceptance.
func (s *Store) CommitBlock(fb *FinalBlock) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return fmt.Errorf("store: commit block: %w", ErrClosed)
	}
	if !s.initDone.Load() {
		return fmt.Errorf("store: commit block: %w", ErrNotInitialized)
	}
	if fb == nil || fb.Block == nil || fb.Certificate == nil || fb.NextValidators == nil {
		return fmt.Errorf("store: commit block: %w: missing block, certificate or next validators", ErrInvalidBlock)
	}
	h := fb.Block.Header.Height
	if want := s.height.Load() + 1; h != want {
		return &HeightError{Height: h, Want: want}
	}
	c, err := s.prepare(fb)
	if err != nil {
		return fmt.Errorf("store: commit block at height %d: %w", h, err)
	}
	b := s.db.NewBatch()
	defer closeBatch(b, &err)
	if err := c.fill(b, fb); err != nil {
		return fmt.Errorf("store: commit block at height %d: build batch: %w", h, err)
	}
	if err := s.fail(FailBeforeWrite); err != nil {
		return err
	}
	if err := b.WriteSync(); err != nil {
		return fmt.Errorf("store: commit block at height %d: write: %w", h, err)
	}
	s.height.Store(h)
	return s.fail(FailAfterWrite)
}

// commit holds what CommitBlock derives from a FinalBlock before it builds
// the batch.
type commit struct {
	height    uint64
	blockEnc  []byte
	blockHash chain.Hash
	txHashes  []chain.Hash
	skipTx    []bool // rejected re-inclusions that keep their first receipt; nil if none
}

// prepare encodes the block once, derives the block hash from that
// encoding, takes the transaction hashes from the transactions (a decoded
// or mempool transaction has its hash already: see chain.Tx.Hash), and
// checks the parts of fb against each other.
func (s *Store) prepare(fb *FinalBlock) (*commit, error) {
	blk := fb.Block
	c := &commit{height: blk.Header.Height, blockEnc: blk.Encode()}
	headerRaw, err := splitBlockHeader(c.blockEnc)
	if err != nil {
		return nil, err // cannot happen for an encoding we just made
	}
	c.blockHash = crypto.Keccak256Hash(headerRaw)
	if cert := fb.Certificate; cert.Height != c.height || cert.BlockHash != c.blockHash {
		return nil, fmt.Errorf("%w: certificate is for height %d block %s, block is %s",
			ErrInvalidBlock, cert.Height, chain.FormatHash(cert.BlockHash), chain.FormatHash(c.blockHash))
	}
	if fb.StateHash != blk.Header.StateHash {
		return nil, fmt.Errorf("%w: state hash %s, header says %s",
			ErrInvalidBlock, chain.FormatHash(fb.StateHash), chain.FormatHash(blk.Header.StateHash))
	}
	if got := fb.NextValidators.Hash(); got != blk.Header.NextValidatorsHash {
		return nil, fmt.Errorf("%w: next validator set %s, header says %s",
			ErrInvalidBlock, chain.FormatHash(got), chain.FormatHash(blk.Header.NextValidatorsHash))
	}
	if len(fb.Receipts) != len(blk.Txs) {
		return nil, fmt.Errorf("%w: %d receipts for %d txs", ErrInvalidBlock, len(fb.Receipts), len(blk.Txs))
	}
	c.txHashes = blk.TxHashes()
	rejected := false
	for i := range c.txHashes {
		r := &fb.Receipts[i]
		if r.TxHash != c.txHashes[i] {
			return nil, fmt.Errorf("%w: receipt %d is for tx %s, tx is %s",
				ErrInvalidBlock, i, chain.FormatHash(r.TxHash), chain.FormatHash(c.txHashes[i]))
		}
		if r.Status != chain.TxAccepted && r.Status != chain.TxRejected {
			return nil, fmt.Errorf("%w: receipt %d has status %d", ErrInvalidBlock, i, r.Status)
		}
		rejected = rejected || r.Status == chain.TxRejected
	}
	if rejected {
		if err := s.markDuplicates(c, fb.Receipts); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// markDuplicates sets c.skipTx for each rejected transaction that is already
// indexed, earlier in this block or in an earlier block, so that a replayed
// transaction does not hide where it was final.
func (s *Store) markDuplicates(c *commit, receipts []chain.Receipt) error {
	first := make(map[chain.Hash]int, len(c.txHashes))
	for i, h := range c.txHashes {
		if _, ok := first[h]; !ok {
			first[h] = i
		}
	}
	for i := range receipts {
		if receipts[i].Status != chain.TxRejected {
			continue
		}
		dup := first[c.txHashes[i]] < i
		if !dup {
			ok, err := s.db.Has(hashKey(prefixTx, c.txHashes[i]))
			if err != nil {
				return fmt.Errorf("read tx index: %w", err)
			}
			dup = ok
		}
		if dup {
			if c.skipTx == nil {
				c.skipTx = make([]bool, len(receipts))
			}
			c.skipTx[i] = true
		}
	}
	return nil
}

// fill adds every write of the block to b. Keys and values live in a few
// large buffers rather than one allocation each; none is modified after it
// is handed to the batch (memdb keeps references).
func (c *commit) fill(b dbm.Batch, fb *FinalBlock) error {
	h := c.height
	if err := WriteBlock(b, h, c.blockHash, c.blockEnc); err != nil {
		return err
	}
	if err := WriteCertificate(b, h, fb.Certificate.Encode()); err != nil {
		return err
	}
	if err := WriteValidators(b, h+1, fb.NextValidators); err != nil {
		return err
	}
	if err := WriteStateHash(b, h, fb.StateHash); err != nil {
		return err
	}
	if fb.FinalizedAt != 0 {
		if err := WriteFinalizedAt(b, h, fb.FinalizedAt); err != nil {
			return err
		}
	}
	if err := c.fillTxs(b, fb.Receipts); err != nil {
		return err
	}
	if err := fillState(b, fb.StateChanges); err != nil {
		return err
	}
	return WriteLatestHeight(b, h)
}

func (c *commit) fillTxs(b dbm.Batch, receipts []chain.Receipt) error {
	n := len(c.txHashes)
	keys := make([]byte, 0, n*hashKeyLen)
	vals := appendBuffer(make([]byte, 0, n*(txLocationLen+48)))
	ends := make([]int, n)
	for i := range receipts {
		vals = appendBuffer(appendTxLocation(vals, c.height, uint32(i), nil))
		if err := rlp.Encode(&vals, &receipts[i]); err != nil {
			return fmt.Errorf("encode receipt %d: %w", i, err)
		}
		ends[i] = len(vals)
		keys = appendHashKey(keys, prefixTx, c.txHashes[i])
	}
	// Write in key order: goleveldb's memtable inserts sorted keys with far
	// fewer cache misses than random hashes.
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return bytes.Compare(c.txHashes[a][:], c.txHashes[b][:])
	})
	for _, i := range order {
		if c.skipTx != nil && c.skipTx[i] {
			continue
		}
		start := 0
		if i > 0 {
			start = ends[i-1]
		}
		k := keys[int(i)*hashKeyLen : int(i+1)*hashKeyLen : int(i+1)*hashKeyLen]
		if err := b.Set(k, vals[start:ends[i]:ends[i]]); err != nil {
			return err
		}
	}
	return nil
}

func fillState(b dbm.Batch, changes []staking.KV) error {
	size := 0
	for _, kv := range changes {
		size += 1 + len(kv.Key) + len(kv.Value)
	}
	buf := make([]byte, 0, size)
	for _, kv := range changes {
		k0 := len(buf)
		buf = appendStateKey(buf, kv.Key)
		key := buf[k0:len(buf):len(buf)]
		if kv.Value == nil {
			if err := b.Delete(key); err != nil {
				return err
			}
			continue
		}
		v0 := len(buf)
		buf = append(buf, kv.Value...)
		if err := b.Set(key, buf[v0:len(buf):len(buf)]); err != nil {
			return err
		}
	}
	return nil
}

// appendBuffer is an io.Writer that appends to itself, so that rlp.Encode
// writes into a shared buffer.
type appendBuffer []byte

func (a *appendBuffer) Write(p []byte) (int, error) {
	*a = append(*a, p...)
	return len(p), nil
}

// splitBlockHeader returns the raw header of a block encoding: exactly the
// header's encoding, so its keccak is the block hash.
func splitBlockHeader(enc []byte) ([]byte, error) {
	content, _, err := rlp.SplitList(enc)
	if err != nil {
		return nil, fmt.Errorf("split block: %w", err)
	}
	_, _, rest, err := rlp.Split(content)
	if err != nil {
		return nil, fmt.Errorf("split block header: %w", err)
	}
	return content[:len(content)-len(rest)], nil
}

// closeBatch releases a batch, reporting a Close error through *err unless
// an earlier error is already there.
func closeBatch(b dbm.Batch, err *error) {
	if cerr := b.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("store: close batch: %w", cerr)
	}
}
