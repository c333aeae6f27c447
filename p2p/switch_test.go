package p2p

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/quorumchain/quorumchain/chain"
)

// waitConnected waits until every listed pair is connected on both sides,
// as Peers and the Handler see it.
func waitConnected(t testing.TB, sig *signal, pairs ...[2]*testNode) {
	t.Helper()
	waitFor(t, sig, "peers connected", func() bool {
		for _, p := range pairs {
			if !p[0].connectedTo(p[1].id()) || !p[1].connectedTo(p[0].id()) ||
				!p[0].rec.isConnected(p[1].id()) || !p[1].rec.isConnected(p[0].id()) {
				return false
			}
		}
		return true
	})
}

func TestTwoSwitchesExchangeEveryKind(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, nil)
	b := startNode(t, sig, "b", 2, func(c *Config) { c.PersistentPeers = []string{a.addr()} })
	waitConnected(t, sig, [2]*testNode{a, b})

	pa, pb := a.sw.Peers(), b.sw.Peers()
	if len(pa) != 1 || pa[0].ID != b.id() || pa[0].Outbound || pa[0].ListenAddr != b.addr() || pa[0].ConnectedAt.IsZero() {
		t.Errorf("a's peers: got %+v, want b (%s) inbound announcing %s", pa, b.id(), b.addr())
	}
	if len(pb) != 1 || pb[0].ID != a.id() || !pb[0].Outbound || pb[0].Addr != a.addr() {
		t.Errorf("b's peers: got %+v, want a (%s) outbound at %s", pb, a.id(), a.addr())
	}
	if c, _ := a.rec.events(); len(c) != 1 || c[0].ID != b.id() {
		t.Errorf("a's PeerConnected: got %+v, want one for b", c)
	}

	// a → b with Send, b → a with Broadcast; each adds a block response
	// whose block of 10,000 txs spans many websocket frames.
	big := func(h uint64) *BlockResponse {
		blk := makeBlock(t, testKey(t, 1), h, 10_000, nil)
		return &BlockResponse{Block: blk, Certificate: certFor(t, h, 0, blk.Hash(), testKey(t, 1))}
	}
	toB := append(sampleMessagesAt(t, 4), big(100))
	toA := append(sampleMessagesAt(t, 5), big(101))
	for i := range toB {
		if !a.sw.Send(b.id(), toB[i]) {
			t.Fatalf("a.Send(%s) to a connected peer: got false", toB[i].Kind())
		}
		b.sw.Broadcast(toA[i])
	}
	for i := range toB {
		encB, encA := Encode(toB[i]), Encode(toA[i])
		waitFor(t, sig, fmt.Sprintf("%s delivered both ways", toB[i].Kind()), func() bool {
			return b.rec.count(encB) == 1 && a.rec.count(encA) == 1
		})
	}
	for i, r := range b.rec.messages() {
		if r.from != a.id() {
			t.Errorf("b received %s from %s, want from a %s", r.msg.Kind(), r.from, a.id())
		}
		if r.msg.Kind() != toB[i].Kind() || reflect.TypeOf(r.msg) != reflect.TypeOf(toB[i]) {
			t.Errorf("b's message %d: got %T, want %T (in order)", i, r.msg, toB[i])
		}
	}
	if n := len(b.rec.messages()); n != len(toB) {
		t.Errorf("b received %d messages, want %d", n, len(toB))
	}
	// Each side has what the other sent: broadcasting it back sends nothing.
	for _, m := range toB {
		b.sw.Broadcast(m)
	}
	st := b.sw.Stats()
	if st.KnownSkipped != uint64(len(toB)) || st.Peers != 1 || st.Outbound != 1 || st.MessagesSent != uint64(len(toA)) {
		t.Errorf("b's stats: got %+v, want %d known skipped, %d sent, 1 outbound peer", st, len(toB), len(toA))
	}
	if a.sw.Send(NodeID{1}, toB[0]) {
		t.Error("Send to an unknown peer: got true")
	}
	if a.sw.Send(b.id(), &Hello{}) {
		t.Error("Send of a control message: got true")
	}
}

// relayOnce makes n's handler re-broadcast every vote it sees for the first
// time, as the node does with gossip.
func relayOnce(n *testNode) {
	var mu sync.Mutex
	seen := map[chain.Hash]bool{}
	n.rec.setHook(func(_ NodeID, m Message) error {
		if m.Kind() != KindVote {
			return nil
		}
		h := MessageHash(Encode(m))
		mu.Lock()
		first := !seen[h]
		seen[h] = true
		mu.Unlock()
		if first {
			n.sw.Broadcast(m)
		}
		return nil
	})
}

func testVotes(t testing.TB, n int) []Message {
	k := testKey(t, 5)
	out := make([]Message, n)
	for i := range out {
		out[i] = &VoteMessage{Vote: signedVote(t, k, chain.Prevote, uint64(i+1), 0, chain.Hash{byte(i + 1)})}
	}
	return out
}

// flush makes sure that everything each node queued before has arrived:
// every node sends a distinct Status to each peer, and per-connection order
// is FIFO, so once the Status arrives so has all earlier traffic.
func flush(t testing.TB, sig *signal, nodes ...*testNode) {
	t.Helper()
	type marker struct {
		to  *testNode
		enc []byte
	}
	var ms []marker
	for i, from := range nodes {
		for j, to := range nodes {
			if i == j || !from.connectedTo(to.id()) {
				continue
			}
			m := &Status{Height: uint64(1_000_000 + i*100 + j)}
			if !from.sw.Send(to.id(), m) {
				t.Fatalf("flush: %s → %s not queued", from.name, to.name)
			}
			ms = append(ms, marker{to, Encode(m)})
		}
	}
	waitFor(t, sig, "flush markers", func() bool {
		for _, m := range ms {
			if m.to.rec.count(m.enc) != 1 {
				return false
			}
		}
		return true
	})
}

// votesFrom counts the votes n received, per sender.
func votesFrom(n *testNode) map[NodeID]map[string]int {
	out := map[NodeID]map[string]int{}
	for _, r := range n.rec.messages() {
		if r.msg.Kind() != KindVote {
			continue
		}
		if out[r.from] == nil {
			out[r.from] = map[string]int{}
		}
		out[r.from][string(Encode(r.msg))]++
	}
	return out
}

func distinctVotes(n *testNode) int {
	d := map[string]bool{}
	for _, per := range votesFrom(n) {
		for v := range per {
			d[v] = true
		}
	}
	return len(d)
}

// TestBroadcastLineRelay: a — b — c, every handler relays new votes. Each
// vote reaches b and c exactly once and never comes back to a.
func TestBroadcastLineRelay(t *testing.T) {
	sig := newSignal()
	b := startNode(t, sig, "b", 2, nil)
	a := startNode(t, sig, "a", 1, func(c *Config) { c.PersistentPeers = []string{b.addr()} })
	c := startNode(t, sig, "c", 3, func(c *Config) { c.PersistentPeers = []string{b.addr()} })
	waitConnected(t, sig, [2]*testNode{a, b}, [2]*testNode{b, c})
	for _, n := range []*testNode{a, b, c} {
		relayOnce(n)
	}
	votes := testVotes(t, 50)
	for _, v := range votes {
		a.sw.Broadcast(v)
	}
	waitFor(t, sig, "c has every vote", func() bool { return distinctVotes(c) == len(votes) })
	flush(t, sig, a, b, c)

	for name, n := range map[string]*testNode{"b": b, "c": c} {
		from := votesFrom(n)
		if len(from) != 1 {
			t.Errorf("%s got votes from %d peers, want 1", name, len(from))
		}
		for _, per := range from {
			for _, count := range per {
				if count != 1 {
					t.Errorf("%s got a vote %d times, want once", name, count)
				}
			}
		}
		if got := distinctVotes(n); got != len(votes) {
			t.Errorf("%s got %d distinct votes, want %d", name, got, len(votes))
		}
	}
	if got := distinctVotes(a); got != 0 {
		t.Errorf("a got %d of its own votes echoed back, want 0", got)
	}
	if st := b.sw.Stats(); st.KnownSkipped != uint64(len(votes)) {
		t.Errorf("b skipped %d sends to the vote's origin, want %d", st.KnownSkipped, len(votes))
	}
}

// TestBroadcastTriangle: a, b and c all connected (b→a, c→a, c→b). A plain
// Broadcast reaches each peer exactly once; with relaying handlers, a vote
// crosses each connection at most once per direction and never returns to
// its origin.
func TestBroadcastTriangle(t *testing.T) {
	for _, relay := range []bool{false, true} {
		t.Run(fmt.Sprintf("relay=%v", relay), func(t *testing.T) {
			sig := newSignal()
			a := startNode(t, sig, "a", 1, nil)
			b := startNode(t, sig, "b", 2, func(cfg *Config) { cfg.PersistentPeers = []string{a.addr()} })
			c := startNode(t, sig, "c", 3, func(cfg *Config) { cfg.PersistentPeers = []string{a.addr(), b.addr()} })
			waitConnected(t, sig, [2]*testNode{a, b}, [2]*testNode{b, c}, [2]*testNode{a, c})
			if relay {
				for _, n := range []*testNode{a, b, c} {
					relayOnce(n)
				}
			}
			votes := testVotes(t, 50)
			for _, v := range votes {
				a.sw.Broadcast(v)
			}
			waitFor(t, sig, "b and c have every vote", func() bool {
				return distinctVotes(b) == len(votes) && distinctVotes(c) == len(votes)
			})
			flush(t, sig, a, b, c)

			if got := distinctVotes(a); got != 0 {
				t.Errorf("a got %d of its own votes back, want 0", got)
			}
			for name, n := range map[string]*testNode{"b": b, "c": c} {
				total := 0
				for sender, per := range votesFrom(n) {
					if !relay && sender != a.id() {
						t.Errorf("%s got votes from %s without relaying", name, sender)
					}
					for _, count := range per {
						total += count
					}
				}
				if total != len(votes) {
					t.Errorf("%s's handler got %d votes, want each of %d exactly once", name, total, len(votes))
				}
			}
			if relay {
				var dups uint64
				for _, n := range []*testNode{a, b, c} {
					dups += n.sw.Stats().DuplicatesDropped
				}
				t.Logf("duplicates dropped by the switches: %d", dups)
			}
		})
	}
}

// TestSimultaneousDial: two nodes that dial each other end with one
// connection, the same on both sides, that carries messages.
func TestSimultaneousDial(t *testing.T) {
	for i := range 3 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			sig := newSignal()
			lnA, lnB := listenLoopback(t), listenLoopback(t)
			a := startNodeOn(t, sig, "a", 1, lnA, func(cfg *Config) { cfg.PersistentPeers = []string{lnB.Addr().String()} })
			b := startNodeOn(t, sig, "b", 2, lnB, func(cfg *Config) { cfg.PersistentPeers = []string{lnA.Addr().String()} })
			m := &Status{Height: 5}
			enc := Encode(m)
			waitFor(t, sig, "one connection carrying a message", func() bool {
				pa, pb := a.sw.Peers(), b.sw.Peers()
				if len(pa) != 1 || len(pb) != 1 || pa[0].Outbound == pb[0].Outbound {
					return false
				}
				if b.rec.count(enc) > 0 {
					return true
				}
				a.sw.Send(b.id(), m) // again after each event, in case a connection was replaced
				return false
			})
			if sa, sb := a.sw.Stats(), b.sw.Stats(); sa.Peers != 1 || sb.Peers != 1 {
				t.Errorf("peers: a %d, b %d, want 1 each", sa.Peers, sb.Peers)
			}
		})
	}
}
