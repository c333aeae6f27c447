package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
)

// StartOptions shape Start and Launch.
type StartOptions struct {
	// Binary is the quorumchain binary the nodes run; empty: this
	// executable.
	Binary string
	// Generate shapes a new testnet; it is ignored when the directory
	// already holds one (which is resumed: same homes, same ports).
	Generate Options
	// Detach makes Start return once the testnet is live, leaving the
	// nodes running; else Start follows finalized blocks until its context
	// is done and then stops every node.
	Detach bool
	// Out receives the node table and progress lines; nil: discarded.
	Out io.Writer
	// ReadyTimeout bounds the wait for the first final block (or, when
	// remote signers are needed for a quorum, for the nodes to connect);
	// zero: DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Nodes names the nodes to start; empty: all. The others stay stopped
	// (Restart starts one later).
	Nodes []string
}

// DefaultReadyTimeout bounds the wait for a testnet to become live.
const DefaultReadyTimeout = 30 * time.Second

// Timing of the supervisor's loops.
const (
	dialRetry       = 50 * time.Millisecond
	rpcCallTimeout  = 3 * time.Second
	followBackoff   = 300 * time.Millisecond
	followGiveUp    = 3 // checks in a row with no node running: the testnet was stopped
	restartRPCReady = 15 * time.Second
	// replayHeights is how far back the wait for a resumed chain's first
	// block replays, in case blocks became final before it subscribed.
	replayHeights = 16
)

// ErrNotRunning means a command needs a node that is not running.
var ErrNotRunning = errors.New("not running")

// ErrRunning means a testnet (or node) is already running.
var ErrRunning = errors.New("already running")

// Testnet is a testnet launched by this process.
type Testnet struct {
	// Dir is the absolute testnet directory.
	Dir string
	// Manifest is testnet.json as written at launch.
	Manifest *Manifest
	// Generated is true when Launch generated the testnet, false when it
	// resumed an existing one.
	Generated bool
	// StartedAt is when Launch was called (before generation), LaunchedAt
	// when the first node process was started.
	StartedAt, LaunchedAt time.Time
	// Generation is how long generating keys, genesis and configs took.
	Generation time.Duration
	// First is the first block finalized after launch; nil when the
	// testnet waits for remote signers (WaitingForSigners).
	First *rpc.FinalizedEvent
	// WaitingForSigners is true when the running local validators hold no
	// quorum: the chain waits for `quorumchain vote`.
	WaitingForSigners bool
	// LaunchToFinal is from LaunchedAt, StartToFinal from StartedAt, to
	// First's FinalizedAt.
	LaunchToFinal, StartToFinal time.Duration

	out      io.Writer
	children []*child
	exits    chan *child // children that exited, in order
	stopping atomic.Bool
	names    map[chain.Address]string
}

// Start launches the testnet in dir (generating it first when dir has no
// testnet.json) and waits until it is live. With opts.Detach it returns
// then, leaving the nodes running. Otherwise it prints one line per
// finalized block to opts.Out until ctx is done, then stops every node
// (Stop) and returns. If the launch fails, the nodes it started are
// stopped.
func Start(ctx context.Context, dir string, opts StartOptions) (*Testnet, error) {
	t, err := Launch(ctx, dir, opts)
	if err != nil || opts.Detach {
		return t, err
	}
	ferr := t.Follow(ctx)
	_, serr := t.Stop()
	return t, errors.Join(ferr, serr)
}

// Launch generates (or resumes) the testnet in dir, starts its nodes and
// waits until the first block after launch is final, or, when the running
// local validators hold no quorum, until the nodes are connected. The
// nodes keep running when Launch returns; on error the nodes it started are
// stopped.
func Launch(ctx context.Context, dir string, opts StartOptions) (*Testnet, error) {
	t := &Testnet{StartedAt: time.Now(), out: opts.Out}
	if t.out == nil {
		t.out = io.Discard
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	t.Dir = abs
	binary, err := binaryPath(opts.Binary)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	if err := t.launch(binary, opts); err != nil {
		return nil, err
	}
	if err := t.waitLive(ctx, opts.ReadyTimeout); err != nil {
		if _, serr := t.Stop(); serr != nil {
			err = errors.Join(err, serr)
		}
		return nil, err
	}
	return t, nil
}

// launch generates or loads the manifest and starts the nodes, holding the
// directory lock so that no other command sees a half-written manifest.
func (t *Testnet) launch(binary string, opts StartOptions) error {
	unlock, err := lockDir(t.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	m, err := LoadManifest(t.Dir)
	switch {
	case err == nil:
		for _, n := range m.Nodes {
			if nodeRunning(n.PID, n.Home) {
				return fmt.Errorf("testnet: %s in %s is %w (pid %d): stop it first with 'quorumchain testnet stop --dir %s'",
					n.Name, t.Dir, ErrRunning, n.PID, t.Dir)
			}
		}
	case errors.Is(err, os.ErrNotExist):
		if m, err = Generate(t.Dir, opts.Generate); err != nil {
			return err
		}
		t.Generated = true
		t.Generation = time.Since(t.StartedAt)
	default:
		return err
	}
	for _, name := range opts.Nodes {
		if _, err := m.Node(name); err != nil {
			return err
		}
	}
	t.Manifest = m
	t.names = make(map[chain.Address]string, len(m.Nodes))
	for _, n := range m.Nodes {
		if a, err := chain.ParseAddress(n.Validator); err == nil {
			t.names[a] = n.Name
		}
	}
	t.exits = make(chan *child, 4*len(m.Nodes))
	t.LaunchedAt = time.Now()
	for i := range m.Nodes {
		n := &m.Nodes[i]
		n.PID = 0
		if len(opts.Nodes) > 0 && !slices.Contains(opts.Nodes, n.Name) {
			continue
		}
		c, err := spawnNode(binary, n.Name, n.Home)
		if err != nil {
			t.stopChildren()
			return err
		}
		n.PID = c.cmd.Process.Pid
		t.children = append(t.children, c)
		go t.watchExit(c)
	}
	if err := m.Save(t.Dir); err != nil {
		t.stopChildren()
		return err
	}
	t.printTable()
	return nil
}

func binaryPath(b string) (string, error) {
	if b == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("testnet: find the quorumchain binary: %w", err)
		}
		return exe, nil
	}
	abs, err := filepath.Abs(b)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("testnet: quorumchain binary: %w", err)
	}
	return abs, nil
}

func (t *Testnet) watchExit(c *child) {
	<-c.exited
	select {
	case t.exits <- c:
	default: // nobody reads: the launch is over
	}
}

// stopChildren stops the processes this Testnet started (used when the
// launch fails before the manifest is saved).
func (t *Testnet) stopChildren() {
	t.stopping.Store(true)
	for _, c := range t.children {
		c.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may be gone already
	}
	for _, c := range t.children {
		select {
		case <-c.exited:
		case <-time.After(stopGrace):
			c.cmd.Process.Kill() //nolint:errcheck // it may be gone already
			<-c.exited
		}
	}
}

// running returns the nodes started by this launch.
func (t *Testnet) running() []Node {
	var out []Node
	for _, n := range t.Manifest.Nodes {
		if n.PID > 0 {
			out = append(out, n)
		}
	}
	return out
}

// waitLive waits for the first final block after launch, or, when the
// running local validators hold no quorum, for the nodes to connect.
func (t *Testnet) waitLive(ctx context.Context, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nodes := t.running()
	if len(nodes) == 0 {
		return errors.New("testnet: no node to start")
	}
	local, total, err := t.Manifest.stakes(nodes)
	if err != nil {
		return err
	}
	if 3*local <= 2*total {
		t.WaitingForSigners = true
		if err := t.waitConnected(ctx, nodes); err != nil {
			return err
		}
		t.printWaiting(local, total)
		return nil
	}
	fmt.Fprintf(t.out, "waiting for the first final block ...\n")
	ev, err := t.waitFirstFinal(ctx, nodes[0])
	if err != nil {
		return err
	}
	t.First = ev
	t.LaunchToFinal = ev.FinalizedAt.Sub(t.LaunchedAt)
	t.StartToFinal = ev.FinalizedAt.Sub(t.StartedAt)
	t.printFirst()
	return nil
}

// stakes returns the stake of the local-signer validators among running
// and the total stake of all validators.
func (m *Manifest) stakes(running []Node) (local, total uint64, err error) {
	for _, n := range m.Nodes {
		s, err := strconv.ParseUint(n.Stake, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("testnet: %s: stake %q: %w", n.Name, n.Stake, err)
		}
		total += s
		if n.Signer != "remote" && slices.ContainsFunc(running, func(r Node) bool { return r.Name == n.Name }) {
			local += s
		}
	}
	return local, total, nil
}

// failure returns an error if a child exited (with its log's tail) or the
// context ended.
func (t *Testnet) failure(ctx context.Context, what string) error {
	select {
	case c := <-t.exits:
		return fmt.Errorf("testnet: %s exited while %s: %v; last lines of %s:\n%s",
			c.name, what, c.err, filepath.Join(t.Dir, c.name, LogFile), logTail(filepath.Join(t.Dir, c.name)))
	default:
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("testnet: gave up %s: %w", what, err)
	}
	return nil
}

// dialNode connects to a node's websocket RPC, retrying while it comes up.
func (t *Testnet) dialNode(ctx context.Context, n Node, what string) (*rpc.Client, error) {
	for {
		dctx, cancel := context.WithTimeout(ctx, rpcCallTimeout)
		c, err := rpc.Dial(dctx, n.RPC)
		cancel()
		if err == nil {
			return c, nil
		}
		if ferr := t.failure(ctx, what); ferr != nil {
			return nil, fmt.Errorf("%w (%s: %v)", ferr, n.Name, err)
		}
		sleepCtx(ctx, dialRetry)
	}
}

// waitFirstFinal subscribes to n's finalized blocks from the height after
// its stored one and returns the first.
func (t *Testnet) waitFirstFinal(ctx context.Context, n Node) (*rpc.FinalizedEvent, error) {
	const what = "waiting for the first final block"
	c, err := t.dialNode(ctx, n, what)
	if err != nil {
		return nil, err
	}
	defer c.Close() //nolint:errcheck // read only
	st, err := c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("testnet: %s: %w", n.Name, err)
	}
	// The first block may be final before this subscription: replay a
	// few recent heights and take the first finalized after launch.
	from := uint64(1)
	if !t.Generated && st.Height > replayHeights {
		from = st.Height - replayHeights
	}
	sub, err := c.Subscribe(ctx, rpc.TopicFinalized, nil, from)
	if err != nil {
		return nil, fmt.Errorf("testnet: %s: subscribe: %w", n.Name, err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case raw, ok := <-sub.Results():
			if !ok {
				return nil, fmt.Errorf("testnet: %s: subscription ended: %v", n.Name, <-sub.Err())
			}
			var ev rpc.FinalizedEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("testnet: %s: finalized event: %w", n.Name, err)
			}
			if !ev.FinalizedAt.Before(t.LaunchedAt) {
				return &ev, nil
			}
			continue // final before this launch
		case <-tick.C:
		case <-ctx.Done():
		}
		if err := t.failure(ctx, what); err != nil {
			return nil, err
		}
	}
}

// waitConnected waits until every running node has a peer connection to
// every other running node.
func (t *Testnet) waitConnected(ctx context.Context, nodes []Node) error {
	const what = "waiting for the nodes to connect"
	for _, n := range nodes {
		c, err := t.dialNode(ctx, n, what)
		if err != nil {
			return err
		}
		for {
			st, err := c.Status(ctx)
			if err == nil && st.Peers >= len(nodes)-1 {
				break
			}
			if ferr := t.failure(ctx, what); ferr != nil {
				c.Close() //nolint:errcheck // failing anyway
				return fmt.Errorf("%w (%s: %d peers of %d)", ferr, n.Name, peersOf(st), len(nodes)-1)
			}
			sleepCtx(ctx, dialRetry)
		}
		if err := c.Close(); err != nil && !errors.Is(err, rpc.ErrClientClosed) {
			return err
		}
	}
	return nil
}

func peersOf(st *rpc.StatusResult) int {
	if st == nil {
		return 0
	}
	return st.Peers
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Follow prints one line per finalized block until ctx is done (nil) or
// every node has stopped (an error). It follows the first running node
// and moves to another when that one goes away, resuming by height with no
// gap and no duplicate. It also reports nodes of this launch that exit.
func (t *Testnet) Follow(ctx context.Context) error {
	var next uint64 // the next height to print; 0: from the live tip
	if t.First != nil {
		next = t.First.Height + 1
	}
	idle := 0
	for ctx.Err() == nil {
		n, ok := t.followTarget()
		if !ok {
			idle++
			if idle >= followGiveUp {
				return errors.New("testnet: every node has stopped")
			}
			t.drainExits()
			sleepCtx(ctx, followBackoff)
			continue
		}
		idle = 0
		if err := t.followNode(ctx, n, &next); err != nil && ctx.Err() == nil {
			fmt.Fprintf(t.out, "lost %s (%v); following another node\n", n.Name, err)
		}
		sleepCtx(ctx, followBackoff)
	}
	return nil
}

// followTarget returns the first node of the manifest (reloaded: a node may
// have been restarted by another command) that runs.
func (t *Testnet) followTarget() (Node, bool) {
	m, err := LoadManifest(t.Dir)
	if err != nil {
		m = t.Manifest
	}
	for _, n := range m.Nodes {
		if nodeRunning(n.PID, n.Home) {
			return n, true
		}
	}
	return Node{}, false
}

func (t *Testnet) followNode(ctx context.Context, n Node, next *uint64) error {
	dctx, cancel := context.WithTimeout(ctx, rpcCallTimeout)
	c, err := rpc.Dial(dctx, n.RPC)
	cancel()
	if err != nil {
		return err
	}
	defer c.Close() //nolint:errcheck // read only
	sub, err := c.Subscribe(ctx, rpc.TopicFinalized, nil, *next)
	if err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ch := <-t.exits:
			t.printExit(ch)
		case raw, ok := <-sub.Results():
			if !ok {
				return <-sub.Err()
			}
			var ev rpc.FinalizedEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return fmt.Errorf("finalized event: %w", err)
			}
			if ev.Height < *next {
				continue
			}
			fmt.Fprintln(t.out, t.blockLine(&ev))
			*next = ev.Height + 1
		}
	}
}

func (t *Testnet) drainExits() {
	for {
		select {
		case c := <-t.exits:
			t.printExit(c)
		default:
			return
		}
	}
}

func (t *Testnet) printExit(c *child) {
	if t.stopping.Load() {
		return
	}
	fmt.Fprintf(t.out, "%s (pid %d) exited: %v (log: %s)\n", c.name, c.cmd.Process.Pid, c.err, filepath.Join(t.Dir, c.name, LogFile))
}

// Stop stops every node of the testnet (Stop(t.Dir)).
func (t *Testnet) Stop() ([]Stopped, error) {
	t.stopping.Store(true)
	return Stop(t.Dir)
}

// Stopped reports one node that Stop stopped.
type Stopped struct {
	Name string
	PID  int
	// Killed is true when the node ignored SIGTERM for the grace period
	// and was killed.
	Killed bool
}

// Stop stops every running node of the testnet in dir: SIGTERM to each
// recorded PID, a grace period to exit cleanly, SIGKILL for stragglers.
// It records pid 0 for every node it stopped.
func Stop(dir string) ([]Stopped, error) {
	var out []Stopped
	var errs []error
	_, err := updateManifest(dir, func(m *Manifest) error {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range m.Nodes {
			n := &m.Nodes[i]
			if n.PID == 0 {
				continue
			}
			wg.Go(func() {
				killed, err := stopProcess(n.PID, n.Home, stopGrace)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
					return
				}
				out = append(out, Stopped{Name: n.Name, PID: n.PID, Killed: killed})
				n.PID = 0
			})
		}
		wg.Wait()
		return nil
	})
	slices.SortFunc(out, func(a, b Stopped) int { return cmpNames(a.Name, b.Name) })
	return out, errors.Join(append(errs, err)...)
}

// cmpNames orders node names like node2 < node10.
func cmpNames(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Kill kills node name of the testnet in dir with SIGKILL (a crash, for
// fault injection), waits until it is gone and records pid 0. It returns
// the PID it killed.
func Kill(dir, name string) (int, error) {
	var pid int
	_, err := updateManifest(dir, func(m *Manifest) error {
		n, err := m.Node(name)
		if err != nil {
			return err
		}
		sent, err := signalNode(n.PID, n.Home, syscall.SIGKILL)
		if err != nil {
			return err
		}
		if !sent {
			n.PID = 0
			return fmt.Errorf("testnet: %s is %w", name, ErrNotRunning)
		}
		if !waitGone(n.PID, n.Home, killGrace) {
			return fmt.Errorf("testnet: %s (pid %d) survives SIGKILL", name, n.PID)
		}
		pid, n.PID = n.PID, 0
		return nil
	})
	return pid, err
}

// Restart starts node name of the testnet in dir again (stopping it
// first if it runs), records its new PID and waits, up to ctx and a bound,
// until its RPC answers. binary is the quorumchain binary; empty: this
// executable. The node is not tied to ctx: it runs until stopped.
func Restart(ctx context.Context, dir, name, binary string) (int, error) {
	binary, err := binaryPath(binary)
	if err != nil {
		return 0, err
	}
	var c *child
	m, err := updateManifest(dir, func(m *Manifest) error {
		n, err := m.Node(name)
		if err != nil {
			return err
		}
		if _, err := stopProcess(n.PID, n.Home, stopGrace); err != nil {
			return err
		}
		if c, err = spawnNode(binary, n.Name, n.Home); err != nil {
			n.PID = 0
			return err
		}
		n.PID = c.cmd.Process.Pid
		return nil
	})
	if err != nil {
		return 0, err
	}
	n, err := m.Node(name)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, restartRPCReady)
	defer cancel()
	hc, err := rpc.Dial(ctx, n.HTTP)
	if err != nil {
		return n.PID, err
	}
	for {
		cctx, ccancel := context.WithTimeout(ctx, rpcCallTimeout)
		_, err := hc.Status(cctx)
		ccancel()
		if err == nil {
			return n.PID, nil
		}
		select {
		case <-c.exited:
			return 0, fmt.Errorf("testnet: %s exited after restart: %v; last lines of %s:\n%s",
				name, c.err, filepath.Join(n.Home, LogFile), logTail(n.Home))
		case <-ctx.Done():
			return n.PID, fmt.Errorf("testnet: %s (pid %d) started but its RPC does not answer: %w", name, n.PID, err)
		case <-time.After(dialRetry):
		}
	}
}

// NodeStatus is one node in Status.
type NodeStatus struct {
	Node
	Running bool   `json:"running"`
	Height  uint64 `json:"height"`
	Peers   int    `json:"peers"`
	Syncing bool   `json:"syncing"`
	// Error says why the RPC did not answer a running node.
	Error string `json:"error,omitempty"`
}

// Status reports, for each node of the testnet in dir, whether its
// recorded PID runs, and its height and peers from its RPC.
func Status(ctx context.Context, dir string) ([]NodeStatus, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	out := make([]NodeStatus, len(m.Nodes))
	var wg sync.WaitGroup
	for i, n := range m.Nodes {
		out[i] = NodeStatus{Node: n, Running: nodeRunning(n.PID, n.Home)}
		if !out[i].Running {
			out[i].PID = 0
			continue
		}
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, rpcCallTimeout)
			defer cancel()
			c, err := rpc.Dial(cctx, n.HTTP)
			if err == nil {
				var st *rpc.StatusResult
				if st, err = c.Status(cctx); err == nil {
					out[i].Height, out[i].Peers, out[i].Syncing = st.Height, st.Peers, st.Syncing
				}
			}
			if err != nil {
				out[i].Error = err.Error()
			}
		})
	}
	wg.Wait()
	return out, nil
}
