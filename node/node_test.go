package node

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/staking"
)

// testNode is a single-validator node run in-process on 127.0.0.1.
type testNode struct {
	home   Home
	key    *ecdsa.PrivateKey
	addr   chain.Address
	rpcURL string
	node   *Node
	cancel context.CancelFunc
	done   chan error
}

const testPassword = "node-test-password"

func newTestHome(t *testing.T) (Home, *ecdsa.PrivateKey) {
	t.Helper()
	home := Home(filepath.Join(t.TempDir(), "node"))
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	// Port 0: the kernel picks free ports when the node binds, and the node
	// reports them (RPCAddr, P2PAddr), so no port is probed and reused.
	cfg.P2P.ListenAddr = "127.0.0.1:0"
	cfg.RPC.ListenAddr = "127.0.0.1:0"
	cfg.Consensus.EmptyBlockInterval = Duration(50 * time.Millisecond)
	cfg.Log.Level = "warn"
	if _, err := Init(home, InitOptions{ChainID: "quorum-test", Password: testPassword, LightKDF: true, Validator: crypto.FromECDSA(key), Config: &cfg}); err != nil {
		t.Fatal(err)
	}
	return home, key
}

func startNode(t *testing.T, home Home, key *ecdsa.PrivateKey) *testNode {
	t.Helper()
	n, err := New(home, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tn := &testNode{home: home, key: key, addr: chain.PubkeyAddress(&key.PublicKey), rpcURL: "ws://" + n.RPCAddr() + "/ws", node: n, cancel: cancel, done: make(chan error, 1)}
	go func() { tn.done <- n.Run(ctx) }()
	t.Cleanup(func() { tn.stop(t) })
	return tn
}

func (tn *testNode) stop(t *testing.T) {
	t.Helper()
	if tn.cancel == nil {
		return
	}
	tn.cancel()
	tn.cancel = nil
	select {
	case err := <-tn.done:
		if err != nil {
			t.Errorf("node Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("node did not stop within 10s")
	}
}

func dial(t *testing.T, url string) *rpc.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rpc.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFinalized returns the next n finalized events.
func waitFinalized(t *testing.T, c *rpc.Client, from uint64, n int) []rpc.FinalizedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub, err := c.Subscribe(ctx, rpc.TopicFinalized, nil, from)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe(context.Background())
	var out []rpc.FinalizedEvent
	for len(out) < n {
		select {
		case raw := <-sub.Results():
			var ev rpc.FinalizedEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			out = append(out, ev)
		case err := <-sub.Err():
			t.Fatalf("subscription ended: %v", err)
		case <-ctx.Done():
			t.Fatalf("got %d finalized events, want %d", len(out), n)
		}
	}
	return out
}

func signTx(t *testing.T, key *ecdsa.PrivateKey, chainID string, kind chain.TxKind, nonce uint64, to chain.Address, amount uint64) *chain.Tx {
	t.Helper()
	tx := &chain.Tx{ChainID: chainID, Kind: kind, Nonce: nonce, To: to, Amount: amount}
	sig, err := chain.Sign(key, tx.SignHash())
	if err != nil {
		t.Fatal(err)
	}
	tx.Sig = sig
	return tx
}

// waitTx waits until a transaction is final or rejected.
func waitTx(t *testing.T, c *rpc.Client, h chain.Hash) *rpc.TxResult {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		r, err := c.Tx(context.Background(), h)
		if err == nil && r.Status != "pending" {
			return r
		}
		waitFinalized(t, c, 0, 1)
	}
	t.Fatalf("tx %s not final within 15s", chain.FormatHash(h))
	return nil
}

func TestNodeFinalizesExecutesAndRestarts(t *testing.T) {
	home, key := newTestHome(t)
	tn := startNode(t, home, key)
	c := dial(t, tn.rpcURL)

	evs := waitFinalized(t, c, 1, 3)
	for i, ev := range evs {
		if ev.Height != uint64(i+1) {
			t.Fatalf("event %d: height %d, want %d (replay from 1 in order)", i, ev.Height, i+1)
		}
		if !staking.HasQuorum(uint64(ev.Certificate.SignedStake), uint64(ev.Certificate.TotalStake)) {
			t.Fatalf("height %d: certificate signed %d of %d", ev.Height, ev.Certificate.SignedStake, ev.Certificate.TotalStake)
		}
	}

	to := chain.Address{0xaa}
	tx := signTx(t, key, "quorum-test", chain.TxTransfer, 0, to, 1234)
	h, err := c.SubmitTx(context.Background(), tx.Encode())
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if r := waitTx(t, c, h); r.Status != "final" || r.Height == nil {
		t.Fatalf("tx: %+v", r)
	}
	acct, err := c.Account(context.Background(), to)
	if err != nil || acct.Balance != 1234 {
		t.Fatalf("recipient: %+v %v", acct, err)
	}
	// The block as a running node answers it from the receipts it keeps
	// of recent blocks; after the restart below it comes from the store.
	txHeight := *waitTx(t, c, h).Height
	recentBlock, err := c.Block(context.Background(), txHeight)
	if err != nil || len(recentBlock.Txs) == 0 || recentBlock.Txs[0].Hash != h || recentBlock.Txs[0].From != addr(key) {
		t.Fatalf("block %d: %+v %v; want the transfer from %s", txHeight, recentBlock, err, chain.FormatAddress(addr(key)))
	}

	// Bad input over the real backend: each gets its code, the node keeps serving.
	bad := []struct {
		name string
		raw  []byte
		code int
	}{
		{"malformed", []byte{0xc0, 0x01}, rpc.CodeInvalidTx},
		{"replayed nonce", tx.Encode(), rpc.CodeBadNonce},
		{"wrong chain", signTx(t, key, "other-chain", chain.TxTransfer, 1, to, 1).Encode(), rpc.CodeWrongChain},
		{"too little balance", signTx(t, key, "quorum-test", chain.TxTransfer, 1, to, DefaultBalance).Encode(), rpc.CodeInsufficientFunds},
	}
	forged := signTx(t, key, "quorum-test", chain.TxTransfer, 1, to, 1)
	forged.Sig[64] = 9
	bad = append(bad, struct {
		name string
		raw  []byte
		code int
	}{"invalid signature", forged.Encode(), rpc.CodeInvalidTx})
	for _, b := range bad {
		_, err := c.SubmitTx(context.Background(), b.raw)
		var re *rpc.Error
		if !errors.As(err, &re) || re.Code != b.code {
			t.Errorf("%s: got %v, want code %d", b.name, err, b.code)
		}
	}
	st, err := c.Status(context.Background())
	if err != nil || st.ChainID != "quorum-test" {
		t.Fatalf("status after bad input: %+v %v", st, err)
	}

	// A replayed finalized event carries the finalization time the node
	// recorded when the block went final, not the block's own time.
	live := waitFinalized(t, c, 0, 1)[0]
	replayed := waitFinalized(t, c, live.Height, 1)[0]
	if replayed.Height != live.Height || !replayed.FinalizedAt.Equal(live.FinalizedAt.Truncate(time.Millisecond)) {
		t.Fatalf("replayed h=%d finalizedAt %v, live h=%d finalizedAt %v", replayed.Height, replayed.FinalizedAt, live.Height, live.FinalizedAt)
	}

	// Restart: the chain resumes from the store with the same state.
	before := st.Height
	tn.stop(t)
	tn = startNode(t, home, key)
	c = dial(t, tn.rpcURL)
	next := waitFinalized(t, c, before+1, 1)[0]
	if next.Height != before+1 {
		t.Fatalf("after restart: height %d, want %d", next.Height, before+1)
	}
	acct, err = c.Account(context.Background(), to)
	if err != nil || acct.Balance != 1234 {
		t.Fatalf("recipient after restart: %+v %v", acct, err)
	}
	if r, err := c.Tx(context.Background(), h); err != nil || r.Status != "final" {
		t.Fatalf("tx after restart: %+v %v", r, err)
	}
	storedBlock, err := c.Block(context.Background(), txHeight)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, storedBlock), mustJSON(t, recentBlock); got != want {
		t.Fatalf("block %d from the store:\n%s\nfrom recent receipts:\n%s", txHeight, got, want)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
