package testnet_test

// End-to-end tests: real node processes on 127.0.0.1 with free ports,
// driven through the testnet package, the RPC client and the CLI. They
// run one after another (the machine has two cores) and every wait is
// bounded. Skipped with -short.
//
// QUORUM_E2E_LATE_HEIGHTS sets how far ahead the chain is before the late
// node of TestLateNodeCatchesUp starts (default 5000).

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/node"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/testnet"
	"github.com/quorumchain/quorumchain/validator"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("testnet: end-to-end tests skipped in -short mode")
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "quorumchain-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "quorumchain")
	build := exec.Command("go", "build", "-o", binary, "github.com/quorumchain/quorumchain/cmd/quorumchain")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "testnet: build quorumchain:", err)
		os.RemoveAll(dir) //nolint:errcheck // failing anyway
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir) //nolint:errcheck // temp dir
	os.Exit(code)
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: real processes")
	}
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// a. Four validators finalize; every node has the same block at every
// height; a websocket subscriber receives every finalized event in order,
// each with a certificate over two thirds of the stake.
func TestFourValidatorsFinalize(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 60*time.Second)
	tn := launch(t, ctx, testnet.StartOptions{Generate: testnet.Options{Validators: 4, Consensus: fastConsensus(100 * time.Millisecond)}})
	if tn.First == nil || tn.First.Height != 1 {
		t.Fatalf("first final block %+v, want height 1", tn.First)
	}
	const heights = 8
	sub := finalized(t, ctx, tn.Manifest.Nodes[0], 1)
	for h := uint64(1); h <= heights; h++ {
		ev := nextFinalized(t, sub, 10*time.Second)
		if ev.Height != h {
			t.Fatalf("finalized event for height %d, want %d: out of order or missing", ev.Height, h)
		}
		checkCertificate(t, ev)
	}
	for _, n := range tn.Manifest.Nodes[1:] {
		waitHeight(t, ctx, n, heights, 10*time.Second)
	}
	checkSameChain(t, ctx, tn.Manifest.Nodes, heights)

	// An open loop in JSON-RPC batches, never more than a window ahead of
	// finality: every admitted transfer ends final and accepted.
	rep, err := testnet.Bench(ctx, testnet.BenchOptions{Dir: tn.Dir, Duration: 2 * time.Second, Batch: 8, Window: 400,
		Accounts: 40, Conns: 4, Drain: 20 * time.Second})
	if err != nil {
		t.Fatalf("batched bench: %v", err)
	}
	if rep.Submitted == 0 || rep.Finalized != rep.Submitted || rep.Rejected != 0 || rep.Batch != 8 || rep.Window != 400 {
		t.Fatalf("batched bench: submitted %d, finalized %d, rejected %d, refused %d, batch %d, window %d; want all submitted final and accepted in batches of 8 under a window of 400",
			rep.Submitted, rep.Finalized, rep.Rejected, rep.Refused, rep.Batch, rep.Window)
	}
	t.Logf("batched bench: %.0f tx/s, %d finalized, p50 %.1f ms", rep.TxPerSec, rep.Finalized, rep.LatencyMs.P50)

	// The peer traffic is on /metrics. In a full mesh every relayed batch
	// reaches peers that have it already: they drop the copy unread.
	ms, err := testnet.ReadMetrics(ctx, tn.Manifest.Nodes[1])
	if err != nil {
		t.Fatal(err)
	}
	traffic := map[string]float64{}
	for _, name := range []string{"quorumchain_p2p_messages_sent_total", "quorumchain_p2p_messages_received_total",
		"quorumchain_p2p_sent_bytes_total", "quorumchain_p2p_received_bytes_total", "quorumchain_p2p_duplicates_dropped_total"} {
		v, ok := ms.Value(name)
		if !ok || v <= 0 {
			t.Fatalf("node1 %s = %v (present %v), want a positive count after the load", name, v, ok)
		}
		traffic[name] = v
	}
	if traffic["quorumchain_p2p_duplicates_dropped_total"] >= traffic["quorumchain_p2p_messages_received_total"] ||
		traffic["quorumchain_p2p_received_bytes_total"] < traffic["quorumchain_p2p_messages_received_total"] {
		t.Fatalf("node1 peer traffic %v: duplicates must be a part of the messages, and bytes at least one a message", traffic)
	}
	t.Logf("node1 peer traffic: %v", traffic)
}

// b. Kill -9 one of four equal validators: the other three keep
// finalizing. Restarted, it catches up by block sync, votes again and
// never double-signs.
func TestKilledValidatorRecovers(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 90*time.Second)
	tn := launch(t, ctx, testnet.StartOptions{Generate: testnet.Options{Validators: 4, Consensus: fastConsensus(100 * time.Millisecond)}})
	nodes := tn.Manifest.Nodes
	victim := nodes[2]
	waitHeight(t, ctx, victim, 3, 10*time.Second)

	if _, err := testnet.Kill(tn.Dir, victim.Name); err != nil {
		t.Fatal(err)
	}
	if processAlive(victim.PID) {
		t.Fatalf("%s (pid %d) survives kill", victim.Name, victim.PID)
	}
	before := signerState(t, victim)
	atKill, err := height(ctx, nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	// The other three (75% of the stake) go on.
	for _, n := range []testnet.Node{nodes[0], nodes[1], nodes[3]} {
		waitHeight(t, ctx, n, atKill+5, 15*time.Second)
	}

	restartAt := time.Now()
	pid, err := testnet.Restart(ctx, tn.Dir, victim.Name, binary)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s restarted as pid %d", victim.Name, pid)
	sub := finalized(t, ctx, nodes[0], 0)
	atTip := waitAtTip(t, ctx, victim, nodes[0], 20*time.Second)
	t.Logf("restart→tip: %v (%s at height %d)", atTip.Sub(restartAt), victim.Name, mustHeight(t, ctx, victim))
	ev := awaitSigner(t, sub, mustAddress(t, victim.Validator), 20*time.Second)
	t.Logf("restart→voting: %v (%s signs the certificate of height %d)", time.Since(restartAt), victim.Name, ev.Height)

	after := signerState(t, victim)
	if hrsBefore(after, before) || after == before {
		t.Fatalf("%s signer state went from h=%d r=%d %s to h=%d r=%d %s: want it to move forward",
			victim.Name, before.Height, before.Round, before.Step, after.Height, after.Round, after.Step)
	}
	if lines := grepLogs(t, []testnet.Node{victim}, "signer refused"); len(lines) > 0 {
		t.Logf("double-sign protection refused %d requests after the crash (expected for a vote in flight):\n%s", len(lines), strings.Join(lines, "\n"))
	}
	tip := mustHeight(t, ctx, nodes[0])
	for _, n := range nodes {
		waitHeight(t, ctx, n, tip, 10*time.Second)
	}
	checkSameChain(t, ctx, nodes, tip)
	checkNoDoubleSign(t, ctx, tn.Manifest)
}

// waitAtTip waits until n's final height is at least ref's, read just
// before, and returns when.
func waitAtTip(t *testing.T, ctx context.Context, n, ref testnet.Node, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	var tip, got uint64
	for time.Now().Before(deadline) {
		var err error
		if tip, err = height(ctx, ref); err == nil {
			if got, err = height(ctx, n); err == nil && got >= tip {
				return time.Now()
			}
		}
		time.Sleep(pollEvery)
	}
	t.Fatalf("%s at height %d, tip %d: not caught up within %v", n.Name, got, tip, within)
	return time.Time{}
}

func mustHeight(t *testing.T, ctx context.Context, n testnet.Node) uint64 {
	t.Helper()
	h, err := height(ctx, n)
	if err != nil {
		t.Fatalf("%s: %v", n.Name, err)
	}
	return h
}

// c. Kill two of four equal validators: finality halts and no node
// finalizes anything conflicting; restarted, the chain resumes.
func TestHalfDownHaltsThenResumes(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 90*time.Second)
	tn := launch(t, ctx, testnet.StartOptions{Generate: testnet.Options{Validators: 4, Consensus: fastConsensus(100 * time.Millisecond)}})
	nodes := tn.Manifest.Nodes
	waitHeight(t, ctx, nodes[0], 3, 10*time.Second)
	for _, n := range nodes[2:] {
		if _, err := testnet.Kill(tn.Dir, n.Name); err != nil {
			t.Fatal(err)
		}
	}
	// A height whose votes were in flight may still complete: settle on
	// the height that then stays, then watch it stay.
	sub := finalized(t, ctx, nodes[0], 0)
	for i := 0; ; i++ {
		ev, ok := tryFinalized(t, sub, 500*time.Millisecond)
		if !ok {
			break
		}
		if i == 3 {
			t.Fatalf("height %d finalized with half of the stake down", ev.Height)
		}
	}
	halted := mustHeight(t, ctx, nodes[0])
	const watch = 2 * time.Second // 20 empty-block intervals
	if ev, ok := tryFinalized(t, sub, watch); ok {
		t.Fatalf("height %d finalized with half of the stake down (halted at %d)", ev.Height, halted)
	}
	if h := mustHeight(t, ctx, nodes[1]); h > halted {
		t.Fatalf("%s finalized height %d with half of the stake down (%s halted at %d)", nodes[1].Name, h, nodes[0].Name, halted)
	}
	checkSameChain(t, ctx, nodes[:2], halted)
	t.Logf("halted at height %d for %v", halted, watch)

	restartAt := time.Now()
	for _, n := range nodes[2:] {
		if _, err := testnet.Restart(ctx, tn.Dir, n.Name, binary); err != nil {
			t.Fatal(err)
		}
	}
	ev := nextFinalized(t, sub, 20*time.Second)
	checkCertificate(t, ev)
	t.Logf("restart→finality resumes: %v (height %d)", time.Since(restartAt), ev.Height)
	tip := ev.Height + 2
	for _, n := range nodes {
		waitHeight(t, ctx, n, tip, 20*time.Second)
	}
	checkSameChain(t, ctx, nodes, tip)
	checkNoDoubleSign(t, ctx, tn.Manifest)
}

// d. A node started thousands of heights late catches up by block sync.
// node0..2 hold more than two thirds of the stake and make blocks as fast
// as they can; node3 (1% of the stake, so its missed proposer turns are
// few) starts once the chain is QUORUM_E2E_LATE_HEIGHTS (default 5000)
// ahead.
func TestLateNodeCatchesUp(t *testing.T) {
	skipShort(t)
	target := uint64(5000)
	if s := os.Getenv("QUORUM_E2E_LATE_HEIGHTS"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v == 0 {
			t.Fatalf("QUORUM_E2E_LATE_HEIGHTS=%q: want a positive integer", s)
		}
		target = v
	}
	// Generous bound: about 30 ms a height on a loaded two-core machine.
	within := 20*time.Second + time.Duration(target)*30*time.Millisecond
	ctx := testContext(t, 2*within+60*time.Second)
	cons := testnet.ConsensusDefaults()
	cons.SkipEmptyBlocks = false // a block as soon as the last one is final
	cons.BlockInterval = 0
	cons.TimeoutPropose = node.Duration(100 * time.Millisecond)
	tn := launch(t, ctx, testnet.StartOptions{
		Generate: testnet.Options{Validators: 4, Stakes: []uint64{33, 33, 33, 1}, Consensus: &cons},
		Nodes:    []string{"node0", "node1", "node2"},
	})
	nodes := tn.Manifest.Nodes
	late := nodes[3]

	start := time.Now()
	reached := waitHeightReporting(t, ctx, nodes[0], target, within)
	elapsed := time.Since(start)
	t.Logf("chain of 3 validators: %d heights in %v (%.0f heights/s)", reached, elapsed, float64(reached)/elapsed.Seconds())

	// Back to a testnet's usual pace (a block at least once a second, at
	// once when transactions wait) before the late node starts, so that it
	// catches up with a live chain instead of racing one that makes a
	// hundred empty blocks a second on the same two cores and disk.
	for _, n := range nodes[:3] {
		path := node.Home(n.Home).ConfigPath()
		cfg, err := node.LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Consensus = testnet.ConsensusDefaults()
		if err := cfg.Save(path); err != nil {
			t.Fatal(err)
		}
		if _, err := testnet.Restart(ctx, tn.Dir, n.Name, binary); err != nil {
			t.Fatal(err)
		}
	}
	reached = mustHeight(t, ctx, nodes[0])

	restartAt := time.Now()
	if _, err := testnet.Restart(ctx, tn.Dir, late.Name, binary); err != nil {
		t.Fatal(err)
	}
	atTip := waitAtTip(t, ctx, late, nodes[0], within)
	caughtUp := mustHeight(t, ctx, late)
	t.Logf("late node: %d heights behind at start, at the tip (height %d) %v after start (%.0f heights/s while the chain kept growing)",
		reached, caughtUp, atTip.Sub(restartAt), float64(caughtUp)/atTip.Sub(restartAt).Seconds())
	// Spot-check agreement rather than fetching thousands of blocks.
	for _, h := range []uint64{1, reached / 2, reached} {
		want := blockHashes(t, ctx, nodes[0], h, h)[0]
		if got := blockHashes(t, ctx, late, h, h)[0]; got != want {
			t.Fatalf("height %d: %s has %s, %s has %s", h, late.Name, chain.FormatHash(got), nodes[0].Name, chain.FormatHash(want))
		}
	}
}

// waitHeightReporting waits for height h like waitHeight, logging progress
// every ten seconds.
func waitHeightReporting(t *testing.T, ctx context.Context, n testnet.Node, h uint64, within time.Duration) uint64 {
	t.Helper()
	deadline := time.Now().Add(within)
	report := time.Now().Add(10 * time.Second)
	var got uint64
	for time.Now().Before(deadline) {
		var err error
		if got, err = height(ctx, n); err == nil && got >= h {
			return got
		}
		if time.Now().After(report) {
			t.Logf("%s at height %d", n.Name, got)
			report = report.Add(10 * time.Second)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: height %d after %v, want %d (set QUORUM_E2E_LATE_HEIGHTS lower on a slow machine)", n.Name, got, within, h)
	return 0
}

// e. When the remote signer's stake is needed for a quorum, finality waits
// until the remote signer signs, then proceeds.
func TestRemoteSignerNeededForQuorum(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 60*time.Second)
	// Local stake 60 of 100: not more than two thirds without node3.
	tn := launch(t, ctx, testnet.StartOptions{Generate: testnet.Options{
		Validators: 4, Stakes: []uint64{30, 20, 10, 40}, RemoteSigners: 1, Consensus: fastConsensus(100 * time.Millisecond)}})
	if !tn.WaitingForSigners || tn.First != nil {
		t.Fatalf("WaitingForSigners %v, first block %+v: want a chain waiting for its remote signer", tn.WaitingForSigners, tn.First)
	}
	remote := tn.Manifest.Nodes[3]
	if remote.Signer != "remote" || remote.SignerKey == "" {
		t.Fatalf("node3 signer %q key %q, want remote with a key", remote.Signer, remote.SignerKey)
	}
	if _, err := os.Stat(node.Home(remote.Home).ValidatorKeyPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("remote validator's key in its node's home (stat: %v)", err)
	}
	sub := finalized(t, ctx, tn.Manifest.Nodes[0], 1)
	if ev, ok := tryFinalized(t, sub, 1500*time.Millisecond); ok {
		t.Fatalf("height %d finalized without the remote signer", ev.Height)
	}

	signAt := time.Now()
	if hasCommand("vote") {
		t.Log("signing with 'quorumchain vote --follow'")
		vctx, cancel := context.WithCancel(ctx)
		cmd := exec.CommandContext(vctx, binary, "vote", "--key", remote.SignerKey, "--password-file", tn.Manifest.PasswordFile,
			"--genesis", node.Home(remote.Home).GenesisPath(), "--rpc", remote.RPC, "--follow")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cancel()
			cmd.Wait() //nolint:errcheck // killed on purpose
			t.Logf("vote output (tail):\n%s", tail(out.String(), 10))
		})
	} else {
		t.Log("no vote command in this build: signing duties through the RPC client")
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			remoteSigner(sctx, t, remote, tn.Manifest.PasswordFile)
		}()
		t.Cleanup(func() {
			cancel()
			<-done
		})
	}
	ev := nextFinalized(t, sub, 20*time.Second)
	checkCertificate(t, ev)
	t.Logf("first final block %v after the remote signer started", time.Since(signAt))
	awaitSigner(t, sub, mustAddress(t, remote.Validator), 10*time.Second)
	for range 3 {
		checkCertificate(t, nextFinalized(t, sub, 10*time.Second))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// remoteSigner signs n's duties with its remote key, with its own
// double-sign protection, until ctx is done.
func remoteSigner(ctx context.Context, t *testing.T, n testnet.Node, passwordFile string) {
	password, err := validator.ReadPassword(passwordFile, "")
	if err != nil {
		t.Error(err)
		return
	}
	key, err := validator.LoadKeyFile(n.SignerKey, password)
	if err != nil {
		t.Error(err)
		return
	}
	guard, err := validator.NewGuard(&validator.MemoryState{})
	if err != nil {
		t.Error(err)
		return
	}
	addr := chain.PubkeyAddress(&key.PublicKey)
	c, err := rpc.Dial(ctx, n.RPC)
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close() //nolint:errcheck // test helper
	steps := map[string]validator.SignStep{"proposal": validator.StepProposal, "prevote": validator.StepPrevote, "precommit": validator.StepPrecommit}
	for ctx.Err() == nil {
		duties, err := c.Duties(ctx, addr)
		if err != nil {
			return // the node or the test is going away
		}
		for _, d := range duties {
			sig, err := guard.Sign(d.Height, d.Round, steps[d.Kind], d.SignHash, func(h chain.Hash) (chain.Signature, error) { return chain.Sign(key, h) })
			if err != nil {
				continue // refused by double-sign protection
			}
			if err := c.SubmitSigned(ctx, d.ID, sig); err != nil && ctx.Err() == nil {
				t.Logf("submit signed %d: %v", d.ID, err)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// a (CLI) and f. Through the binary: `testnet start --detach`, subscribe
// to five final blocks, `testnet kill node1` and `testnet restart node1`
// while the chain keeps finalizing with three of four, `testnet status`,
// and `testnet stop` leaving no process behind.
func TestCLI(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 120*time.Second)
	dir := t.TempDir()
	t.Cleanup(func() { stopAll(t, dir) })
	out := runCLI(t, ctx, 60*time.Second, "testnet", "start", "--detach", "-n", "4", "--dir", dir, "--base-port", "0")
	t.Logf("testnet start:\n%s", out)
	if !strings.Contains(out, "first final block: height 1") || !strings.Contains(out, "node3") {
		t.Fatalf("testnet start output lacks the node table or the first block:\n%s", out)
	}
	m, err := testnet.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	pids := []int{}
	for _, n := range m.Nodes {
		if !processAlive(n.PID) {
			t.Fatalf("%s (pid %d) is not running after 'testnet start --detach' returned", n.Name, n.PID)
		}
		pids = append(pids, n.PID)
	}

	// Five final blocks with certificates over two thirds.
	if hasCommand("subscribe") {
		lines := strings.Split(strings.TrimSpace(runCLI(t, ctx, 30*time.Second,
			"subscribe", "--rpc", m.Nodes[0].RPC, "--count", "5", "--topics", "finalized")), "\n")
		if len(lines) != 5 {
			t.Fatalf("subscribe --count 5 printed %d lines:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		for _, l := range lines {
			var ev rpc.FinalizedEvent
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("subscribe line %q: %v", l, err)
			}
			checkCertificate(t, ev)
		}
	} else {
		t.Log("no subscribe command in this build: using the RPC client")
		sub := finalized(t, ctx, m.Nodes[0], 1)
		for range 5 {
			checkCertificate(t, nextFinalized(t, sub, 10*time.Second))
		}
	}

	// f. Kill node1: the other three keep finalizing; restart it.
	out = runCLI(t, ctx, 10*time.Second, "testnet", "kill", "--dir", dir, "node1")
	if !strings.Contains(out, "killed node1") || processAlive(m.Nodes[1].PID) {
		t.Fatalf("testnet kill node1: %q, pid %d alive %v", out, m.Nodes[1].PID, processAlive(m.Nodes[1].PID))
	}
	h := mustHeight(t, ctx, m.Nodes[0])
	waitHeight(t, ctx, m.Nodes[0], h+2, 10*time.Second) // empty blocks each second
	status := runCLI(t, ctx, 10*time.Second, "testnet", "status", "--dir", dir)
	if !regexpLine(status, "node1", "stopped") {
		t.Fatalf("status after kill does not show node1 stopped:\n%s", status)
	}
	out = runCLI(t, ctx, 30*time.Second, "testnet", "restart", "--dir", dir, "node1")
	t.Logf("testnet restart: %s", strings.TrimSpace(out))
	m2, err := testnet.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	pids = append(pids, m2.Nodes[1].PID)
	tip := mustHeight(t, ctx, m.Nodes[0])
	waitHeight(t, ctx, m.Nodes[1], tip+1, 15*time.Second)
	var st []testnet.NodeStatus
	if err := json.Unmarshal([]byte(runCLI(t, ctx, 10*time.Second, "testnet", "status", "--dir", dir, "--output", "json")), &st); err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if !s.Running || s.Error != "" || s.Height < tip {
			t.Fatalf("status %s: running %v height %d error %q, want running at >= %d", s.Name, s.Running, s.Height, s.Error, tip)
		}
	}
	checkSameChain(t, ctx, m.Nodes, tip)

	out = runCLI(t, ctx, 30*time.Second, "testnet", "stop", "--dir", dir)
	if strings.Count(out, "stopped node") != 4 {
		t.Fatalf("testnet stop:\n%s\nwant four nodes stopped", out)
	}
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("pid %d still runs after 'testnet stop'", pid)
		}
	}
	after, err := testnet.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(after.Nodes, func(n testnet.Node) bool { return n.PID != 0 }); i >= 0 {
		t.Errorf("testnet.json records pid %d for %s after stop, want 0", after.Nodes[i].PID, after.Nodes[i].Name)
	}
}

// regexpLine reports whether a line of out starts with name and contains
// word.
func regexpLine(out, name, word string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, name+" ") && strings.Contains(l, word) {
			return true
		}
	}
	return false
}
