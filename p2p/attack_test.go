package p2p

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/chain"
)

// peerCertificate returns the certificate the node at addr presents to
// anyone who connects: what an attacker can learn of it.
func peerCertificate(t testing.TB, addr string) []byte {
	t.Helper()
	conn, state, err := dialTLSRaw(t, addr, identityCert(t, testKey(t, 99)))
	if err != nil {
		t.Fatalf("fetch certificate of %s: %v", addr, err)
	}
	if err := conn.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	if len(state.PeerCertificates) != 1 {
		t.Fatalf("%s presented %d certificates", addr, len(state.PeerCertificates))
	}
	return state.PeerCertificates[0].Raw
}

func p256Key(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// impersonations are the ways a node m can try to pass for node b, knowing
// all b shows to the world (its certificate, its NodeID), but not its keys.
func impersonations(t testing.TB, mKey *ecdsa.PrivateKey, bCert []byte, bID NodeID) []struct {
	name string
	opts rawOpts
	aLog string // what the attacked node logs
} {
	mTLS := p256Key(t)
	return []struct {
		name string
		opts rawOpts
		aLog string
	}{
		{
			name: "b's certificate without b's TLS key",
			opts: rawOpts{key: mKey, claim: &bID, cert: &tls.Certificate{Certificate: [][]byte{bCert}, PrivateKey: mTLS}},
			aLog: "invalid signature by the client certificate",
		},
		{
			name: "b's identity extension on m's TLS key",
			opts: rawOpts{key: mKey, claim: &bID, cert: makeCert(t, certOpts{tlsKey: mTLS, ext: extensionOf(t, bCert)})},
			aLog: "identity signature is not by node key " + bID.String(),
		},
		{
			name: "b's hello over m's own session",
			opts: rawOpts{key: mKey, claim: &bID},
			aLog: "hello claims node id " + bID.String(),
		},
	}
}

// TestRelayedHandshakeFails: a man in the middle that presents an honest
// node's identity (its certificate, its identity extension or its Hello)
// without that node's keys is refused, and the node it attacks never
// reports the honest node connected.
func TestRelayedHandshakeFails(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, nil)
	b := startNode(t, sig, "b", 2, nil)
	bCert, bID := peerCertificate(t, b.addr()), b.id()
	for _, tc := range impersonations(t, testKey(t, 66), bCert, bID) {
		t.Run(tc.name, func(t *testing.T) {
			failures := a.sw.Stats().HandshakeFailures
			if raw, err := dialRawOpts(t, a.addr(), tc.opts); err == nil {
				t.Fatalf("a accepted m as %s", raw.id)
			}
			waitFor(t, sig, "a to log why it refused", func() bool {
				return a.logs.contains(tc.aLog) && a.sw.Stats().HandshakeFailures > failures
			})
			if a.connectedTo(bID) || a.rec.isConnected(bID) {
				t.Fatalf("a reports b connected after m's attempt")
			}
		})
	}
	// Control: with b's node key, the same dial gets through.
	if _, err := dialRaw(t, a.addr(), testKey(t, 2), "", nil); err != nil {
		t.Fatalf("honest dial with b's key: %v", err)
	}
	waitFor(t, sig, "a connected to b's key", func() bool { return a.rec.isConnected(bID) })
}

// recordingProxy forwards one connection to target and records what the
// client sent.
type recordingProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	client bytes.Buffer
}

func startRecordingProxy(t testing.TB, target string) *recordingProxy {
	t.Helper()
	p := &recordingProxy{ln: listenLoopback(t)}
	var wg sync.WaitGroup
	var conns []net.Conn
	var connsMu sync.Mutex
	t.Cleanup(func() {
		_ = p.ln.Close() // ends Accept below
		connsMu.Lock()
		for _, c := range conns {
			_ = c.Close() // ends the copies
		}
		connsMu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", target)
		if err != nil {
			_ = in.Close()
			return
		}
		connsMu.Lock()
		conns = append(conns, in, out)
		connsMu.Unlock()
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _ = io.Copy(out, io.TeeReader(in, p))
			_ = out.Close()
		}()
		go func() {
			defer wg.Done()
			_, _ = io.Copy(in, out)
			_ = in.Close()
		}()
	}()
	return p
}

func (p *recordingProxy) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client.Write(b)
}

func (p *recordingProxy) recorded() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.client.Bytes())
}

// TestReplayedHandshakeFails: the recorded bytes of an honest node's
// connection, replayed once that node is gone, do not connect; nor does an
// Auth signature taken from an earlier session.
func TestReplayedHandshakeFails(t *testing.T) {
	t.Run("recorded connection", func(t *testing.T) {
		sig := newSignal()
		a := startNode(t, sig, "a", 1, nil)
		proxy := startRecordingProxy(t, a.addr())
		b := startNode(t, sig, "b", 2, func(c *Config) { c.PersistentPeers = []string{proxy.ln.Addr().String()} })
		waitFor(t, sig, "b connected to a through the proxy", func() bool { return a.rec.isConnected(b.id()) })
		b.stop()
		waitFor(t, sig, "a to see b go", func() bool { return !a.rec.isConnected(b.id()) })
		rec := proxy.recorded()
		failures := a.sw.Stats().HandshakeFailures

		conn, err := net.Dial("tcp", a.addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		if _, err := conn.Write(rec); err != nil {
			t.Fatalf("replay: %v", err)
		}
		expectClosedByServer(t, conn)
		waitFor(t, sig, "a to count the failed replay", func() bool { return a.sw.Stats().HandshakeFailures > failures })
		if c, _ := a.rec.events(); len(c) != 1 {
			t.Fatalf("a reported %d connections, want b's one: the replay connected", len(c))
		}
	})

	t.Run("auth from an earlier session", func(t *testing.T) {
		sig := newSignal()
		a := startNode(t, sig, "a", 1, nil)
		key := testKey(t, 5)
		var old chain.Signature
		first, err := dialRawOpts(t, a.addr(), rawOpts{key: key, auth: func(ekm []byte) chain.Signature {
			s, err := chain.Sign(key, sessionDigest(testChain, testGenesis, ekm, NodeIDFromKey(key)))
			if err != nil {
				t.Fatal(err)
			}
			old = s
			return s
		}})
		if err != nil {
			t.Fatalf("first session: %v", err)
		}
		waitFor(t, sig, "a connected to the first session", func() bool { return a.rec.isConnected(first.id) })
		if err := first.conn.Close(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, sig, "a to see the first session go", func() bool { return !a.rec.isConnected(first.id) })

		_, err = dialRawOpts(t, a.addr(), rawOpts{key: key, auth: func([]byte) chain.Signature { return old }})
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "auth signature does not bind node id "+first.id.String()) {
			t.Fatalf("replayed auth: got %v, want refused: auth signature does not bind", err)
		}
		if c, _ := a.rec.events(); len(c) != 1 {
			t.Fatalf("a reported %d connections, want 1", len(c))
		}
	})
}

// expectClosedByServer reads from c until the server closes it, failing if
// it stays open for waitTimeout.
func expectClosedByServer(t testing.TB, c net.Conn) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(waitTimeout)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %v", waitTimeout)
		}
		return
	}
}

// TestDuplicateConnectionNotHijacked: a is connected to b in the direction
// the duplicate rule would give up for a new connection from b; nobody
// without b's keys can make a drop it.
func TestDuplicateConnectionNotHijacked(t *testing.T) {
	kA, kB := testKey(t, 1), testKey(t, 2)
	if idA, idB := NodeIDFromKey(kA), NodeIDFromKey(kB); bytes.Compare(idA[:], idB[:]) < 0 {
		kA, kB = kB, kA // a must have the higher id, so an inbound b would win
	}
	sig := newSignal()
	b := startNodeWithKey(t, sig, "b", kB, nil)
	a := startNodeWithKey(t, sig, "a", kA, func(c *Config) { c.PersistentPeers = []string{b.addr()} })
	waitConnected(t, sig, [2]*testNode{a, b})
	before := a.sw.Peers()
	a.sw.mu.RLock()
	old := a.sw.peers[b.id()]
	a.sw.mu.RUnlock()
	if len(before) != 1 || !before[0].Outbound || !a.sw.preferNew(old, false) {
		t.Fatalf("setup: a's peers %+v; want one outbound connection that a new inbound one from b would replace", before)
	}

	bCert := peerCertificate(t, b.addr())
	for _, tc := range impersonations(t, testKey(t, 66), bCert, b.id()) {
		t.Run(tc.name, func(t *testing.T) {
			if raw, err := dialRawOpts(t, a.addr(), tc.opts); err == nil {
				t.Fatalf("a accepted m as %s", raw.id)
			}
			waitFor(t, sig, "a to log why it refused", func() bool { return a.logs.contains(tc.aLog) })
			if now := a.sw.Peers(); len(now) != 1 || now[0] != before[0] {
				t.Fatalf("a's peers: got %+v, want the original %+v", now, before)
			}
			if _, d := a.rec.events(); len(d) != 0 {
				t.Fatalf("a disconnected %v", d)
			}
			if _, d := b.rec.events(); len(d) != 0 {
				t.Fatalf("b disconnected %v", d)
			}
		})
	}
}

// startNodeWithKey is startNode with a given node key.
func startNodeWithKey(t testing.TB, sig *signal, name string, key *ecdsa.PrivateKey, edit func(*Config)) *testNode {
	t.Helper()
	return startNode(t, sig, name, 1, func(c *Config) {
		c.NodeKey = key
		if edit != nil {
			edit(c)
		}
	})
}
