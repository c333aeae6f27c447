package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/quorumchain/quorumchain/rpc"
)

// TestSlowSubscriberLagged: a subscriber that does not read fills its
// socket and then its queue; it gets exactly one lagged result after the
// events it had, and is unsubscribed, while a fast subscriber gets every
// event and publishing never waits.
func TestSlowSubscriberLagged(t *testing.T) {
	const buffer = 64
	e := start(t, rpc.Config{SubscriberBuffer: buffer, WriteTimeout: time.Minute})
	e.backend.SetSigners(100) // ~4.5 KB per event: fill socket buffers sooner

	ws, resp, err := websocket.DefaultDialer.Dial(e.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	defer ws.Close()
	slow := &rawConn{t: t, ws: ws}
	slowID := slow.subscribe(`{"topic":"finalized"}`)

	fast, err := e.dial(t, e.wsURL).Subscribe(context.Background(), rpc.TopicFinalized, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	const maxEvents = 20_000
	var publishMax time.Duration
	var published uint64
	for e.hub.Subscribers(rpc.TopicFinalized) == 2 {
		if published == maxEvents {
			t.Fatalf("slow subscriber not cut off after %d events", maxEvents)
		}
		t0 := time.Now()
		if _, err := e.backend.Finalize(e.hub); err != nil {
			t.Fatal(err)
		}
		publishMax = max(publishMax, time.Since(t0))
		published++
		// The fast subscriber keeps up, in lock step.
		if ev := decode[rpc.FinalizedEvent](t, next(t, fast)); ev.Height != published {
			t.Fatalf("fast subscriber: got height %d, want %d", ev.Height, published)
		}
	}
	t.Logf("slow subscriber cut off after %d events; slowest publish %v", published, publishMax)
	if publishMax > time.Second {
		t.Errorf("a publish took %v: publishing waited for a client", publishMax)
	}
	for range 10 { // the fast one goes on
		e.finalize(t, 1)
		published++
		if ev := decode[rpc.FinalizedEvent](t, next(t, fast)); ev.Height != published {
			t.Fatalf("fast subscriber: got height %d, want %d", ev.Height, published)
		}
	}

	// The slow one now reads: consecutive heights, then one lagged result.
	want := uint64(1)
	for {
		m := slow.recv()
		if m.Method != rpc.MethodSubscription || m.Params.Subscription != slowID {
			t.Fatalf("slow subscriber: got %+v, want a notification of %s", m, slowID)
		}
		var lag rpc.LaggedResult
		if err := json.Unmarshal(m.Params.Result, &lag); err == nil && lag.Lagged {
			if lag.ResumeFromHeight != want {
				t.Fatalf("lagged: got resumeFromHeight %d, want %d", lag.ResumeFromHeight, want)
			}
			break
		}
		ev := decode[rpc.FinalizedEvent](t, m.Params.Result)
		if ev.Height != want {
			t.Fatalf("slow subscriber: got height %d, want %d", ev.Height, want)
		}
		want++
	}
	if want < buffer {
		t.Fatalf("slow subscriber got %d events, want at least its queue (%d)", want-1, buffer)
	}
	// Nothing follows the lagged result, and the connection still works.
	if m := slow.call(`{"jsonrpc":"2.0","id":5,"method":"chain_status"}`); m.Error != nil || string(m.ID) != "5" {
		t.Fatalf("slow client after lag: got %+v, want the status response", m)
	}
	if m := slow.call(`{"jsonrpc":"2.0","id":6,"method":"chain_unsubscribe","params":{"id":"` + slowID + `"}}`); m.Error == nil || m.Error.Code != rpc.CodeNotFound {
		t.Fatalf("unsubscribe after lag: got %+v, want not found", m)
	}
	if got := e.hub.Stats().Lagged; got != 1 {
		t.Fatalf("hub counted %d lagged subscriptions, want 1", got)
	}
}

// TestPingClosesDeadConnection: a client that answers no ping is closed
// after PingInterval+PongTimeout; one that answers stays. The pong timeout
// is long against the ping interval so that a client starved of CPU for a
// moment on a loaded machine still answers in time.
func TestPingClosesDeadConnection(t *testing.T) {
	e := start(t, rpc.Config{PingInterval: 40 * time.Millisecond, PongTimeout: 2 * time.Second})

	dead := e.raw(t)
	deadPings := 0
	dead.ws.SetPingHandler(func(string) error { deadPings++; return nil }) // never pong
	if err := dead.ws.SetReadDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	_, _, err := dead.ws.ReadMessage()
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("dead client: got %v, want the server to close the connection", err)
	}
	t.Logf("dead connection closed after %v and %d pings: %v", time.Since(t0), deadPings, err)
	if deadPings == 0 {
		t.Fatal("dead client saw no ping")
	}

	alive := e.raw(t)
	pings := make(chan struct{}, 100)
	alive.ws.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return alive.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	msgs := make(chan []byte, 1)
	go func() {
		defer close(msgs)
		for {
			_, data, err := alive.ws.ReadMessage()
			if err != nil {
				return
			}
			msgs <- data
		}
	}()
	for i := range 60 { // 60 intervals: past PingInterval+PongTimeout
		select {
		case <-pings:
		case _, ok := <-msgs:
			if !ok {
				t.Fatalf("live client disconnected after %d pings", i)
			}
		case <-time.After(waitLimit):
			t.Fatalf("no ping %d within %v", i, waitLimit)
		}
	}
	alive.send(`{"jsonrpc":"2.0","id":1,"method":"chain_status"}`)
	select {
	case data, ok := <-msgs:
		if !ok {
			t.Fatal("live client was disconnected")
		}
		t.Logf("live client after 60 pings: %.40s...", data)
	case <-time.After(waitLimit):
		t.Fatal("no response")
	}
	if n := e.srv.Stats().Connections; n != 1 {
		t.Fatalf("got %d connections, want 1", n)
	}
}

// TestManySubscribers: 1,000 websockets subscribed to finalized all get
// every event. It logs the memory each costs (server and test client
// together, in this one process).
func TestManySubscribers(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 connections")
	}
	const subscribers, events = 1000, 50
	e := start(t, rpc.Config{MaxConnections: subscribers + 10})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()
	conns := make([]*rawConn, subscribers)
	for i := range conns {
		conns[i] = e.raw(t)
		conns[i].subscribe(`{"topic":"finalized"}`)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perSub := func(a, b uint64) float64 { return (float64(a) - float64(b)) / subscribers / 1024 }
	t.Logf("per subscriber (server + client): heap %.1f KiB, stacks %.1f KiB, total in use %.1f KiB, goroutines %.1f",
		perSub(after.HeapInuse, before.HeapInuse), perSub(after.StackInuse, before.StackInuse),
		perSub(after.HeapInuse+after.StackInuse, before.HeapInuse+before.StackInuse),
		float64(runtime.NumGoroutine()-goroutines)/subscribers)

	errc := make(chan error, subscribers)
	var wg sync.WaitGroup
	for _, r := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- receiveHeights(r.ws, events)
		}()
	}
	t0 := time.Now()
	e.finalize(t, events)
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d events to %d subscribers in %v", events, subscribers, time.Since(t0))
}

// receiveHeights reads n finalized notifications and checks they are
// heights 1..n.
func receiveHeights(ws *websocket.Conn, n uint64) error {
	for want := uint64(1); want <= n; want++ {
		if err := ws.SetReadDeadline(time.Now().Add(waitLimit)); err != nil {
			return err
		}
		_, data, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		var m struct {
			Params struct {
				Result rpc.FinalizedEvent `json:"result"`
			} `json:"params"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return err
		}
		if m.Params.Result.Height != want {
			return fmt.Errorf("got height %d, want %d", m.Params.Result.Height, want)
		}
	}
	return nil
}
