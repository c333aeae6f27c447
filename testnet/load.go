package testnet

import (
	"crypto/ecdsa"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/quorumchain/quorumchain/chain"
)

// The load generator must not distort what it measures: it signs its
// transfers before the clock starts, on every core, and only as many as
// the run can use; its own CPU during the run is reported apart from the
// nodes'.

// openLoopSlack is how many transfers an open-loop run signs beyond what
// the signature ceiling lets the nodes finalize in its duration: what the
// mempools may hold on top.
const openLoopSlack = 20_000

// loadSize is the number of transfers to sign: enough for Duration at
// Rate, or for open loop, the ceiling's worth for Duration plus
// openLoopSlack. No testnet can finalize more than its ceiling, since every
// node recovers every sender once.
func (o BenchOptions) loadSize(ceilingTxPerSec float64) int {
	if o.Rate == 0 {
		return int(ceilingTxPerSec*o.Duration.Seconds()) + openLoopSlack
	}
	return int(o.Duration.Seconds()*float64(max(o.Rate, 1))) + 1
}

// signLoad signs total transfers of 1 unit with the given fee. Transfer i
// is sent by account i mod len(keys), with nonce i div len(keys), to the
// next account, so any worker can sign any transfer; workers goroutines
// share the work.
func signLoad(chainID string, keys []*ecdsa.PrivateKey, total int, fee uint64, workers int) ([]*sentTx, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("bench: no load accounts")
	}
	addrs := make([]chain.Address, len(keys))
	for i, k := range keys {
		addrs[i] = chain.PubkeyAddress(&k.PublicKey)
	}
	txs := make([]*sentTx, total)
	workers = max(1, min(workers, total))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < total; i += workers {
				a := i % len(keys)
				tx := &chain.Tx{ChainID: chainID, Kind: chain.TxTransfer, Nonce: uint64(i / len(keys)), To: addrs[(a+1)%len(keys)], Amount: 1, Fee: fee}
				sig, err := chain.Sign(keys[a], tx.SignHash())
				if err != nil {
					errs[w] = err
					return
				}
				tx.Sig = sig
				txs[i] = &sentTx{hash: tx.Hash(), raw: tx.Encode()}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("bench: signing the load: %w", err)
		}
	}
	return txs, nil
}

// LoadGenerator is what the load generator itself did: how long it took to
// sign its transfers before the clock started, and the CPU it used while
// the clock ran (submitting, following, waiting for finality).
type LoadGenerator struct {
	Signed  int     `json:"signed"`
	SignSec float64 `json:"signSec"`
	// CPUPercent is of one core, averaged over the measured run.
	CPUPercent float64 `json:"cpuPercent"`
	// CPUPerTxRecoveries is its CPU per finalized transaction, in
	// recoveries, like the nodes' figure.
	CPUPerTxRecoveries float64 `json:"cpuPerTxRecoveries"`
}

// selfCPU returns the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// signWorkers is how many goroutines sign the load: one per core.
func signWorkers() int { return runtime.NumCPU() }
