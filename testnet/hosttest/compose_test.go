package hosttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/testnet"
)

// Bounds of the compose test.
const (
	dockerCmdBound = 2 * time.Minute
	composeReady   = 30 * time.Second
	txBound        = 30 * time.Second
)

// needCompose requires a running docker daemon and a compose command; it
// returns the compose command (docker-compose v1, else docker compose v2).
func needCompose(t *testing.T) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no compose testnet")
	}
	_, err := exec.LookPath("docker")
	need(t, err == nil, "the compose test needs docker (apt-get install docker.io)")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	need(t, err == nil, fmt.Sprintf("the compose test needs a running docker daemon: %v: %s", err, bytes.TrimSpace(out)))
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	err = exec.CommandContext(ctx, "docker", "compose", "version").Run()
	need(t, err == nil, "the compose test needs docker-compose (v1) or the docker compose plugin (v2)")
	return []string{"docker", "compose"}
}

// run runs a command with a bound and returns its combined output; it
// fails the test on error.
func run(t *testing.T, ctx context.Context, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, dockerCmdBound)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestComposeTransfer builds the image, brings up a 4-validator compose
// testnet, follows its finalized blocks from the host, submits a transfer
// that finalizes, and brings the testnet down with no container or network
// left.
func TestComposeTransfer(t *testing.T) {
	compose := needCompose(t)
	t.Parallel()
	bin := staticBinary(t)
	ctx := t.Context()
	suffix := fmt.Sprintf("%08x", rand.Uint32())
	image, project := "quorumchain:hosttest-"+suffix, "qchosttest"+suffix

	// The image, from the static binary (the build context is its
	// directory and nothing else).
	start := time.Now()
	run(t, ctx, "docker", "build", "-q", "-t", image, "-f", filepath.Join(repoRoot(t), "Dockerfile"), filepath.Dir(bin))
	t.Cleanup(func() {
		out, err := exec.Command("docker", "rmi", "-f", image).CombinedOutput()
		if err != nil {
			t.Errorf("docker rmi %s: %v: %s", image, err, out)
		}
	})
	t.Logf("image %s built in %v", image, time.Since(start).Round(time.Millisecond))
	user := strings.TrimSpace(run(t, ctx, "docker", "image", "inspect", "--format", "{{.Config.User}}", image))
	if user == "" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root") {
		t.Fatalf("image user %q: want a non-root user", user)
	}

	dir := t.TempDir()
	cli(t, ctx, bin, "testnet", "compose", "--dir", dir, "-n", "4", "--base-port", "0", "--image", image)
	m, err := testnet.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, testnet.ComposeFile)
	composeArgs := func(args ...string) []string {
		return append(append(append([]string{}, compose[1:]...), "-p", project, "-f", file), args...)
	}
	t.Cleanup(func() { composeDown(t, compose, composeArgs, project) })

	up := time.Now()
	run(t, ctx, compose[0], composeArgs("up", "-d")...)
	c := dialRetry(t, ctx, m.Nodes[0], composeReady)
	defer c.Close() //nolint:errcheck // read only
	sub, err := c.Subscribe(ctx, rpc.TopicFinalized, nil, 1)
	if err != nil {
		t.Fatalf("subscribe to finalized: %v", err)
	}
	first := nextFinalized(t, sub, composeReady)
	t.Logf("compose up → first final block (height %d): %v", first.Height, first.FinalizedAt.Sub(up).Round(time.Millisecond))

	// A transfer from the faucet, submitted through another node.
	to := "0x00000000000000000000000000000000000000c0"
	out := cli(t, ctx, bin, "transfer", "--rpc", m.Nodes[1].RPC, "--from", m.Faucet.Key, "--password-file", m.PasswordFile,
		"--to", to, "--amount", "7", "--wait", "--output", "json")
	var receipt struct {
		Hash   string  `json:"hash"`
		Status string  `json:"status"`
		Height *uint64 `json:"height"`
	}
	if err := json.Unmarshal([]byte(out), &receipt); err != nil {
		t.Fatalf("transfer receipt %q: %v", out, err)
	}
	if receipt.Status != "final" || receipt.Height == nil {
		t.Fatalf("transfer %s: status %q at height %v, want final", receipt.Hash, receipt.Status, receipt.Height)
	}
	deadline := time.Now().Add(txBound)
	for {
		ev := nextFinalized(t, sub, time.Until(deadline))
		if ev.Height < *receipt.Height {
			continue
		}
		if ev.Height != *receipt.Height || ev.TxCount < 1 {
			t.Fatalf("finalized event at height %d with %d txs, want height %d with the transfer", ev.Height, ev.TxCount, *receipt.Height)
		}
		break
	}
}

// composeDown brings the project down and fails the test if any of its
// containers or networks remains.
func composeDown(t *testing.T, compose []string, composeArgs func(...string) []string, project string) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerCmdBound)
	defer cancel()
	if out, err := exec.CommandContext(ctx, compose[0], composeArgs("down", "--remove-orphans", "--timeout", "10")...).CombinedOutput(); err != nil {
		t.Errorf("compose down: %v\n%s", err, out)
	}
	label := "label=com.docker.compose.project=" + project
	for _, what := range [][]string{{"ps", "-aq", "--filter", label}, {"network", "ls", "-q", "--filter", label}} {
		out, err := exec.CommandContext(ctx, "docker", what...).CombinedOutput()
		if err != nil {
			t.Errorf("docker %s: %v: %s", strings.Join(what, " "), err, out)
			continue
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("left after compose down (docker %s): %s", strings.Join(what, " "), s)
		}
	}
}

// dialRetry connects to a node's websocket RPC, retrying while its
// container starts.
func dialRetry(t *testing.T, ctx context.Context, n testnet.Node, bound time.Duration) *rpc.Client {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		dctx, cancel := context.WithTimeout(ctx, callTimeout)
		c, err := rpc.Dial(dctx, n.RPC)
		cancel()
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: RPC %s does not answer after %v: %v", n.Name, n.RPC, bound, err)
		}
		time.Sleep(pollEvery)
	}
}

// nextFinalized returns the next finalized event of sub.
func nextFinalized(t *testing.T, sub *rpc.Subscription, bound time.Duration) rpc.FinalizedEvent {
	t.Helper()
	select {
	case raw, ok := <-sub.Results():
		if !ok {
			t.Fatalf("finalized subscription ended: %v", <-sub.Err())
		}
		var ev rpc.FinalizedEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("finalized event %s: %v", raw, err)
		}
		return ev
	case <-time.After(bound):
		t.Fatalf("no finalized event within %v", bound)
	}
	return rpc.FinalizedEvent{}
}
