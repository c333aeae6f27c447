package chain_test

import (
	"testing"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/chaintest"
)

// BenchmarkTxHash hashes one transfer: as decoded from the wire (what a
// node hashes: a gossiped, submitted or proposed transaction), and as built
// locally (no decoding behind it).
func BenchmarkTxHash(b *testing.B) {
	built := chaintest.Tx(b, chaintest.AccountKey(0), benchChain, chain.TxTransfer, 7, chaintest.Addr(chaintest.AccountKey(1)), 1)
	decoded, err := chain.DecodeTx(built.Encode())
	if err != nil {
		b.Fatal(err)
	}
	for name, tx := range map[string]*chain.Tx{"decoded": decoded, "built": built} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tx.Hash()
			}
		})
	}
}

// BenchmarkDecodeTx decodes one transfer and hashes it once, as the
// mempool admission of a gossiped or submitted transaction does.
func BenchmarkDecodeTx(b *testing.B) {
	enc := chaintest.Tx(b, chaintest.AccountKey(0), benchChain, chain.TxTransfer, 7, chaintest.Addr(chaintest.AccountKey(1)), 1).Encode()
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		tx, err := chain.DecodeTx(enc)
		if err != nil {
			b.Fatal(err)
		}
		tx.Hash()
	}
}
