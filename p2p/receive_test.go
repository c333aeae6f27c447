package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
)

// unconnectedPeer adds to sw (not running) a peer without a connection:
// the test hands its messages to receive directly, as readLoop does with
// each frame, and finds what is sent to it in its send queue.
func unconnectedPeer(t testing.TB, sw *Switch, keyN int64) *peer {
	t.Helper()
	_, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p := newPeer(sw, PeerInfo{ID: NodeIDFromKey(testKey(t, keyN))}, nil, cancel)
	sw.mu.Lock()
	sw.peers[p.info.ID] = p
	sw.mu.Unlock()
	return p
}

// receiveSwitch is a Switch, not running, whose transaction budget is
// unlimited.

func receiveSwitch(t testing.TB, h Handler) *Switch {
	t.Helper()
	unlimited := Budget{MessagesPerSecond: 1e9, MessageBurst: 1 << 30, BytesPerSecond: 1e12, ByteBurst: 1 << 40}
	sw, err := NewSwitch(Config{ChainID: testChain, GenesisHash: testGenesis, NodeKey: testKey(t, 1), ListenAddr: "127.0.0.1:0",
		Budgets: Budgets{Tx: unlimited}}, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sw
}

// txsBatch is an encoded TxsMessage of n transactions (one signature,
// copied: decoding does not check it).
func txsBatch(t testing.TB, n int) []byte {
	t.Helper()
	first := signedTx(t, testKey(t, 3), 0)
	txs := make([]*chain.Tx, n)
	for i := range txs {
		tx := *first
		tx.Nonce = uint64(i)
		txs[i] = &tx
	}
	return Encode(&TxsMessage{Txs: txs})
}

// BenchmarkReceiveDuplicate hands a peer's receive path a TxsMessage the
// Switch has already seen, as every node of a full mesh gets each batch
// again from each relaying peer.
func BenchmarkReceiveDuplicate(b *testing.B) {
	for _, n := range []int{1, 512} {
		b.Run(fmt.Sprintf("txs=%d", n), func(b *testing.B) {
			h := &recorder{sig: newSignal()}
			sw := receiveSwitch(b, h)
			first, dup := unconnectedPeer(b, sw, 2), unconnectedPeer(b, sw, 4)
			msg := txsBatch(b, n)
			if err := first.receive(msg); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if err := dup.receive(msg); err != nil {
					b.Fatal(err)
				}
			}
			if got := len(h.messages()); got != 1 {
				b.Fatalf("handler got %d messages, want 1", got)
			}
		})
	}
}

// TestDuplicateGossipIsNotDecoded: a copy of a gossip message the Switch
// has seen is dropped on its hash, before decoding: it allocates nothing
// per transaction and never reaches the Handler.
func TestDuplicateGossipIsNotDecoded(t *testing.T) {
	const ntx = 64
	h := &recorder{sig: newSignal()}
	sw := receiveSwitch(t, h)
	first, dup := unconnectedPeer(t, sw, 2), unconnectedPeer(t, sw, 4)
	msg := txsBatch(t, ntx)
	if err := first.receive(msg); err != nil {
		t.Fatal(err)
	}
	var err error
	allocs := testing.AllocsPerRun(20, func() { err = dup.receive(msg) })
	if err != nil {
		t.Fatal(err)
	}
	// Decoding would allocate each transaction and its seal.
	if allocs > 4 {
		t.Fatalf("a duplicate of %d transactions cost %.0f allocations, want at most 4 (not decoded)", ntx, allocs)
	}
	if got := len(h.messages()); got != 1 {
		t.Fatalf("handler got %d messages, want 1", got)
	}
	if got := sw.Stats().DuplicatesDropped; got != 21 {
		t.Fatalf("duplicates dropped %d, want 21", got)
	}
	if !dup.known.has(MessageHash(msg)) {
		t.Fatal("the duplicate's sender is not marked as knowing the message")
	}
}

// TestMalformedGossipPenalizesEveryCopy: gossip bytes that do not decode
// get their sender banned, and checking the seen set before decoding does
// not let the next sender of the same bytes pass as a duplicate.
func TestMalformedGossipPenalizesEveryCopy(t *testing.T) {
	h := &recorder{sig: newSignal()}
	sw := receiveSwitch(t, h)
	tx := signedTx(t, testKey(t, 3), 0)
	bad := *tx
	bad.ChainID = ""
	garbage := Encode(&TxsMessage{Txs: []*chain.Tx{tx, &bad}})
	for _, keyN := range []int64{2, 4} {
		p := unconnectedPeer(t, sw, keyN)
		if err := p.receive(garbage); !errors.Is(err, ErrInvalidPeerData) {
			t.Fatalf("peer %d: got %v, want %v", keyN, err, ErrInvalidPeerData)
		}
		if _, _, banned := sw.Banned(p.info.ID); !banned {
			t.Fatalf("peer %d sent a malformed batch and is not banned", keyN)
		}
	}
	if got := sw.Stats().DuplicatesDropped; got != 0 {
		t.Fatalf("duplicates dropped %d, want 0", got)
	}
	if got := len(h.messages()); got != 0 {
		t.Fatalf("handler got %d messages, want 0", got)
	}
	// The valid part alone still goes through.
	valid := Encode(&TxsMessage{Txs: []*chain.Tx{tx}})
	if err := unconnectedPeer(t, sw, 5).receive(valid); err != nil {
		t.Fatal(err)
	}
	if got := len(h.messages()); got != 1 {
		t.Fatalf("handler got %d messages, want 1", got)
	}
}

// TestRelaySendsReceivedBytes: relaying a received batch queues the very
// bytes it arrived in (no encoding) to the other peers, not back to its
// sender; a batch built locally is encoded as by Broadcast.
func TestRelaySendsReceivedBytes(t *testing.T) {
	h := &recorder{sig: newSignal()}
	sw := receiveSwitch(t, h)
	from, to := unconnectedPeer(t, sw, 2), unconnectedPeer(t, sw, 4)
	msg := txsBatch(t, 8)
	h.setHook(func(_ NodeID, m Message) error {
		sw.Relay(m)
		return nil
	})
	if err := from.receive(msg); err != nil {
		t.Fatal(err)
	}
	got, _, ok := to.send.pop(time.Now())
	if !ok || &got[0] != &msg[0] || len(got) != len(msg) {
		t.Fatalf("relayed %d bytes (queued %v), want the %d received bytes themselves", len(got), ok, len(msg))
	}
	if _, _, ok := from.send.pop(time.Now()); ok {
		t.Fatal("relayed back to the sender")
	}
	k := testKey(t, 3)
	blk := makeBlock(t, k, 2, 16, nil)
	prop := Encode(&ProposalMessage{Proposal: proposalFor(t, k, blk, 0), Block: blk})
	if err := from.receive(prop); err != nil {
		t.Fatal(err)
	}
	got, _, ok = to.send.pop(time.Now())
	if !ok || &got[0] != &prop[0] || len(got) != len(prop) {
		t.Fatalf("relayed proposal of %d bytes (queued %v), want the %d received bytes themselves", len(got), ok, len(prop))
	}
	local := &TxsMessage{Txs: []*chain.Tx{signedTx(t, testKey(t, 3), 9)}}
	sw.Relay(local)
	got, _, ok = to.send.pop(time.Now())
	if want := Encode(local); !ok || !bytes.Equal(got, want) {
		t.Fatalf("relayed local batch %x (queued %v), want %x", got, ok, want)
	}
}
