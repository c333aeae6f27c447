package testnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/rpc"
)

// AttackKind is one hostile-peer behaviour of 'quorumchain testnet attack'.
type AttackKind struct {
	Name string
	// What the attacker does, for --help and the report.
	Does string
	run  func(ctx context.Context, a *attacker) error
}

// AttackKinds lists every attack, in the order of the findings they
// probe.
func AttackKinds() []AttackKind {
	return []AttackKind{
		{"far-future", "sends proposals at height 2^62 carrying blocks of about 1 MiB, signed by its own key", attackFarFuture},
		{"relay", "relays an honest node's handshake to the target to take that node's identity and slot", attackRelay},
		{"evidence-flood", "floods evidence: invalid signatures, and valid double signs by a key that is no validator", attackEvidenceFlood},
		{"status-flood", "floods Status and RoundStatus messages and unrequested block responses", attackStatusFlood},
		{"slow-reader", "requests the biggest blocks over and over and never reads the answers", attackSlowReader},
		{"bogus-sync", "claims a higher height, answers block requests with forged certificates and sends unrequested ones", attackBogusSync},
		{"next-height-junk", "sends votes and proposals for the next height signed by its own key, to fill the next-height buffer", attackNextHeightJunk},
		{"conn-flood", "opens connections from fresh identities, and half-open ones that never finish the handshake", attackConnFlood},
		{"garbage-frames", "completes the handshake, then sends frames that do not decode", attackGarbageFrames},
	}
}

// AttackNames are the kinds' names.
func AttackNames() []string {
	var out []string
	for _, k := range AttackKinds() {
		out = append(out, k.Name)
	}
	return out
}

// DefaultAttackDuration is how long an attack runs unless told otherwise.
const DefaultAttackDuration = 20 * time.Second

// AttackOptions configures Attack.
type AttackOptions struct {
	Dir      string
	Kind     string
	Target   string        // node name; default the first node
	Duration time.Duration // default 20s
	// Log, if set, gets a line per second: what was sent, and each node's
	// height, WAL bytes and RSS.
	Log io.Writer
}

// AttackReport is what an attack did and what the testnet did meanwhile.
type AttackReport struct {
	Kind     string        `json:"kind"`
	Target   string        `json:"target"`
	Duration time.Duration `json:"duration"`
	// Sent counts what the attacker sent; Refused counts connections or
	// handshakes the target refused or cut.
	Sent    AttackCounts       `json:"sent"`
	Nodes   []AttackNodeReport `json:"nodes"`
	Forks   []string           `json:"forks"`   // heights where nodes hold different blocks
	Slashed []string           `json:"slashed"` // validators that left the set or lost stake during the attack
}

// AttackCounts are the attacker's own counters.
type AttackCounts struct {
	Messages    int64 `json:"messages"`
	Bytes       int64 `json:"bytes"`
	Connections int64 `json:"connections"`
	Refused     int64 `json:"refused"`
}

// AttackNodeReport is one node during the attack.
type AttackNodeReport struct {
	Name        string  `json:"name"`
	HeightStart uint64  `json:"heightStart"`
	HeightEnd   uint64  `json:"heightEnd"`
	MaxWALBytes int64   `json:"maxWalBytes"`
	MaxRSSMB    float64 `json:"maxRssMB"`
	Up          bool    `json:"up"` // answered its RPC at the end
}

// attacker is the state shared by an attack's goroutines.
type attacker struct {
	m        *Manifest
	target   *Node
	chainID  string
	genesis  chain.Hash
	deadline time.Time
	mu       sync.Mutex
	counts   AttackCounts
	client   *rpc.Client // the target's RPC, for its height
	// lastHeight is the target's latest final height as last sampled.
	lastHeight atomic.Uint64
}

func (a *attacker) sent(msgs, bytes int64) {
	a.mu.Lock()
	a.counts.Messages += msgs
	a.counts.Bytes += bytes
	a.mu.Unlock()
}

func (a *attacker) connected(refused bool) {
	a.mu.Lock()
	a.counts.Connections++
	if refused {
		a.counts.Refused++
	}
	a.mu.Unlock()
}

func (a *attacker) snapshot() AttackCounts {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.counts
}

// height is the target's latest final height (0 if it does not answer).
func (a *attacker) height(ctx context.Context) uint64 {
	st, err := a.client.Status(ctx)
	if err != nil {
		return 0
	}
	return st.Height
}

// Attack runs one hostile peer of the given kind against a node of the
// testnet in dir for the given duration, watching every node meanwhile.
func Attack(ctx context.Context, opts AttackOptions) (*AttackReport, error) {
	if opts.Duration <= 0 {
		opts.Duration = DefaultAttackDuration
	}
	var kind *AttackKind
	for _, k := range AttackKinds() {
		if k.Name == opts.Kind {
			kind = &k
			break
		}
	}
	if kind == nil {
		return nil, fmt.Errorf("testnet: unknown attack kind %q (kinds: %s)", opts.Kind, strings.Join(AttackNames(), ", "))
	}
	m, err := LoadManifest(opts.Dir)
	if err != nil {
		return nil, err
	}
	if len(m.Nodes) == 0 {
		return nil, errors.New("testnet: the manifest lists no nodes")
	}
	target := &m.Nodes[0]
	if opts.Target != "" {
		if target, err = m.Node(opts.Target); err != nil {
			return nil, err
		}
	}
	doc, err := genesis.Load(filepath.Join(target.Home, "config", "genesis.json"))
	if err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	clients, err := dialAll(ctx, m)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	a := &attacker{m: m, target: target, chainID: m.ChainID, genesis: doc.Hash(), deadline: time.Now().Add(opts.Duration)}
	ti := 0
	for i := range m.Nodes {
		if &m.Nodes[i] == target {
			a.client, ti = clients[i], i
		}
	}
	stakes0 := validatorStakes(ctx, clients)
	rep := &AttackReport{Kind: kind.Name, Target: target.Name, Duration: opts.Duration}
	watch := newWatch(m, clients)
	watch.sample(ctx)
	a.lastHeight.Store(watch.heights[ti])
	for i, n := range m.Nodes {
		rep.Nodes = append(rep.Nodes, AttackNodeReport{Name: n.Name, HeightStart: watch.heights[i]})
	}

	actx, cancel := context.WithDeadline(ctx, a.deadline)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- kind.run(actx, a) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var runErr error
loop:
	for {
		select {
		case runErr = <-errc:
			break loop
		case <-tick.C:
			watch.sample(ctx)
			a.lastHeight.Store(watch.heights[ti])
			if opts.Log != nil {
				fmt.Fprintf(opts.Log, "%s %s\n", a.snapshot().String(), watch.String())
			}
		}
	}
	if runErr != nil && !errors.Is(runErr, context.DeadlineExceeded) && !errors.Is(runErr, context.Canceled) {
		return nil, fmt.Errorf("testnet: attack %s: %w", kind.Name, runErr)
	}
	watch.sample(ctx)
	rep.Sent = a.snapshot()
	for i := range rep.Nodes {
		rep.Nodes[i].HeightEnd = watch.heights[i]
		rep.Nodes[i].MaxWALBytes = watch.maxWAL[i]
		rep.Nodes[i].MaxRSSMB = watch.maxRSS[i]
		rep.Nodes[i].Up = watch.up[i]
	}
	rep.Forks = forks(ctx, clients, rep.Nodes)
	stakes1 := validatorStakes(ctx, clients)
	for v, stake := range stakes0 {
		if got, ok := stakes1[v]; !ok || got != stake {
			rep.Slashed = append(rep.Slashed, fmt.Sprintf("%s (stake %s, now %q)", v, stake, got))
		}
	}
	slices.Sort(rep.Slashed)
	return rep, nil
}

func (c AttackCounts) String() string {
	return fmt.Sprintf("sent %d msgs %s, %d conns (%d refused)", c.Messages, byteString(c.Bytes), c.Connections, c.Refused)
}

func byteString(b int64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// dialAll opens an RPC client to every node (nil where one does not answer).
func dialAll(ctx context.Context, m *Manifest) ([]*rpc.Client, error) {
	out := make([]*rpc.Client, len(m.Nodes))
	for i, n := range m.Nodes {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := rpc.Dial(dctx, n.RPC)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("testnet: node %s: %w", n.Name, err)
		}
		out[i] = c
	}
	return out, nil
}

// watch samples every node's height, WAL size and RSS.
type watch struct {
	m       *Manifest
	clients []*rpc.Client
	heights []uint64
	maxWAL  []int64
	maxRSS  []float64
	up      []bool
}

func newWatch(m *Manifest, clients []*rpc.Client) *watch {
	n := len(m.Nodes)
	return &watch{m: m, clients: clients, heights: make([]uint64, n), maxWAL: make([]int64, n), maxRSS: make([]float64, n), up: make([]bool, n)}
}

func (w *watch) sample(ctx context.Context) {
	procs := readProcs(w.m)
	for i, n := range w.m.Nodes {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := w.clients[i].Status(sctx)
		cancel()
		w.up[i] = err == nil
		if err == nil {
			w.heights[i] = st.Height
		}
		if fi, err := os.Stat(filepath.Join(n.Home, "data", "cs.wal")); err == nil {
			w.maxWAL[i] = max(w.maxWAL[i], fi.Size())
		}
		w.maxRSS[i] = max(w.maxRSS[i], procs[n.Name].rssMB)
	}
}

func (w *watch) String() string {
	var b strings.Builder
	for i, n := range w.m.Nodes {
		if i > 0 {
			b.WriteString(" |")
		}
		fmt.Fprintf(&b, " %s h=%d wal=%s rss=%.0fMB", n.Name, w.heights[i], byteString(w.maxWAL[i]), w.maxRSS[i])
	}
	return b.String()
}

// forks compares, for the heights every node finalized during the attack
// (at most the last 50), the block hash each node holds.
func forks(ctx context.Context, clients []*rpc.Client, nodes []AttackNodeReport) []string {
	lo, hi := uint64(0), ^uint64(0)
	for _, n := range nodes {
		lo = max(lo, n.HeightStart)
		hi = min(hi, n.HeightEnd)
	}
	if hi == ^uint64(0) || hi == 0 {
		return nil
	}
	lo = max(lo, 1, hi-min(hi, 49))
	var out []string
	for h := lo; h <= hi; h++ {
		var first chain.Hash
		for i, c := range clients {
			bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			b, err := c.Block(bctx, h)
			cancel()
			if err != nil {
				continue
			}
			if i == 0 || first == (chain.Hash{}) {
				first = b.Header.Hash
			} else if b.Header.Hash != first {
				out = append(out, fmt.Sprintf("h=%d: %s holds %s, another node %s", h, nodes[i].Name, chain.FormatHash(b.Header.Hash), chain.FormatHash(first)))
			}
		}
	}
	return out
}

// validatorStakes returns the latest validator set, by address, as the
// first node that answers reports it.
func validatorStakes(ctx context.Context, clients []*rpc.Client) map[string]string {
	for _, c := range clients {
		vctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		vr, err := c.Validators(vctx, nil)
		cancel()
		if err != nil {
			continue
		}
		out := make(map[string]string, len(vr.Validators))
		for _, v := range vr.Validators {
			out[chain.FormatAddress(v.Address)] = v.Stake.String()
		}
		return out
	}
	return nil
}

// WriteText prints the report for humans.
func (r *AttackReport) WriteText(w io.Writer) {
	fmt.Fprintf(w, "attack %s on %s for %v: %s\n", r.Kind, r.Target, r.Duration, r.Sent)
	for _, n := range r.Nodes {
		state := "up"
		if !n.Up {
			state = "DOWN"
		}
		fmt.Fprintf(w, "  %-8s %s, height %d -> %d (+%d), max WAL %s, max RSS %.0f MB\n",
			n.Name, state, n.HeightStart, n.HeightEnd, n.HeightEnd-min(n.HeightEnd, n.HeightStart), byteString(n.MaxWALBytes), n.MaxRSSMB)
	}
	if len(r.Forks) == 0 {
		fmt.Fprintln(w, "  agreement: every node holds the same blocks")
	}
	for _, f := range r.Forks {
		fmt.Fprintf(w, "  FORK %s\n", f)
	}
	if len(r.Slashed) == 0 {
		fmt.Fprintln(w, "  no validator was jailed or slashed")
	} else {
		fmt.Fprintf(w, "  JAILED %s\n", strings.Join(r.Slashed, ", "))
	}
}
