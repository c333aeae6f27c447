package testnet_test

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/testnet"
	"github.com/quorumchain/quorumchain/validator"
)

// Faults on demand, end to end: one testnet of four equal validators goes
// through every scenario in turn (they share it to keep the wall time
// down; each one clears its faults when it ends): the CLI commands, a 2|2
// partition and its healing, two silent validators and back, a delay on
// one and on two validators measured with the load generator, and last an
// equivocating validator, which the chain slashes and jails. The faults
// are driven through the admin client, the code path of the CLI.
func TestFaultsOnDemand(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 150*time.Second)
	tn := launch(t, ctx, testnet.StartOptions{Generate: testnet.Options{Validators: 4, Consensus: fastConsensus(100 * time.Millisecond)}})
	m, dir := tn.Manifest, tn.Dir
	for _, n := range m.Nodes {
		if !strings.HasPrefix(n.Admin, "http://127.0.0.1:") {
			t.Fatalf("%s: admin endpoint %q, want http://127.0.0.1:PORT", n.Name, n.Admin)
		}
	}
	waitHeight(t, ctx, m.Nodes[0], 2, 20*time.Second)

	t.Run("CLI", func(t *testing.T) { faultsCLI(t, ctx, dir, m) })
	t.Run("partition 2|2 halts, heal resumes", func(t *testing.T) { partitionHalts(t, ctx, dir, m) })
	t.Run("two silent halt, off resumes", func(t *testing.T) { silentHalts(t, ctx, dir, m) })
	t.Run("delay on one and on two validators", func(t *testing.T) { delayLatency(t, ctx, dir, m) })
	t.Run("equivocator slashed and jailed", func(t *testing.T) { equivocatorJailed(t, ctx, dir, m) })
}

// adminOf returns node name's admin client.
func adminOf(t *testing.T, dir, name string) *testnet.Admin {
	t.Helper()
	a, err := testnet.AdminOf(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// clearFaults ends every fault on every node at the end of a scenario.
func clearFaults(t *testing.T, ctx context.Context, dir string, m *testnet.Manifest) {
	t.Helper()
	t.Cleanup(func() {
		if err := testnet.Heal(ctx, dir); err != nil {
			t.Errorf("heal: %v", err)
		}
		for _, n := range m.Nodes {
			a := adminOf(t, dir, n.Name)
			for _, f := range []func() error{
				func() error { _, err := a.Delay(ctx, 0, 0); return err },
				func() error { _, err := a.Drop(ctx, 0); return err },
				func() error { _, err := a.Byzantine(ctx, validator.ByzantineOff); return err },
			} {
				if err := f(); err != nil {
					t.Errorf("%s: clear faults: %v", n.Name, err)
				}
			}
		}
	})
}

// maxHeight returns the highest final height among nodes.
func maxHeight(t *testing.T, ctx context.Context, nodes []testnet.Node) uint64 {
	t.Helper()
	var top uint64
	for _, n := range nodes {
		top = max(top, mustHeight(t, ctx, n))
	}
	return top
}

// checkHalted watches the nodes for window and fails if any finalizes past
// limit. Finality halting is the absence of an event, so it is watched for
// a fixed window (two seconds are twenty empty-block intervals here).
func checkHalted(t *testing.T, ctx context.Context, nodes []testnet.Node, limit uint64, window time.Duration) {
	t.Helper()
	end := time.Now().Add(window)
	for time.Now().Before(end) {
		for _, n := range nodes {
			if h := mustHeight(t, ctx, n); h > limit {
				t.Fatalf("%s finalized height %d, want finality halted at %d", n.Name, h, limit)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// faultsOf returns a node's faults through the public RPC (net_getFaults).
func faultsOf(t *testing.T, ctx context.Context, n testnet.Node) []rpc.FaultResult {
	t.Helper()
	c := dial(t, ctx, n)
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	f, err := c.Faults(cctx)
	if err != nil {
		t.Fatalf("%s: net_getFaults: %v", n.Name, err)
	}
	return f.Faults
}

// partitionHalts: with node0,node1 | node2,node3 no half holds more than
// two thirds of the stake: finality halts, with no conflicting blocks;
// healed, every node finalizes again, on one chain.
func partitionHalts(t *testing.T, ctx context.Context, dir string, m *testnet.Manifest) {
	clearFaults(t, ctx, dir, m)
	if err := testnet.Partition(ctx, dir, [][]string{{"node0", "node1"}, {"node2", "node3"}}); err != nil {
		t.Fatal(err)
	}
	f := faultsOf(t, ctx, m.Nodes[0])
	if len(f) != 1 || f[0].Kind != rpc.FaultPartition || len(f[0].Peers) != 2 {
		t.Fatalf("node0 faults: got %+v, want a partition from two peers", f)
	}
	// A block in flight when the partition landed may still finalize.
	limit := maxHeight(t, ctx, m.Nodes) + 1
	checkHalted(t, ctx, m.Nodes, limit, 2*time.Second)
	if err := testnet.Heal(ctx, dir); err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Nodes {
		waitHeight(t, ctx, n, limit+2, 30*time.Second)
	}
	checkSameChain(t, ctx, m.Nodes, limit+2)
}

// silentHalts: two of four equal validators that sign nothing leave half
// the stake: finality halts; switched off, they sign again and it
// resumes.
func silentHalts(t *testing.T, ctx context.Context, dir string, m *testnet.Manifest) {
	clearFaults(t, ctx, dir, m)
	for _, name := range []string{"node2", "node3"} {
		f, err := adminOf(t, dir, name).Byzantine(ctx, validator.ByzantineSilent)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Faults) != 1 || f.Faults[0].Mode != "silent" {
			t.Fatalf("%s faults: got %+v, want byzantine silent", name, f.Faults)
		}
	}
	limit := maxHeight(t, ctx, m.Nodes) + 1
	checkHalted(t, ctx, m.Nodes, limit, 2*time.Second)
	for _, name := range []string{"node2", "node3"} {
		if _, err := adminOf(t, dir, name).Byzantine(ctx, validator.ByzantineOff); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range m.Nodes {
		waitHeight(t, ctx, n, limit+2, 30*time.Second)
	}
	checkSameChain(t, ctx, m.Nodes, limit+2)
	checkNoDoubleSign(t, ctx, m)
}

// delayLatency: a 200 ms delay on one of four equal validators leaves a
// quorum of undelayed ones, so the median submit→final latency barely
// moves; on two, every quorum needs a delayed vote, and it rises by about
// the delay. Only the difference between the two is asserted.
func delayLatency(t *testing.T, ctx context.Context, dir string, m *testnet.Manifest) {
	clearFaults(t, ctx, dir, m)
	const delay = 200 * time.Millisecond
	p50 := func(what string) float64 {
		t.Helper()
		rep, err := testnet.Bench(ctx, testnet.BenchOptions{Dir: dir, Duration: 4 * time.Second, Rate: 50, Accounts: 20, Conns: 4, Drain: 15 * time.Second})
		if err != nil {
			t.Fatalf("bench, %s: %v", what, err)
		}
		if rep.Finalized < 150 {
			t.Fatalf("bench, %s: %d of %d finalized, want at least 150 samples", what, rep.Finalized, rep.Submitted)
		}
		t.Logf("delay figures: %s: p50 %.1f ms, p90 %.1f ms over %d finalized transactions", what, rep.LatencyMs.P50, rep.LatencyMs.P90, rep.Finalized)
		return rep.LatencyMs.P50
	}
	none := p50("no delay")
	if _, err := adminOf(t, dir, "node2").Delay(ctx, delay, 0); err != nil {
		t.Fatal(err)
	}
	one := p50("node2 delayed 200ms")
	if _, err := adminOf(t, dir, "node3").Delay(ctx, delay, 0); err != nil {
		t.Fatal(err)
	}
	if f := faultsOf(t, ctx, m.Nodes[3]); len(f) != 1 || f[0].Kind != rpc.FaultDelay || *f[0].DelayMs != 200 {
		t.Fatalf("node3 faults: got %+v, want a 200 ms delay", f)
	}
	two := p50("node2 and node3 delayed 200ms")
	t.Logf("delay figures: p50 no delay %.1f ms, one delayed %.1f ms, two delayed %.1f ms", none, one, two)
	if two-one < 100 {
		t.Fatalf("p50 with two delayed validators %.1f ms, with one %.1f ms: want at least 100 ms more", two, one)
	}
}

// equivocatorJailed: node3 signs, with each of its votes, a conflicting
// one; the honest nodes turn a pair into evidence of kind double_vote, a
// block carries it, and node3 is shown jailed within a few blocks, while
// the other three keep finalizing on one chain.
func equivocatorJailed(t *testing.T, ctx context.Context, dir string, m *testnet.Manifest) {
	const byz = 3
	clearFaults(t, ctx, dir, m)
	c := dial(t, ctx, m.Nodes[0])
	addr := mustAddress(t, m.Nodes[byz].Validator)
	start := mustHeight(t, ctx, m.Nodes[0])
	if _, err := adminOf(t, dir, m.Nodes[byz].Name).Byzantine(ctx, validator.ByzantineEquivocate); err != nil {
		t.Fatal(err)
	}
	const within = 30 // heights
	var jailedIn uint64
	for next := start; jailedIn == 0; {
		if next > start+within {
			t.Fatalf("node%d not jailed within %d heights of equivocating; double-vote logs: %q", byz, within, grepLogs(t, m.Nodes, "kind=double_vote"))
		}
		tip := mustHeight(t, ctx, m.Nodes[0])
		for ; next <= tip && jailedIn == 0; next++ {
			vs, err := c.Validators(ctx, &next)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vs.Validators {
				if v.Address == addr && v.Jailed != nil && *v.Jailed {
					jailedIn = next
				}
			}
		}
		if jailedIn == 0 {
			waitHeight(t, ctx, m.Nodes[0], tip+1, 20*time.Second)
		}
	}
	t.Logf("node%d equivocating from height %d, shown jailed in the set of height %d", byz, start, jailedIn)
	if len(grepLogs(t, m.Nodes[:byz], "kind=double_vote")) == 0 {
		t.Fatal("no honest node logged a double vote")
	}
	acct, err := c.Account(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	// Each height it double-signed at before it left the set is an
	// infraction of its own, slashed by slash_fraction_double_sign (1/20)
	// of what is left: how many made it into blocks depends on timing.
	if len(acct.Bonds) != 1 {
		t.Fatalf("node%d bonds %+v, want its self-bond only", byz, acct.Bonds)
	}
	bond, slashes := uint64(acct.Bonds[0].Amount), 0
	for b := uint64(testnet.DefaultStake); b > bond && slashes < within; slashes++ {
		b -= b / 20
		if b < bond {
			slashes = within // not a whole number of slashes
		}
	}
	if slashes == 0 || slashes >= within {
		t.Fatalf("node%d self-bond %d: not %d slashed by 1/20 one or more times", byz, bond, testnet.DefaultStake)
	}
	t.Logf("node%d self-bond %d: slashed for %d double-signed heights", byz, bond, slashes)
	after := waitHeight(t, ctx, m.Nodes[0], jailedIn+3, 20*time.Second)
	for _, n := range m.Nodes[:byz] {
		waitHeight(t, ctx, n, after, 20*time.Second)
	}
	checkSameChain(t, ctx, m.Nodes[:byz], after)
}

// faultsCLI runs the fault commands as a user would, checks what status
// and net_getFaults show, and that mistakes are refused with a reason.
func faultsCLI(t *testing.T, ctx context.Context, dir string, m *testnet.Manifest) {
	clearFaults(t, ctx, dir, m)
	out := runCLI(t, ctx, 10*time.Second, "testnet", "delay", "--dir", dir, "node1", "200ms,50ms")
	if !strings.Contains(out, "node1: delay 200ms ±50ms") {
		t.Fatalf("testnet delay: %q", out)
	}
	runCLI(t, ctx, 10*time.Second, "testnet", "drop", "--dir", dir, "node1", "0.2")
	runCLI(t, ctx, 10*time.Second, "testnet", "byzantine", "--dir", dir, "node2", "nil-votes")
	runCLI(t, ctx, 10*time.Second, "testnet", "partition", "--dir", dir, "node0")

	var st []testnet.NodeStatus
	if err := json.Unmarshal([]byte(runCLI(t, ctx, 10*time.Second, "testnet", "status", "--dir", dir, "--output", "json")), &st); err != nil {
		t.Fatal(err)
	}
	kinds := map[string][]string{}
	for _, s := range st {
		for _, f := range s.Faults {
			kinds[s.Name] = append(kinds[s.Name], f.Kind)
		}
	}
	// node0 is alone: it cuts the three others, each of them cuts node0.
	for name, want := range map[string]string{"node0": "partition", "node1": "partition,delay,drop", "node2": "partition,byzantine", "node3": "partition"} {
		if got := strings.Join(kinds[name], ","); got != want {
			t.Errorf("status: %s faults %q, want %q", name, got, want)
		}
	}
	if f := faultsOf(t, ctx, m.Nodes[0]); len(f) != 1 || len(f[0].Peers) != 3 {
		t.Errorf("node0 net_getFaults: got %+v, want a partition from three peers", f)
	}
	text := runCLI(t, ctx, 10*time.Second, "testnet", "status", "--dir", dir)
	if !strings.Contains(text, "node2: partitioned from") || !strings.Contains(text, "byzantine nil-votes") {
		t.Errorf("status text lacks node2's faults:\n%s", text)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"delay", "--dir", dir, "node9", "200ms"}, `no node "node9"`},
		{[]string{"delay", "--dir", dir, "node1", "fast"}, `delay "fast"`},
		{[]string{"drop", "--dir", dir, "node1", "1.5"}, "from 0 to 1"},
		{[]string{"byzantine", "--dir", dir, "node1", "evil"}, "unknown byzantine mode"},
		{[]string{"partition", "--dir", dir, "node0,node1", "node1,node2"}, "node1 is in partition groups 1 and 2"},
		{[]string{"heal", "--dir", t.TempDir()}, "testnet.json"},
	} {
		if stderr := runCLIFail(t, ctx, append([]string{"testnet"}, tc.args...)...); !strings.Contains(stderr, tc.want) {
			t.Errorf("testnet %s: stderr %q, want it to contain %q", strings.Join(tc.args, " "), stderr, tc.want)
		}
	}

	runCLI(t, ctx, 10*time.Second, "testnet", "heal", "--dir", dir)
	runCLI(t, ctx, 10*time.Second, "testnet", "delay", "--dir", dir, "node1", "off")
	runCLI(t, ctx, 10*time.Second, "testnet", "drop", "--dir", dir, "node1", "0")
	out = runCLI(t, ctx, 10*time.Second, "testnet", "byzantine", "--dir", dir, "node2", "off")
	if !strings.Contains(out, "node2: no faults") {
		t.Fatalf("byzantine off: %q", out)
	}
	for _, n := range m.Nodes {
		if f := faultsOf(t, ctx, n); len(f) != 0 {
			t.Errorf("%s faults after clearing: %+v", n.Name, f)
		}
	}
	// Cleared, the chain finalizes on every node.
	tip := maxHeight(t, ctx, m.Nodes)
	for _, n := range m.Nodes {
		waitHeight(t, ctx, n, tip+2, 30*time.Second)
	}
}

// runCLIFail runs the binary, expects exit status 1, and returns stderr.
func runCLIFail(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, binary, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("quorumchain %s: got %v, want exit status 1; stderr %s", strings.Join(args, " "), err, stderr.String())
	}
	return stderr.String()
}
