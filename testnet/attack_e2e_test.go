package testnet_test

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/testnet"
)

var (
	flagAttackKinds    = flag.String("attack-kinds", "", "TestAttacks: comma-separated kinds to run (default all)")
	flagAttackDuration = flag.Duration("attack-duration", testnet.DefaultAttackDuration, "TestAttacks: how long each attack runs")
)

// Bounds every node must keep while it is attacked (issue: hostile peers).
const (
	attackMaxWALBytes = 16 << 20
	attackMaxRSSMB    = 300
	attackMaxP99Ms    = 2000
	attackLoadRate    = 100
)

// TestAttacks runs every kind of 'quorumchain testnet attack' for 20 s
// against a 4-validator testnet under a steady 100 tx/s load, each against
// a different node in turn, and requires that finality continues with a
// submit-to-final p99 under 2 s, that every node keeps its consensus WAL
// under a fixed bound and its RSS under 300 MB, that no two nodes hold
// different blocks, and that no validator is jailed or slashed.
func TestAttacks(t *testing.T) {
	skipShort(t)
	kinds := testnet.AttackNames()
	if *flagAttackKinds != "" {
		kinds = strings.Split(*flagAttackKinds, ",")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(len(kinds)+2)*(*flagAttackDuration+40*time.Second))
	defer cancel()
	tn := launch(t, ctx, testnet.StartOptions{})
	dir := tn.Dir
	for i, kind := range kinds {
		target := tn.Manifest.Nodes[i%len(tn.Manifest.Nodes)].Name
		t.Run(kind, func(t *testing.T) {
			type benchResult struct {
				rep *testnet.BenchReport
				err error
			}
			bench := make(chan benchResult, 1)
			go func() {
				rep, err := testnet.Bench(ctx, testnet.BenchOptions{Dir: dir, Duration: *flagAttackDuration, Rate: attackLoadRate, Drain: 10 * time.Second})
				bench <- benchResult{rep, err}
			}()
			rep, err := testnet.Attack(ctx, testnet.AttackOptions{Dir: dir, Kind: kind, Target: target, Duration: *flagAttackDuration})
			b := <-bench
			if err != nil {
				t.Fatalf("attack: %v", err)
			}
			var out bytes.Buffer
			rep.WriteText(&out)
			t.Logf("\n%s", out.String())
			if b.err != nil {
				t.Fatalf("load during the attack: %v", b.err)
			}
			t.Logf("load: %d of %d transactions final, p50 %.1f ms, p99 %.1f ms", b.rep.Finalized, b.rep.Submitted, b.rep.LatencyMs.P50, b.rep.LatencyMs.P99)
			if b.rep.Finalized < b.rep.Submitted-b.rep.Rejected-b.rep.Refused || b.rep.Finalized == 0 {
				t.Errorf("finality stalled: %d of %d transactions final (%d rejected, %d refused)", b.rep.Finalized, b.rep.Submitted, b.rep.Rejected, b.rep.Refused)
			}
			if b.rep.LatencyMs.P99 > attackMaxP99Ms {
				t.Errorf("submit-to-final p99 %.0f ms, want under %d ms", b.rep.LatencyMs.P99, attackMaxP99Ms)
			}
			for _, n := range rep.Nodes {
				if !n.Up {
					t.Errorf("%s stopped answering", n.Name)
				}
				if n.HeightEnd <= n.HeightStart {
					t.Errorf("%s finalized nothing during the attack (height %d)", n.Name, n.HeightEnd)
				}
				if n.MaxWALBytes > attackMaxWALBytes {
					t.Errorf("%s: WAL reached %d bytes, bound %d", n.Name, n.MaxWALBytes, attackMaxWALBytes)
				}
				if n.MaxRSSMB > attackMaxRSSMB {
					t.Errorf("%s: RSS reached %.0f MB, bound %d MB", n.Name, n.MaxRSSMB, attackMaxRSSMB)
				}
			}
			if len(rep.Forks) > 0 {
				t.Errorf("nodes disagree: %v", rep.Forks)
			}
			if len(rep.Slashed) > 0 {
				t.Errorf("validators jailed or slashed: %v", rep.Slashed)
			}
		})
	}
}
