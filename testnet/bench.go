package testnet

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/staking"
	"github.com/quorumchain/quorumchain/validator"
)

// BenchOptions shape a load run against a running testnet.
type BenchOptions struct {
	Dir      string        // testnet directory (testnet.json)
	Duration time.Duration // how long to submit
	// Rate is the offered load in transactions per second; 0 submits as
	// fast as the nodes accept (open loop).
	Rate     int
	Accounts int // load accounts funded from the faucet
	// Drain bounds how long to wait for the last transactions to finalize.
	Drain time.Duration
	// Conns is the number of concurrent submitters (websocket calls in
	// flight), spread over the nodes.
	Conns int
	// Batch is the transactions per submitted message: 1 sends each as its
	// own chain_submitTx request; more send JSON-RPC batches.
	Batch int
	// Window bounds, for open loop, the submitted transactions not final
	// yet (0: no bound): the loop submits as fast as the nodes take
	// transactions but never runs more than Window ahead of finality, so
	// that it measures what the chain finalizes rather than how full its
	// mempools get.
	Window int
	Log    io.Writer // progress lines; nil: none
}

// DefaultBenchWindow is `quorumchain bench`'s open-loop bound on
// transactions submitted and not final yet: about two seconds of the
// signature ceiling of four nodes on two cores, far more than one block
// takes, far less than the mempools hold.
const DefaultBenchWindow = 20_000

// BenchReport is the result of a load run. Its JSON form is the one of
// `quorumchain bench --output json`.
type BenchReport struct {
	TxPerSec    float64   `json:"txPerSec"`
	Submitted   int       `json:"submitted"`
	Finalized   int       `json:"finalized"`
	Rejected    int       `json:"rejected"`
	Refused     int       `json:"refused"` // not admitted by the node's mempool
	LatencyMs   LatencyMs `json:"latencyMs"`
	Blocks      int       `json:"blocks"`
	TxsPerBlock float64   `json:"txsPerBlock"`
	DurationSec float64   `json:"durationSec"`
	OfferedRate int       `json:"offeredRate"`
	// Batch is the transactions per submitted message (BenchOptions.Batch).
	Batch int `json:"batch"`
	// Window is the open loop's bound on transactions not final yet (0:
	// none, or a fixed rate).
	Window int           `json:"window,omitempty"`
	Nodes  []NodeMetrics `json:"nodes"`
	// LatencyWindows is latency by submission time, per 10 s window.
	LatencyWindows []LatencyWindow `json:"latencyWindows"`
	// RecoveryMicros is one secp256k1 recovery timed in this run before
	// the load; CeilingTxPerSec is cores / (nodes × recovery), what the
	// nodes could finalize doing nothing but recover each sender once;
	// CeilingFraction is TxPerSec over it. NodeCPUPerTxRecoveries is all
	// nodes' CPU per finalized transaction, in recoveries.
	RecoveryMicros         float64 `json:"recoveryMicros"`
	CeilingTxPerSec        float64 `json:"ceilingTxPerSec"`
	CeilingFraction        float64 `json:"ceilingFraction"`
	NodeCPUPerTxRecoveries float64 `json:"nodeCpuPerTxRecoveries"`
	// NodeCPUPerHeightMs is one node's CPU per finalized height, averaged
	// over the nodes: what a height costs, transactions included.
	NodeCPUPerHeightMs float64 `json:"nodeCpuPerHeightMs"`
	// Fsyncs are each node's consensus-path fsyncs per finalized height.
	Fsyncs []NodeFsyncs `json:"fsyncs"`
	// PeerMessages are each node's peer messages per finalized height:
	// received, the duplicates among them (copies of gossip it had,
	// dropped unread), and sent.
	PeerMessages []NodePerHeight `json:"peerMessages"`
	// LoadGenerator is the bench process's own signing time and CPU.
	LoadGenerator LoadGenerator `json:"loadGenerator"`
}

// LatencyMs holds submit→final latency percentiles in milliseconds.
type LatencyMs struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// NodeMetrics are a node process's CPU and memory over the run, read from
// /proc.
type NodeMetrics struct {
	Name       string  `json:"name"`
	CPUPercent float64 `json:"cpuPercent"` // of one core, averaged over the run
	RSSMB      float64 `json:"rssMB"`      // at the end of the run
	PeakRSSMB  float64 `json:"peakRssMB"`  // VmHWM
}

type sentTx struct {
	hash chain.Hash
	raw  []byte
	at   time.Time
}

// Bench funds opts.Accounts accounts from the faucet, pre-signs transfers
// between them, submits them at opts.Rate for opts.Duration, follows the
// finalized blocks, and reports throughput and submit→final latency.
func Bench(ctx context.Context, opts BenchOptions) (*BenchReport, error) {
	opts = opts.withDefaults()
	b, err := openBench(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer b.close()
	st, err := b.clients[0].Status(ctx)
	if err != nil {
		return nil, err
	}
	fee := uint64(st.MinFee)
	// Time one recovery first: the ceiling it gives sizes an open-loop
	// load.
	recovery, err := measureRecovery()
	if err != nil {
		return nil, err
	}
	b.logf("one secp256k1 recovery: %.1f µs", float64(recovery.Nanoseconds())/1000)
	total := opts.loadSize(ceilingTxPerSec(recovery, len(b.m.Nodes)))
	keys, err := b.fund(ctx, total, fee)
	if err != nil {
		return nil, err
	}
	// Pre-sign the load on every core so that signing does not compete
	// with the nodes for CPU during the measurement.
	b.logf("signing %d transfers on %d cores", total, signWorkers())
	signStart := time.Now()
	txs, err := signLoad(b.m.ChainID, keys, total, fee, signWorkers())
	if err != nil {
		return nil, err
	}
	gen := LoadGenerator{Signed: total, SignSec: time.Since(signStart).Seconds()}
	return b.measure(ctx, txs, recovery, gen)
}

// withDefaults fills the zero fields of o.
func (o BenchOptions) withDefaults() BenchOptions {
	if o.Accounts <= 0 {
		o.Accounts = 1000
	}
	if o.Conns <= 0 {
		o.Conns = 16
	}
	if o.Batch <= 0 {
		o.Batch = 1
	}
	if o.Drain <= 0 {
		o.Drain = 30 * time.Second
	}
	return o
}

// benchRun is one Bench call: the testnet, the faucet key, and every RPC
// connection opened, which close closes.
type benchRun struct {
	opts    BenchOptions
	m       *Manifest
	faucet  *ecdsa.PrivateKey
	clients []*rpc.Client // clients[i] is connected to m.Nodes[i]; later ones are extra
}

// openBench loads the testnet's manifest and faucet key and connects to
// every node.
func openBench(ctx context.Context, opts BenchOptions) (*benchRun, error) {
	m, err := LoadManifest(opts.Dir)
	if err != nil {
		return nil, err
	}
	password, err := validator.ReadPassword(m.PasswordFile, "")
	if err != nil {
		return nil, err
	}
	faucet, err := validator.LoadKeyFile(m.Faucet.Key, password)
	if err != nil {
		return nil, err
	}
	b := &benchRun{opts: opts, m: m, faucet: faucet}
	for _, n := range m.Nodes {
		c, err := rpc.Dial(ctx, n.RPC)
		if err != nil {
			b.close()
			return nil, fmt.Errorf("bench: node %s: %w (is the testnet running? 'quorumchain testnet status')", n.Name, err)
		}
		b.clients = append(b.clients, c)
	}
	return b, nil
}

func (b *benchRun) close() {
	for _, c := range b.clients {
		c.Close()
	}
}

func (b *benchRun) logf(format string, a ...any) {
	if b.opts.Log != nil {
		fmt.Fprintf(b.opts.Log, format+"\n", a...)
	}
}

// dial opens an extra connection to node i, closed with the others.
func (b *benchRun) dial(ctx context.Context, i int) (*rpc.Client, error) {
	c, err := rpc.Dial(ctx, b.m.Nodes[i].RPC)
	if err != nil {
		return nil, err
	}
	b.clients = append(b.clients, c)
	return c, nil
}

// fund creates opts.Accounts keys and gives each, from the faucet, enough
// for its share of total transfers of 1 unit plus fee each; it returns once
// the funding is final. The faucet pays fee per funding transfer.
func (b *benchRun) fund(ctx context.Context, total int, fee uint64) ([]*ecdsa.PrivateKey, error) {
	keys := make([]*ecdsa.PrivateKey, b.opts.Accounts)
	for i := range keys {
		var err error
		if keys[i], err = crypto.GenerateKey(); err != nil {
			return nil, err
		}
	}
	transfers := uint64(total/b.opts.Accounts + 2)
	if fee >= staking.MaxSupply/transfers {
		return nil, fmt.Errorf("bench: min_fee %d too large to fund %d transfers per account", fee, transfers)
	}
	perAccount := transfers * (1 + fee)
	main := b.clients[0]
	fa, err := main.Account(ctx, chain.PubkeyAddress(&b.faucet.PublicKey))
	if err != nil {
		return nil, err
	}
	b.logf("funding %d accounts from the faucet", b.opts.Accounts)
	var fund []*sentTx
	for i, k := range keys {
		tx := &chain.Tx{ChainID: b.m.ChainID, Kind: chain.TxTransfer, Nonce: fa.Nonce + uint64(i), To: chain.PubkeyAddress(&k.PublicKey), Amount: perAccount, Fee: fee}
		if tx.Sig, err = chain.Sign(b.faucet, tx.SignHash()); err != nil {
			return nil, err
		}
		fund = append(fund, &sentTx{hash: tx.Hash(), raw: tx.Encode()})
	}
	if err := submitAll(ctx, b.clients[:1], fund, b.opts.Conns, 1, nil, nil); err != nil {
		return nil, fmt.Errorf("bench: funding: %w", err)
	}
	if err := awaitFinal(ctx, main, fund[len(fund)-1].hash, b.opts.Drain); err != nil {
		return nil, fmt.Errorf("bench: funding: %w", err)
	}
	return keys, nil
}

// measure follows finality from the current height, submits txs for
// opts.Duration, waits up to opts.Drain for them to be final, and reports.
func (b *benchRun) measure(ctx context.Context, txs []*sentTx, recovery time.Duration, gen LoadGenerator) (*BenchReport, error) {
	st, err := b.clients[0].Status(ctx)
	if err != nil {
		return nil, err
	}
	counters0 := readCounters(ctx, b.m)
	cpu0, self0 := readProcs(b.m), selfCPU()
	follow, err := b.newFollower(ctx, st.Height+1)
	if err != nil {
		return nil, err
	}
	followCtx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	followDone := make(chan error, 1)
	go func() { followDone <- follow.run(followCtx) }()

	submitters, err := b.dialSubmitters(ctx)
	if err != nil {
		return nil, err
	}
	b.logf("submitting for %s at %s", b.opts.Duration, rateString(b.opts.Rate))
	start := time.Now()
	sent, refused, err := b.submit(ctx, submitters, txs, start, follow)
	if err != nil {
		return nil, err
	}
	submitEnd := time.Now()
	b.logf("submitted %d (%d refused); waiting up to %s for finality", len(sent), refused, b.opts.Drain)

	want := make(map[chain.Hash]time.Time, len(sent))
	for _, s := range sent {
		want[s.hash] = s.at
	}
	if err := b.drain(ctx, follow, want, followDone); err != nil {
		return nil, err
	}
	stopFollow()
	cpu1, self1 := readProcs(b.m), selfCPU()
	counters1 := readCounters(ctx, b.m)
	// Time one recovery again, now that the load has drained, and keep the
	// lower: a machine still busy (an earlier run's compactions, another
	// job) when the first timing ran would otherwise inflate the unit and
	// with it every figure measured in it.
	if again, err := measureRecovery(); err == nil && again < recovery {
		recovery = again
	}
	r := follow.report(want, start, submitEnd, b.opts, refused, b.m, cpu0, cpu1, recovery)
	r.Fsyncs = fsyncsPerHeight(b.m, counters0, counters1)
	r.PeerMessages = peerMessagesPerHeight(b.m, counters0, counters1)
	r.loadGenerator(gen, self1-self0, time.Since(start), recovery)
	return r, nil
}

// newFollower returns a follower of the first node from height from. It
// gets connections of its own: one for the subscription, one for block
// queries, so that submissions never delay either.
func (b *benchRun) newFollower(ctx context.Context, from uint64) (*follower, error) {
	subC, err := b.dial(ctx, 0)
	if err != nil {
		return nil, err
	}
	queryC, err := b.dial(ctx, 0)
	if err != nil {
		return nil, err
	}
	return newFollower(subC, queryC, from), nil
}

// dialSubmitters opens opts.Conns connections, one per submitter, spread
// over the nodes: a node serves the requests of one connection in order.
func (b *benchRun) dialSubmitters(ctx context.Context) ([]*rpc.Client, error) {
	var submitters []*rpc.Client
	for i := range b.opts.Conns {
		c, err := b.dial(ctx, i%len(b.m.Nodes))
		if err != nil {
			return nil, err
		}
		submitters = append(submitters, c)
	}
	return submitters, nil
}

// submit sends txs over submitters at opts.Rate (paced from start) for
// opts.Duration. It returns the transactions the nodes admitted and the
// number they refused.
func (b *benchRun) submit(ctx context.Context, submitters []*rpc.Client, txs []*sentTx, start time.Time, follow *follower) ([]*sentTx, int, error) {
	submitCtx, stopSubmit := context.WithTimeout(ctx, b.opts.Duration)
	defer stopSubmit()
	var refused atomic.Int64
	sent := make([]*sentTx, 0, len(txs))
	var sentMu sync.Mutex
	wait := rateLimiter(b.opts.Rate, start)
	if b.opts.Rate <= 0 && b.opts.Window > 0 {
		wait = windowLimiter(b.opts.Window, follow, &refused)
	}
	err := submitAll(submitCtx, submitters, txs, b.opts.Conns, b.opts.Batch, wait, func(s *sentTx, err error) {
		if err != nil {
			refused.Add(1)
			return
		}
		sentMu.Lock()
		sent = append(sent, s)
		sentMu.Unlock()
	})
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, 0, err
	}
	return sent, int(refused.Load()), nil
}

// drain waits up to opts.Drain until follow has seen every transaction of
// want final; it fails if ctx ends or the follower stops.
func (b *benchRun) drain(ctx context.Context, follow *follower, want map[chain.Hash]time.Time, followDone <-chan error) error {
	deadline := time.Now().Add(b.opts.Drain)
	for time.Now().Before(deadline) && follow.countFinal(want) < len(want) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-followDone:
			return fmt.Errorf("bench: following finalized blocks: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

func rateString(r int) string {
	if r == 0 {
		return "open loop"
	}
	return strconv.Itoa(r) + " tx/s"
}

// rateLimiter returns a function that blocks until the i-th transaction
// may be sent; nil for open loop.
func rateLimiter(rate int, start time.Time) func(ctx context.Context, i int) error {
	if rate <= 0 {
		return nil
	}
	return func(ctx context.Context, i int) error {
		at := start.Add(time.Duration(float64(i) / float64(rate) * float64(time.Second)))
		if d := time.Until(at); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
}

// submitAll submits txs in order over conns concurrent callers, spread
// over clients, batch transactions per message (1: each its own request).
// wait, if not nil, blocks until the i-th transaction may go; a batch goes
// when its last may. done is called for every submitted transaction.
func submitAll(ctx context.Context, clients []*rpc.Client, txs []*sentTx, conns, batch int, wait func(context.Context, int) error, done func(*sentTx, error)) error {
	batch = max(batch, 1)
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, conns)
	for w := range conns {
		c := clients[w%len(clients)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(int64(batch)) - int64(batch))
				if i >= len(txs) || ctx.Err() != nil {
					return
				}
				chunk := txs[i:min(i+batch, len(txs))]
				if wait != nil {
					if err := wait(ctx, i+len(chunk)-1); err != nil {
						return
					}
				}
				errs, err := submitPaced(ctx, c, chunk)
				if ctx.Err() != nil || pastDeadline(ctx) {
					return // the run is over; a write cut short by its deadline is not a failure
				}
				if err != nil {
					errc <- err
					return
				}
				for k, s := range chunk {
					if done != nil {
						done(s, errs[k])
					} else if errs[k] != nil {
						errc <- errs[k]
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return ctx.Err()
	}
}

// submitPaced submits txs (one request, or a batch if more than one),
// stamping each with its submission time, and submits again those the
// node refused for the connection's request rate (-32014) or because it
// is busy (-32013): a load generator keeps to the node's limits. It
// returns each transaction's final answer (nil, or the node's *Error), or
// an error for the connection.
func submitPaced(ctx context.Context, c *rpc.Client, txs []*sentTx) ([]error, error) {
	const pause, tries = 20 * time.Millisecond, 250
	errs := make([]error, len(txs))
	todo := make([]int, len(txs))
	for k := range todo {
		todo[k] = k
	}
	for try := 1; ; try++ {
		now := time.Now()
		for _, k := range todo {
			txs[k].at = now
		}
		if len(todo) == 1 {
			_, err := c.SubmitTx(ctx, txs[todo[0]].raw)
			var re *rpc.Error
			if err != nil && !errors.As(err, &re) {
				return nil, err
			}
			errs[todo[0]] = err
		} else {
			raws := make([][]byte, len(todo))
			for j, k := range todo {
				raws[j] = txs[k].raw
			}
			_, answers, err := c.SubmitTxs(ctx, raws)
			if err != nil {
				var re *rpc.Error
				if !errors.As(err, &re) || !retryable(re) {
					return nil, err
				}
				answers = make([]error, len(todo)) // refused as a whole: all again
				for j := range answers {
					answers[j] = err
				}
			}
			for j, k := range todo {
				errs[k] = answers[j]
			}
		}
		again := todo[:0]
		for _, k := range todo {
			var re *rpc.Error
			if errors.As(errs[k], &re) && retryable(re) {
				again = append(again, k)
			}
		}
		todo = again
		if len(todo) == 0 || try == tries {
			return errs, nil
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return errs, nil
		case <-t.C:
		}
	}
}

// retryable reports whether the node refused a request only for now.
func retryable(e *rpc.Error) bool { return e.Code == rpc.CodeRateLimited || e.Code == rpc.CodeBusy }

func awaitFinal(ctx context.Context, c *rpc.Client, h chain.Hash, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if r, err := c.Tx(ctx, h); err == nil && r.Status != "pending" {
			if r.Status == "rejected" {
				return fmt.Errorf("transaction %s rejected: %s", chain.FormatHash(h), r.Error)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("transaction %s not final within %s", chain.FormatHash(h), d)
		case <-t.C:
		}
	}
}

// follower records, for every finalized block from a height on, when it
// became final here and which transactions it carried.
type follower struct {
	c, query *rpc.Client
	from     uint64

	mu       sync.Mutex
	final    map[chain.Hash]time.Time
	rejected map[chain.Hash]bool
	blocks   int
	txs      int
	progress chan struct{} // closed, and replaced, when txs grows
}

func newFollower(c, query *rpc.Client, from uint64) *follower {
	return &follower{c: c, query: query, from: from, final: make(map[chain.Hash]time.Time), rejected: make(map[chain.Hash]bool),
		progress: make(chan struct{})}
}

// record notes the transactions of a block that became final at at.
func (f *follower) record(txs []rpc.BlockTxSummary, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.txs += len(txs)
	for _, tx := range txs {
		f.final[tx.Hash] = at
		if tx.Status == "rejected" {
			f.rejected[tx.Hash] = true
		}
	}
	close(f.progress)
	f.progress = make(chan struct{})
}

// finalTxs returns how many transactions the followed blocks carried so
// far, and a channel closed when that number next grows.
func (f *follower) finalTxs() (int, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.txs, f.progress
}

// windowLimiter returns a function that blocks the i-th transaction until
// fewer than window of those before it are neither final nor refused, so
// that an open loop cannot outrun finality by more than window
// transactions.
func windowLimiter(window int, f *follower, refused *atomic.Int64) func(ctx context.Context, i int) error {
	return func(ctx context.Context, i int) error {
		for {
			n, more := f.finalTxs()
			if i-n-int(refused.Load()) < window {
				return nil
			}
			select {
			case <-more:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

func (f *follower) run(ctx context.Context) error {
	sub, err := f.c.Subscribe(ctx, rpc.TopicFinalized, nil, f.from)
	if err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-sub.Err():
			return err
		case raw := <-sub.Results():
			at := time.Now()
			var ev rpc.FinalizedEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return err
			}
			f.mu.Lock()
			f.blocks++
			f.mu.Unlock()
			if ev.TxCount == 0 {
				continue
			}
			b, err := f.query.BlockSummary(ctx, ev.Height)
			if err != nil {
				return err
			}
			f.record(b.Txs, at)
		}
	}
}

func (f *follower) countFinal(want map[chain.Hash]time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for h := range want {
		if _, ok := f.final[h]; ok {
			n++
		}
	}
	return n
}

func (f *follower) report(want map[chain.Hash]time.Time, start, submitEnd time.Time, opts BenchOptions, refused int, m *Manifest, cpu0, cpu1 map[string]procSample, recovery time.Duration) *BenchReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &BenchReport{Submitted: len(want), Refused: refused, Blocks: f.blocks, OfferedRate: opts.Rate, Batch: opts.Batch}
	if opts.Rate <= 0 {
		r.Window = opts.Window
	}
	var lat []float64
	var submitted []time.Time
	last := start
	for h, at := range want {
		fin, ok := f.final[h]
		if !ok {
			continue
		}
		r.Finalized++
		if f.rejected[h] {
			r.Rejected++
		}
		lat = append(lat, float64(fin.Sub(at).Microseconds())/1000)
		submitted = append(submitted, at)
		if fin.After(last) {
			last = fin
		}
	}
	r.DurationSec = last.Sub(start).Seconds()
	if r.DurationSec > 0 {
		r.TxPerSec = float64(r.Finalized-r.Rejected) / r.DurationSec
	}
	if f.blocks > 0 {
		r.TxsPerBlock = float64(f.txs) / float64(f.blocks)
	}
	r.LatencyWindows = latencyWindows(start, submitted, lat)
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	r.LatencyMs = LatencyMs{P50: pct(0.50), P90: pct(0.90), P99: pct(0.99), Max: pct(1)}
	wall := time.Since(start).Seconds()
	var cpuSeconds float64
	for _, n := range m.Nodes {
		a, b := cpu0[n.Name], cpu1[n.Name]
		nm := NodeMetrics{Name: n.Name, RSSMB: b.rssMB, PeakRSSMB: b.hwmMB}
		if b.ticks >= a.ticks && wall > 0 {
			nm.CPUPercent = float64(b.ticks-a.ticks) / clockTicks / wall * 100
			cpuSeconds += float64(b.ticks-a.ticks) / clockTicks
		}
		r.Nodes = append(r.Nodes, nm)
	}
	r.ceiling(recovery, len(m.Nodes), cpuSeconds)
	if f.blocks > 0 && len(m.Nodes) > 0 {
		r.NodeCPUPerHeightMs = cpuSeconds * 1000 / float64(len(m.Nodes)) / float64(f.blocks)
	}
	return r
}

// WriteText prints the report for people.
func (r *BenchReport) WriteText(w io.Writer) {
	fmt.Fprintf(w, "offered        %s\n", rateString(r.OfferedRate))
	if r.Batch > 1 {
		fmt.Fprintf(w, "submitted in   batches of %d\n", r.Batch)
	}
	if r.Window > 0 {
		fmt.Fprintf(w, "window         at most %d transactions not final\n", r.Window)
	}
	fmt.Fprintf(w, "finalized      %.0f tx/s (%d of %d submitted over %.1fs; %d rejected, %d refused)\n", r.TxPerSec, r.Finalized, r.Submitted, r.DurationSec, r.Rejected, r.Refused)
	fmt.Fprintf(w, "submit→final   p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms\n", r.LatencyMs.P50, r.LatencyMs.P90, r.LatencyMs.P99, r.LatencyMs.Max)
	fmt.Fprintf(w, "blocks         %d (%.1f txs per block; %.2f ms node CPU per height)\n", r.Blocks, r.TxsPerBlock, r.NodeCPUPerHeightMs)
	for _, n := range r.Nodes {
		fmt.Fprintf(w, "%-14s cpu %.0f%%  rss %.1f MB  peak %.1f MB\n", n.Name, n.CPUPercent, n.RSSMB, n.PeakRSSMB)
	}
	if r.CeilingTxPerSec > 0 {
		fmt.Fprintf(w, "ceiling        one recovery %.1f µs; %d cores / (%d nodes × recovery) = %.0f tx/s; finalized %.2f of it; node CPU %.1f recoveries per tx\n",
			r.RecoveryMicros, runtime.NumCPU(), len(r.Nodes), r.CeilingTxPerSec, r.CeilingFraction, r.NodeCPUPerTxRecoveries)
	}
	for _, f := range r.Fsyncs {
		fmt.Fprintf(w, "%-14s fsyncs per height %.2f (wal %.2f, signer %.2f, store %.2f) over %d heights\n",
			f.Name, f.Total, f.PerHeight["wal"], f.PerHeight["signer"], f.PerHeight["store"], f.Heights)
	}
	for _, p := range r.PeerMessages {
		fmt.Fprintf(w, "%-14s peer messages per height: received %.1f (%.1f of them copies it had), sent %.1f\n",
			p.Name, p.PerHeight["received"], p.PerHeight["duplicates"], p.PerHeight["sent"])
	}
	g := r.LoadGenerator
	fmt.Fprintf(w, "load generator signed %d transfers in %.1fs before the clock; during the run cpu %.0f%%, %.1f recoveries per tx\n",
		g.Signed, g.SignSec, g.CPUPercent, g.CPUPerTxRecoveries)
	for _, lw := range r.LatencyWindows {
		fmt.Fprintf(w, "  %3.0f–%3.0fs    %d txs  p50 %.1f ms  p99 %.1f ms\n", lw.FromSec, lw.ToSec, lw.Count, lw.P50, lw.P99)
	}
}

func pastDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}
