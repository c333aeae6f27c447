package rpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/rpc/rpctest"
)

// reader reads a raw websocket on a goroutine of its own, answering pings
// and counting them, so that a test can wait for messages and pings at
// once.
type reader struct {
	msgs  chan reply
	pings chan struct{}
	err   chan error
}

func (r *rawConn) startReader() *reader {
	rd := &reader{msgs: make(chan reply, 256), pings: make(chan struct{}, 1024), err: make(chan error, 1)}
	if err := r.ws.SetReadDeadline(time.Now().Add(2 * waitLimit)); err != nil {
		r.t.Fatal(err)
	}
	r.ws.SetPingHandler(func(data string) error {
		select {
		case rd.pings <- struct{}{}:
		default:
		}
		return r.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(waitLimit))
	})
	go func() {
		for {
			_, data, err := r.ws.ReadMessage()
			if err != nil {
				rd.err <- err
				return
			}
			if len(data) > 0 && data[0] == '[' { // a batch answer: pass it as one reply holding the raw array
				rd.msgs <- reply{Result: append(json.RawMessage(nil), data...)}
				continue
			}
			var m reply
			if err := json.Unmarshal(data, &m); err != nil {
				rd.err <- fmt.Errorf("reply %s: %w", data, err)
				return
			}
			rd.msgs <- m
		}
	}()
	return rd
}

func (rd *reader) next(t *testing.T, what string) reply {
	t.Helper()
	select {
	case m := <-rd.msgs:
		return m
	case err := <-rd.err:
		t.Fatalf("%s: connection ended: %v", what, err)
	case <-time.After(waitLimit):
		t.Fatalf("%s: nothing within %v", what, waitLimit)
	}
	return reply{}
}

func (rd *reader) awaitPings(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-rd.pings:
		case err := <-rd.err:
			t.Fatalf("after %d pings: connection ended: %v", i, err)
		case <-time.After(waitLimit):
			t.Fatalf("ping %d not within %v", i, waitLimit)
		}
	}
}

// TestSlowBatchKeepsConnectionAlive: while a batch of 100 slow calls runs,
// the connection is pinged and its pongs are read (it outlives several
// ping windows), its other requests are answered, and its own and another
// client's subscriptions get their events; the batch is answered whole
// when the calls end.
func TestSlowBatchKeepsConnectionAlive(t *testing.T) {
	const ping, pong = 40 * time.Millisecond, 200 * time.Millisecond
	e := start(t, rpc.Config{PingInterval: ping, PongTimeout: pong})
	release := e.gate(t, false)

	other, err := e.dial(t, e.wsURL).Subscribe(context.Background(), rpc.TopicFinalized, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := e.raw(t)
	own := r.subscribe(`{"topic":"finalized"}`)
	rd := r.startReader()

	const n = 100
	r.send(batchOf(n, "chain_status", ""))
	e.arrive(t, 1) // the batch is running, stuck in its first call

	t0 := time.Now()
	rd.awaitPings(t, 12) // twelve ping intervals: about twice ping+pong
	t.Logf("12 pings in %v while the batch waits (a dead connection is closed after %v)", time.Since(t0), ping+pong)

	r.send(`{"jsonrpc":"2.0","id":"acct","method":"chain_getAccount","params":{"address":"` + rpctest.Address(3).Hex() + `"}}`)
	if m := rd.next(t, "account during the batch"); string(m.ID) != `"acct"` || m.Error != nil {
		t.Fatalf("during the batch: got %+v, want the account response", m)
	}
	for h := uint64(1); h <= 3; h++ {
		e.finalize(t, 1)
		if ev := decode[rpc.FinalizedEvent](t, next(t, other)); ev.Height != h {
			t.Fatalf("other client: got height %d, want %d", ev.Height, h)
		}
		m := rd.next(t, "own event during the batch")
		var ev rpc.FinalizedEvent
		if m.Params.Subscription != own || json.Unmarshal(m.Params.Result, &ev) != nil || ev.Height != h {
			t.Fatalf("own subscription: got %+v, want height %d", m, h)
		}
	}
	if now, _ := e.backend.Gated(); now != 1 {
		t.Fatalf("got %d calls at the gate, want the batch's one", now)
	}

	release()
	m := rd.next(t, "batch answer")
	replies := decodeBatch(t, m.Result)
	if len(replies) != n {
		t.Fatalf("batch: got %d responses, want %d", len(replies), n)
	}
	for i, m := range replies {
		if m.Error != nil || string(m.ID) != fmt.Sprint(i+1) {
			t.Fatalf("batch response %d: got %+v", i, m)
		}
	}
	if got := e.srv.Stats().Connections; got != 2 {
		t.Fatalf("got %d connections, want 2", got)
	}
}

// TestInflightCapPerConnection: a websocket has at most MaxInflightPerConn
// messages in service; beyond, the server stops reading it until one ends,
// and every message is answered in the end.
func TestInflightCapPerConnection(t *testing.T) {
	const limit, n = 2, 6
	e := start(t, rpc.Config{MaxInflightPerConn: limit})
	release := e.gate(t, false)
	r := e.raw(t)
	rd := r.startReader()
	for i := range n {
		r.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"chain_status"}`, i+1))
	}
	e.arrive(t, limit)
	eventually(t, "the read loop waits for a slot", func() bool {
		return e.metric(t, "quorumchain_rpc_websocket_inflight_waits_total") >= 1
	})
	if now, _ := e.backend.Gated(); now != limit {
		t.Fatalf("got %d calls in service, want %d", now, limit)
	}
	release()
	seen := map[string]bool{}
	for range n {
		m := rd.next(t, "response")
		if m.Error != nil {
			t.Fatalf("response %s: %v", m.ID, m.Error)
		}
		seen[string(m.ID)] = true
	}
	if len(seen) != n {
		t.Fatalf("got responses to %d distinct ids, want %d", len(seen), n)
	}
	if _, peak := e.backend.Gated(); peak != limit {
		t.Fatalf("at most %d calls ran at once, want %d", peak, limit)
	}
}
