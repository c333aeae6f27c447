package p2p

import (
	"errors"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/quorumchain/quorumchain/chain"
)

// TestHandshakeMismatchRefused: nodes on different chains (or genesis) refuse
// each other with a clear reason, logged on both sides, and never report a
// peer.
func TestHandshakeMismatchRefused(t *testing.T) {
	otherGenesis := chain.Hash{0x42}
	tests := []struct {
		name      string
		edit      func(*Config)
		aSays     string // the reason a logs
		bSays     string // the reason b logs
		wantError error
	}{
		{
			name:      "chain id",
			edit:      func(c *Config) { c.ChainID = "quorum-other" },
			aSays:     "chain id mismatch: we are quorum-test, you are quorum-other",
			bSays:     "chain id mismatch: we are quorum-other, you are quorum-test",
			wantError: ErrChainMismatch,
		},
		{
			name:      "genesis hash",
			edit:      func(c *Config) { c.GenesisHash = otherGenesis },
			aSays:     "genesis hash mismatch: we are " + chain.FormatHash(testGenesis) + ", you are " + chain.FormatHash(otherGenesis),
			bSays:     "genesis hash mismatch: we are " + chain.FormatHash(otherGenesis) + ", you are " + chain.FormatHash(testGenesis),
			wantError: ErrGenesisMismatch,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := newSignal()
			a := startNode(t, sig, "a", 1, nil)
			b := startNode(t, sig, "b", 2, func(c *Config) {
				tc.edit(c)
				c.PersistentPeers = []string{a.addr()}
			})
			waitFor(t, sig, "both sides to log the refusal", func() bool {
				return a.logs.contains(tc.aSays) && b.logs.contains(tc.bSays)
			})
			for _, n := range []*testNode{a, b} {
				if c, _ := n.rec.events(); len(c) != 0 {
					t.Errorf("%s: PeerConnected %+v after a refused handshake", n.name, c)
				}
				if st := n.sw.Stats(); st.HandshakeFailures == 0 || st.Peers != 0 {
					t.Errorf("%s: stats %+v, want handshake failures and no peers", n.name, st)
				}
			}

			// The refusal reaches the other side: a hand-driven peer
			// with b's settings reads a's reason.
			cfg := Config{ChainID: testChain, GenesisHash: testGenesis}
			tc.edit(&cfg)
			_, err := dialRawWith(t, a.addr(), testKey(t, 3), cfg.ChainID, cfg.GenesisHash, nil)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.aSays) {
				t.Errorf("raw peer: got %v, want refused by peer: %s", err, tc.aSays)
			}
		})
	}
}

func TestSelfAndDuplicateRefused(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, nil)

	self := a.id()
	if _, err := dialRaw(t, a.addr(), testKey(t, 1), "", &self); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), ErrSelfConnection.Error()) {
		t.Errorf("claiming a's own id: got %v, want refused: %v", err, ErrSelfConnection)
	}
	// A Hello claiming an id other than the certificate's is refused.
	other := NodeIDFromKey(testKey(t, 8))
	if _, err := dialRaw(t, a.addr(), testKey(t, 9), "", &other); !errors.Is(err, ErrRefused) ||
		!strings.Contains(err.Error(), "hello claims node id "+other.String()) {
		t.Errorf("claiming another key's id: got %v, want refused: identity mismatch", err)
	}

	key := testKey(t, 7)
	first, err := dialRaw(t, a.addr(), key, "", nil)
	if err != nil {
		t.Fatalf("first connection: %v", err)
	}
	waitFor(t, sig, "a connected to the raw peer", func() bool { return a.connectedTo(first.id) })
	if _, err := dialRaw(t, a.addr(), key, "", nil); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), ErrDuplicatePeer.Error()) {
		t.Errorf("second connection with the same key: got %v, want refused: %v", err, ErrDuplicatePeer)
	}
	// The first connection still works.
	v := testVotes(t, 1)[0]
	first.send(t, websocket.BinaryMessage, Encode(v))
	waitFor(t, sig, "a receives from the first connection", func() bool { return a.rec.count(Encode(v)) == 1 })
	if c, d := a.rec.events(); len(c) != 1 || len(d) != 0 {
		t.Errorf("a's events: %d connected, %d disconnected; want 1, 0", len(c), len(d))
	}
}

// TestHandshakeRejectsGarbage: a frame that is not a Hello, inside an
// authenticated TLS session, fails the handshake.
func TestHandshakeRejectsGarbage(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, nil)
	conn, _, err := dialTLSRaw(t, a.addr(), identityCert(t, testKey(t, 5)))
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.WriteMessage(websocket.BinaryMessage, []byte("GET / HTTP/1.0")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sig, "a to count a failed handshake", func() bool { return a.sw.Stats().HandshakeFailures == 1 })
	raw := &rawPeer{conn: conn}
	raw.readUntilClosed(t) // a closes the connection
	if st := a.sw.Stats(); st.Peers != 0 {
		t.Errorf("stats %+v, want no peers", st)
	}
}

// TestDialSelfStops: a node listed among its own persistent peers notices
// and stops dialing that address.
func TestDialSelfStops(t *testing.T) {
	sig := newSignal()
	ln := listenLoopback(t)
	a := startNodeOn(t, sig, "a", 1, ln, func(c *Config) { c.PersistentPeers = []string{ln.Addr().String()} })
	// Both ends of the one connection refuse it (each logs after counting).
	waitFor(t, sig, "a to stop dialing itself", func() bool {
		return a.logs.contains("not dialing ourselves") && a.sw.Stats().HandshakeFailures == 2
	})
	if st := a.sw.Stats(); st.Peers != 0 || st.DialFailures != 0 {
		t.Errorf("stats: got %+v, want no peers and no further dials", st)
	}
}
