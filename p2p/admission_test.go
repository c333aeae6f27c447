package p2p

import (
	"crypto/tls"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// counts reports the handshakes in flight and the connections counted for ip.
func (a *admission) counts(ip netip.Addr) (inFlight, perIP int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inFlight, a.perIP[ip]
}

var loopback = netip.MustParseAddr("127.0.0.1")

// dialIdle opens a TCP connection to addr that never speaks: a peer that
// holds a slot for free.
func dialIdle(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestConnFloodPerIP: one address cannot hold more than MaxConnsPerIP
// connections; the next are closed at accept with the reason logged, and
// honest peers from that address get in again once the flood ends.
// Loopback is exempt unless LimitLoopback is set.
func TestConnFloodPerIP(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, func(c *Config) {
		c.MaxConnsPerIP, c.LimitLoopback = 3, true
		c.MaxHandshakes = 100
		c.HandshakeTimeout = 2 * waitTimeout // the flood outlives the test
	})
	var flood []net.Conn
	for range 3 {
		flood = append(flood, dialIdle(t, a.addr()))
	}
	waitFor(t, sig, "a to hold the flood's 3 connections", func() bool {
		_, n := a.sw.admit.counts(loopback)
		return n == 3
	})
	for i := range 2 {
		expectClosedByServer(t, dialIdle(t, a.addr()))
		waitFor(t, sig, "the refusal logged", func() bool {
			return a.sw.Stats().ConnsRefused == uint64(i+1) && strings.Count(a.logs.String(), ErrTooManyFromIP.Error()) == i+1
		})
	}
	if _, err := dialRaw(t, a.addr(), testKey(t, 5), "", nil); err == nil {
		t.Fatal("an honest dial got past a full per-IP limit")
	}
	for _, c := range flood {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, sig, "the flood's slots freed", func() bool {
		_, n := a.sw.admit.counts(loopback)
		return n == 0
	})
	raw, err := dialRaw(t, a.addr(), testKey(t, 5), "", nil)
	if err != nil {
		t.Fatalf("honest dial after the flood: %v", err)
	}
	waitFor(t, sig, "a connected to the honest peer", func() bool { return a.rec.isConnected(raw.id) })
	if _, n := a.sw.admit.counts(loopback); n != 1 {
		t.Errorf("a connected peer counts %d for its IP, want 1", n)
	}

	// Default: loopback is not counted, so local testnets are not capped.
	b := startNode(t, sig, "b", 2, func(c *Config) { c.MaxConnsPerIP = 1; c.HandshakeTimeout = 2 * waitTimeout })
	for range 3 {
		dialIdle(t, b.addr())
	}
	waitFor(t, sig, "b to hold 3 loopback connections", func() bool {
		inFlight, n := b.sw.admit.counts(loopback)
		return inFlight == 3 && n == 0
	})
	if st := b.sw.Stats(); st.ConnsRefused != 0 {
		t.Errorf("b refused %d loopback connections, want 0", st.ConnsRefused)
	}
}

// TestHandshakesInFlightBounded: at most MaxHandshakes connections may sit
// in their handshake; the next are closed at accept with the reason logged,
// the stalled ones are closed after HandshakeTimeout, and then honest peers
// get in. A finished handshake gives its slot back.
func TestHandshakesInFlightBounded(t *testing.T) {
	sig := newSignal()
	const timeout = 2 * time.Second
	a := startNode(t, sig, "a", 1, func(c *Config) {
		c.MaxHandshakes = 2
		c.HandshakeTimeout = timeout
	})
	start := time.Now()
	stalled := []net.Conn{dialIdle(t, a.addr()), dialIdle(t, a.addr())}
	waitFor(t, sig, "a to hold 2 handshakes", func() bool {
		n, _ := a.sw.admit.counts(loopback)
		return n == 2
	})
	expectClosedByServer(t, dialIdle(t, a.addr()))
	waitFor(t, sig, "the refusal logged", func() bool {
		return a.sw.Stats().ConnsRefused == 1 && a.logs.contains(ErrTooManyHandshakes.Error())
	})
	for _, c := range stalled {
		expectClosedByServer(t, c)
	}
	if d := time.Since(start); d < timeout {
		t.Errorf("stalled handshakes closed after %v, before the %v timeout", d, timeout)
	}
	// Whichever fires first, the TLS read deadline or the admission's
	// timer, the stalled connections count as failed handshakes.
	waitFor(t, sig, "the stalled handshakes counted and their slots freed", func() bool {
		n, _ := a.sw.admit.counts(loopback)
		return n == 0 && a.sw.Stats().HandshakeFailures == 2
	})
	raw, err := dialRaw(t, a.addr(), testKey(t, 5), "", nil)
	if err != nil {
		t.Fatalf("honest dial after the stall: %v", err)
	}
	waitFor(t, sig, "a connected and the handshake slot free", func() bool {
		n, _ := a.sw.admit.counts(loopback)
		return a.rec.isConnected(raw.id) && n == 0
	})
}

// TestPlaintextBeforeTLSRefused: a plain websocket, plain HTTP, raw
// garbage, or TLS below 1.3 never reach the Hello; each counts as a failed
// handshake.
func TestPlaintextBeforeTLSRefused(t *testing.T) {
	sig := newSignal()
	a := startNode(t, sig, "a", 1, nil)

	if conn, _, err := websocket.DefaultDialer.Dial("ws://"+a.addr()+Path, nil); err == nil {
		_ = conn.Close()
		t.Fatal("plain websocket upgraded")
	}
	for _, garbage := range []string{"GET /p2p HTTP/1.1\r\nHost: a\r\n\r\n", "\x16\x03\x01\x00\x05hello", strings.Repeat("\x00", 64)} {
		c := dialIdle(t, a.addr())
		if _, err := c.Write([]byte(garbage)); err != nil {
			t.Fatal(err)
		}
		expectClosedByServer(t, c)
	}
	c, err := tls.Dial("tcp", a.addr(), &tls.Config{
		MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*identityCert(t, testKey(t, 5))}, InsecureSkipVerify: true,
	})
	if err == nil {
		_ = c.Close()
		t.Fatal("TLS 1.2 handshake succeeded")
	}
	waitFor(t, sig, "a to count 5 failed handshakes", func() bool { return a.sw.Stats().HandshakeFailures == 5 })
	if a.logs.contains("peer connected") || len(a.sw.Peers()) != 0 {
		t.Fatal("a connected to a plaintext peer")
	}
	if !a.logs.contains("tls handshake") {
		t.Error("a did not log the TLS failures")
	}
}

// TestRemoteIPGroupsIPv6By64: the per-IP limit counts an IPv6 host's whole
// /64, so rotating the low bits of the address does not escape it.
func TestRemoteIPGroupsIPv6By64(t *testing.T) {
	addr := func(s string) net.Conn { return fakeAddrConn{netip.MustParseAddrPort(s)} }
	tests := []struct{ remote, want string }{
		{"192.0.2.7:1000", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:1000", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:1000", "2001:db8:1:2::"},
		{"[2001:db8:1:2:bbbb::9]:1000", "2001:db8:1:2::"},
		{"[::1]:1000", "::1"},
	}
	for _, tc := range tests {
		if got := remoteIP(addr(tc.remote)); got != netip.MustParseAddr(tc.want) {
			t.Errorf("%s: counted as %s, want %s", tc.remote, got, tc.want)
		}
	}
}

type fakeAddrConn struct{ ap netip.AddrPort }

func (c fakeAddrConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.ap) }

func (fakeAddrConn) Read([]byte) (int, error)         { return 0, net.ErrClosed }
func (fakeAddrConn) Write([]byte) (int, error)        { return 0, net.ErrClosed }
func (fakeAddrConn) Close() error                     { return nil }
func (fakeAddrConn) LocalAddr() net.Addr              { return nil }
func (fakeAddrConn) SetDeadline(time.Time) error      { return nil }
func (fakeAddrConn) SetReadDeadline(time.Time) error  { return nil }
func (fakeAddrConn) SetWriteDeadline(time.Time) error { return nil }
