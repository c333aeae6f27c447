package p2p

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/gorilla/websocket"
)

// tlsConn is what the Switch needs of either end of a TLS session.
type tlsConn interface {
	net.Conn
	ConnectionState() tls.ConnectionState
	NetConn() net.Conn
}

// serverTLSConn is the server end of a TLS session that runs its handshake
// at the first Read, as tls.Conn would, but logs why a handshake failed:
// net/http does not, for a connection that is not a *tls.Conn.
type serverTLSConn struct {
	*tls.Conn
	s    *Switch
	once sync.Once
	err  error
}

func (c *serverTLSConn) Read(p []byte) (int, error) {
	c.once.Do(func() {
		if c.err = c.Handshake(); c.err != nil {
			c.s.admit.logLimited("peer handshake failed", "addr", c.RemoteAddr().String(), "outbound", false,
				"err", fmt.Errorf("tls handshake: %w", c.err))
		}
	})
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Read(p)
}

// dialTLS dials addr and runs the TLS handshake as the client; the
// websocket runs over the returned batchConn.
func (s *Switch) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(c, s.tlsConf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("tls handshake: %w", err), c.Close())
	}
	return &batchConn{Conn: tc}, nil
}

// tlsConnOf returns the TLS session under a Switch's websocket connection
// (a batchConn over a TLS connection).
func tlsConnOf(conn *websocket.Conn) (tlsConn, error) {
	bc, ok := conn.NetConn().(*batchConn)
	if !ok {
		return nil, errNoTLS
	}
	tc, ok := bc.Conn.(tlsConn)
	if !ok {
		return nil, errNoTLS
	}
	return tc, nil
}

// admittedOf returns the admission slot holder under an inbound
// connection, nil for an outbound one.
func admittedOf(conn *websocket.Conn) *admittedConn {
	tc, err := tlsConnOf(conn)
	if err != nil {
		return nil
	}
	ac, _ := tc.NetConn().(*admittedConn)
	return ac
}
