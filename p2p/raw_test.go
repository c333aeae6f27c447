package p2p

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"testing"
)

// TestDialRaw: a raw connection with an honest identity completes the
// handshake and its messages reach the node; one that presents another
// node's certificate (without that node's TLS key) or claims another
// node's ID is refused; garbage after the handshake gets it cut off.
func TestDialRaw(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, nil)
	b := startNode(t, sig, "b", 2, nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	opts := RawOptions{NodeKey: testKey(t, 3), ChainID: testChain, GenesisHash: testGenesis}

	rc, err := DialRaw(ctx, a.addr(), opts)
	if err != nil {
		t.Fatalf("honest raw dial: %v", err)
	}
	if rc.Peer != a.id() || rc.ID != NodeIDFromKey(opts.NodeKey) {
		t.Fatalf("raw conn ids: peer %s (want %s), self %s", rc.Peer, a.id(), rc.ID)
	}
	st := &Status{Height: 7, BaseHeight: 1}
	if err := rc.WriteMessage(st); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sig, "the status to arrive", func() bool { return a.rec.count(Encode(st)) == 1 })
	if err := rc.WriteFrame([]byte{0xde, 0xad}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sig, "the garbage sender to be cut off", func() bool { return !a.connectedTo(rc.ID) })
	rc.Close()

	der, err := PeerCertificate(ctx, b.addr(), testKey(t, 4))
	if err != nil {
		t.Fatalf("fetch b's certificate: %v", err)
	}
	own, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	stolen := opts
	stolen.Certificate = &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: own}
	if _, err := DialRaw(ctx, a.addr(), stolen); err == nil {
		t.Fatal("a raw dial presenting b's certificate without b's TLS key was accepted")
	}
	claim := b.id()
	impostor := opts
	impostor.Claim = &claim
	if _, err := DialRaw(ctx, a.addr(), impostor); err == nil {
		t.Fatal("a raw dial claiming b's NodeID over its own session was accepted")
	}
}
