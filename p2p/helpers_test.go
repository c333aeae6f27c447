package p2p

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/gorilla/websocket"

	"github.com/quorumchain/quorumchain/chain"
)

const (
	testChain   = "quorum-test"
	waitTimeout = 15 * time.Second // bound on every wait in these tests
)

var testGenesis = chain.Hash{0x9e, 0x11}

// testKey returns the deterministic key with scalar n (n >= 1).
func testKey(t testing.TB, n int64) *ecdsa.PrivateKey {
	t.Helper()
	b := make([]byte, 32)
	big.NewInt(n).FillBytes(b)
	k, err := crypto.ToECDSA(b)
	if err != nil {
		t.Fatalf("key %d: %v", n, err)
	}
	return k
}

// signal wakes every waiter each time something happens (a broadcast
// condition variable usable in select).
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *signal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}

// waitFor waits, bounded by waitTimeout, until cond holds, re-checking it
// each time sig fires.
func waitFor(t testing.TB, sig *signal, what string, cond func() bool) {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		ch := sig.wait()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
	}
}

type received struct {
	from NodeID
	msg  Message
}

// recorder is a Handler that records everything and fires sig.
type recorder struct {
	sig *signal

	mu           sync.Mutex
	msgs         []received
	connected    []PeerInfo
	disconnected []NodeID
	hook         func(from NodeID, msg Message) error // runs after recording, if set
}

func (r *recorder) Receive(from NodeID, msg Message) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, received{from, msg})
	hook := r.hook
	r.mu.Unlock()
	r.sig.fire()
	if hook != nil {
		return hook(from, msg)
	}
	return nil
}

func (r *recorder) PeerConnected(p PeerInfo) {
	r.mu.Lock()
	r.connected = append(r.connected, p)
	r.mu.Unlock()
	r.sig.fire()
}

func (r *recorder) PeerDisconnected(id NodeID) {
	r.mu.Lock()
	r.disconnected = append(r.disconnected, id)
	r.mu.Unlock()
	r.sig.fire()
}

func (r *recorder) setHook(h func(NodeID, Message) error) {
	r.mu.Lock()
	r.hook = h
	r.mu.Unlock()
}

func (r *recorder) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.msgs...)
}

// count returns how many received messages encode to enc.
func (r *recorder) count(enc []byte) int {
	n := 0
	for _, m := range r.messages() {
		if bytes.Equal(Encode(m.msg), enc) {
			n++
		}
	}
	return n
}

// isConnected reports whether the Handler was told id connected and not
// since disconnected.
func (r *recorder) isConnected(id NodeID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.connected {
		if p.ID == id {
			n++
		}
	}
	for _, d := range r.disconnected {
		if d == id {
			n--
		}
	}
	return n > 0
}

func (r *recorder) events() (connected []PeerInfo, disconnected []NodeID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]PeerInfo(nil), r.connected...), append([]NodeID(nil), r.disconnected...)
}

// logBuffer collects a switch's log output and fires sig on each record.
type logBuffer struct {
	sig *signal
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	n, err := l.buf.Write(p)
	l.mu.Unlock()
	l.sig.fire()
	return n, err
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) contains(s string) bool { return strings.Contains(l.String(), s) }

// testNode is a running Switch with its recorder and logs.
type testNode struct {
	t      testing.TB
	name   string
	sw     *Switch
	rec    *recorder
	logs   *logBuffer
	cancel context.CancelFunc
	runErr chan error
	once   sync.Once
}

// startNode starts a switch on 127.0.0.1:0 (unless cfg sets an address)
// with key n, and stops it at test cleanup.
func startNode(t testing.TB, sig *signal, name string, keyN int64, edit func(*Config)) *testNode {
	t.Helper()
	return startNodeOn(t, sig, name, keyN, nil, edit)
}

// listenLoopback reserves a listener for startNodeOn, so that nodes can
// know each other's addresses before they start.
func listenLoopback(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// startNodeOn is startNode with a listener made beforehand (nil: none).
func startNodeOn(t testing.TB, sig *signal, name string, keyN int64, ln net.Listener, edit func(*Config)) *testNode {
	t.Helper()
	cfg := Config{ChainID: testChain, GenesisHash: testGenesis, NodeKey: testKey(t, keyN), ListenAddr: "127.0.0.1:0"}
	if ln != nil {
		cfg.ListenAddr = ln.Addr().String()
	}
	if edit != nil {
		edit(&cfg)
	}
	n := &testNode{t: t, name: name, rec: &recorder{sig: sig}, logs: &logBuffer{sig: sig}, runErr: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
	sw, err := NewSwitch(cfg, n.rec, logger)
	if err != nil {
		t.Fatalf("%s: NewSwitch: %v", name, err)
	}
	n.sw = sw
	sw.listener = ln
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { n.runErr <- sw.Run(ctx) }()
	select {
	case <-sw.Listening():
	case <-time.After(waitTimeout):
		t.Fatalf("%s: not listening after %v", name, waitTimeout)
	}
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("logs of %s:\n%s", name, n.logs.String())
		}
	})
	return n
}

// stop cancels Run and waits for it to return, bounded.
func (n *testNode) stop() {
	n.once.Do(func() {
		n.cancel()
		select {
		case err := <-n.runErr:
			if err != nil {
				n.t.Errorf("%s: Run: %v", n.name, err)
			}
		case <-time.After(waitTimeout):
			n.t.Errorf("%s: Run did not return %v after cancel", n.name, waitTimeout)
		}
	})
}

func (n *testNode) id() NodeID   { return n.sw.ID() }
func (n *testNode) addr() string { return n.sw.ListenAddr() }

func (n *testNode) connectedTo(id NodeID) bool {
	for _, p := range n.sw.Peers() {
		if p.ID == id {
			return true
		}
	}
	return false
}

// rawPeer is a hand-driven connection speaking the protocol, for sending
// what a Switch never would.
type rawPeer struct {
	conn *websocket.Conn
	id   NodeID
}

// dialRaw connects to addr and runs the handshake as key (claiming claim if
// non-nil, with chainID if non-empty). It returns the peer's refusal or
// handshake failure as an error.
func dialRaw(t testing.TB, addr string, key *ecdsa.PrivateKey, chainID string, claim *NodeID) (*rawPeer, error) {
	t.Helper()
	if chainID == "" {
		chainID = testChain
	}
	return dialRawWith(t, addr, key, chainID, testGenesis, claim)
}

func dialRawWith(t testing.TB, addr string, key *ecdsa.PrivateKey, chainID string, genesis chain.Hash, claim *NodeID) (*rawPeer, error) {
	t.Helper()
	return dialRawOpts(t, addr, rawOpts{key: key, chainID: chainID, genesis: genesis, claim: claim})
}

// rawOpts shapes a raw peer's handshake. Zero fields take the honest
// choice for key.
type rawOpts struct {
	key     *ecdsa.PrivateKey // node key: certificate and Auth
	cert    *tls.Certificate  // TLS certificate; default one made for key
	chainID string            // default testChain
	genesis chain.Hash        // default testGenesis
	claim   *NodeID           // NodeID the Hello claims; default key's
	// auth, if set, makes the Auth signature from the session's exported
	// keying material.
	auth func(ekm []byte) chain.Signature
}

// dialTLSRaw opens a TLS 1.3 connection to addr presenting cert, and a
// websocket over it. It returns the TLS state and the dial error, if any.
func dialTLSRaw(t testing.TB, addr string, cert *tls.Certificate) (*websocket.Conn, tls.ConnectionState, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, state, err := dialWebsocketTLS(ctx, addr, cert)
	if err != nil {
		return nil, state, err
	}
	t.Cleanup(func() {
		if err := conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Logf("close raw peer: %v", err)
		}
	})
	return conn, state, nil
}

// identityCert returns a TLS certificate for key, failing the test on error.
func identityCert(t testing.TB, key *ecdsa.PrivateKey) *tls.Certificate {
	t.Helper()
	c, err := newIdentityCert(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dialRawOpts connects to addr and runs the handshake as o says. It returns
// the peer's refusal or a handshake failure as an error.
func dialRawOpts(t testing.TB, addr string, o rawOpts) (*rawPeer, error) {
	t.Helper()
	if o.chainID == "" {
		o.chainID = testChain
	}
	if o.genesis == (chain.Hash{}) {
		o.genesis = testGenesis
	}
	if o.cert == nil {
		o.cert = identityCert(t, o.key)
	}
	id := NodeIDFromKey(o.key)
	if o.claim != nil {
		id = *o.claim
	}
	conn, state, err := dialTLSRaw(t, addr, o.cert)
	if err != nil {
		return nil, err
	}
	if err := conn.SetReadDeadline(time.Now().Add(waitTimeout)); err != nil {
		t.Fatal(err)
	}
	ekm, err := state.ExportKeyingMaterial(exporterLabel, nil, exporterBytes)
	if err != nil {
		t.Fatal(err)
	}
	var sig chain.Signature
	if o.auth != nil {
		sig = o.auth(ekm)
	} else if sig, err = chain.Sign(o.key, sessionDigest(o.chainID, o.genesis, ekm, id)); err != nil {
		t.Fatal(err)
	}
	mine := &Hello{ProtocolVersion: ProtocolVersion, ChainID: o.chainID, GenesisHash: o.genesis, NodeID: id}
	if err := writeMessages(conn, mine, &Auth{Signature: sig}); err != nil {
		return nil, err
	}
	if _, err := readHandshakeMessage(conn, KindHello); err != nil {
		return nil, err
	}
	if _, err := readHandshakeMessage(conn, KindAuth); err != nil {
		return nil, err
	}
	return &rawPeer{conn: conn, id: id}, nil
}

func (r *rawPeer) send(t testing.TB, typ int, b []byte) {
	t.Helper()
	if err := r.conn.WriteMessage(typ, b); err != nil {
		t.Fatalf("raw peer write: %v", err)
	}
}

// readUntilClosed reads until the connection ends and returns the reasons of
// any Disconnect messages seen, and the other messages.
func (r *rawPeer) readUntilClosed(t testing.TB) (reasons []string, msgs []Message) {
	t.Helper()
	if err := r.conn.SetReadDeadline(time.Now().Add(waitTimeout)); err != nil {
		t.Fatal(err)
	}
	for {
		_, b, err := r.conn.ReadMessage()
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("raw peer: connection still open after %v", waitTimeout)
			}
			return reasons, msgs
		}
		m, err := Decode(b)
		if err != nil {
			t.Fatalf("raw peer: decode: %v", err)
		}
		if d, ok := m.(*Disconnect); ok {
			reasons = append(reasons, d.Reason)
			continue
		}
		msgs = append(msgs, m)
	}
}
