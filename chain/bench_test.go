package chain_test

import (
	"crypto/ecdsa"
	"fmt"
	"sync"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
	"github.com/quorumchain/quorumchain/staking"
)

const benchChain = "quorum-bench"

// transferBlock is a block of signed transfers among funded accounts,
// against its genesis state.
type transferBlock struct {
	genesis *staking.State
	blk     *chain.Block
	cache   *chaintest.CountingCache // every sender
}

var transferBlocks sync.Map // "txs/accounts" -> *transferBlock

// benchTransferBlock builds (once per size) ntx transfers: account i%naccts
// sends its (i/naccts)-th transfer to account (i+1)%naccts. Signing 10,000
// transactions takes longer than executing them, so the block is shared.
func benchTransferBlock(b *testing.B, ntx, naccts int) *transferBlock {
	b.Helper()
	id := fmt.Sprintf("%d/%d", ntx, naccts)
	if v, ok := transferBlocks.Load(id); ok {
		return v.(*transferBlock)
	}
	balances := make([]uint64, naccts)
	for i := range balances {
		balances[i] = 1_000_000
	}
	st, _ := chaintest.Genesis{Stakes: []uint64{100}, Balances: balances}.New(b)
	st.Hash() // as after a committed block
	txs := make([]*chain.Tx, ntx)
	for i := range txs {
		from, to := chaintest.AccountKey(i%naccts), chaintest.AccountKey((i+1)%naccts)
		txs[i] = chaintest.Tx(b, from, benchChain, chain.TxTransfer, uint64(i/naccts), chaintest.Addr(to), 1)
	}
	c := chaintest.NewChain(benchChain, st)
	tb := &transferBlock{genesis: st, blk: c.Block(txs), cache: chaintest.NewCountingCache()}
	senders := chain.RecoverSenders(txs, nil)
	for i := range txs {
		tb.cache.Put(senders.Hashes[i], senders.From[i])
	}
	// Every transfer must be accepted, or the benchmark measures rejections.
	res, err := chain.Execute(st.Fork(), benchChain, tb.blk, senders, c.Set)
	if err != nil {
		b.Fatal(err)
	}
	for i, r := range res.Receipts {
		if r.Status != chain.TxAccepted {
			b.Fatalf("tx %d: %+v", i, r)
		}
	}
	transferBlocks.Store(id, tb)
	return tb
}

// BenchmarkExecuteBlock verifies (recovers every sender) and applies a block
// of 10,000 transfers among 1,000 accounts on a fresh fork of the genesis,
// then hashes the state. The senders=cached variant finds every sender in
// the cache, as the mempool provides them, and so measures hashing the
// transactions and applying them.
func BenchmarkExecuteBlock(b *testing.B) {
	const ntx, naccts = 10_000, 1_000
	for _, cached := range []bool{false, true} {
		name := fmt.Sprintf("txs=%d", ntx)
		if cached {
			name += "/senders=cached"
		}
		b.Run(name, func(b *testing.B) {
			tb := benchTransferBlock(b, ntx, naccts)
			var cache chain.SenderCache
			if cached {
				cache = tb.cache
			}
			sets := func(uint64) (chain.StakeSet, error) { return nil, fmt.Errorf("no evidence expected") }
			b.ReportAllocs()
			for b.Loop() {
				senders := chain.RecoverSenders(tb.blk.Txs, cache)
				if _, err := chain.Execute(tb.genesis.Fork(), benchChain, tb.blk, senders, sets); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(ntx)/(b.Elapsed().Seconds()/float64(b.N)), "tx/s")
		})
	}
}

// BenchmarkRecover is one signature recovery, the cost of verifying a
// transaction or a vote.
func BenchmarkRecover(b *testing.B) {
	tx := chaintest.Tx(b, chaintest.AccountKey(0), benchChain, chain.TxTransfer, 0, chain.Address{1}, 1)
	digest := tx.SignHash()
	want := chaintest.Addr(chaintest.AccountKey(0))
	b.ReportAllocs()
	for b.Loop() {
		got, err := chain.Recover(digest, &tx.Sig)
		if err != nil || got != want {
			b.Fatalf("recover: got (%s, %v), want %s", got, err, want)
		}
	}
}

// BenchmarkCertificateVerify verifies a certificate signed by just over two
// thirds of a set of equal stakes.
func BenchmarkCertificateVerify(b *testing.B) {
	for _, n := range []int{4, 100} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			vals := make([]staking.Validator, n)
			for i := range vals {
				vals[i] = staking.Validator{Address: chaintest.Addr(chaintest.ValidatorKey(i)), Stake: 10}
			}
			set, err := staking.NewValidatorSet(vals)
			if err != nil {
				b.Fatal(err)
			}
			signers := 2*n/3 + 1
			var keys []*ecdsa.PrivateKey
			for i := range signers {
				keys = append(keys, chaintest.ValidatorKey(i))
			}
			cert := chaintest.Certificate(b, benchChain, 7, 0, chain.Hash{0x77}, keys...)
			want := uint64(10 * signers)
			b.ReportAllocs()
			for b.Loop() {
				signed, err := cert.Verify(benchChain, set)
				if err != nil || signed != want {
					b.Fatalf("verify: got (%d, %v), want %d", signed, err, want)
				}
			}
		})
	}
}

// BenchmarkBlockEncodeDecodeHash encodes a block of transfers, decodes it,
// and recomputes its transaction root (hashing every transaction) and hash.
func BenchmarkBlockEncodeDecodeHash(b *testing.B) {
	const ntx = 10_000
	b.Run(fmt.Sprintf("txs=%d", ntx), func(b *testing.B) {
		blk := benchTransferBlock(b, ntx, 1_000).blk
		want := blk.Hash()
		b.SetBytes(int64(len(blk.Encode())))
		b.ReportAllocs()
		for b.Loop() {
			dec, err := chain.DecodeBlock(blk.Encode())
			if err != nil {
				b.Fatal(err)
			}
			if chain.MerkleRoot(dec.TxHashes()) != dec.Header.TxRoot || dec.Hash() != want {
				b.Fatal("round trip changed the block")
			}
		}
	})
}

// BenchmarkMerkleRoot: the transaction root of a block of 10,000
// transactions, which the proposer and every validator compute.
func BenchmarkMerkleRoot(b *testing.B) {
	leaves := make([]chain.Hash, 10_000)
	for i := range leaves {
		leaves[i] = chain.Hash{byte(i), byte(i >> 8), 7}
	}
	b.ReportAllocs()
	for b.Loop() {
		chain.MerkleRoot(leaves)
	}
}
