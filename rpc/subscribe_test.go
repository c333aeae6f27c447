package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/rpc/rpctest"
)

// next returns the next result of sub within waitLimit.
func next(t testing.TB, sub *rpc.Subscription) json.RawMessage {
	t.Helper()
	select {
	case r, ok := <-sub.Results():
		if !ok {
			t.Fatalf("subscription ended: %v", <-sub.Err())
		}
		return r
	case <-time.After(waitLimit):
		t.Fatalf("no result within %v", waitLimit)
	}
	return nil
}

func decode[T any](t testing.TB, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// TestSubscribeTopics: every topic delivers its events, filters select.
func TestSubscribeTopics(t *testing.T) {
	e := start(t, rpc.Config{})
	c := e.dial(t, e.wsURL)
	ctx := context.Background()
	alice, bob := rpctest.Address(10), rpctest.Address(11)
	txA, txB := rpctest.TxEvent(1, 1, alice), rpctest.TxEvent(2, 1, bob)
	subscribe := func(topic rpc.Topic, f *rpc.Filter) *rpc.Subscription {
		t.Helper()
		sub, err := c.Subscribe(ctx, topic, f, 0)
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	fin := subscribe(rpc.TopicFinalized, nil)
	blocks := subscribe(rpc.TopicBlocks, nil)
	votes := subscribe(rpc.TopicVotes, nil)
	allTxs := subscribe(rpc.TopicTxs, nil)
	bobTxs := subscribe(rpc.TopicTxs, &rpc.Filter{Address: &bob})
	hashTxs := subscribe(rpc.TopicTxs, &rpc.Filter{Hash: &txB.Hash})
	vals := subscribe(rpc.TopicValidators, nil)
	duties := subscribe(rpc.TopicDuties, &rpc.Filter{Validator: &bob})

	blk := rpctest.Hash("block", 1)
	publish := func(topic rpc.Topic, ev rpc.Event) {
		t.Helper()
		if err := e.hub.Publish(topic, ev); err != nil {
			t.Fatal(err)
		}
	}
	publish(rpc.TopicBlocks, rpc.BlockEvent{Height: 1, Hash: blk, Proposer: alice, TxCount: 2})
	publish(rpc.TopicVotes, rpc.VoteEvent{Height: 1, Type: "prevote", Validator: alice, Stake: 70,
		Tally: rpc.TallyResult{VotedStake: 70, TotalStake: 100, Quorum: true}})
	publish(rpc.TopicVotes, rpc.VoteEvent{Height: 1, Type: "precommit", Block: &blk, Validator: alice, Stake: 70})
	publish(rpc.TopicDuties, rpc.DutyEvent{DutyResult: rpc.DutyResult{ID: 1, Validator: alice, Kind: "prevote", Height: 1}})
	publish(rpc.TopicDuties, rpc.DutyEvent{DutyResult: rpc.DutyResult{ID: 2, Validator: bob, Kind: "prevote", Height: 1}})
	publish(rpc.TopicValidators, rpc.ValidatorsEvent{ValidatorsResult: rpc.ValidatorsResult{Height: 3, TotalStake: 100,
		Validators: []rpc.ValidatorResult{{Address: alice, Stake: 100}}}})
	if _, err := e.backend.Finalize(e.hub, txA, txB); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		sub  *rpc.Subscription
		want []string
	}{
		{"finalized", fin, []string{`{"height":1,"hash":"` + blk.Hex() + `","parentHash":"0x`}},
		{"blocks", blocks, []string{`{"height":1,"round":0,"hash":"` + blk.Hex() + `","proposer":"0xa00000000000000000000000000000000000000a","txCount":2}`}},
		{"votes", votes, []string{
			`{"height":1,"round":0,"type":"prevote","block":null,"validator":"0xa00000000000000000000000000000000000000a","stake":"70","tally":{"votedStake":"70","totalStake":"100","quorum":true}}`,
			`{"height":1,"round":0,"type":"precommit","block":"` + blk.Hex() + `"`}},
		{"txs", allTxs, []string{`{"hash":"` + txA.Hash.Hex() + `","status":"final","height":1}`, `{"hash":"` + txB.Hash.Hex() + `"`}},
		{"txs by address", bobTxs, []string{`{"hash":"` + txB.Hash.Hex() + `","status":"final","height":1}`}},
		{"txs by hash", hashTxs, []string{`{"hash":"` + txB.Hash.Hex() + `"`}},
		{"validators", vals, []string{`{"height":3,"totalStake":"100","quorumStake":"0","validators":[{"address":"0xa00000000000000000000000000000000000000a","stake":"100","proposerPriority":0}]}`}},
		{"duties", duties, []string{`{"id":2,"validator":"0xa00000000000000000000000000000000000000b","kind":"prevote","height":1,"round":0,"block":null,"signHash":"0x`}},
	} {
		for _, want := range tc.want {
			got := string(next(t, tc.sub))
			if len(got) < len(want) || got[:len(want)] != want {
				t.Errorf("%s: got %s, want %s...", tc.name, got, want)
			}
		}
	}
	// Nothing else arrived on the filtered subscriptions: the next event
	// they see is the next matching one.
	txC := rpctest.TxEvent(3, 2, bob)
	if _, err := e.backend.Finalize(e.hub, rpctest.TxEvent(4, 2, alice), txC); err != nil {
		t.Fatal(err)
	}
	if got := decode[rpc.TxResult](t, next(t, bobTxs)); got.Hash != txC.Hash {
		t.Fatalf("txs by address: got %s, want %s", got.Hash, txC.Hash)
	}
}

// TestSubscriptionBuffersUntilID: while events are being published, the
// subscribe response still comes before the first notification.
func TestSubscriptionBuffersUntilID(t *testing.T) {
	e := start(t, rpc.Config{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := e.backend.Finalize(e.hub); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)
	for i := range 20 {
		r := e.raw(t)
		r.send(`{"jsonrpc":"2.0","id":7,"method":"chain_subscribe","params":{"topic":"finalized"}}`)
		m := r.recv()
		if m.Method != "" || string(m.ID) != "7" {
			t.Fatalf("try %d: first message %+v, want the subscribe response", i, m)
		}
		var id string
		if err := json.Unmarshal(m.Result, &id); err != nil {
			t.Fatal(err)
		}
		var first rpc.FinalizedEvent
		if got := r.nextEvent(&first); got != id {
			t.Fatalf("notification for %s, want %s", got, id)
		}
		var second rpc.FinalizedEvent
		r.nextEvent(&second)
		if second.Height != first.Height+1 {
			t.Fatalf("got heights %d then %d, want consecutive", first.Height, second.Height)
		}
	}
}

// TestUnsubscribe: after chain_unsubscribe returns true, nothing more
// arrives for that subscription.
func TestUnsubscribe(t *testing.T) {
	e := start(t, rpc.Config{})
	r := e.raw(t)
	id := r.subscribe(`{"topic":"finalized"}`)
	e.finalize(t, 1)
	var ev rpc.FinalizedEvent
	r.nextEvent(&ev)
	if m := r.call(`{"jsonrpc":"2.0","id":2,"method":"chain_unsubscribe","params":{"id":"` + id + `"}}`); string(m.Result) != "true" {
		t.Fatalf("unsubscribe: got %+v", m)
	}
	e.finalize(t, 1)
	if m := r.call(`{"jsonrpc":"2.0","id":3,"method":"chain_status"}`); string(m.ID) != "3" {
		t.Fatalf("got %+v, want the status response", m)
	}
	if n := e.hub.Subscribers(rpc.TopicFinalized); n != 0 {
		t.Fatalf("hub has %d subscribers, want 0", n)
	}

	c := e.dial(t, e.wsURL)
	sub, err := c.Subscribe(context.Background(), rpc.TopicFinalized, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Unsubscribe(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range sub.Results() {
		t.Fatal("result after Unsubscribe")
	}
	if err := <-sub.Err(); err != nil {
		t.Fatalf("Err after Unsubscribe: got %v, want nil", err)
	}
}

// follow reads finalized events from fromHeight through last with the
// Client, resubscribing from resumeFromHeight when lagged, and fails on any
// gap or duplicate. It returns how many times it was lagged.
func follow(t testing.TB, c *rpc.Client, fromHeight, last uint64) (lags int) {
	t.Helper()
	want := fromHeight
	for want <= last {
		sub, err := c.Subscribe(context.Background(), rpc.TopicFinalized, nil, want)
		if err != nil {
			t.Fatal(err)
		}
		for want <= last {
			r, ok := <-sub.Results()
			if !ok {
				var lag *rpc.LaggedError
				if err := <-sub.Err(); !errors.As(err, &lag) {
					t.Fatalf("subscription ended: %v", err)
				}
				if lag.ResumeFromHeight != want {
					t.Fatalf("lagged: got resumeFromHeight %d, want %d", lag.ResumeFromHeight, want)
				}
				lags++
				break
			}
			ev := decode[rpc.FinalizedEvent](t, r)
			if ev.Height != want || ev.Hash != rpctest.Hash("block", want) {
				t.Fatalf("from %d: got height %d, want %d", fromHeight, ev.Height, want)
			}
			want++
		}
		if want > last {
			if err := sub.Unsubscribe(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	return lags
}

// publisher finalizes heights one at a time, from any goroutine, up to
// last: store, then publish, in height order.
type publisher struct {
	e      *env
	last   uint64
	mu     sync.Mutex
	height uint64
}

// publish finalizes up to n more heights and reports whether it reached last.
func (p *publisher) publish(t testing.TB, n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ; n > 0 && p.height < p.last; n-- {
		ev, err := p.e.backend.Finalize(p.e.hub)
		if err != nil {
			t.Error(err)
			return true
		}
		p.height = ev.Height
	}
	return p.height >= p.last
}

// TestReplayThenLive: fromHeight replays the stored events, then goes on
// live with no gap and no duplicate while events are published
// concurrently with the replay. With inReplay, the backend also publishes
// from inside every replay call (LatestHeight, FinalizedEvents): events
// land both in the replayed range and in the live queue.
func TestReplayThenLive(t *testing.T) {
	for _, tc := range []struct {
		name             string
		stored, from     uint64
		last             uint64
		subscriberBuffer int
		inReplay         bool
	}{
		{"from genesis", 40, 1, 400, 0, false},
		{"from middle", 40, 17, 400, 0, false},
		{"from latest", 40, 40, 400, 0, false},
		{"from next", 40, 41, 400, 0, false},
		{"from future", 40, 90, 400, 0, false},
		{"zero is one", 5, 0, 100, 0, false},
		{"long replay, small queue", 2000, 1, 3000, 16, false},
		{"publish inside replay", 40, 3, 400, 0, true},
		{"publish inside long replay, small queue", 1000, 1, 1500, 16, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, rpc.Config{SubscriberBuffer: tc.subscriberBuffer})
			for range tc.stored {
				if _, err := e.backend.Finalize(nil); err != nil {
					t.Fatal(err)
				}
			}
			p := &publisher{e: e, last: tc.last, height: tc.stored}
			if tc.inReplay {
				e.backend.SetHook(func() { p.publish(t, 2) })
			}
			c := e.dial(t, e.wsURL)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for !p.publish(t, 1) {
					runtime.Gosched() // let the replay interleave
				}
			}()
			lags := follow(t, c, max(tc.from, 1), tc.last)
			<-done
			t.Logf("lagged %d times", lags)
			if e.hub.Subscribers(rpc.TopicFinalized) != 0 {
				t.Fatalf("hub has %d subscribers after unsubscribe", e.hub.Subscribers(rpc.TopicFinalized))
			}
		})
	}
}

// TestReplayTxs: a txs subscription with an address filter and fromHeight
// gets every matching transaction of the blocks from that height on,
// stored and live, once and in order.
func TestReplayTxs(t *testing.T) {
	e := start(t, rpc.Config{})
	alice := rpctest.Address(10)
	const stored, last, from = 30, 150, 5
	var want []chain.Hash
	block := func(h uint64) []rpc.TxEvent {
		var txs []rpc.TxEvent
		for i := range h % 4 { // 0 to 3 transactions
			n := h*10 + i
			sender := rpctest.Address(20 + n%3)
			if n%2 == 0 {
				sender = alice
			}
			txs = append(txs, rpctest.TxEvent(n, h, sender))
			if sender == alice && h >= from {
				want = append(want, rpctest.Hash("tx", n))
			}
		}
		return txs
	}
	blocks := make([][]rpc.TxEvent, last+1)
	for h := uint64(1); h <= last; h++ {
		blocks[h] = block(h)
	}
	for h := uint64(1); h <= stored; h++ {
		if _, err := e.backend.Finalize(nil, blocks[h]...); err != nil {
			t.Fatal(err)
		}
	}
	// Publish the next block from a goroutine and from inside every
	// replay call of the backend, one block at a time.
	var mu sync.Mutex
	height := uint64(stored)
	publishNext := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if height == last {
			return false
		}
		height++
		if _, err := e.backend.Finalize(e.hub, blocks[height]...); err != nil {
			t.Error(err)
			return false
		}
		return true
	}
	e.backend.SetHook(func() { publishNext() })
	c := e.dial(t, e.wsURL)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for publishNext() {
			runtime.Gosched()
		}
	}()
	defer func() { <-done }()
	sub, err := c.Subscribe(context.Background(), rpc.TopicTxs, &rpc.Filter{Address: &alice}, from)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range want {
		got := decode[rpc.TxResult](t, next(t, sub))
		if got.Hash != h {
			t.Fatalf("tx %d of %d: got %s at height %d, want %s", i, len(want), got.Hash, *got.Height, h)
		}
	}
	// And nothing more: a later matching transaction is the next result.
	<-done
	e.backend.SetHook(nil)
	later := rpctest.TxEvent(100_000, 0, alice)
	if _, err := e.backend.Finalize(e.hub, later); err != nil {
		t.Fatal(err)
	}
	if got := decode[rpc.TxResult](t, next(t, sub)); got.Hash != later.Hash {
		t.Fatalf("after the replay: got %s, want %s", got.Hash, later.Hash)
	}
}

// TestReplayBackendFailure: a replay the backend cannot serve ends with a
// lagged result from the first height not sent.
func TestReplayBackendFailure(t *testing.T) {
	e := start(t, rpc.Config{})
	e.finalize(t, 10)
	e.backend.SetReplayError(errors.New("store closed"))
	c := e.dial(t, e.wsURL)
	sub, err := c.Subscribe(context.Background(), rpc.TopicFinalized, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	for r := range sub.Results() {
		t.Fatalf("got result %s, want none", r)
	}
	var lag *rpc.LaggedError
	if err := <-sub.Err(); !errors.As(err, &lag) || lag.ResumeFromHeight != 3 {
		t.Fatalf("got %v, want lagged from 3", err)
	}
}
