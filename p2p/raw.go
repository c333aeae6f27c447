package p2p

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gorilla/websocket"

	"github.com/quorumchain/quorumchain/chain"
)

// RawConn is one connection to a node that runs the handshake and then
// lets the caller write any frame, well formed or not. It is for tools
// that probe a node's defences (quorumchain testnet attack) and for tests;
// a node itself always goes through a Switch.
type RawConn struct {
	conn *websocket.Conn
	// ID is the NodeID this side claimed; Peer is the node's.
	ID, Peer NodeID
}

// RawOptions shapes a raw connection's handshake. The zero value of each
// optional field is the honest choice for NodeKey.
type RawOptions struct {
	NodeKey     *ecdsa.PrivateKey
	ChainID     string
	GenesisHash chain.Hash
	// Certificate replaces the TLS certificate made for NodeKey, e.g. with
	// another node's certificate, to show that it is refused.
	Certificate *tls.Certificate
	// Claim replaces the NodeID the Hello claims (and Auth signs for).
	Claim *NodeID
}

// DialRaw connects to the node at addr ("host:port") over TLS and runs
// the handshake as o says. A refusal by the node (a Disconnect, a failed
// TLS handshake, a closed connection) is the error.
func DialRaw(ctx context.Context, addr string, o RawOptions) (*RawConn, error) {
	if o.NodeKey == nil {
		return nil, errors.New("p2p: raw dial: no node key")
	}
	if o.Certificate == nil {
		cert, err := newIdentityCert(o.NodeKey, time.Now())
		if err != nil {
			return nil, err
		}
		o.Certificate = cert
	}
	id := NodeIDFromKey(o.NodeKey)
	if o.Claim != nil {
		id = *o.Claim
	}
	conn, state, err := dialWebsocketTLS(ctx, addr, o.Certificate)
	if err != nil {
		return nil, fmt.Errorf("p2p: raw dial %s: %w", addr, err)
	}
	fail := func(err error) (*RawConn, error) {
		return nil, errors.Join(fmt.Errorf("p2p: raw handshake with %s: %w", addr, err), conn.Close())
	}
	if err := conn.SetReadDeadline(time.Now().Add(DefaultHandshakeTimeout)); err != nil {
		return fail(err)
	}
	ekm, err := state.ExportKeyingMaterial(exporterLabel, nil, exporterBytes)
	if err != nil {
		return fail(err)
	}
	sig, err := chain.Sign(o.NodeKey, sessionDigest(o.ChainID, o.GenesisHash, ekm, id))
	if err != nil {
		return fail(err)
	}
	mine := &Hello{ProtocolVersion: ProtocolVersion, ChainID: o.ChainID, GenesisHash: o.GenesisHash, NodeID: id}
	if err := writeMessages(conn, mine, &Auth{Signature: sig}); err != nil {
		return fail(err)
	}
	m, err := readHandshakeMessage(conn, KindHello)
	if err != nil {
		return fail(err)
	}
	if _, err := readHandshakeMessage(conn, KindAuth); err != nil {
		return fail(err)
	}
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		return fail(err)
	}
	return &RawConn{conn: conn, ID: id, Peer: m.(*Hello).NodeID}, nil
}

// dialWebsocketTLS opens a TLS 1.3 connection to addr presenting cert,
// without checking the node's certificate, and a websocket over it; it
// returns the TLS state for the handshake's exported keying material.
func dialWebsocketTLS(ctx context.Context, addr string, cert *tls.Certificate) (*websocket.Conn, tls.ConnectionState, error) {
	var state tls.ConnectionState
	d := &websocket.Dialer{
		HandshakeTimeout: DefaultHandshakeTimeout,
		NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var nd net.Dialer
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(c, &tls.Config{
				MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{*cert},
				// The node's identity is checked from its Hello; a probe
				// must reach nodes whatever they present.
				InsecureSkipVerify: true, //nolint:gosec // see above
			})
			if err := tc.HandshakeContext(ctx); err != nil {
				return nil, errors.Join(err, c.Close())
			}
			state = tc.ConnectionState()
			return tc, nil
		},
	}
	conn, _, err := d.DialContext(ctx, "wss://"+addr+Path, nil)
	return conn, state, err
}

// WriteFrame sends b as one binary frame, whatever it holds.
func (c *RawConn) WriteFrame(b []byte) error {
	return c.conn.WriteMessage(websocket.BinaryMessage, b)
}

// WriteMessage sends one encoded message.
func (c *RawConn) WriteMessage(m Message) error { return c.WriteFrame(Encode(m)) }

// ReadMessage reads the next frame the node sends and decodes it.
func (c *RawConn) ReadMessage() (Message, error) {
	_, b, err := c.conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	return Decode(b)
}

// Close closes the connection.
func (c *RawConn) Close() error { return c.conn.Close() }

// PeerCertificate connects to the node at addr over TLS with a throwaway
// identity and returns the certificate it presents (DER), as anyone on the
// network can: a node's certificate is public.
func PeerCertificate(ctx context.Context, addr string, key *ecdsa.PrivateKey) ([]byte, error) {
	cert, err := newIdentityCert(key, time.Now())
	if err != nil {
		return nil, err
	}
	var nd net.Dialer
	c, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tc := tls.Client(c, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{*cert}, InsecureSkipVerify: true}) //nolint:gosec // only reads the certificate
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, errors.New("p2p: no certificate")
	}
	return certs[0].Raw, nil
}
