package testnet

import (
	"errors"
	"runtime"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
)

// The signature ceiling is the finalized tx/s a machine could reach if
// the nodes did nothing but recover each transaction's sender once each:
// cores / (nodes × one secp256k1 recovery). bench measures one recovery
// in the same run, before the load starts and again after it drains,
// keeping the lower, so that the ratio of what it finalized to the
// ceiling holds across machines.

// recoveryRuns × recoveriesPerRun recoveries are timed; the median run's
// mean is the figure.
const (
	recoveryRuns     = 7
	recoveriesPerRun = 300
)

// measureRecovery returns the median time of one secp256k1 public-key
// recovery through go-ethereum/crypto on this machine, now.
func measureRecovery() (time.Duration, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return 0, err
	}
	hash := crypto.Keccak256([]byte("quorumchain bench recovery"))
	sig, err := crypto.Sign(hash, key)
	if err != nil {
		return 0, err
	}
	runs := make([]time.Duration, recoveryRuns)
	for r := range runs {
		start := time.Now()
		for range recoveriesPerRun {
			if _, err := crypto.Ecrecover(hash, sig); err != nil {
				return 0, err
			}
		}
		runs[r] = time.Since(start) / recoveriesPerRun
	}
	slices.Sort(runs)
	if runs[len(runs)/2] <= 0 {
		return 0, errors.New("testnet: recovery timed at zero")
	}
	return runs[len(runs)/2], nil
}

// ceiling fills the report's signature-ceiling figures from one recovery's
// time, the machine's cores and the testnet's node count, and the node CPU
// per finalized transaction in recoveries.
func (r *BenchReport) ceiling(recovery time.Duration, nodes int, nodeCPUSeconds float64) {
	if recovery <= 0 || nodes == 0 {
		return
	}
	r.RecoveryMicros = float64(recovery.Nanoseconds()) / 1000
	r.CeilingTxPerSec = ceilingTxPerSec(recovery, nodes)
	r.CeilingFraction = r.TxPerSec / r.CeilingTxPerSec
	if ok := r.Finalized - r.Rejected; ok > 0 && nodeCPUSeconds > 0 {
		r.NodeCPUPerTxRecoveries = nodeCPUSeconds / float64(ok) / recovery.Seconds()
	}
}

// ceilingTxPerSec is cores / (nodes × recovery).
func ceilingTxPerSec(recovery time.Duration, nodes int) float64 {
	if recovery <= 0 || nodes <= 0 {
		return 0
	}
	return float64(runtime.NumCPU()) / (float64(nodes) * recovery.Seconds())
}

// loadGenerator records the bench process's own figures: gen's signing,
// and cpu, its CPU time over wall, the measured run.
func (r *BenchReport) loadGenerator(gen LoadGenerator, cpu, wall, recovery time.Duration) {
	if wall > 0 {
		gen.CPUPercent = cpu.Seconds() / wall.Seconds() * 100
	}
	if ok := r.Finalized - r.Rejected; ok > 0 && recovery > 0 {
		gen.CPUPerTxRecoveries = cpu.Seconds() / float64(ok) / recovery.Seconds()
	}
	r.LoadGenerator = gen
}

// LatencyWindow is submit→final latency of the transactions submitted in
// one window of the run.
type LatencyWindow struct {
	FromSec float64 `json:"fromSec"`
	ToSec   float64 `json:"toSec"`
	Count   int     `json:"count"`
	P50     float64 `json:"p50"`
	P99     float64 `json:"p99"`
}

// latencyWindowSize is the width of the windows bench reports latency in,
// so that latency growing with run length shows.
const latencyWindowSize = 10 * time.Second

// latencyWindows groups the latencies (ms) of transactions by when they
// were submitted, relative to start.
func latencyWindows(start time.Time, submitted []time.Time, latMs []float64) []LatencyWindow {
	var out []LatencyWindow
	byWindow := map[int][]float64{}
	last := -1
	for i, at := range submitted {
		w := int(at.Sub(start) / latencyWindowSize)
		byWindow[w] = append(byWindow[w], latMs[i])
		last = max(last, w)
	}
	for w := 0; w <= last; w++ {
		l := byWindow[w]
		if len(l) == 0 {
			continue
		}
		slices.Sort(l)
		pct := func(p float64) float64 { return l[min(len(l)-1, int(p*float64(len(l))))] }
		out = append(out, LatencyWindow{
			FromSec: (time.Duration(w) * latencyWindowSize).Seconds(), ToSec: (time.Duration(w+1) * latencyWindowSize).Seconds(),
			Count: len(l), P50: pct(0.50), P99: pct(0.99),
		})
	}
	return out
}
