package testnet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/node"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/testnet"
	"github.com/quorumchain/quorumchain/validator"
)

// Shared bounds of the end-to-end tests: every wait has one.
const (
	pollEvery   = 25 * time.Millisecond
	callTimeout = 3 * time.Second
)

// binary is the quorumchain binary built once by TestMain.
var binary string

// fastConsensus is the testnet consensus with an empty block every
// interval, so that tests see many heights quickly without burning the
// machine's two cores.
func fastConsensus(interval time.Duration) *node.ConsensusConfig {
	c := testnet.ConsensusDefaults()
	c.EmptyBlockInterval = node.Duration(interval)
	return &c
}

// launch starts a testnet in a new temporary directory and stops every
// node at the end of the test, checking that no process is left behind.
func launch(t *testing.T, ctx context.Context, opts testnet.StartOptions) *testnet.Testnet {
	t.Helper()
	dir := t.TempDir()
	opts.Binary = binary
	opts.Detach = true
	if opts.Generate.Validators == 0 {
		opts.Generate.Validators = 4
	}
	opts.Out = newTestWriter(t)
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	tn, err := testnet.Start(ctx, dir, opts)
	if err != nil {
		stopAll(t, dir)
		t.Fatalf("start testnet: %v", err)
	}
	t.Cleanup(func() { stopAll(t, dir) })
	if tn.First != nil {
		t.Logf("launch→first final block %v, start→first final block %v (generation %v)", tn.LaunchToFinal, tn.StartToFinal, tn.Generation)
	}
	return tn
}

// stopAll stops the testnet in dir and checks that every PID it ever
// recorded is gone.
func stopAll(t *testing.T, dir string) {
	t.Helper()
	m, err := testnet.LoadManifest(dir)
	if err != nil {
		return // never generated
	}
	pids := map[string]int{}
	for _, n := range m.Nodes {
		if n.PID > 0 {
			pids[n.Name] = n.PID
		}
	}
	if _, err := testnet.Stop(dir); err != nil {
		t.Errorf("stop testnet: %v", err)
	}
	for name, pid := range pids {
		if processAlive(pid) {
			t.Errorf("%s (pid %d) still runs after stop", name, pid)
		}
	}
	if t.Failed() {
		dumpLogs(t, m)
	}
}

// processAlive reports whether pid is a live process (zombies are dead).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

// dumpLogs prints the tail of every node's log into the test output.
func dumpLogs(t *testing.T, m *testnet.Manifest) {
	t.Helper()
	for _, n := range m.Nodes {
		b, err := os.ReadFile(filepath.Join(n.Home, testnet.LogFile))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		t.Logf("---- %s log (last 40 lines):\n%s", n.Name, strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}

// testWriter logs whole lines into the test output.
type testWriter struct {
	t   *testing.T
	mu  *sync.Mutex
	buf *[]byte
}

func newTestWriter(t *testing.T) testWriter {
	return testWriter{t: t, mu: new(sync.Mutex), buf: new([]byte)}
}

func (w testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	*w.buf = append(*w.buf, p...)
	for {
		i := bytes.IndexByte(*w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Log(string((*w.buf)[:i]))
		*w.buf = (*w.buf)[i+1:]
	}
}

// dial connects to a node's websocket RPC; the connection closes with the
// test.
func dial(t *testing.T, ctx context.Context, n testnet.Node) *rpc.Client {
	t.Helper()
	dctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c, err := rpc.Dial(dctx, n.RPC)
	if err != nil {
		t.Fatalf("dial %s: %v", n.Name, err)
	}
	t.Cleanup(func() { c.Close() }) //nolint:errcheck // test teardown
	return c
}

// height returns a node's latest final height, or an error.
func height(ctx context.Context, n testnet.Node) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c, err := rpc.Dial(cctx, n.HTTP)
	if err != nil {
		return 0, err
	}
	st, err := c.Status(cctx)
	if err != nil {
		return 0, err
	}
	return st.Height, nil
}

// waitHeight waits until n's final height is at least h and returns it.
func waitHeight(t *testing.T, ctx context.Context, n testnet.Node, h uint64, within time.Duration) uint64 {
	t.Helper()
	deadline := time.Now().Add(within)
	var got uint64
	var err error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if got, err = height(ctx, n); err == nil && got >= h {
			return got
		}
		time.Sleep(pollEvery)
	}
	t.Fatalf("%s: height %d (err %v) after %v, want >= %d", n.Name, got, err, within, h)
	return 0
}

// blockHashes returns a node's block hash for each height in [from, to].
func blockHashes(t *testing.T, ctx context.Context, n testnet.Node, from, to uint64) []chain.Hash {
	t.Helper()
	c := dial(t, ctx, n)
	out := make([]chain.Hash, 0, to-from+1)
	for h := from; h <= to; h++ {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		b, err := c.Block(cctx, h)
		cancel()
		if err != nil {
			t.Fatalf("%s: block %d: %v", n.Name, h, err)
		}
		if b.Header.Height != h {
			t.Fatalf("%s: block %d has height %d", n.Name, h, b.Header.Height)
		}
		out = append(out, b.Header.Hash)
	}
	return out
}

// checkSameChain checks that every node has the same block hash at every
// height in [1, to].
func checkSameChain(t *testing.T, ctx context.Context, nodes []testnet.Node, to uint64) {
	t.Helper()
	want := blockHashes(t, ctx, nodes[0], 1, to)
	for _, n := range nodes[1:] {
		got := blockHashes(t, ctx, n, 1, to)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("height %d: %s has block %s, %s has %s: conflicting final blocks",
					i+1, n.Name, chain.FormatHash(got[i]), nodes[0].Name, chain.FormatHash(want[i]))
			}
		}
	}
}

// finalized subscribes to a node's finalized events from height from.
func finalized(t *testing.T, ctx context.Context, n testnet.Node, from uint64) *rpc.Subscription {
	t.Helper()
	c := dial(t, ctx, n)
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	sub, err := c.Subscribe(cctx, rpc.TopicFinalized, nil, from)
	if err != nil {
		t.Fatalf("%s: subscribe finalized from %d: %v", n.Name, from, err)
	}
	return sub
}

// nextFinalized returns the next finalized event of sub, or fails after
// within.
func nextFinalized(t *testing.T, sub *rpc.Subscription, within time.Duration) rpc.FinalizedEvent {
	t.Helper()
	ev, ok := tryFinalized(t, sub, within)
	if !ok {
		t.Fatalf("no finalized event within %v", within)
	}
	return ev
}

// tryFinalized returns the next finalized event of sub, or false after
// within.
func tryFinalized(t *testing.T, sub *rpc.Subscription, within time.Duration) (rpc.FinalizedEvent, bool) {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case raw, ok := <-sub.Results():
		if !ok {
			t.Fatalf("finalized subscription ended: %v", <-sub.Err())
		}
		var ev rpc.FinalizedEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("finalized event %s: %v", raw, err)
		}
		return ev, true
	case <-timer.C:
		return rpc.FinalizedEvent{}, false
	}
}

// checkCertificate checks that a finalized event's certificate carries
// more than two thirds of the stake.
func checkCertificate(t *testing.T, ev rpc.FinalizedEvent) {
	t.Helper()
	c := ev.Certificate
	if 3*uint64(c.SignedStake) <= 2*uint64(c.TotalStake) || len(c.Signers) == 0 {
		t.Fatalf("height %d: certificate signed %d of %d by %d signers: not more than two thirds",
			ev.Height, c.SignedStake, c.TotalStake, len(c.Signers))
	}
}

// awaitSigner waits for a finalized block whose certificate counts addr,
// following sub; it returns that event.
func awaitSigner(t *testing.T, sub *rpc.Subscription, addr chain.Address, within time.Duration) rpc.FinalizedEvent {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("no final block signed by %s within %v", chain.FormatAddress(addr), within)
		}
		ev := nextFinalized(t, sub, left)
		checkCertificate(t, ev)
		for _, s := range ev.Certificate.Signers {
			if s == addr {
				return ev
			}
		}
	}
}

func mustAddress(t *testing.T, s string) chain.Address {
	t.Helper()
	a, err := chain.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// signerState reads a node's data/signer_state.json.
func signerState(t *testing.T, n testnet.Node) validator.LastSigned {
	t.Helper()
	l, err := validator.FileState{Path: node.Home(n.Home).SignerStatePath()}.Load()
	if err != nil {
		t.Fatalf("%s: %v", n.Name, err)
	}
	return l
}

// hrsBefore reports whether a was signed strictly before b.
func hrsBefore(a, b validator.LastSigned) bool {
	if a.Height != b.Height {
		return a.Height < b.Height
	}
	if a.Round != b.Round {
		return a.Round < b.Round
	}
	return a.Step < b.Step
}

// grepLogs returns the log lines of the nodes that contain s.
func grepLogs(t *testing.T, nodes []testnet.Node, s string) []string {
	t.Helper()
	var out []string
	for _, n := range nodes {
		b, err := os.ReadFile(filepath.Join(n.Home, testnet.LogFile))
		if err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, s) {
				out = append(out, n.Name+": "+line)
			}
		}
	}
	return out
}

// checkNoDoubleSign checks that no node detected a double sign and that
// the validator set still holds every validator with its full stake.
func checkNoDoubleSign(t *testing.T, ctx context.Context, m *testnet.Manifest) {
	t.Helper()
	if lines := grepLogs(t, m.Nodes, "double sign detected"); len(lines) > 0 {
		t.Fatalf("double signing detected:\n%s", strings.Join(lines, "\n"))
	}
	c := dial(t, ctx, m.Nodes[0])
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	vs, err := c.Validators(cctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stakes := map[chain.Address]uint64{}
	for _, v := range vs.Validators {
		stakes[v.Address] = uint64(v.Stake)
	}
	for _, n := range m.Nodes {
		if got := fmt.Sprint(stakes[mustAddress(t, n.Validator)]); got != n.Stake {
			t.Fatalf("validator %s (%s) has stake %s at height %d, want %s: slashed or jailed", n.Name, n.Validator, got, vs.Height, n.Stake)
		}
	}
}

// hasCommand reports whether the built binary has a command (others are
// added concurrently).
func hasCommand(name string) bool {
	return exec.Command(binary, name, "--help").Run() == nil
}

// runCLI runs the binary with args, bounded by within, and returns its
// stdout; it fails the test on a non-zero exit.
func runCLI(t *testing.T, ctx context.Context, within time.Duration, args ...string) string {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	cmd := exec.CommandContext(cctx, binary, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("quorumchain %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
