package testnet_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/testnet"
	"github.com/quorumchain/quorumchain/validator"
)

// econClient signs and submits transactions for the economics tests.
type econClient struct {
	t   *testing.T
	ctx context.Context
	c   *rpc.Client
	fee uint64
}

func (e *econClient) send(key *ecdsa.PrivateKey, kind chain.TxKind, nonce uint64, to chain.Address, amount uint64) (chain.Hash, error) {
	e.t.Helper()
	tx := &chain.Tx{ChainID: testnet.DefaultChainID, Kind: kind, Nonce: nonce, To: to, Amount: amount, Fee: e.fee}
	sig, err := chain.Sign(key, tx.SignHash())
	if err != nil {
		e.t.Fatal(err)
	}
	tx.Sig = sig
	return e.c.SubmitTx(e.ctx, tx.Encode())
}

// final waits, one height at a time, until the transaction is final, and
// returns its height.
func (e *econClient) final(hash chain.Hash, within time.Duration) uint64 {
	e.t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		r, err := e.c.Tx(e.ctx, hash)
		if err == nil && r.Status != rpc.TxPending {
			if r.Status != rpc.TxFinal || r.Height == nil {
				e.t.Fatalf("tx %s: %+v, want final", chain.FormatHash(hash), r)
			}
			return *r.Height
		}
		select {
		case <-tick.C:
		case <-e.ctx.Done():
			e.t.Fatal(e.ctx.Err())
		}
	}
	e.t.Fatalf("tx %s not final within %v", chain.FormatHash(hash), within)
	return 0
}

// TestValidatorWithoutNodeIsJailed: alice stakes and never runs a node.
// Within the testnet's downtime window she is jailed and leaves the set,
// after which every block is decided in round 0 (no timeouts on her
// turns). On the way, a flood of gapped unjails from fresh keys is refused
// and an ordinary transfer still gets in.
func TestValidatorWithoutNodeIsJailed(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 150*time.Second)
	tn := launch(t, ctx, testnet.StartOptions{Generate: testnet.Options{Validators: 4, Consensus: fastConsensus(100 * time.Millisecond)}})
	m := tn.Manifest
	c := dial(t, ctx, m.Nodes[0])
	pw, err := os.ReadFile(m.PasswordFile)
	if err != nil {
		t.Fatal(err)
	}
	faucet, faucetAddr, err := validator.LoadKeyFileAddress(m.Faucet.Key, strings.TrimSpace(string(pw)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.MinFee == 0 {
		t.Fatal("testnet min_fee is 0, want a small non-zero default")
	}
	e := &econClient{t: t, ctx: ctx, c: c, fee: uint64(st.MinFee)}
	acct, err := c.Account(ctx, faucetAddr)
	if err != nil {
		t.Fatal(err)
	}
	faucetNonce := acct.Nonce

	// The spam: fresh keys, each a run of gapped unjails. All refused.
	for i := range 10 {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		for n := range uint64(10) {
			if _, err := e.send(k, chain.TxUnjail, 1+3*n, chain.Address{}, 0); err == nil {
				t.Fatalf("spam key %d nonce %d: admitted", i, 1+3*n)
			}
		}
	}

	alice, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	a := chain.PubkeyAddress(&alice.PublicKey)
	h, err := e.send(faucet, chain.TxTransfer, faucetNonce, a, 1000)
	if err != nil {
		t.Fatalf("a normal transfer after the spam: %v", err)
	}
	e.final(h, 15*time.Second)
	h, err = e.send(alice, chain.TxStake, 0, a, 50)
	if err != nil {
		t.Fatal(err)
	}
	staked := e.final(h, 15*time.Second)
	t.Logf("alice staked at height %d; she is in the set from %d", staked, staked+2)

	// Jailed within the window: more than DefaultDowntimeMaxMissed of her
	// last DefaultDowntimeWindow certificates.
	deadline := time.Now().Add(90 * time.Second)
	var jailedAt uint64
	for jailedAt == 0 {
		if time.Now().After(deadline) {
			t.Fatal("alice not jailed within 90s")
		}
		tip := mustHeight(t, ctx, m.Nodes[0])
		vs, err := c.Validators(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs.Validators {
			if v.Address == a && v.Jailed != nil && *v.Jailed {
				jailedAt = tip
				t.Logf("alice jailed by height %d", tip)
			}
		}
		waitHeight(t, ctx, m.Nodes[0], tip+1, 30*time.Second)
	}
	if jailedAt > staked+2+testnet.DefaultDowntimeWindow+2 {
		t.Errorf("jailed by height %d, want within the window after %d", jailedAt, staked+2)
	}
	// Two heights later she is out of the set, and no round times out.
	from := waitHeight(t, ctx, m.Nodes[0], jailedAt+3, 30*time.Second) + 1
	set, err := c.Validators(ctx, &from)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range set.Validators {
		if v.Address == a {
			t.Fatalf("alice still in the set of height %d", from)
		}
	}
	// While she was in the set, each of her turns (about one height in
	// nine) timed out into round 1. Now none does: a later round is at
	// most a rare timeout of an overloaded machine, not a pattern.
	sub := finalized(t, ctx, m.Nodes[0], from)
	const heights, tolerated = 30, 1
	var late []string
	for range heights {
		ev := nextFinalized(t, sub, 10*time.Second)
		if ev.Proposer == a {
			t.Fatalf("height %d proposed by alice after she left the set", ev.Height)
		}
		if ev.Round != 0 {
			late = append(late, fmt.Sprintf("%d (round %d)", ev.Height, ev.Round))
		}
	}
	if len(late) > tolerated {
		t.Fatalf("%d of %d heights after alice left the set were decided in a later round: %v", len(late), heights, late)
	}
	if len(late) > 0 {
		t.Logf("decided in a later round (load): %v", late)
	}
}
