package store

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/staking"
)

const testChainID = "quorum-store-test"

// testKey derives a deterministic secp256k1 key from a label and an index.
func testKey(tb testing.TB, label string, i int) *ecdsa.PrivateKey {
	tb.Helper()
	seed := crypto.Keccak256([]byte(label), binary.BigEndian.AppendUint64(nil, uint64(i)))
	k, err := crypto.ToECDSA(seed)
	if err != nil {
		tb.Fatalf("key %s/%d: %v", label, i, err)
	}
	return k
}

// fixture produces a deterministic chain of final blocks: signed transfer
// transactions executed against a real staking ledger, headers that pass
// ValidateBasic, and certificates signed by the validators.
type fixture struct {
	tb       testing.TB
	params   staking.Params
	valKeys  []*ecdsa.PrivateKey
	accKeys  []*ecdsa.PrivateKey
	accAddrs []chain.Address
	nonces   []uint64

	state    *staking.State
	vals     *staking.ValidatorSet // set of height+1
	height   uint64
	last     *chain.Block
	lastCert *chain.Certificate // canonical certificate of last: every validator

	genesisHash    chain.Hash
	genesisEntries []staking.KV
	genesisVals    *staking.ValidatorSet

	// history, by height (index 0 is genesis)
	entries   [][]staking.KV
	hashes    []chain.Hash
	finals    []*FinalBlock
	recipient uint64 // counter for fresh recipient addresses
}

// newFixture builds a genesis with 4 validators (stakes 40, 30, 20, 10) and
// nAccounts funded accounts.
func newFixture(tb testing.TB, nAccounts int) *fixture {
	tb.Helper()
	f := &fixture{tb: tb, params: staking.DefaultParams()}
	var stakes []staking.GenesisStake
	for i, s := range []uint64{40, 30, 20, 10} {
		k := testKey(tb, "validator", i)
		f.valKeys = append(f.valKeys, k)
		stakes = append(stakes, staking.GenesisStake{Validator: chain.PubkeyAddress(&k.PublicKey), Amount: s})
	}
	f.accKeys = make([]*ecdsa.PrivateKey, nAccounts)
	f.accAddrs = make([]chain.Address, nAccounts)
	f.nonces = make([]uint64, nAccounts)
	parallel(nAccounts, func(i int) {
		f.accKeys[i] = testKey(tb, "account", i)
		f.accAddrs[i] = chain.PubkeyAddress(&f.accKeys[i].PublicKey)
	})
	var balances []staking.GenesisBalance
	for _, a := range f.accAddrs {
		balances = append(balances, staking.GenesisBalance{Address: a, Amount: 1_000_000})
	}
	st, vs, err := staking.NewGenesisState(f.params, balances, stakes)
	if err != nil {
		tb.Fatalf("genesis: %v", err)
	}
	f.state, f.vals, f.genesisVals = st, vs, vs
	f.genesisEntries = st.Entries()
	f.genesisHash = crypto.Keccak256Hash([]byte("genesis of " + testChainID))
	f.entries = [][]staking.KV{f.genesisEntries}
	f.hashes = []chain.Hash{st.Hash()}
	f.finals = []*FinalBlock{nil}
	return f
}

func (f *fixture) initStore(s *Store) {
	f.tb.Helper()
	if err := s.InitGenesis(testChainID, f.genesisHash, f.genesisEntries, f.genesisVals); err != nil {
		f.tb.Fatalf("InitGenesis: %v", err)
	}
}

// next builds the final block of the next height with ntx transfers, each
// from a different account (round robin) to a fresh address, followed by a
// re-inclusion of every transaction in replay, which is rejected.
func (f *fixture) next(ntx int, replay ...*chain.Tx) *FinalBlock {
	f.tb.Helper()
	h := f.height + 1
	fork := f.state.Fork()
	txs := make([]*chain.Tx, ntx)
	senders := make([]int, ntx)
	for i := range txs {
		a := i % len(f.accKeys)
		f.recipient++
		var to chain.Address
		binary.BigEndian.PutUint64(to[12:], f.recipient)
		to[0] = 0xee
		txs[i] = &chain.Tx{ChainID: testChainID, Kind: chain.TxTransfer, Nonce: f.nonces[a], To: to, Amount: 1}
		f.nonces[a]++
		senders[i] = a
	}
	parallel(ntx, func(i int) {
		sig, err := chain.Sign(f.accKeys[senders[i]], txs[i].SignHash())
		if err != nil {
			panic(err)
		}
		txs[i].Sig = sig
	})
	receipts := make([]chain.Receipt, 0, ntx+len(replay))
	for i, tx := range txs {
		from := f.accAddrs[senders[i]]
		if err := fork.UseNonce(from, tx.Nonce); err != nil {
			f.tb.Fatalf("h=%d tx %d: %v", h, i, err)
		}
		if err := fork.Transfer(from, tx.To, tx.Amount); err != nil {
			f.tb.Fatalf("h=%d tx %d: %v", h, i, err)
		}
		receipts = append(receipts, chain.Receipt{TxHash: tx.Hash(), Status: chain.TxAccepted, From: from})
	}
	for _, tx := range replay {
		from, err := tx.Sender()
		if err != nil {
			f.tb.Fatalf("replay: %v", err)
		}
		err = fork.UseNonce(from, tx.Nonce)
		if err == nil {
			f.tb.Fatalf("h=%d: replayed tx accepted", h)
		}
		txs = append(txs, tx)
		receipts = append(receipts, chain.Receipt{TxHash: tx.Hash(), Status: chain.TxRejected, Code: "bad_nonce", Error: err.Error(), From: from})
	}
	next, err := fork.EndBlock(h)
	if err != nil {
		f.tb.Fatalf("EndBlock(%d): %v", h, err)
	}
	changes := fork.Changes()
	stateHash := fork.Hash()
	f.state.Commit(fork)

	hashes := make([]chain.Hash, len(txs))
	for i, tx := range txs {
		hashes[i] = tx.Hash()
	}
	blk := &chain.Block{
		Header: chain.Header{
			ChainID:            testChainID,
			Height:             h,
			Time:               1_700_000_000_000 + h*1000,
			Proposer:           f.vals.Proposer(0),
			TxRoot:             chain.MerkleRoot(hashes),
			StateHash:          stateHash,
			ValidatorsHash:     f.vals.Hash(),
			NextValidatorsHash: next.Hash(),
		},
		Txs: txs,
	}
	if f.last != nil {
		blk.Header.ParentHash = f.last.Hash()
		blk.Header.LastCertHash = f.lastCert.Hash()
		blk.LastCertificate = f.lastCert
	}
	if err := blk.ValidateBasic(testChainID, hashes); err != nil {
		f.tb.Fatalf("fixture block h=%d: %v", h, err)
	}
	// This node's certificate has the three largest validators; the
	// canonical one, in the next block, has all four.
	own := f.certificate(h, blk.Hash(), 3)
	if _, err := own.Verify(testChainID, f.vals); err != nil {
		f.tb.Fatalf("fixture certificate h=%d: %v", h, err)
	}
	fb := &FinalBlock{Block: blk, Certificate: own, Receipts: receipts, StateChanges: changes, StateHash: stateHash, NextValidators: next}

	f.height, f.last, f.lastCert, f.vals = h, blk, f.certificate(h, blk.Hash(), len(f.valKeys)), next
	f.entries = append(f.entries, f.state.Entries())
	f.hashes = append(f.hashes, stateHash)
	f.finals = append(f.finals, fb)
	return fb
}

func (f *fixture) certificate(h uint64, block chain.Hash, signers int) *chain.Certificate {
	f.tb.Helper()
	digest := chain.VoteSignHash(testChainID, chain.Precommit, h, 0, block)
	var sigs []chain.CommitSig
	for _, k := range f.valKeys[:signers] {
		sig, err := chain.Sign(k, digest)
		if err != nil {
			f.tb.Fatalf("sign precommit: %v", err)
		}
		sigs = append(sigs, chain.CommitSig{Validator: chain.PubkeyAddress(&k.PublicKey), Signature: sig})
	}
	return chain.NewCertificate(h, 0, block, sigs)
}

// parallel runs fn(i) for i in [0, n) on two goroutines.
func parallel(n int, fn func(i int)) {
	done := make(chan struct{})
	go func() {
		for i := 1; i < n; i += 2 {
			fn(i)
		}
		close(done)
	}()
	for i := 0; i < n; i += 2 {
		fn(i)
	}
	<-done
}

func openStore(tb testing.TB, dir, backend string) *Store {
	tb.Helper()
	s, err := Open(dir, backend)
	if err != nil {
		tb.Fatalf("Open(%s): %v", backend, err)
	}
	return s
}

func closeStore(tb testing.TB, s *Store) {
	tb.Helper()
	if err := s.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
}

func mustCommit(tb testing.TB, s *Store, fb *FinalBlock) {
	tb.Helper()
	if err := s.CommitBlock(fb); err != nil {
		tb.Fatalf("CommitBlock(h=%d): %v", fb.Block.Header.Height, err)
	}
}

// dump returns every key and value of the database, for before/after
// comparisons.
func dump(tb testing.TB, s *Store) []staking.KV {
	tb.Helper()
	it, err := s.db.Iterator(nil, nil)
	if err != nil {
		tb.Fatalf("iterator: %v", err)
	}
	defer func() {
		if err := it.Close(); err != nil {
			tb.Errorf("close iterator: %v", err)
		}
	}()
	var out []staking.KV
	for ; it.Valid(); it.Next() {
		out = append(out, staking.KV{Key: bytes.Clone(it.Key()), Value: bytes.Clone(it.Value())})
	}
	if err := it.Error(); err != nil {
		tb.Fatalf("iterate: %v", err)
	}
	return out
}

func equalKVs(a, b []staking.KV) bool {
	return slices.EqualFunc(a, b, func(x, y staking.KV) bool {
		return bytes.Equal(x.Key, y.Key) && bytes.Equal(x.Value, y.Value)
	})
}

// diffKVs describes the first difference between two entry lists.
func diffKVs(got, want []staking.KV) string {
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if !bytes.Equal(g.Key, w.Key) || !bytes.Equal(g.Value, w.Value) {
			return fmt.Sprintf("entry %d: got %x=%x, want %x=%x", i, g.Key, g.Value, w.Key, w.Value)
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %d entries, want %d", len(got), len(want))
	}
	return "equal"
}
