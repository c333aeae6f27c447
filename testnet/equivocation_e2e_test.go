package testnet_test

import (
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/testnet"
)

// TestDoubleProposerSlashed: node3 runs with the test-network switch
// signer.testnet_double_propose, so after each of its proposals it
// broadcasts a second one for another block. The honest nodes turn the
// pair into evidence of kind double_proposal, a block carries it, and the
// validators RPC shows node3 jailed; its self-bond and the supply have lost
// slash_fraction_double_sign of its stake, and it leaves the set while the
// chain goes on.
func TestDoubleProposerSlashed(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 120*time.Second)
	const byz = 3
	tn := launch(t, ctx, testnet.StartOptions{Generate: testnet.Options{Validators: 4, DoubleProposers: []int{byz},
		Consensus: fastConsensus(100 * time.Millisecond)}})
	m := tn.Manifest
	if m.Nodes[byz].Byzantine != testnet.ByzantineDoublePropose {
		t.Fatalf("manifest: node%d byzantine %q, want %q", byz, m.Nodes[byz].Byzantine, testnet.ByzantineDoublePropose)
	}
	c := dial(t, ctx, m.Nodes[0])
	addr := mustAddress(t, m.Nodes[byz].Validator)
	const stake = testnet.DefaultStake

	// Every set from height 1 on is looked at once, so the one height
	// whose set still holds node3 after its jailing is not missed.
	deadline := time.Now().Add(90 * time.Second)
	var jailedIn uint64
	for next := uint64(1); jailedIn == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("node%d not shown jailed within 90s; double-proposal logs: %q", byz, grepLogs(t, m.Nodes, "double_proposal"))
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
			waitHeight(t, ctx, m.Nodes[0], tip+1, 30*time.Second)
		}
	}
	t.Logf("node%d shown jailed in the set of height %d", byz, jailedIn)
	var honestSaw int
	for _, line := range grepLogs(t, m.Nodes[:byz], "kind=double_proposal") {
		t.Log(line)
		honestSaw++
	}
	if honestSaw == 0 {
		t.Fatal("no honest node logged a double proposal")
	}
	if dv := grepLogs(t, m.Nodes, "kind=double_vote"); len(dv) > 0 {
		t.Fatalf("a double vote was reported, want only the double proposal: %q", dv)
	}

	// Slashed: its self-bond lost slash_fraction_double_sign (1/20), burned.
	acct, err := c.Account(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	want := uint64(stake - stake/20)
	if len(acct.Bonds) != 1 || acct.Bonds[0].Validator != addr || uint64(acct.Bonds[0].Amount) != want {
		t.Fatalf("node%d bonds %+v, want its self-bond reduced to %d", byz, acct.Bonds, want)
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Supply == nil || uint64(st.Supply.Slashed) != stake/20 || st.Supply.Burned != st.Supply.Slashed {
		t.Fatalf("supply %+v, want %d slashed and burned", st.Supply, stake/20)
	}

	// Out of the set two heights after the jailing, and the chain goes on.
	after := waitHeight(t, ctx, m.Nodes[0], jailedIn+3, 30*time.Second)
	vs, err := c.Validators(ctx, &after)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs.Validators {
		if v.Address == addr {
			t.Fatalf("node%d still in the set of height %d", byz, after)
		}
	}
	if len(vs.Validators) != 3 {
		t.Fatalf("set of height %d has %d validators, want the 3 honest ones", after, len(vs.Validators))
	}
	waitHeight(t, ctx, m.Nodes[0], after+3, 30*time.Second)
	checkSameChain(t, ctx, m.Nodes[:byz], after)
}
