package engine_test

import (
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/engine"
)

// sizedPool is an empty pool that reports n waiting transactions.
type sizedPool struct {
	emptyPool
	n int
}

func (p *sizedPool) Size() int { return p.n }

// txsLog records the TxsAvailable inputs the driver logs.
type txsLog struct {
	engine.Log
	txs []consensus.TxsAvailable
}

func (l *txsLog) Append(h uint64, in consensus.Input) error {
	if t, ok := in.(consensus.TxsAvailable); ok {
		l.txs = append(l.txs, t)
	}
	return l.Log.Append(h, in)
}

// TestTxsAvailableOnlyWhenItMatters: while a height waits out its block
// interval, the driver tells the Machine (and logs) that transactions
// wait once, and that a full batch waits once, which ends the interval;
// every other news of the mempool is dropped before the Machine and the
// log, so a busy mempool does not fill the log.
func TestTxsAvailableOnlyWhenItMatters(t *testing.T) {
	nw := newNetwork(t)
	d := nw.newDisk(t)
	pool := &sizedPool{}
	d.mempool = pool
	f := &faults{}
	lg := &txsLog{Log: &memLog{f: f, d: d}}
	d.log = lg
	d.config = func(cfg *engine.Config) {
		cfg.Machine.BlockInterval = time.Hour
		cfg.Machine.SkipEmptyBlocks = true
		cfg.BatchTxs = 32
	}
	p, err := nw.start(t, 0, d, f)
	if err != nil {
		t.Fatal(err)
	}
	step := func() consensus.RoundStep { return p.d.Snapshot().Round.Step }
	if step() != consensus.StepNewHeight {
		t.Fatalf("step %v, want the new-height wait", step())
	}
	tell := func(n int) {
		t.Helper()
		pool.n = n
		if err := p.d.TxsAvailable(); err != nil {
			t.Fatal(err)
		}
	}
	tell(0)
	if len(lg.txs) != 0 {
		t.Fatalf("an empty mempool was reported: %+v", lg.txs)
	}
	tell(1)
	tell(5)
	if len(lg.txs) != 1 || lg.txs[0].Batch || step() != consensus.StepNewHeight {
		t.Fatalf("logged %+v at step %v, want one TxsAvailable without a batch and still waiting", lg.txs, step())
	}
	tell(32)
	if len(lg.txs) != 2 || !lg.txs[1].Batch {
		t.Fatalf("logged %+v, want a second TxsAvailable reporting the batch", lg.txs)
	}
	if step() == consensus.StepNewHeight {
		t.Fatal("a full batch did not end the block interval")
	}
	tell(100)
	if len(lg.txs) != 2 {
		t.Fatalf("logged %+v after the height started, want nothing more", lg.txs)
	}
}
