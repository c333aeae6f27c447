package hosttest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/node"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/testnet"
)

// Bounds of every wait in this package.
const (
	pollEvery   = 50 * time.Millisecond
	callTimeout = 3 * time.Second
	buildBound  = 5 * time.Minute
)

// need skips the test, or under CI=true fails it, when ok is false.
func need(t *testing.T, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: .ci/run must provide it, so this test fails instead of skipping)", why)
	}
	t.Skip(why)
}

// needNetns requires what a netns testnet needs.
func needNetns(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no netns testnet")
	}
	need(t, runtime.GOOS == "linux", "network namespaces need Linux, this is "+runtime.GOOS)
	need(t, os.Geteuid() == 0, fmt.Sprintf("network namespaces need root, running as uid %d", os.Geteuid()))
	_, err := exec.LookPath("ip")
	need(t, err == nil, "network namespaces need the ip command (iproute2)")
}

// repoRoot is the module root, two directories up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var static struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// staticBinary builds the static quorumchain once per test run with the
// Makefile's own recipe (make static) and returns its path.
func staticBinary(t *testing.T) string {
	t.Helper()
	static.once.Do(func() {
		static.dir, static.err = os.MkdirTemp("", "quorumchain-hosttest-")
		if static.err != nil {
			return
		}
		static.path = filepath.Join(static.dir, "quorumchain")
		ctx, cancel := context.WithTimeout(context.Background(), buildBound)
		defer cancel()
		out, err := exec.CommandContext(ctx, "make", "-C", repoRoot(t), "--no-print-directory", "static", "STATIC="+static.path).CombinedOutput()
		if err != nil {
			static.err = fmt.Errorf("make static: %w\n%s", err, out)
		}
	})
	if static.err != nil {
		t.Fatal(static.err)
	}
	return static.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if static.dir != "" {
		os.RemoveAll(static.dir) //nolint:errcheck // a temporary directory
	}
	os.Exit(code)
}

// cli runs the quorumchain binary and returns its stdout; it fails the
// test on a non-zero exit.
func cli(t *testing.T, ctx context.Context, bin string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("quorumchain %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// fastConsensus makes an empty block every interval, so that progress and
// its absence show within seconds.
func fastConsensus(interval time.Duration) *node.ConsensusConfig {
	c := testnet.ConsensusDefaults()
	c.EmptyBlockInterval = node.Duration(interval)
	return &c
}

// status asks a node's RPC for its status.
func status(ctx context.Context, n testnet.Node) (*rpc.StatusResult, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c, err := rpc.Dial(ctx, n.HTTP)
	if err != nil {
		return nil, err
	}
	defer c.Close() //nolint:errcheck // HTTP client
	return c.Status(ctx)
}

// waitHeight waits until node n's final height is at least h and returns
// it; it fails the test after bound.
func waitHeight(t *testing.T, ctx context.Context, n testnet.Node, h uint64, bound time.Duration) uint64 {
	t.Helper()
	deadline := time.Now().Add(bound)
	var last error
	var got uint64
	for time.Now().Before(deadline) {
		st, err := status(ctx, n)
		if err == nil {
			if got = st.Height; got >= h {
				return got
			}
		}
		last = err
		time.Sleep(pollEvery)
	}
	t.Fatalf("%s: height %d after %v, want at least %d (last error: %v)", n.Name, got, bound, h, last)
	return 0
}

// blockHash returns the hash of the final block at height h on node n.
func blockHash(ctx context.Context, n testnet.Node, h uint64) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c, err := rpc.Dial(ctx, n.HTTP)
	if err != nil {
		return "", err
	}
	defer c.Close() //nolint:errcheck // HTTP client
	b, err := c.Block(ctx, h)
	if err != nil {
		return "", err
	}
	return chain.FormatHash(b.Header.Hash), nil
}

// checkAgreement fails the test if two nodes hold different blocks at a
// height from 1 to h.
func checkAgreement(t *testing.T, ctx context.Context, nodes []testnet.Node, h uint64) {
	t.Helper()
	for height := uint64(1); height <= h; height++ {
		want, err := blockHash(ctx, nodes[0], height)
		if err != nil {
			t.Fatalf("%s: block %d: %v", nodes[0].Name, height, err)
		}
		for _, n := range nodes[1:] {
			got, err := blockHash(ctx, n, height)
			if err != nil {
				t.Fatalf("%s: block %d: %v", n.Name, height, err)
			}
			if got != want {
				t.Fatalf("conflicting blocks at height %d: %s has %s, %s has %s", height, n.Name, got, nodes[0].Name, want)
			}
		}
	}
}

// testWriter logs whole lines into the test output (writers such as
// tabwriter deliver a line in pieces).
type testWriter struct {
	t   *testing.T
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func newTestWriter(t *testing.T) testWriter {
	return testWriter{t: t, mu: new(sync.Mutex), buf: new(bytes.Buffer)}
}

func (w testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil { // no newline yet: keep the piece
			w.buf.Reset()
			w.buf.WriteString(line)
			return len(p), nil
		}
		w.t.Log(strings.TrimRight(line, "\n"))
	}
}
