package p2p

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestInvalidDataDisconnects: a peer that sends bad data is disconnected
// with a reason and counted, and the switch keeps serving its other peer.
func TestInvalidDataDisconnects(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, func(c *Config) { c.MaxMessageBytes = 64 << 10 })
	b := startNode(t, sig, "b", 2, func(c *Config) { c.PersistentPeers = []string{a.addr()} })
	waitConnected(t, sig, [2]*testNode{a, b})
	a.rec.setHook(func(_ NodeID, m Message) error {
		if s, ok := m.(*Status); ok && s.Height == 666 {
			return fmt.Errorf("status from the future: %w", ErrInvalidPeerData)
		}
		if s, ok := m.(*Status); ok && s.Height == 777 {
			return errors.New("not now") // not the peer's fault: stays connected
		}
		return nil
	})

	tests := []struct {
		name   string
		typ    int
		data   []byte
		reason string // "" when none is expected
	}{
		{"garbage bytes", websocket.BinaryMessage, []byte{0xde, 0xad, 0xbe, 0xef}, "invalid message"},
		{"text frame", websocket.TextMessage, []byte(`{"hello":1}`), "text frame"},
		{"hello after the handshake", websocket.BinaryMessage, Encode(controlMessages(t)[0]), "hello after the handshake"},
		{"undecodable vote", websocket.BinaryMessage, rawEnvelope(t, uint8(KindVote), []byte{0xc1, 0x05}), "vote"},
		{"status base above height", websocket.BinaryMessage, Encode(&Status{Height: 1, BaseHeight: 2}), "base height"},
		{"handler rejects", websocket.BinaryMessage, Encode(&Status{Height: 666}), "status from the future"},
		{"over the read limit", websocket.BinaryMessage, make([]byte, 65<<10), ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := a.sw.Stats().InvalidPeerData
			raw, err := dialRaw(t, a.addr(), testKey(t, int64(100+i)), "", nil)
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			waitFor(t, sig, "a connected to the raw peer", func() bool { return a.connectedTo(raw.id) })
			// A message the handler declines without blaming the peer
			// keeps the connection.
			raw.send(t, websocket.BinaryMessage, Encode(&Status{Height: 777}))
			raw.send(t, tc.typ, tc.data)
			reasons, _ := raw.readUntilClosed(t)
			if tc.reason != "" && (len(reasons) != 1 || !strings.Contains(reasons[0], tc.reason)) {
				t.Errorf("disconnect reasons: got %q, want one containing %q", reasons, tc.reason)
			}
			waitFor(t, sig, "a to drop the raw peer", func() bool {
				return !a.connectedTo(raw.id) && a.sw.Stats().InvalidPeerData == before+1
			})
			// The log line is written as the peer's goroutine ends, which
			// may be after the peer is gone from the switch: await it.
			waitFor(t, sig, "an info log of the disconnect", func() bool {
				return a.logs.contains("disconnected peer: invalid data")
			})
			// a still serves b.
			m := &Status{Height: uint64(1000 + i)}
			if !b.sw.Send(a.id(), m) {
				t.Fatal("b.Send to a: not queued")
			}
			waitFor(t, sig, "a to receive from b", func() bool { return a.rec.count(Encode(m)) == 1 })
		})
	}
	if c, _ := a.rec.events(); len(c) != 1+len(tests) {
		t.Errorf("a's PeerConnected: got %d, want %d", len(c), 1+len(tests))
	}
}

// TestReconnect: when the node b dials goes away and a new one starts on the
// same address, b reconnects.
func TestReconnect(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, nil)
	b := startNode(t, sig, "b", 2, func(c *Config) { c.PersistentPeers = []string{a.addr()} })
	waitConnected(t, sig, [2]*testNode{a, b})

	a.stop()
	waitFor(t, sig, "b to see a leave", func() bool {
		_, d := b.rec.events()
		return len(d) == 1 && d[0] == a.id()
	})
	waitFor(t, sig, "b to log a's reason for leaving", func() bool { return b.logs.contains("peer disconnected: shutting down") })
	a2 := startNode(t, sig, "a'", 1, func(c *Config) { c.ListenAddr = a.addr() })
	waitConnected(t, sig, [2]*testNode{a2, b})
	if c, _ := b.rec.events(); len(c) != 2 {
		t.Errorf("b's PeerConnected: got %d, want 2", len(c))
	}
	m := &Status{Height: 9}
	if !b.sw.Send(a2.id(), m) {
		t.Fatal("b.Send after reconnecting: not queued")
	}
	waitFor(t, sig, "a' to receive", func() bool { return a2.rec.count(Encode(m)) == 1 })
}

// TestSendQueueOverflow: with the receiver stuck, Broadcast and Send drop
// and count instead of blocking.
func TestSendQueueOverflow(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, func(c *Config) { c.SendQueue = 4 })
	b := startNode(t, sig, "b", 2, func(c *Config) { c.PersistentPeers = []string{a.addr()} })
	waitConnected(t, sig, [2]*testNode{a, b})
	release := make(chan struct{})
	b.rec.setHook(func(NodeID, Message) error {
		<-release // b's reader stops: a's socket, then its queue, fill up
		return nil
	})
	defer close(release)

	blk := makeBlock(t, testKey(t, 1), 2, 2000, nil) // about 200 KiB per message
	var slowest time.Duration
	sent := 0
	for a.sw.Stats().SendDropped == 0 {
		if sent == 2000 {
			t.Fatalf("no drop after %d broadcasts of %d bytes", sent, len(Encode(&ProposalMessage{Proposal: proposalFor(t, testKey(t, 1), blk, 0), Block: blk})))
		}
		blk.Header.Time++ // another block, another message
		m := &ProposalMessage{Proposal: proposalFor(t, testKey(t, 1), blk, 0), Block: blk}
		start := time.Now()
		a.sw.Broadcast(m)
		slowest = max(slowest, time.Since(start))
		sent++
	}
	if a.sw.Send(b.id(), &Status{Height: 1}) {
		t.Error("Send with a full queue: got true, want false")
	}
	st := a.sw.Stats()
	if st.SendDropped != 2 {
		t.Errorf("drops: got %d, want 2 (one broadcast, one send)", st.SendDropped)
	}
	if slowest > time.Second {
		t.Errorf("slowest Broadcast took %v: it must not block", slowest)
	}
	t.Logf("first drop after %d broadcasts; slowest Broadcast %v", sent, slowest)
}

// TestRunStopsEverything: after Run returns, no goroutine of the switches
// is left.
func TestRunStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	sig := newSignal()
	a := startNode(t, sig, "a", 1, nil)
	b := startNode(t, sig, "b", 2, func(c *Config) { c.PersistentPeers = []string{a.addr(), "127.0.0.1:1"} })
	waitConnected(t, sig, [2]*testNode{a, b})
	b.sw.Broadcast(testVotes(t, 1)[0])
	a.stop()
	b.stop()
	deadline := time.Now().Add(waitTimeout)
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after stopping:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		<-ticker.C
	}
}

func TestRunErrors(t *testing.T) {
	ln := listenLoopback(t)
	defer func() {
		if err := ln.Close(); err != nil {
			t.Error(err)
		}
	}()
	sw, err := NewSwitch(Config{ChainID: testChain, NodeKey: testKey(t, 1), ListenAddr: ln.Addr().String()}, &recorder{sig: newSignal()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("Run on a busy address: got %v, want a listen error", err)
	}
	if err := sw.Run(context.Background()); err == nil {
		t.Error("second Run: got nil, want an error")
	}

	for name, cfg := range map[string]Config{
		"no key":       {ChainID: testChain},
		"no chain id":  {NodeKey: testKey(t, 1)},
		"long chain":   {ChainID: strings.Repeat("c", 65), NodeKey: testKey(t, 1)},
		"huge message": {ChainID: testChain, NodeKey: testKey(t, 1), MaxMessageBytes: MaxMessageBytes + 1},
		"negative":     {ChainID: testChain, NodeKey: testKey(t, 1), SendQueue: -1},
	} {
		if _, err := NewSwitch(cfg, &recorder{}, nil); err == nil {
			t.Errorf("NewSwitch with %s: got nil error", name)
		}
	}
	if _, err := NewSwitch(Config{ChainID: testChain, NodeKey: testKey(t, 1)}, nil, nil); err == nil {
		t.Error("NewSwitch without handler: got nil error")
	}
}
