package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

// Backends accepted by Open.
const (
	BackendGoLevelDB = "goleveldb"
	BackendPebbleDB  = "pebbledb"
	BackendMemDB     = "memdb"
)

// dbName is the database's name inside the data directory: dir/chain.db.
const dbName = "chain"

// goleveldb tuning. The write buffer is goleveldb's default: two of them
// (the current and the frozen memtable) are the largest part of an idle
// node's memory, and a node idles under 40 MB with 4 MiB. A block's batch up
// to that size takes the ordinary journal path; a larger one (a
// 10,000-transaction block is about 4 MiB of batch) takes goleveldb's
// large-batch transaction, still one synced write. The bloom filter makes
// tx-index misses cheap.
const (
	goleveldbWriteBuffer = 4 << 20
	goleveldbBloomBits   = 10
)

var (
	// ErrNotFound means the store holds no such block, certificate,
	// transaction, validator set or metadata.
	ErrNotFound = errors.New("not found")
	// ErrCorrupt means stored bytes did not decode; it is wrapped together
	// with the decoder's error.
	ErrCorrupt = errors.New("corrupt value")
	// ErrNotInitialized means InitGenesis has not run.
	ErrNotInitialized = errors.New("store not initialized with a genesis")
	// ErrGenesisMismatch means the store was initialised with another
	// genesis or chain id.
	ErrGenesisMismatch = errors.New("store initialized with a different genesis")
	// ErrInvalidBlock means a FinalBlock is inconsistent with itself.
	ErrInvalidBlock = errors.New("inconsistent final block")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store closed")
)

// HeightError is returned by CommitBlock for a block that is not exactly
// the next height. Nothing is written.
type HeightError struct {
	Height uint64 // height of the refused block
	Want   uint64 // latest committed height + 1
}

func (e *HeightError) Error() string {
	return fmt.Sprintf("store: refuse block at height %d: want height %d", e.Height, e.Want)
}

// Named fail points, see SetFailPoint.
const (
	// FailBeforeWrite fires in CommitBlock after the batch is built and
	// before it is written: the block is lost as if the process died.
	FailBeforeWrite = "beforeWrite"
	// FailAfterWrite fires in CommitBlock after the batch is durably
	// written: the block is kept as if the process died before returning.
	FailAfterWrite = "afterWrite"
)

// Store is the chain's persistent store. Its readers are safe for concurrent
// use with each other and with one writer; CommitBlock and InitGenesis are
// serialised internally.
type Store struct {
	db      dbm.DB
	backend string

	mu        sync.Mutex // serialises writers
	height    atomic.Uint64
	sets      setCache
	initDone  atomic.Bool
	closed    atomic.Bool
	failPoint func(point string) error // nil in production; guarded by mu
}

// Open opens (creating if needed) the store in directory dir with the given
// cometbft-db backend: "goleveldb" (the default when empty), "pebbledb", or
// "memdb" (in memory, for tests; dir is ignored).
func Open(dir, backend string) (*Store, error) {
	if backend == "" {
		backend = BackendGoLevelDB
	}
	var (
		db  dbm.DB
		err error
	)
	switch backend {
	case BackendGoLevelDB:
		db, err = dbm.NewGoLevelDBWithOpts(dbName, dir, &opt.Options{
			WriteBuffer: goleveldbWriteBuffer,
			Filter:      filter.NewBloomFilter(goleveldbBloomBits),
		})
	case BackendPebbleDB:
		db, err = dbm.NewPebbleDB(dbName, dir)
	case BackendMemDB:
		db = dbm.NewMemDB()
	default:
		return nil, fmt.Errorf("store: unknown db backend %q: want one of %q, %q, %q",
			backend, BackendGoLevelDB, BackendPebbleDB, BackendMemDB)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s database in %s: %w", backend, dir, err)
	}
	s := &Store{db: db, backend: backend}
	if err := s.load(); err != nil {
		if cerr := db.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, err
	}
	return s, nil
}

// load reads the metadata cached in memory.
func (s *Store) load() error {
	if _, err := ReadGenesisHash(s.db); errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	v, err := ReadSchemaVersion(s.db)
	if err != nil {
		return err
	}
	if v != SchemaVersion {
		return fmt.Errorf("store: schema version %d, this binary reads %d", v, SchemaVersion)
	}
	h, err := ReadLatestHeight(s.db)
	if err != nil {
		return err
	}
	s.height.Store(h)
	s.initDone.Store(true)
	return nil
}

// Close closes the database. The store must not be used afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Backend names the database backend in use.
func (s *Store) Backend() string { return s.backend }

// SetFailPoint installs a hook called at the named points (FailBeforeWrite,
// FailAfterWrite) of CommitBlock; a non-nil error aborts the commit at that
// point and is returned. For crash tests; nil removes the hook.
func (s *Store) SetFailPoint(f func(point string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPoint = f
}

func (s *Store) fail(point string) error {
	if s.failPoint == nil {
		return nil
	}
	if err := s.failPoint(point); err != nil {
		return fmt.Errorf("store: fail point %s: %w", point, err)
	}
	return nil
}

// Initialized reports whether InitGenesis has run.
func (s *Store) Initialized() bool { return s.initDone.Load() }

// Height is the latest committed height: 0 after genesis (or before it).
func (s *Store) Height() uint64 { return s.height.Load() }

// ChainID is the chain id recorded at genesis.
func (s *Store) ChainID() (string, error) { return ReadChainID(s.db) }

// GenesisHash is the genesis hash recorded at genesis.
func (s *Store) GenesisHash() (chain.Hash, error) { return ReadGenesisHash(s.db) }

// Block is the block at height h.
func (s *Store) Block(h uint64) (*chain.Block, error) { return ReadBlock(s.db, h) }

// BlockBytes is the canonical encoding of the block at height h; callers must
// not modify it.
func (s *Store) BlockBytes(h uint64) ([]byte, error) { return ReadBlockBytes(s.db, h) }

// Header is the header of the block at height h, without decoding the
// transactions.
func (s *Store) Header(h uint64) (*chain.Header, error) { return ReadHeader(s.db, h) }

// BlockHash is the hash of the block at height h.
func (s *Store) BlockHash(h uint64) (chain.Hash, error) { return ReadBlockHash(s.db, h) }

// BlockByHash is the block with the given hash.
func (s *Store) BlockByHash(hash chain.Hash) (*chain.Block, error) {
	h, err := ReadHeightByHash(s.db, hash)
	if err != nil {
		return nil, err
	}
	blk, err := ReadBlock(s.db, h)
	if err != nil {
		return nil, err
	}
	if got := blk.Hash(); got != hash {
		return nil, fmt.Errorf("store: block %s: %w: index points to height %d, whose block is %s",
			chain.FormatHash(hash), ErrCorrupt, h, chain.FormatHash(got))
	}
	return blk, nil
}

// Certificate is the finality certificate this node holds for height h, as
// given to CommitBlock. The canonical certificate of h, the one every node
// agrees on, is the LastCertificate of the block at h+1.
func (s *Store) Certificate(h uint64) (*chain.Certificate, error) { return ReadCertificate(s.db, h) }

// Tx is the location and receipt of a final transaction.
func (s *Store) Tx(hash chain.Hash) (TxLocation, error) {
	loc, err := ReadTxLocation(s.db, hash)
	if err != nil {
		return TxLocation{}, err
	}
	return *loc, nil
}

// ValidatorSet is the validator set of height h, with its proposer
// priorities; heights 1 through Height()+1 are stored.
//
// A height's set is written once and never changes, and sets are immutable,
// so the decoded sets of recent heights are kept: the consensus driver
// reads the current and previous ones at every block and every piece of
// evidence.
func (s *Store) ValidatorSet(h uint64) (*staking.ValidatorSet, error) {
	if set := s.sets.get(h); set != nil {
		return set, nil
	}
	set, err := ReadValidators(s.db, h)
	if err != nil {
		return nil, err
	}
	s.sets.put(h, set)
	return set, nil
}

// setCacheSize bounds the decoded validator sets a store keeps.
const setCacheSize = 16

// setCache keeps the decoded validator sets of the highest heights read.
type setCache struct {
	mu   sync.Mutex
	sets map[uint64]*staking.ValidatorSet
}

func (c *setCache) get(h uint64) *staking.ValidatorSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sets[h]
}

func (c *setCache) put(h uint64, set *staking.ValidatorSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sets == nil {
		c.sets = make(map[uint64]*staking.ValidatorSet, setCacheSize)
	}
	if len(c.sets) >= setCacheSize {
		low := h
		for k := range c.sets {
			low = min(low, k)
		}
		if low == h {
			return // older than everything kept
		}
		delete(c.sets, low)
	}
	c.sets[h] = set
}

// StateHash is the state hash after the block of height h (h >= 1).
func (s *Store) StateHash(h uint64) (chain.Hash, error) { return ReadStateHash(s.db, h) }

// FinalizedAt returns when this node finalized the block of height h, in
// unix milliseconds; ErrNotFound if that was not recorded.
func (s *Store) FinalizedAt(h uint64) (uint64, error) { return ReadFinalizedAt(s.db, h) }

// StateEntries returns every entry of the latest ledger state, sorted by
// key. Keys and values are fresh copies owned by the caller. A reader racing
// CommitBlock sees the state of one height or the next, never a mix, on
// goleveldb, pebbledb and memdb alike (each iterator reads one snapshot).
func (s *Store) StateEntries() ([]staking.KV, error) {
	start, end := stateRange()
	it, err := s.db.Iterator(start, end)
	if err != nil {
		return nil, fmt.Errorf("store: iterate state: %w", err)
	}
	var out []staking.KV
	for ; it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		buf := make([]byte, len(k)-1+len(v))
		copy(buf, k[1:])
		copy(buf[len(k)-1:], v)
		out = append(out, staking.KV{Key: buf[: len(k)-1 : len(k)-1], Value: buf[len(k)-1:]})
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("store: iterate state: %w", err)
	}
	return out, nil
}

// LoadState rebuilds the latest ledger state from the stored entries.
func (s *Store) LoadState(params staking.Params) (*staking.State, error) {
	entries, err := s.StateEntries()
	if err != nil {
		return nil, err
	}
	st, err := staking.LoadState(params, entries)
	if errors.Is(err, staking.ErrMalformedState) {
		return nil, fmt.Errorf("store: load state at height %d: %w: %w", s.Height(), ErrCorrupt, err)
	}
	if err != nil {
		return nil, fmt.Errorf("store: load state at height %d: %w", s.Height(), err)
	}
	return st, nil
}

// newValidatorSet builds a set from stored validators, keeping their order
// and proposer priorities.
func newValidatorSet(vals []staking.Validator) (*staking.ValidatorSet, error) {
	return staking.NewValidatorSet(vals)
}
