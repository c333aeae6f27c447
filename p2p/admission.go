package p2p

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Reasons for refusing an inbound connection before its handshake.
var (
	ErrTooManyFromIP     = errors.New("too many connections from this address")
	ErrTooManyHandshakes = errors.New("too many handshakes in flight")
	ErrTooManyInbound    = errors.New("too many inbound peers")
	errHandshakeTimedOut = errors.New("handshake not finished in time")
)

// Refusal log lines: a burst, then one per interval.
const (
	refusalLogBurst = 20
	refusalLogEvery = 100 * time.Millisecond
)

// admission decides, at accept time, which inbound TCP connections may
// start a handshake: at most MaxConnsPerIP open connections per remote IP
// (per /64 for IPv6; loopback included only with Config.LimitLoopback) and at most
// MaxHandshakes connections that have not finished their handshake. A
// connection must finish its handshake within HandshakeTimeout of being
// accepted, or it is closed.
type admission struct {
	maxPerIP      int
	limitLoopback bool
	maxHandshakes int
	timeout       time.Duration
	logger        *slog.Logger
	refused       *atomic.Uint64
	handshakeFail *atomic.Uint64

	mu       sync.Mutex
	perIP    map[netip.Addr]int
	inFlight int

	logLimit *rate.Limiter // refusal log lines, so that a flood cannot flood the log
	dropped  atomic.Uint64 // refusals not logged because of logLimit
}

func newAdmission(cfg *Config, logger *slog.Logger, st *counters) *admission {
	return &admission{
		maxPerIP:      cfg.MaxConnsPerIP,
		limitLoopback: cfg.LimitLoopback,
		maxHandshakes: cfg.MaxHandshakes,
		timeout:       cfg.HandshakeTimeout,
		logger:        logger,
		refused:       &st.connsRefused,
		handshakeFail: &st.handshakeFailures,
		perIP:         make(map[netip.Addr]int),
		logLimit:      rate.NewLimiter(rate.Every(refusalLogEvery), refusalLogBurst),
	}
}

// logRefusal logs one refused connection with its reason, at most
// refusalLogBurst lines at once and one per refusalLogEvery after that
// (shared with failed TLS handshakes); a line says how many went unlogged
// before it.
func (a *admission) logRefusal(addr string, reason error) {
	a.refused.Add(1)
	a.logLimited("refused connection", "addr", addr, "reason", reason.Error())
}

// logLimited logs at info level unless unauthenticated connections have
// used up the log's rate.
func (a *admission) logLimited(msg string, attrs ...any) {
	if !a.logLimit.Allow() {
		a.dropped.Add(1)
		return
	}
	if n := a.dropped.Swap(0); n > 0 {
		attrs = append(attrs, "unlogged", n)
	}
	a.logger.Info(msg, attrs...)
}

// admit takes the per-IP and handshake slots for c, or returns why not.
func (a *admission) admit(c net.Conn) (*admittedConn, error) {
	ip := remoteIP(c)
	counted := a.maxPerIP > 0 && ip.IsValid() && (a.limitLoopback || !ip.IsLoopback())
	a.mu.Lock()
	defer a.mu.Unlock()
	if counted && a.perIP[ip] >= a.maxPerIP {
		return nil, fmt.Errorf("%w: %s has %d, limit %d", ErrTooManyFromIP, ip, a.perIP[ip], a.maxPerIP)
	}
	if a.inFlight >= a.maxHandshakes {
		return nil, fmt.Errorf("%w: limit %d", ErrTooManyHandshakes, a.maxHandshakes)
	}
	if counted {
		a.perIP[ip]++
	}
	a.inFlight++
	ac := &admittedConn{Conn: c, a: a, ip: ip, counted: counted}
	ac.timer = time.AfterFunc(a.timeout, ac.expire)
	return ac, nil
}

func (a *admission) releaseHandshake() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
}

func (a *admission) releaseIP(ip netip.Addr) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.perIP[ip]--; a.perIP[ip] <= 0 {
		delete(a.perIP, ip)
	}
}

// remoteIP is the address c's per-IP limit counts: its IPv4 address, or
// the /64 network of its IPv6 address (one host usually holds a whole /64).
func remoteIP(c net.Conn) netip.Addr {
	var ip netip.Addr
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip = ta.AddrPort().Addr().Unmap()
	} else if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		ip = ap.Addr().Unmap()
	}
	if ip.Is6() && !ip.IsLoopback() {
		return netip.PrefixFrom(ip.WithZone(""), 64).Masked().Addr()
	}
	return ip
}

// Stages of an admitted connection.
const (
	connAccepted = iota // TLS and HTTP upgrade under way
	connServing         // the Switch's handshake is under way
	connDone            // handshake finished: the handshake slot is free
	connClosed
)

// admittedConn is an accepted connection holding an admission slot: its IP
// slot until it closes, its handshake slot until handshakeDone or close.
type admittedConn struct {
	net.Conn
	a       *admission
	ip      netip.Addr
	counted bool
	timer   *time.Timer

	mu    sync.Mutex
	stage int
}

// serving marks the start of the Switch's own handshake, which counts and
// logs its failures itself.
func (c *admittedConn) serving() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stage == connAccepted {
		c.stage = connServing
	}
}

// handshakeDone releases the handshake slot and stops the handshake timer.
// It reports false if the connection already closed.
func (c *admittedConn) handshakeDone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stage >= connDone {
		return false
	}
	c.stage = connDone
	c.timer.Stop()
	c.a.releaseHandshake()
	return true
}

// expire closes a connection whose handshake outlived the timeout.
func (c *admittedConn) expire() {
	c.mu.Lock()
	stage := c.stage
	c.mu.Unlock()
	if stage >= connDone {
		return
	}
	c.a.logLimited("closing connection", "addr", c.RemoteAddr().String(), "reason", errHandshakeTimedOut.Error())
	if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		c.a.logger.Debug("close connection", "err", err)
	}
}

// Close closes the connection and, the first time, gives back its slots. A
// connection that closes before the Switch's handshake began (TLS or HTTP
// failed, or timed out) counts as a failed handshake.
func (c *admittedConn) Close() error {
	c.mu.Lock()
	stage := c.stage
	if stage != connClosed {
		c.stage = connClosed
	}
	c.mu.Unlock()
	if stage == connClosed {
		return c.Conn.Close()
	}
	c.timer.Stop()
	if stage < connDone {
		c.a.releaseHandshake()
	}
	if c.counted {
		c.a.releaseIP(c.ip)
	}
	if stage == connAccepted {
		c.a.handshakeFail.Add(1)
		c.a.logger.Debug("connection closed before the handshake", "addr", c.RemoteAddr().String())
	}
	return c.Conn.Close()
}

// inboundListener admits accepted connections through an admission, closing
// the ones it refuses and logging why, and makes each admitted one the
// server end of a TLS session under a batchConn.
type inboundListener struct {
	net.Listener
	s *Switch
}

func (l inboundListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ac, err := l.s.admit.admit(c)
		if err == nil {
			l.s.logger.Debug("accepted connection", "addr", c.RemoteAddr().String())
			return &batchConn{Conn: &serverTLSConn{Conn: tls.Server(ac, l.s.tlsConf), s: l.s}}, nil
		}
		l.s.admit.logRefusal(c.RemoteAddr().String(), err)
		if cerr := c.Close(); cerr != nil {
			l.s.logger.Debug("close refused connection", "err", cerr)
		}
	}
}
