package store

import (
	"fmt"
	"sync"
	"testing"
)

// benchBlocks caches one executed block per size: building 10,000 signed
// transfers against a real ledger takes longer than committing them.
var benchBlocks sync.Map // int -> *benchBlock

type benchBlock struct {
	f  *fixture
	fb *FinalBlock
}

func benchFinalBlock(b *testing.B, ntx int) *benchBlock {
	if v, ok := benchBlocks.Load(ntx); ok {
		return v.(*benchBlock)
	}
	f := newFixture(b, ntx)
	bb := &benchBlock{f: f, fb: f.next(ntx)}
	benchBlocks.Store(ntx, bb)
	return bb
}

// BenchmarkCommitBlock commits blocks of ntx transfers, each changing two
// ledger entries, with a synced write per block. Every iteration commits the
// same transactions and state changes under the next height.
func BenchmarkCommitBlock(b *testing.B) {
	for _, ntx := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("txs=%d", ntx), func(b *testing.B) {
			for _, backend := range []string{BackendGoLevelDB, BackendMemDB} {
				b.Run("db="+backend, func(b *testing.B) {
					benchmarkCommitBlock(b, backend, ntx)
				})
			}
		})
	}
}

func benchmarkCommitBlock(b *testing.B, backend string, ntx int) {
	bb := benchFinalBlock(b, ntx)
	s := openStore(b, b.TempDir(), backend)
	defer closeStore(b, s)
	f := bb.f
	if err := s.InitGenesis(testChainID, f.genesisHash, f.genesisEntries, f.genesisVals); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		fb := *bb.fb
		blk := *fb.Block
		blk.Header.Height = s.Height() + 1
		cert := *fb.Certificate
		cert.Height, cert.BlockHash = blk.Header.Height, blk.Hash()
		fb.Block, fb.Certificate = &blk, &cert
		if err := s.CommitBlock(&fb); err != nil {
			b.Fatal(err)
		}
	}
	raw, err := s.BlockBytes(1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(raw)), "blockbytes")
	b.ReportMetric(float64(len(bb.fb.StateChanges)), "changes/block")
}
