package p2p

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/quorumchain/quorumchain/chain"
)

// TestBudgetExceededDisconnects: a peer that sends Status messages back to
// back, far over the status budget, loses score for each excess message,
// is disconnected and banned, and cannot reconnect with the same key. The
// Handler sees no more than the budget's burst plus what refilled.
func TestBudgetExceededDisconnects(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, func(c *Config) {
		c.Budgets.Status = Budget{MessagesPerSecond: 10, MessageBurst: 20}
		c.BanThreshold = 50
	})
	key := testKey(t, 200)
	raw, err := dialRaw(t, a.addr(), key, "", nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	waitFor(t, sig, "a connected to the flooder", func() bool { return a.connectedTo(raw.id) })
	const flood = 2000
	start := time.Now()
	for i := range flood {
		if err := raw.conn.WriteMessage(websocket.BinaryMessage, Encode(&Status{Height: uint64(i + 1)})); err != nil {
			break // a closed the connection: the defence worked before the flood ended
		}
	}
	reasons, _ := raw.readUntilClosed(t)
	if len(reasons) != 1 || !strings.Contains(reasons[0], "status budget exceeded") {
		t.Errorf("disconnect reasons: got %q, want one containing %q", reasons, "status budget exceeded")
	}
	waitFor(t, sig, "a to drop the flooder", func() bool { return !a.connectedTo(raw.id) })
	st := a.sw.Stats()
	if st.BudgetDropped < 50 || st.Bans != 1 {
		t.Errorf("stats: got %d over budget and %d bans, want >= 50 and 1", st.BudgetDropped, st.Bans)
	}
	delivered := len(a.rec.messages())
	if limit := 20 + int(10*time.Since(start).Seconds()) + 1; delivered > limit {
		t.Errorf("handler got %d statuses of the flood, want at most %d (burst + refill)", delivered, limit)
	}
	if _, _, ok := a.sw.Banned(raw.id); !ok {
		t.Fatal("flooder not banned")
	}
	waitFor(t, sig, "the ban to be logged with its reason", func() bool {
		return a.logs.contains("banned peer") && a.logs.contains("status budget exceeded")
	})
	if _, err := dialRaw(t, a.addr(), key, "", nil); err == nil || !strings.Contains(err.Error(), "banned") {
		t.Fatalf("reconnect of a banned peer: got %v, want a refusal naming the ban", err)
	}
}

// TestInvalidSignaturesBanPeer: a peer whose messages the Handler rejects
// as invalid (a vote whose signature does not verify) is banned at once:
// its reconnection is refused, while another peer is unaffected.
func TestInvalidSignaturesBanPeer(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, nil)
	a.rec.setHook(func(_ NodeID, m Message) error {
		if v, ok := m.(*VoteMessage); ok {
			if _, err := chain.Recover(v.Vote.SignHash(testChain), &v.Vote.Signature); err != nil {
				return fmt.Errorf("%w: vote: %w", ErrInvalidPeerData, err)
			}
		}
		return nil
	})
	key := testKey(t, 201)
	raw, err := dialRaw(t, a.addr(), key, "", nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	v := signedVote(t, key, chain.Prevote, 5, 0, chain.Hash{1})
	v.Signature[64] = 9 // invalid recovery id
	raw.send(t, websocket.BinaryMessage, Encode(&VoteMessage{Vote: v}))
	raw.readUntilClosed(t)
	waitFor(t, sig, "a to drop the forger", func() bool { return !a.connectedTo(raw.id) })
	reason, until, ok := a.sw.Banned(raw.id)
	if !ok || !strings.Contains(reason, "vote") || until.Before(time.Now().Add(DefaultBanDuration-time.Minute)) {
		t.Fatalf("ban: got (%q, until %v, %v), want a ban naming the vote lasting about %v", reason, until, ok, DefaultBanDuration)
	}
	if _, err := dialRaw(t, a.addr(), key, "", nil); err == nil || !strings.Contains(err.Error(), "banned") {
		t.Fatalf("reconnect of a banned peer: got %v, want refused as banned", err)
	}
	if st := a.sw.Stats(); st.BannedRefused != 1 {
		t.Errorf("banned connections refused: got %d, want 1", st.BannedRefused)
	}
	// Another node is still welcome.
	if _, err := dialRaw(t, a.addr(), testKey(t, 202), "", nil); err != nil {
		t.Fatalf("an honest peer after the ban: %v", err)
	}
}

// TestPenalizeAccumulatesAndHeals: minor penalties ban only once they add
// up past the threshold, and the score heals with time.
func TestPenalizeAccumulatesAndHeals(t *testing.T) {
	b := newScoreBoard(100, time.Minute)
	id := NodeID{9}
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 9 {
		if _, over := b.penalize(id, PenaltyMinor, t0); over {
			t.Fatalf("banned after %d minor penalties, want 10", i+1)
		}
	}
	if got := b.score(id, t0.Add(30*time.Second)); got != -60 {
		t.Fatalf("score after 30 s: got %v, want -60", got)
	}
	if _, over := b.penalize(id, 4*PenaltyMinor, t0.Add(30*time.Second)); !over {
		t.Fatal("score -100 not over the threshold")
	}
	ip := netip.MustParseAddr("203.0.113.7")
	b.ban(id, ip, "test", time.Minute, t0)
	if _, ok := b.bannedIP(netip.MustParseAddr("::ffff:203.0.113.7"), t0.Add(time.Second)); !ok {
		t.Error("IPv4-mapped form of a banned IP not banned")
	}
	if _, ok := b.bannedIP(ip, t0.Add(time.Minute)); ok {
		t.Error("IP ban still in force after its duration")
	}
	b.ban(id, netip.MustParseAddr("127.0.0.1"), "test", time.Minute, t0)
	if _, ok := b.bannedIP(netip.MustParseAddr("127.0.0.1"), t0); ok {
		t.Error("loopback banned: it would ban every node of a local network")
	}
}

// TestSlowReaderMemoryBounded: a peer that keeps requesting big blocks and
// never reads its connection makes the node queue at most SendQueueBytes
// for it; the rest is dropped and counted, and the heap stays near that.
func TestSlowReaderMemoryBounded(t *testing.T) {
	const queueBytes = 4 << 20
	sig := newSignal()
	a := startNode(t, sig, "a", 1, func(c *Config) {
		c.MaxMessageBytes = 2 << 20
		c.SendQueueBytes = queueBytes
		c.SendFullTimeout = time.Hour // this test is about the bound, not the disconnect
	})
	key := testKey(t, 1)
	blk := makeBlock(t, key, 2, 8000, nil)
	resp := &BlockResponse{Block: blk, Certificate: certFor(t, 2, 0, blk.Hash(), key)}
	size := len(Encode(resp))
	var maxQueued atomic.Int64 // sampled after each answer is queued
	a.rec.setHook(func(from NodeID, m Message) error {
		if _, ok := m.(*BlockRequest); ok {
			a.sw.Send(from, resp) // Encode allocates a fresh copy each time, as serving from a store does
			if q := int64(a.sw.Stats().SendQueuedBytes); q > maxQueued.Load() {
				maxQueued.Store(q) // only this peer's reader writes
			}
		}
		return nil
	})
	raw, err := dialRaw(t, a.addr(), testKey(t, 203), "", nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	waitFor(t, sig, "a connected to the reader", func() bool { return a.connectedTo(raw.id) })
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	const requests = 100 // ~80 MiB of answers
	for i := range requests {
		raw.send(t, websocket.BinaryMessage, Encode(&BlockRequest{Height: uint64(2 + i%3)}))
	}
	// A writer blocked for writeWait ends the connection; on a slow
	// machine that may come before every request is handled.
	waitFor(t, sig, "a to handle every request or drop the reader", func() bool {
		return len(a.rec.messages()) == requests || !a.connectedTo(raw.id)
	})
	handled := len(a.rec.messages())
	st := a.sw.Stats()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("answer %d bytes; %d requests handled; queued at most %d; dropped %d; heap grew %d", size, handled, maxQueued.Load(), st.SendDropped, grown)
	if q := maxQueued.Load(); q > queueBytes || q < int64(size) {
		t.Errorf("queued bytes: got at most %d, want between one answer (%d) and %d", q, size, queueBytes)
	}
	if handled < 4*queueBytes/size {
		t.Fatalf("only %d requests handled before the reader was dropped: too few to overflow the queue", handled)
	}
	if int(st.SendDropped) < handled/2 {
		t.Errorf("dropped answers: got %d of %d, want all but what fits the queue and the socket buffers", st.SendDropped, handled)
	}
	if grown > 4*queueBytes {
		t.Errorf("heap grew %d bytes while the reader stalled, want under %d", grown, 4*queueBytes)
	}
}

// TestSendQueueFullDisconnects: a peer whose send queue stays full for
// SendFullTimeout is disconnected as not reading, without a ban.
func TestSendQueueFullDisconnects(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, func(c *Config) {
		c.MaxMessageBytes = 2 << 20
		c.SendQueueBytes = 2 << 20
		c.SendFullTimeout = 300 * time.Millisecond
	})
	key := testKey(t, 1)
	blk := makeBlock(t, key, 2, 8000, nil)
	resp := &BlockResponse{Block: blk, Certificate: certFor(t, 2, 0, blk.Hash(), key)}
	a.rec.setHook(func(from NodeID, m Message) error {
		if _, ok := m.(*BlockRequest); ok {
			a.sw.Send(from, resp)
		}
		return nil
	})
	raw, err := dialRaw(t, a.addr(), testKey(t, 204), "", nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	waitFor(t, sig, "a connected to the reader", func() bool { return a.connectedTo(raw.id) })
	deadline := time.Now().Add(waitTimeout)
	for a.sw.Stats().SendQueueFullDisconnects == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not disconnected after %v of a full queue", waitTimeout)
		}
		if err := raw.conn.WriteMessage(websocket.BinaryMessage, Encode(&BlockRequest{Height: 2})); err != nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // pace the requests: a budget must not be what ends the peer
	}
	waitFor(t, sig, "a to drop the reader", func() bool { return !a.connectedTo(raw.id) })
	waitFor(t, sig, "the log to say why", func() bool { return a.logs.contains("not reading") })
	if _, _, banned := a.sw.Banned(raw.id); banned {
		t.Error("a slow reader was banned; want only disconnected")
	}
}

// TestDroppedGossipNotMarkedSeen: a vote the Handler could not take (it
// answered ErrBusy: its queue was full) is not marked seen, so the honest
// copy arriving later from another peer is delivered.
func TestDroppedGossipNotMarkedSeen(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, nil)
	var taken atomic.Bool
	a.rec.setHook(func(NodeID, Message) error {
		if taken.CompareAndSwap(false, true) {
			return fmt.Errorf("inbox full: %w", ErrBusy)
		}
		return nil
	})
	vote := Encode(&VoteMessage{Vote: signedVote(t, testKey(t, 5), chain.Precommit, 3, 0, chain.Hash{3})})
	first, err := dialRaw(t, a.addr(), testKey(t, 205), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := dialRaw(t, a.addr(), testKey(t, 206), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	first.send(t, websocket.BinaryMessage, vote)
	waitFor(t, sig, "the first copy to be refused", func() bool { return a.sw.Stats().DeliveryRefused == 1 })
	second.send(t, websocket.BinaryMessage, vote)
	waitFor(t, sig, "the second copy to be delivered", func() bool { return a.rec.count(vote) == 2 })
	if st := a.sw.Stats(); st.DuplicatesDropped != 0 {
		t.Errorf("duplicates dropped: got %d, want 0", st.DuplicatesDropped)
	}
	if !a.connectedTo(first.id) {
		t.Error("the first peer was disconnected for a busy handler, not its fault")
	}
	// Once taken, the vote is seen: a third copy is dropped. The Status
	// behind it on the same connection marks when it has been read.
	first.send(t, websocket.BinaryMessage, vote)
	marker := Encode(&Status{Height: 99})
	first.send(t, websocket.BinaryMessage, marker)
	waitFor(t, sig, "the marker behind the third copy", func() bool { return a.rec.count(marker) == 1 })
	if got := a.rec.count(vote); got != 2 {
		t.Errorf("vote deliveries: got %d, want 2", got)
	}
	if st := a.sw.Stats(); st.DuplicatesDropped != 1 {
		t.Errorf("duplicates dropped: got %d, want 1", st.DuplicatesDropped)
	}
}

// TestBudgetsDefaults: zero budgets take the defaults, negative ones are
// refused, and a message larger than the byte burst passes a full bucket.
func TestBudgetsDefaults(t *testing.T) {
	var b Budgets
	if err := b.applyDefaults(); err != nil || b != DefaultBudgets() {
		t.Fatalf("zero budgets: got %+v, %v; want the defaults", b, err)
	}
	b.Evidence.MessageBurst = -1
	if err := b.applyDefaults(); err == nil {
		t.Fatal("negative burst accepted")
	}
	def := DefaultBudgets()
	for c, bud := range def.byClass() {
		if c == int(ClassConsensus) || c == int(ClassSync) {
			if bud.ByteBurst < MaxMessageBytes {
				t.Errorf("%s byte burst %d below MaxMessageBytes", Class(c), bud.ByteBurst)
			}
		}
	}
	pb := newPeerBudget(Budgets{Sync: Budget{MessagesPerSecond: 1, MessageBurst: 10, BytesPerSecond: 1000, ByteBurst: 1000}}, time.Unix(0, 0))
	now := time.Unix(0, 0)
	if !pb.allow(ClassSync, 5000, now) {
		t.Fatal("a message above the byte burst refused by a full bucket")
	}
	if pb.allow(ClassSync, 1, now) {
		t.Fatal("the byte bucket is empty but a message passed")
	}
	if !pb.allow(ClassSync, 1, now.Add(time.Second)) {
		t.Fatal("the byte bucket did not refill")
	}
	if errors.Is(ErrBusy, ErrInvalidPeerData) {
		t.Fatal("ErrBusy must not blame the peer")
	}
}

// TestRequestedBlocksExemptFromBudget: the answers to our own block
// requests pass however fast they come (catching up must not get an honest
// peer banned), while unrequested answers count against the sync budget.
func TestRequestedBlocksExemptFromBudget(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, func(c *Config) {
		c.Budgets.Sync = Budget{MessagesPerSecond: 0.001, MessageBurst: 1}
	})
	b := startNode(t, sig, "b", 2, func(c *Config) { c.PersistentPeers = []string{a.addr()} })
	waitConnected(t, sig, [2]*testNode{a, b})
	key := testKey(t, 1)
	blk := makeBlock(t, key, 2, 1, nil)
	resp := &BlockResponse{Block: blk, Certificate: certFor(t, 2, 0, blk.Hash(), key)}
	b.rec.setHook(func(from NodeID, m Message) error {
		if _, ok := m.(*BlockRequest); ok {
			b.sw.Send(from, resp)
		}
		return nil
	})
	const requests = 20
	for i := range requests {
		if !a.sw.Send(b.id(), &BlockRequest{Height: uint64(2 + i)}) {
			t.Fatal("request not queued")
		}
	}
	waitFor(t, sig, "a to receive every answer", func() bool { return a.rec.count(Encode(resp)) == requests })
	if st := a.sw.Stats(); st.BudgetDropped != 0 {
		t.Fatalf("requested answers dropped for budget: %d", st.BudgetDropped)
	}
	// Unrequested: the first takes the burst, the rest are over budget.
	for range 3 {
		b.sw.Send(a.id(), resp)
	}
	marker := &Status{Height: 5}
	b.sw.Send(a.id(), marker)
	waitFor(t, sig, "the marker behind the unrequested answers", func() bool { return a.rec.count(Encode(marker)) == 1 })
	if got := a.rec.count(Encode(resp)); got != requests+1 {
		t.Errorf("answers delivered: got %d, want %d (every requested one and the burst of one)", got, requests+1)
	}
	if st := a.sw.Stats(); st.BudgetDropped != 2 {
		t.Errorf("unrequested answers over budget: got %d, want 2", st.BudgetDropped)
	}
}
