package testnet

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
)

// TestSignLoadParallel: the load signed by several workers is exactly the
// sequential schedule: transfer i comes from account i mod A with nonce i
// div A, goes to the next account, and carries a valid signature of its
// sender.
func TestSignLoadParallel(t *testing.T) {
	keys := make([]*ecdsa.PrivateKey, 3)
	for i := range keys {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	const total, fee = 10, 7
	txs, err := signLoad("bench-chain", keys, total, fee, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != total {
		t.Fatalf("%d transfers, want %d", len(txs), total)
	}
	for i, s := range txs {
		tx, err := chain.DecodeTx(s.raw)
		if err != nil {
			t.Fatalf("transfer %d: %v", i, err)
		}
		a := i % len(keys)
		from, err := chain.Recover(tx.SignHash(), &tx.Sig)
		if err != nil {
			t.Fatalf("transfer %d: recover: %v", i, err)
		}
		if want := chain.PubkeyAddress(&keys[a].PublicKey); from != want {
			t.Errorf("transfer %d from %s, want %s", i, chain.FormatAddress(from), chain.FormatAddress(want))
		}
		if tx.Nonce != uint64(i/len(keys)) || tx.To != chain.PubkeyAddress(&keys[(a+1)%len(keys)].PublicKey) ||
			tx.Amount != 1 || tx.Fee != fee || tx.ChainID != "bench-chain" || s.hash != tx.Hash() {
			t.Errorf("transfer %d: %+v", i, tx)
		}
	}
}

// TestLoadSize: an open-loop load is the ceiling's worth for the duration
// plus the mempool slack; a paced one is rate × duration.
func TestLoadSize(t *testing.T) {
	open := BenchOptions{Duration: 20 * time.Second}
	if got, want := open.loadSize(10_000), 200_000+openLoopSlack; got != want {
		t.Errorf("open loop: %d, want %d", got, want)
	}
	paced := BenchOptions{Duration: 20 * time.Second, Rate: 250}
	if got, want := paced.loadSize(10_000), 5001; got != want {
		t.Errorf("250 tx/s: %d, want %d", got, want)
	}
}

// TestFsyncsPerHeight: the counters scraped from /metrics before and after
// a run give each file's fsyncs, and the peer messages, per finalized
// height.
func TestFsyncsPerHeight(t *testing.T) {
	page := func(height int, wal, signer, store, received, duplicates, sent float64) string {
		return fmt.Sprintf("# HELP quorumchain_height Latest final height.\n# TYPE quorumchain_height gauge\nquorumchain_height %d\n"+
			"quorumchain_fsyncs_total{file=\"signer\"} %g\nquorumchain_fsyncs_total{file=\"store\"} %g\nquorumchain_fsyncs_total{file=\"wal\"} %g\n"+
			"quorumchain_p2p_messages_received_total %g\nquorumchain_p2p_duplicates_dropped_total %g\nquorumchain_p2p_messages_sent_total %g\n"+
			"go_goroutines 12\n", height, signer, store, wal, received, duplicates, sent)
	}
	pages := []string{page(100, 250, 200, 100, 4000, 2300, 4100), page(110, 270, 220, 110, 4400, 2540, 4480)}
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, pages[min(n, len(pages)-1)])
		n++
	}))
	defer srv.Close()
	m := &Manifest{Nodes: []Node{{Name: "node0", HTTP: srv.URL}, {Name: "gone", HTTP: "http://127.0.0.1:1"}}}
	ctx := context.Background()
	a := readCounters(ctx, m)
	b := readCounters(ctx, m)
	got := fsyncsPerHeight(m, a, b)
	if len(got) != 1 || got[0].Name != "node0" || got[0].Heights != 10 {
		t.Fatalf("got %+v, want node0 over 10 heights only", got)
	}
	want := map[string]float64{"wal": 2, "signer": 2, "store": 1}
	for file, v := range want {
		if got[0].PerHeight[file] != v {
			t.Errorf("%s: %.2f per height, want %.2f", file, got[0].PerHeight[file], v)
		}
	}
	if got[0].Total != 5 {
		t.Errorf("total %.2f, want 5", got[0].Total)
	}
	peer := peerMessagesPerHeight(m, a, b)
	if len(peer) != 1 || peer[0].Name != "node0" || peer[0].Heights != 10 {
		t.Fatalf("peer messages %+v, want node0 over 10 heights only", peer)
	}
	for key, v := range map[string]float64{"received": 40, "duplicates": 24, "sent": 38} {
		if peer[0].PerHeight[key] != v {
			t.Errorf("peer %s: %.2f per height, want %.2f", key, peer[0].PerHeight[key], v)
		}
	}
}

// TestWindowLimiter: the open loop's i-th transaction waits while window
// of those before it are neither final nor refused, and goes as soon as a
// final block (or a refusal) brings that under the window.
func TestWindowLimiter(t *testing.T) {
	f := newFollower(nil, nil, 1)
	var refused atomic.Int64
	wait := windowLimiter(10, f, &refused)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := wait(ctx, 9); err != nil {
		t.Fatalf("9 outstanding of a window of 10: %v", err)
	}
	released := make(chan error, 1)
	go func() { released <- wait(ctx, 15) }()
	block := func(n int) {
		txs := make([]rpc.BlockTxSummary, n)
		for i := range txs {
			txs[i].Hash = chain.Hash{byte(len(f.final)), byte(i), 1}
		}
		f.record(txs, time.Now())
	}
	block(3) // 15 - 3 = 12 outstanding: still waiting
	select {
	case err := <-released:
		t.Fatalf("released with 12 outstanding of a window of 10: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	refused.Add(2) // 10 outstanding: still waiting until the next block
	block(1)       // 9 outstanding
	select {
	case err := <-released:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("not released with 9 outstanding of a window of 10")
	}
	// A waiter gives up with its context.
	short, stop := context.WithCancel(ctx)
	stop()
	if err := wait(short, 100); err == nil {
		t.Fatal("a cancelled wait returned nil")
	}
}
