package hosttest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/testnet"
)

// Bounds of the netns tests.
const (
	netnsReady    = 30 * time.Second
	progressBound = 20 * time.Second
	// haltQuiet is how long finality must stand still to count as halted:
	// ten empty-block intervals of the test's consensus.
	haltQuiet     = 2 * time.Second
	blockInterval = 200 * time.Millisecond
)

// pickSubnet returns a /24 in 198.19.0.0/16 (the benchmark range) that no
// host interface uses, different from the default so that a netns testnet
// a user runs by hand is not disturbed.
func pickSubnet(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("198.19.%d.0/24", 1+rand.IntN(254))
}

// startNetns starts a 4-validator netns testnet in dir, retrying with
// another subnet if the chosen one is in use.
func startNetns(t *testing.T, ctx context.Context, bin, dir string) *testnet.Testnet {
	t.Helper()
	for range 5 {
		tn, err := testnet.Start(ctx, dir, testnet.StartOptions{
			Binary: bin, Detach: true, Out: newTestWriter(t), ReadyTimeout: netnsReady,
			Generate: testnet.Options{Validators: 4, Consensus: fastConsensus(blockInterval)},
			Netns:    &testnet.NetnsOptions{Subnet: pickSubnet(t)},
		})
		if errors.Is(err, testnet.ErrSubnetInUse) {
			if rerr := os.RemoveAll(dir); rerr != nil {
				t.Fatal(rerr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("start netns testnet: %v", err)
		}
		return tn
	}
	t.Fatal("no free subnet in five tries")
	return nil
}

// stopAndCheckClean stops the testnet in dir and fails the test if a
// node process, namespace, link, route or firewall rule of it remains.
func stopAndCheckClean(t *testing.T, ctx context.Context, dir string) {
	t.Helper()
	m, err := testnet.LoadManifest(dir)
	if err != nil {
		return // never generated
	}
	if _, err := testnet.Stop(dir); err != nil {
		t.Errorf("stop: %v", err)
	}
	for _, n := range m.Nodes {
		if n.PID > 0 && processAlive(n.PID) {
			t.Errorf("%s (pid %d) still runs after stop", n.Name, n.PID)
		}
	}
	if m.Netns == nil {
		return
	}
	left, err := testnet.NetnsResidue(ctx, m.Netns.Tag)
	if err != nil {
		t.Errorf("list namespaces and links: %v", err)
	}
	if len(left) > 0 {
		t.Errorf("left after stop: %s", strings.Join(left, ", "))
	}
	// The host's routes, policy rules and firewall must not mention the
	// testnet's subnet or links any more.
	for _, cmd := range [][]string{{"ip", "-4", "route", "show", "table", "all"}, {"ip", "rule"}, {"iptables-save"}, {"nft", "list", "ruleset"}} {
		if _, err := exec.LookPath(cmd[0]); err != nil {
			continue
		}
		out, err := exec.CommandContext(ctx, cmd[0], cmd[1:]...).CombinedOutput()
		if err != nil {
			continue // e.g. nft without kernel support
		}
		subnet := strings.TrimSuffix(m.Netns.Subnet, ".0/24")
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, subnet+".") || strings.Contains(line, "qc"+m.Netns.Tag) {
				t.Errorf("%s still mentions the testnet after stop: %s", strings.Join(cmd, " "), line)
			}
		}
	}
}

// waitPeers waits until node n has want peers.
func waitPeers(t *testing.T, ctx context.Context, n testnet.Node, want int, bound time.Duration) {
	t.Helper()
	deadline := time.Now().Add(bound)
	got := -1
	for time.Now().Before(deadline) {
		if st, err := status(ctx, n); err == nil {
			if got = st.Peers; got >= want {
				return
			}
		}
		time.Sleep(pollEvery)
	}
	t.Fatalf("%s: %d peers after %v, want %d", n.Name, got, bound, want)
}

// metric reads one unlabelled sample from a node's /metrics.
func metric(t *testing.T, ctx context.Context, n testnet.Node, name string) float64 {
	t.Helper()
	ms, err := testnet.ReadMetrics(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := ms.Value(name)
	if !ok {
		t.Fatalf("%s: no metric %s", n.Name, name)
	}
	return v
}

// processAlive reports whether pid is a live process (zombies are dead).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

// waitHalted waits until the final height of every node in nodes has
// stood still for haltQuiet and returns the highest; it fails the test if
// finality still moves after bound.
func waitHalted(t *testing.T, ctx context.Context, nodes []testnet.Node, bound time.Duration) uint64 {
	t.Helper()
	deadline := time.Now().Add(bound)
	var last uint64
	since := time.Now()
	for time.Now().Before(deadline) {
		var top uint64
		for _, n := range nodes {
			st, err := status(ctx, n)
			if err != nil {
				t.Fatalf("%s: status while waiting for the halt: %v", n.Name, err)
			}
			top = max(top, st.Height)
		}
		if top != last {
			last, since = top, time.Now()
		} else if time.Since(since) >= haltQuiet {
			return last
		}
		time.Sleep(pollEvery)
	}
	t.Fatalf("finality still moves %v after half the stake was cut (height %d)", bound, last)
	return 0
}

// TestNetnsCutRestore: a 4-validator testnet of equal stakes, one node per
// network namespace. Cutting one node's link at the kernel leaves 3/4 of
// the stake, and finality goes on; cutting a second leaves 1/2, and it
// halts with no conflicting blocks; restoring both resumes it, and the cut
// nodes catch up by block sync. After stop nothing of the testnet remains.
func TestNetnsCutRestore(t *testing.T) {
	needNetns(t)
	t.Parallel()
	bin := staticBinary(t)
	ctx := t.Context()
	dir := t.TempDir()
	t.Cleanup(func() { stopAndCheckClean(t, context.Background(), dir) })
	tn := startNetns(t, ctx, bin, dir)
	m := tn.Manifest

	// Each node has its own address in the subnet, its own namespace, and
	// the host reaches its RPC there.
	if m.Kind != testnet.KindNetns || m.Netns == nil {
		t.Fatalf("manifest kind %q, netns %v: want a netns testnet", m.Kind, m.Netns)
	}
	subnet := netip.MustParsePrefix(m.Netns.Subnet)
	seen := map[string]bool{}
	for _, n := range m.Nodes {
		a, err := netip.ParseAddr(n.Host)
		if err != nil || !subnet.Contains(a) || seen[n.Host] {
			t.Fatalf("%s: host %q: want a distinct address in %s", n.Name, n.Host, subnet)
		}
		seen[n.Host] = true
		if !strings.Contains(n.RPC, n.Host) || !strings.HasPrefix(n.Netns, "qc-"+m.Netns.Tag+"-") {
			t.Fatalf("%s: rpc %s, netns %s: want the node's address and the testnet's tag", n.Name, n.RPC, n.Netns)
		}
	}
	res, err := testnet.NetnsResidue(ctx, m.Netns.Tag)
	if err != nil || len(res) != len(m.Nodes)+2 { // nodes, hub, host link
		t.Fatalf("namespaces and links of the running testnet: %v (%v), want %d", res, err, len(m.Nodes)+2)
	}
	for _, n := range m.Nodes {
		waitHeight(t, ctx, n, 2, progressBound)
	}
	node0, node1, node3 := m.Nodes[0], m.Nodes[1], m.Nodes[3]

	// One node cut: 3/4 of the stake finalizes on.
	st3, err := status(ctx, node3)
	if err != nil {
		t.Fatal(err)
	}
	cli(t, ctx, bin, "testnet", "cut", "--dir", dir, "node3")
	qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	if _, err := status(qctx, node3); err == nil {
		t.Fatal("node3's RPC still answers the host with its link cut")
	}
	cancel()
	st0, err := status(ctx, node0)
	if err != nil {
		t.Fatal(err)
	}
	waitHeight(t, ctx, node0, st0.Height+3, progressBound)

	// Two nodes cut: 1/2 of the stake is no quorum; finality halts.
	cli(t, ctx, bin, "testnet", "cut", "--dir", dir, "node2")
	halt := waitHalted(t, ctx, []testnet.Node{node0, node1}, progressBound)
	t.Logf("halted at height %d with node2 and node3 cut (node3 was cut at height %d)", halt, st3.Height)
	checkAgreement(t, ctx, []testnet.Node{node0, node1}, halt)
	if st3.Height >= halt {
		t.Fatalf("node3 was cut at height %d, finality halted at %d: it missed no block to catch up on", st3.Height, halt)
	}

	// Both restored: finality resumes and the cut nodes catch up on the
	// heights they missed (block sync: consensus only runs the current one).
	cli(t, ctx, bin, "testnet", "restore", "--dir", dir, "node2")
	cli(t, ctx, bin, "testnet", "restore", "--dir", dir, "node3")
	want := halt + 3
	for _, n := range m.Nodes {
		waitHeight(t, ctx, n, want, progressBound)
	}
	checkAgreement(t, ctx, m.Nodes, want)
	// Per-IP admission and bans apply to these (non-loopback) addresses:
	// the cut and the reconnections must have cost no peer its place.
	for _, n := range m.Nodes {
		waitPeers(t, ctx, n, len(m.Nodes)-1, progressBound)
		if bans := metric(t, ctx, n, "quorumchain_p2p_bans_total"); bans != 0 {
			t.Errorf("%s banned %v peers across the cut and restore, want 0", n.Name, bans)
		}
	}
	after, err := testnet.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range after.Nodes {
		if n.Cut {
			t.Fatalf("%s still recorded as cut after restore", n.Name)
		}
	}
}

// TestNetnsSupervisorKilled: the supervisor of a netns testnet is killed
// with SIGKILL, and so are its nodes, leaving namespaces and links behind;
// the next start cleans them up and runs the testnet again, and stop then
// leaves nothing.
func TestNetnsSupervisorKilled(t *testing.T) {
	needNetns(t)
	t.Parallel()
	bin := staticBinary(t)
	ctx := t.Context()
	dir := t.TempDir()
	t.Cleanup(func() { stopAndCheckClean(t, context.Background(), dir) })

	subnet := pickSubnet(t)
	sup := exec.Command(bin, "testnet", "start", "--netns", "--subnet", subnet, "--dir", dir)
	out, err := sup.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sup.Stderr = newTestWriter(t)
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1) // the supervisor's exit, once its output is read
	live := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		closed := false
		for sc.Scan() {
			t.Log("supervisor: " + sc.Text())
			if !closed && strings.HasPrefix(sc.Text(), "first final block") {
				close(live)
				closed = true
			}
		}
		exited <- sup.Wait()
	}()
	reaped := false
	t.Cleanup(func() {
		if !reaped {
			sup.Process.Kill() //nolint:errcheck // it may be gone already
			<-exited
		}
	})
	select {
	case <-live:
	case err := <-exited:
		reaped = true
		t.Fatalf("supervisor exited before the testnet was live: %v", err)
	case <-time.After(netnsReady):
		t.Fatalf("supervisor: no final block within %v", netnsReady)
	}
	if err := sup.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited // SIGKILL cannot be caught: the process is gone
	reaped = true

	// Its nodes outlive it; crash them too.
	m, err := testnet.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Nodes {
		if !processAlive(n.PID) {
			t.Fatalf("%s (pid %d) died with its supervisor; nodes run in their own process groups", n.Name, n.PID)
		}
		if _, err := testnet.Kill(dir, n.Name); err != nil {
			t.Fatal(err)
		}
	}
	left, err := testnet.NetnsResidue(ctx, m.Netns.Tag)
	if err != nil || len(left) == 0 {
		t.Fatalf("after SIGKILL of everything: residue %v (%v), want the namespaces left behind", left, err)
	}

	// The next start finds them by tag, removes them and starts over.
	tn, err := testnet.Start(ctx, dir, testnet.StartOptions{Binary: bin, Detach: true, Out: newTestWriter(t), ReadyTimeout: netnsReady})
	if err != nil {
		t.Fatalf("start after a killed supervisor: %v", err)
	}
	if tn.Generated || tn.First == nil {
		t.Fatalf("restart: generated %v, first block %v: want the same chain resumed and live", tn.Generated, tn.First)
	}
	res, err := testnet.NetnsResidue(ctx, m.Netns.Tag)
	if err != nil || len(res) != len(m.Nodes)+2 {
		t.Fatalf("namespaces and links after the new start: %v (%v), want exactly %d", res, err, len(m.Nodes)+2)
	}
	stopAndCheckClean(t, ctx, dir)
}
