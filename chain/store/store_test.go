package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

func TestRoundTrip(t *testing.T) {
	for _, backend := range []string{BackendMemDB, BackendGoLevelDB, BackendPebbleDB} {
		t.Run(backend, func(t *testing.T) {
			s := openStore(t, t.TempDir(), backend)
			defer closeStore(t, s)
			f := newFixture(t, 8)
			f.initStore(s)
			checkGenesis(t, s, f)
			checkState(t, s, f, 0)

			mustCommit(t, s, f.next(5))
			mustCommit(t, s, f.next(8))
			first := f.finals[1].Block.Txs[0]
			mustCommit(t, s, f.next(3, first)) // a rejected replay of a tx final at height 1
			for h := uint64(1); h <= f.height; h++ {
				checkHeight(t, s, f, h)
			}
			checkLatest(t, s, f)

			loc, err := s.Tx(first.Hash())
			if err != nil || loc.Height != 1 || loc.Index != 0 || loc.Receipt.Status != chain.TxAccepted {
				t.Errorf("Tx(replayed) = %+v, %v; want height 1 index 0 accepted", loc, err)
			}
			checkNotFound(t, s, f)
		})
	}
}

func checkGenesis(t *testing.T, s *Store, f *fixture) {
	t.Helper()
	if id, err := s.ChainID(); err != nil || id != testChainID {
		t.Errorf("ChainID() = %q, %v; want %q", id, err, testChainID)
	}
	if h, err := s.GenesisHash(); err != nil || h != f.genesisHash {
		t.Errorf("GenesisHash() = %s, %v; want %s", chain.FormatHash(h), err, chain.FormatHash(f.genesisHash))
	}
	if !s.Initialized() {
		t.Error("Initialized() = false after genesis")
	}
	checkValidators(t, s, 1, f.genesisVals)
}

// checkHeight checks every accessor of height h against the fixture.
func checkHeight(t *testing.T, s *Store, f *fixture, h uint64) {
	t.Helper()
	fb := f.finals[h]
	want := fb.Block.Encode()
	blk, err := s.Block(h)
	if err != nil {
		t.Fatalf("Block(%d): %v", h, err)
	}
	if !bytes.Equal(blk.Encode(), want) {
		t.Errorf("Block(%d) differs from the committed block", h)
	}
	if raw, err := s.BlockBytes(h); err != nil || !bytes.Equal(raw, want) {
		t.Errorf("BlockBytes(%d): %v, equal %v", h, err, bytes.Equal(raw, want))
	}
	hash := fb.Block.Hash()
	if got, err := s.BlockHash(h); err != nil || got != hash {
		t.Errorf("BlockHash(%d) = %s, %v; want %s", h, chain.FormatHash(got), err, chain.FormatHash(hash))
	}
	if byHash, err := s.BlockByHash(hash); err != nil || !bytes.Equal(byHash.Encode(), want) {
		t.Errorf("BlockByHash(%s): %v", chain.FormatHash(hash), err)
	}
	if hdr, err := s.Header(h); err != nil || hdr.Hash() != hash {
		t.Errorf("Header(%d): %v", h, err)
	}
	c, err := s.Certificate(h)
	if err != nil || !bytes.Equal(c.Encode(), fb.Certificate.Encode()) {
		t.Errorf("Certificate(%d) = %+v, %v; want this node's certificate", h, c, err)
	}
	for i, tx := range fb.Block.Txs {
		loc, err := s.Tx(tx.Hash())
		if fb.Receipts[i].Status == chain.TxRejected {
			continue // checked by the caller: a rejected replay keeps its first entry
		}
		if err != nil || loc.Height != h || loc.Index != uint32(i) || loc.Receipt != fb.Receipts[i] {
			t.Errorf("Tx(h=%d i=%d) = %+v, %v; want height %d index %d receipt %+v", h, i, loc, err, h, i, fb.Receipts[i])
		}
	}
	checkValidators(t, s, h+1, fb.NextValidators)
	if got, err := s.StateHash(h); err != nil || got != f.hashes[h] {
		t.Errorf("StateHash(%d) = %s, %v; want %s", h, chain.FormatHash(got), err, chain.FormatHash(f.hashes[h]))
	}
}

func checkValidators(t *testing.T, s *Store, h uint64, want *staking.ValidatorSet) {
	t.Helper()
	got, err := s.ValidatorSet(h)
	if err != nil {
		t.Fatalf("ValidatorSet(%d): %v", h, err)
	}
	if !slices.Equal(got.Validators(), want.Validators()) || got.Hash() != want.Hash() || got.Proposer(0) != want.Proposer(0) {
		t.Errorf("ValidatorSet(%d) = %v, want %v (priorities included)", h, got, want)
	}
}

// checkState checks that the stored state is the fixture's state after h.
func checkState(t *testing.T, s *Store, f *fixture, h uint64) {
	t.Helper()
	entries, err := s.StateEntries()
	if err != nil {
		t.Fatalf("StateEntries: %v", err)
	}
	if !equalKVs(entries, f.entries[h]) {
		t.Errorf("StateEntries at height %d: %s", h, diffKVs(entries, f.entries[h]))
	}
	st, err := s.LoadState(f.params)
	if err != nil {
		t.Fatalf("LoadState at height %d: %v", h, err)
	}
	if st.Hash() != f.hashes[h] || st.Height() != h {
		t.Errorf("LoadState: height %d hash %s, want height %d hash %s", st.Height(), chain.FormatHash(st.Hash()), h, chain.FormatHash(f.hashes[h]))
	}
}

func checkLatest(t *testing.T, s *Store, f *fixture) {
	t.Helper()
	if s.Height() != f.height {
		t.Errorf("Height() = %d, want %d", s.Height(), f.height)
	}
	checkState(t, s, f, f.height)
}

func checkNotFound(t *testing.T, s *Store, f *fixture) {
	t.Helper()
	h := f.height + 1
	var unknown chain.Hash
	unknown[0] = 0xab
	_, e1 := s.Block(h)
	_, e2 := s.BlockByHash(unknown)
	_, e3 := s.Certificate(h)
	_, e4 := s.Tx(unknown)
	_, e5 := s.ValidatorSet(h + 1)
	_, e6 := s.StateHash(h)
	_, e7 := s.BlockHash(h)
	_, e8 := s.Header(h)
	_, e9 := s.BlockBytes(h)
	for i, err := range []error{e1, e2, e3, e4, e5, e6, e7, e8, e9} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("lookup %d past the head: err = %v, want ErrNotFound", i+1, err)
		}
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, 8)
	s := openStore(t, dir, BackendGoLevelDB)
	f.initStore(s)
	for range 3 {
		mustCommit(t, s, f.next(6))
	}
	closeStore(t, s)

	s = openStore(t, dir, "") // the default backend is goleveldb
	defer closeStore(t, s)
	if s.Backend() != BackendGoLevelDB {
		t.Errorf("Backend() = %q, want %q", s.Backend(), BackendGoLevelDB)
	}
	checkGenesis(t, s, f)
	checkLatest(t, s, f)
	for h := uint64(1); h <= f.height; h++ {
		checkHeight(t, s, f, h)
	}
	mustCommit(t, s, f.next(2))
	checkLatest(t, s, f)
}

func TestCommitRefusesWrongHeight(t *testing.T) {
	s := openStore(t, "", BackendMemDB)
	defer closeStore(t, s)
	f := newFixture(t, 4)
	f.initStore(s)
	fb1 := f.next(2)
	mustCommit(t, s, fb1)
	fb2 := f.next(2)
	before := dump(t, s)

	skip := *fb2
	blk := *fb2.Block
	blk.Header.Height = 3
	skip.Block = &blk
	for _, fb := range []*FinalBlock{fb1, &skip} {
		err := s.CommitBlock(fb)
		var he *HeightError
		if !errors.As(err, &he) || he.Height != fb.Block.Header.Height || he.Want != 2 {
			t.Errorf("CommitBlock(h=%d) = %v, want *HeightError{%d, 2}", fb.Block.Header.Height, err, fb.Block.Header.Height)
		}
	}
	if after := dump(t, s); !equalKVs(after, before) || s.Height() != 1 {
		t.Errorf("refused commits changed the store: height %d, %s", s.Height(), diffKVs(after, before))
	}
	mustCommit(t, s, fb2)
	checkHeight(t, s, f, 2)
}

func TestCommitRefusesInconsistentBlock(t *testing.T) {
	s := openStore(t, "", BackendMemDB)
	defer closeStore(t, s)
	f := newFixture(t, 4)
	f.initStore(s)
	fb := f.next(3)
	before := dump(t, s)

	otherCert := f.certificate(1, chain.Hash{1}, 3)
	cases := map[string]func(fb *FinalBlock){
		"certificate for another block": func(fb *FinalBlock) { fb.Certificate = otherCert },
		"missing receipt":               func(fb *FinalBlock) { fb.Receipts = fb.Receipts[1:] },
		"receipt of another tx": func(fb *FinalBlock) {
			fb.Receipts = slices.Clone(fb.Receipts)
			fb.Receipts[0], fb.Receipts[1] = fb.Receipts[1], fb.Receipts[0]
		},
		"bad receipt status": func(fb *FinalBlock) {
			fb.Receipts = slices.Clone(fb.Receipts)
			fb.Receipts[2].Status = 7
		},
		"state hash":          func(fb *FinalBlock) { fb.StateHash = chain.Hash{2} },
		"nil next validators": func(fb *FinalBlock) { fb.NextValidators = nil },
		"other next validators": func(fb *FinalBlock) {
			vals := fb.NextValidators.Validators()
			vals[0].Stake++
			set, err := staking.NewValidatorSet(vals)
			if err != nil {
				t.Fatal(err)
			}
			fb.NextValidators = set
		},
		"nil certificate": func(fb *FinalBlock) { fb.Certificate = nil },
	}
	for name, mutate := range cases {
		bad := *fb
		mutate(&bad)
		if err := s.CommitBlock(&bad); !errors.Is(err, ErrInvalidBlock) {
			t.Errorf("%s: CommitBlock = %v, want ErrInvalidBlock", name, err)
		}
	}
	if after := dump(t, s); !equalKVs(after, before) || s.Height() != 0 {
		t.Errorf("refused commits changed the store: height %d, %s", s.Height(), diffKVs(after, before))
	}
	mustCommit(t, s, fb)
}

func TestCommitBeforeGenesis(t *testing.T) {
	s := openStore(t, "", BackendMemDB)
	defer closeStore(t, s)
	f := newFixture(t, 2)
	if err := s.CommitBlock(f.next(1)); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("CommitBlock before genesis = %v, want ErrNotInitialized", err)
	}
	if _, err := s.GenesisHash(); !errors.Is(err, ErrNotFound) {
		t.Errorf("GenesisHash before genesis: %v, want ErrNotFound", err)
	}
}

func TestInitGenesisIdempotent(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, BackendGoLevelDB)
	f := newFixture(t, 2)
	f.initStore(s)
	mustCommit(t, s, f.next(1))
	closeStore(t, s)

	s = openStore(t, dir, BackendGoLevelDB)
	defer closeStore(t, s)
	before := dump(t, s)
	if err := s.InitGenesis(testChainID, f.genesisHash, f.genesisEntries, f.genesisVals); err != nil {
		t.Errorf("InitGenesis again with the same genesis: %v", err)
	}
	if err := s.InitGenesis(testChainID, chain.Hash{9}, f.genesisEntries, f.genesisVals); !errors.Is(err, ErrGenesisMismatch) {
		t.Errorf("InitGenesis with another hash: %v, want ErrGenesisMismatch", err)
	}
	if err := s.InitGenesis("other-chain", f.genesisHash, f.genesisEntries, f.genesisVals); !errors.Is(err, ErrGenesisMismatch) {
		t.Errorf("InitGenesis with another chain id: %v, want ErrGenesisMismatch", err)
	}
	if after := dump(t, s); !equalKVs(after, before) || s.Height() != 1 {
		t.Errorf("repeated InitGenesis changed the store: height %d, %s", s.Height(), diffKVs(after, before))
	}
}

func TestOpenUnknownBackend(t *testing.T) {
	_, err := Open(t.TempDir(), "rocksdb")
	if err == nil {
		t.Fatal("Open(rocksdb) succeeded")
	}
	for _, want := range []string{"rocksdb", "goleveldb", "pebbledb", "memdb"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open(rocksdb) error %q does not mention %q", err, want)
		}
	}
}

func TestCorruptValues(t *testing.T) {
	s := openStore(t, "", BackendMemDB)
	defer closeStore(t, s)
	f := newFixture(t, 2)
	f.initStore(s)
	fb := f.next(1)
	mustCommit(t, s, fb)
	txHash := fb.Block.Txs[0].Hash()
	garbage := []byte{0xc3, 0x01, 0x02}
	for _, k := range [][]byte{
		heightKey(prefixBlock, 1), heightKey(prefixBlockHash, 1), heightKey(prefixCert, 1),
		hashKey(prefixTx, txHash), heightKey(prefixValidators, 2), heightKey(prefixStateHash, 1),
		keyChainID, keyGenesisHash,
	} {
		if err := s.db.Set(k, garbage); err != nil {
			t.Fatal(err)
		}
	}
	_, e1 := s.Block(1)
	_, e2 := s.BlockHash(1)
	_, e3 := s.Certificate(1)
	_, e4 := s.Tx(txHash)
	_, e5 := s.ValidatorSet(2)
	_, e6 := s.StateHash(1)
	_, e7 := s.Header(1)
	_, e8 := s.GenesisHash()
	for i, err := range []error{e1, e2, e3, e4, e5, e6, e7, e8} {
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("read %d of corrupt bytes: err = %v, want ErrCorrupt", i+1, err)
		}
	}
	// A state entry that the ledger cannot have produced.
	if err := s.db.Set(stateKey([]byte("zz")), garbage); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadState(f.params); !errors.Is(err, ErrCorrupt) || !errors.Is(err, staking.ErrMalformedState) {
		t.Errorf("LoadState of a corrupt state: %v, want ErrCorrupt and staking.ErrMalformedState", err)
	}
}

func TestCorruptHeightOnOpen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, BackendGoLevelDB)
	f := newFixture(t, 2)
	f.initStore(s)
	if err := s.db.SetSync(keyLatestHeight, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	// Twice: the failed Open must release the database (no lock error).
	for range 2 {
		if s2, err := Open(dir, BackendGoLevelDB); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Open with a corrupt latest height: %v, want ErrCorrupt", err)
			if err == nil {
				closeStore(t, s2)
			}
		}
	}
}

func TestClosed(t *testing.T) {
	s := openStore(t, "", BackendMemDB)
	f := newFixture(t, 2)
	f.initStore(s)
	closeStore(t, s)
	closeStore(t, s) // idempotent
	if err := s.CommitBlock(f.next(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("CommitBlock after Close = %v, want ErrClosed", err)
	}
}

// TestConcurrentReaders reads the head while blocks are committed: every
// part of the block at Height() is already there.
func TestConcurrentReaders(t *testing.T) {
	s := openStore(t, "", BackendMemDB)
	defer closeStore(t, s)
	f := newFixture(t, 4)
	f.initStore(s)
	blocks := make([]*FinalBlock, 20)
	for i := range blocks {
		blocks[i] = f.next(3)
	}
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for {
			select {
			case <-done:
				return
			default:
			}
			h := s.Height()
			if h == 0 {
				continue
			}
			blk, err := s.Block(h)
			if err == nil {
				_, err = s.Tx(blk.Txs[0].Hash())
			}
			if err == nil {
				_, err = s.ValidatorSet(h + 1)
			}
			if err == nil {
				_, err = s.StateEntries()
			}
			if err != nil {
				errs <- fmt.Errorf("reading head %d: %w", h, err)
				return
			}
		}
	}()
	for _, fb := range blocks {
		mustCommit(t, s, fb)
	}
	close(done)
	if err := <-errs; err != nil {
		t.Error(err)
	}
}

// TestDuplicateTxInBlock: a transaction that appears twice in one block,
// accepted then rejected, stays indexed at its accepted position.
func TestDuplicateTxInBlock(t *testing.T) {
	s := openStore(t, "", BackendMemDB)
	defer closeStore(t, s)
	f := newFixture(t, 4)
	f.initStore(s)
	fb := *f.next(2)
	blk := *fb.Block
	dup := blk.Txs[0]
	blk.Txs = append(slices.Clone(blk.Txs), dup)
	hashes := blk.TxHashes()
	blk.Header.TxRoot = chain.MerkleRoot(hashes)
	fb.Block = &blk
	fb.Receipts = append(slices.Clone(fb.Receipts), chain.Receipt{TxHash: dup.Hash(), Status: chain.TxRejected, Code: "bad_nonce", Error: "bad nonce"})
	fb.Certificate = f.certificate(1, blk.Hash(), 3)
	mustCommit(t, s, &fb)
	loc, err := s.Tx(dup.Hash())
	if err != nil || loc.Height != 1 || loc.Index != 0 || loc.Receipt.Status != chain.TxAccepted {
		t.Errorf("Tx(duplicate) = %+v, %v; want height 1 index 0 accepted", loc, err)
	}
}

func TestFinalizedAt(t *testing.T) {
	f := newFixture(t, 4)
	s := openStore(t, t.TempDir(), BackendMemDB)
	defer closeStore(t, s)
	f.initStore(s)
	fb := f.next(1)
	fb.FinalizedAt = 1_700_000_000_123
	mustCommit(t, s, fb)
	if got, err := s.FinalizedAt(1); err != nil || got != fb.FinalizedAt {
		t.Fatalf("FinalizedAt(1) = %d, %v; want %d", got, err, fb.FinalizedAt)
	}
	mustCommit(t, s, f.next(1)) // committed without a finalization time
	if _, err := s.FinalizedAt(2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("FinalizedAt(2): got %v, want ErrNotFound", err)
	}
}
