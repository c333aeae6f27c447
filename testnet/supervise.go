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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/staking"
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
	// Netns, when set, generates a netns testnet: each node in a network
	// namespace of its own (see netns.go). A netns testnet is resumed as
	// one without it.
	Netns *NetnsOptions
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
	fmt.Fprintln(t.out, "stopping the nodes ...")
	stopped, serr := t.Stop()
	for _, s := range stopped {
		how := "stopped"
		if s.Killed {
			how = "killed (ignored SIGTERM)"
		}
		fmt.Fprintf(t.out, "%s %s (pid %d)\n", how, s.Name, s.PID)
	}
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
		if err := m.checkLocal(t.Dir); err != nil {
			return err
		}
		if opts.Netns != nil && m.Kind != KindNetns {
			return fmt.Errorf("testnet: %s holds a testnet on 127.0.0.1; --netns needs a new directory", t.Dir)
		}
		for _, n := range m.Nodes {
			if nodeRunning(n.PID, n.Home) {
				return fmt.Errorf("testnet: %s in %s is %w (pid %d): stop it first with 'quorumchain testnet stop --dir %s'",
					n.Name, t.Dir, ErrRunning, n.PID, t.Dir)
			}
		}
	case errors.Is(err, os.ErrNotExist):
		if m, err = generateLocal(t.Dir, opts); err != nil {
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
	if m.Netns != nil {
		if err := netnsUp(context.Background(), m); err != nil {
			return err
		}
		for i := range m.Nodes {
			m.Nodes[i].Cut = false
		}
	}
	t.LaunchedAt = time.Now()
	for i := range m.Nodes {
		n := &m.Nodes[i]
		n.PID = 0
		if len(opts.Nodes) > 0 && !slices.Contains(opts.Nodes, n.Name) {
			continue
		}
		c, err := spawnNode(binary, *n)
		if err != nil {
			t.stopChildren()
			return errors.Join(err, t.netnsDownAfterFailure(m))
		}
		n.PID = c.cmd.Process.Pid
		t.children = append(t.children, c)
		go t.watchExit(c)
	}
	if err := m.Save(t.Dir); err != nil {
		t.stopChildren()
		return errors.Join(err, t.netnsDownAfterFailure(m))
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
	if !staking.HasQuorum(local, total) {
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
	switch {
	case t.First != nil:
		next = t.First.Height + 1
	case t.Generated:
		next = 1 // a new chain waiting for its remote signers
	}
	idle := 0
	for ctx.Err() == nil {
		n, ok, stopped := t.followTarget()
		if !ok {
			idle++
			if idle >= followGiveUp {
				t.drainExits()
				if stopped {
					fmt.Fprintln(t.out, "every node was stopped ('quorumchain testnet stop')")
					return nil
				}
				return fmt.Errorf("testnet: every node has exited (logs: %s)", filepath.Join(t.Dir, "nodeN", LogFile))
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
// have been restarted by another command) that runs. When none runs,
// stopped reports whether they were all stopped through the manifest
// (every pid 0) rather than having exited.
func (t *Testnet) followTarget() (n Node, ok, stopped bool) {
	m, err := LoadManifest(t.Dir)
	if err != nil {
		m = t.Manifest
	}
	stopped = true
	for _, n := range m.Nodes {
		if nodeRunning(n.PID, n.Home) {
			return n, true, false
		}
		if n.PID != 0 {
			stopped = false
		}
	}
	return Node{}, false, stopped
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
	if c.err == nil {
		fmt.Fprintf(t.out, "%s (pid %d) stopped\n", c.name, c.cmd.Process.Pid)
		return
	}
	fmt.Fprintf(t.out, "%s (pid %d) exited: %v (log: %s)\n", c.name, c.cmd.Process.Pid, c.err, filepath.Join(t.Dir, c.name, LogFile))
}

// Stop stops every node of the testnet (Stop(t.Dir)).
func (t *Testnet) Stop() ([]Stopped, error) {
	t.stopping.Store(true)
	return Stop(t.Dir)
}
