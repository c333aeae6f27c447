package rpc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/rpc/rpctest"
)

// lagged reads sub to its end and returns the lagged error it ended with,
// and the results before it.
func lagged(t *testing.T, sub *rpc.Subscription) ([][]byte, *rpc.LaggedError) {
	t.Helper()
	var got [][]byte
	for {
		select {
		case r, ok := <-sub.Results():
			if ok {
				got = append(got, r)
				continue
			}
			var lag *rpc.LaggedError
			if err := <-sub.Err(); !errors.As(err, &lag) {
				t.Fatalf("subscription ended with %v, want lagged", err)
			}
			return got, lag
		case <-time.After(waitLimit):
			t.Fatalf("subscription did not end within %v (%d results)", waitLimit, len(got))
		}
	}
}

// TestReplayBudgetNoMatch: a txs replay from height 1 whose filter matches
// nothing reads at most MaxReplayHeights heights, then says where it
// stopped; subscribing again from there goes on, and the last piece goes
// live.
func TestReplayBudgetNoMatch(t *testing.T) {
	const budget, stored = 50, 120
	e := start(t, rpc.Config{MaxReplayHeights: budget})
	for h := uint64(1); h <= stored; h++ {
		if _, err := e.backend.Finalize(nil, rpctest.TxEvent(h, 0, rpctest.Address(7))); err != nil {
			t.Fatal(err)
		}
	}
	nobody := rpctest.Address(404)
	c := e.dial(t, e.wsURL)
	from := uint64(1)
	for _, wantResume := range []uint64{1 + budget, 1 + 2*budget} {
		before, _ := e.backend.Scanned()
		sub, err := c.Subscribe(context.Background(), rpc.TopicTxs, &rpc.Filter{Address: &nobody}, from)
		if err != nil {
			t.Fatal(err)
		}
		got, lag := lagged(t, sub)
		if len(got) != 0 || lag.ResumeFromHeight != wantResume || lag.Reason != rpc.LaggedReplayBudget {
			t.Fatalf("replay from %d: got %d results and %+v, want none and lagged (%s) from %d",
				from, len(got), lag, rpc.LaggedReplayBudget, wantResume)
		}
		if after, _ := e.backend.Scanned(); after-before != budget {
			t.Fatalf("replay from %d read %d heights, budget %d", from, after-before, budget)
		}
		from = lag.ResumeFromHeight
	}
	// The rest fits: the replay ends and the subscription is live.
	sub, err := c.Subscribe(context.Background(), rpc.TopicTxs, &rpc.Filter{Address: &nobody}, from)
	if err != nil {
		t.Fatal(err)
	}
	match := rpctest.TxEvent(1_000_000, 0, nobody)
	if _, err := e.backend.Finalize(e.hub, match); err != nil {
		t.Fatal(err)
	}
	if got := decode[rpc.TxResult](t, next(t, sub)); got.Hash != match.Hash || *got.Height != stored+1 {
		t.Fatalf("live after the replay: got %+v, want %s at %d", got, match.Hash, stored+1)
	}
	if got := e.refusals(t, "replay_budget"); got != 2 {
		t.Fatalf("replay_budget refusals: got %v, want 2", got)
	}
}

// TestReplayBudgetEvents: a txs replay also stops once it has read
// MaxReplayTxEvents events, at a block boundary; a finalized replay sends
// MaxReplayHeights events and says where to go on.
func TestReplayBudgetEvents(t *testing.T) {
	e := start(t, rpc.Config{MaxReplayHeights: 40, MaxReplayTxEvents: 25})
	for h := uint64(1); h <= 60; h++ {
		txs := make([]rpc.TxEvent, 10)
		for i := range txs {
			txs[i] = rpctest.TxEvent(h*100+uint64(i), 0, rpctest.Address(7))
		}
		if _, err := e.backend.Finalize(nil, txs...); err != nil {
			t.Fatal(err)
		}
	}
	c := e.dial(t, e.wsURL)
	all := rpctest.Address(7)
	sub, err := c.Subscribe(context.Background(), rpc.TopicTxs, &rpc.Filter{Address: &all}, 1)
	if err != nil {
		t.Fatal(err)
	}
	got, lag := lagged(t, sub)
	if len(got) != 30 || lag.ResumeFromHeight != 4 || lag.Reason != rpc.LaggedReplayBudget {
		t.Fatalf("txs replay: got %d results and %+v; want 30 (three blocks) and lagged from 4", len(got), lag)
	}
	var last chain.Hash = decode[rpc.TxResult](t, got[len(got)-1]).Hash
	if last != rpctest.Hash("tx", 309) {
		t.Fatalf("last replayed tx: got %s, want the last of block 3", last)
	}

	fin, err := c.Subscribe(context.Background(), rpc.TopicFinalized, nil, 11)
	if err != nil {
		t.Fatal(err)
	}
	got, lag = lagged(t, fin)
	if len(got) != 40 || lag.ResumeFromHeight != 51 || lag.Reason != rpc.LaggedReplayBudget {
		t.Fatalf("finalized replay: got %d results and %+v; want 40 and lagged from 51", len(got), lag)
	}
	for i, raw := range got {
		if ev := decode[rpc.FinalizedEvent](t, raw); ev.Height != uint64(11+i) {
			t.Fatalf("finalized replay result %d: got height %d, want %d", i, ev.Height, 11+i)
		}
	}
}
