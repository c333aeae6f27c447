package p2p

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sync/errgroup"
)

// Switch connects this node to its peers: it accepts and dials websocket
// connections, authenticates them, and moves messages between the peers and
// the Handler. Create it with NewSwitch and start it with Run.
type Switch struct {
	cfg     Config
	id      NodeID
	handler Handler
	logger  *slog.Logger
	dialer  *websocket.Dialer
	tlsConf *tls.Config // both ends of every connection; see tlsIdentity
	admit   *admission

	started    atomic.Bool
	listener   net.Listener  // if set before Run, used instead of listening on ListenAddr (tests)
	listening  chan struct{} // closed once Run has bound the listener, or failed to
	listenAddr atomic.Pointer[string]

	mu    sync.RWMutex
	peers map[NodeID]*peer

	seen   *knownSet   // gossip messages received or broadcast, Switch-wide
	faults *FaultLayer // nil unless Config.Faults
	scores *scoreBoard // peer scores and bans

	inbound      connTracker // connection handlers running in net/http goroutines
	inboundCount atomic.Int64
	stats        counters
}

type counters struct {
	msgsSent, msgsRecv, bytesSent, bytesRecv atomic.Uint64
	sendDropped, knownSkipped, duplicates    atomic.Uint64
	invalid                                  atomic.Uint64
	sendFullStops, budgetDropped, refused    atomic.Uint64
	penalties, bans, bannedRefused           atomic.Uint64
	handshakeFailures, dialFailures          atomic.Uint64
	connsRefused                             atomic.Uint64
}

// NewSwitch checks cfg, fills its defaults, and returns a Switch that is
// idle until Run. logger may be nil (no logging).
func NewSwitch(cfg Config, h Handler, logger *slog.Logger) (*Switch, error) {
	if h == nil {
		return nil, errors.New("p2p: nil handler")
	}
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.PersistentPeers = slices.Clone(cfg.PersistentPeers)
	tlsID := &tlsIdentity{nodeKey: cfg.NodeKey}
	if _, err := tlsID.current(); err != nil { // fail now rather than at the first connection
		return nil, err
	}
	s := &Switch{
		cfg:       cfg,
		id:        NodeIDFromKey(cfg.NodeKey),
		handler:   h,
		logger:    logger,
		tlsConf:   tlsID.tlsConfig(),
		listening: make(chan struct{}),
		peers:     make(map[NodeID]*peer),
		seen:      newKnownSet(cfg.SeenMessages),
		scores:    newScoreBoard(cfg.BanThreshold, cfg.BanDuration),
		inbound:   newConnTracker(),
	}
	if cfg.Faults {
		s.faults = newFaultLayer(cfg.FaultSeed, cfg.FaultDelayBytes)
	}
	s.admit = newAdmission(&s.cfg, logger, &s.stats)
	s.dialer = &websocket.Dialer{
		NetDialTLSContext: s.dialTLS,
		HandshakeTimeout:  cfg.HandshakeTimeout,
		ReadBufferSize:    readBufferBytes,
		WriteBufferSize:   writeBufferBytes,
	}
	return s, nil
}

// Faults returns the fault layer, nil unless Config.Faults (test networks
// only).
func (s *Switch) Faults() *FaultLayer { return s.faults }

// ID is this node's NodeID.
func (s *Switch) ID() NodeID { return s.id }

// Listening is closed once Run has bound its listener (or failed to, or has
// none to bind); ListenAddr is final from then on.
func (s *Switch) Listening() <-chan struct{} { return s.listening }

// ListenAddr is the address the Switch accepts peers on: the actual
// "host:port" once listening (useful with port 0), Config.ListenAddr before.
func (s *Switch) ListenAddr() string {
	if a := s.listenAddr.Load(); a != nil {
		return *a
	}
	return s.cfg.ListenAddr
}

func (s *Switch) announceAddr() string {
	if s.cfg.ExternalAddr != "" {
		return s.cfg.ExternalAddr
	}
	if a := s.listenAddr.Load(); a != nil {
		return *a
	}
	return ""
}

// Run listens on Config.ListenAddr, dials the persistent peers and serves
// every connection until ctx is done; then it closes all connections, waits
// for every goroutine it started, and returns nil. It returns an error if
// it cannot listen or serve. Run may be called once.
func (s *Switch) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("p2p: switch already ran")
	}
	g, gctx := errgroup.WithContext(ctx)
	if s.cfg.ListenAddr != "" {
		ln := s.listener
		if ln == nil {
			var err error
			if ln, err = net.Listen("tcp", s.cfg.ListenAddr); err != nil {
				close(s.listening)
				return fmt.Errorf("p2p: listen on %s: %w", s.cfg.ListenAddr, err)
			}
		}
		addr := ln.Addr().String()
		s.listenAddr.Store(&addr)
		// Every accepted connection passes admission, then TLS, then is
		// a batchConn for the websocket (see batch.go); the TLS
		// handshake runs at the first read, under ReadHeaderTimeout and
		// the admission's handshake timer.
		srv := &http.Server{
			Handler:           s.httpHandler(gctx),
			ReadHeaderTimeout: s.cfg.HandshakeTimeout,
			ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
		}
		g.Go(func() error {
			if err := srv.Serve(inboundListener{Listener: ln, s: s}); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("p2p: serve on %s: %w", addr, err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			// Close stops the listener and connections still in HTTP;
			// upgraded ones end with gctx and are awaited below.
			if err := srv.Close(); err != nil {
				s.logger.Debug("close listener", "err", err)
			}
			return nil
		})
		s.logger.Info("listening for peers", "addr", addr, "node_id", s.id.String())
	}
	close(s.listening)
	for _, addr := range s.cfg.PersistentPeers {
		g.Go(func() error {
			s.dialLoop(gctx, addr)
			return nil
		})
	}
	err := g.Wait()
	s.inbound.closeAndWait()
	return err
}

func (s *Switch) httpHandler(ctx context.Context) http.Handler {
	up := &websocket.Upgrader{
		HandshakeTimeout: s.cfg.HandshakeTimeout,
		ReadBufferSize:   readBufferBytes,
		WriteBufferSize:  writeBufferBytes,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Path, func(w http.ResponseWriter, r *http.Request) {
		if !s.inbound.add() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		defer s.inbound.done()
		if b, ok := s.scores.bannedIP(hostIP(r.RemoteAddr), time.Now()); ok {
			s.stats.bannedRefused.Add(1)
			s.logger.Debug("refused banned address", "addr", r.RemoteAddr, "reason", b.reason)
			http.Error(w, "banned", http.StatusForbidden)
			return
		}
		if n := s.inboundCount.Add(1); n > int64(s.cfg.MaxInboundPeers) {
			s.inboundCount.Add(-1)
			s.admit.logRefusal(r.RemoteAddr, fmt.Errorf("%w: limit %d", ErrTooManyInbound, s.cfg.MaxInboundPeers))
			http.Error(w, ErrTooManyInbound.Error(), http.StatusServiceUnavailable)
			return
		}
		defer s.inboundCount.Add(-1)
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			s.logger.Debug("websocket upgrade", "addr", r.RemoteAddr, "err", err)
			return // Upgrade has replied with an HTTP error
		}
		// serveConn logs how the connection ended.
		if _, err := s.serveConn(ctx, conn, false, r.RemoteAddr); err != nil {
			return
		}
	})
	return mux
}

// dialLoop keeps a connection to addr: dial, serve until it ends, back off,
// redial; while the node at addr is connected some other way, wait.
func (s *Switch) dialLoop(ctx context.Context, addr string) {
	backoff := dialBackoffMin
	var id *NodeID // learned from the first Hello
	for ctx.Err() == nil {
		if id != nil {
			if done := s.peerDone(*id); done != nil {
				select {
				case <-done:
					continue
				case <-ctx.Done():
					return
				}
			}
		}
		start := time.Now()
		remote, err := s.dial(ctx, addr)
		if ctx.Err() != nil {
			return
		}
		if remote != nil {
			id = remote
		}
		if errors.Is(err, ErrSelfConnection) {
			s.logger.Info("not dialing ourselves", "addr", addr)
			return
		}
		if time.Since(start) >= dialBackoffMax {
			backoff = dialBackoffMin // the connection was up a while
		}
		timer := time.NewTimer(backoff/2 + rand.N(backoff/2+1)) // jitter: peers dialing each other drift apart
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return
		}
		backoff = min(2*backoff, dialBackoffMax)
	}
}

// dial connects to addr and serves the connection until it ends. It returns
// the peer's NodeID if the peer sent a Hello.
func (s *Switch) dial(ctx context.Context, addr string) (*NodeID, error) {
	if b, ok := s.scores.bannedIP(hostIP(addr), time.Now()); ok {
		s.stats.bannedRefused.Add(1)
		return nil, fmt.Errorf("%w: %s: %s", ErrBanned, addr, b.reason)
	}
	conn, _, err := s.dialer.DialContext(ctx, "wss://"+addr+Path, nil)
	if err != nil {
		if ctx.Err() == nil {
			s.stats.dialFailures.Add(1)
			s.logger.Debug("dial peer", "addr", addr, "err", err)
		}
		return nil, err
	}
	return s.serveConn(ctx, conn, true, addr)
}

// serveConn runs a connection from handshake to close: it registers the
// peer, reports it to the Handler, serves it, and reports it gone.
func (s *Switch) serveConn(ctx context.Context, conn *websocket.Conn, outbound bool, addr string) (*NodeID, error) {
	defer s.closeConn(conn)
	ac := admittedOf(conn)
	if ac != nil {
		ac.serving()
	}
	hello, err := s.handshake(ctx, conn, outbound)
	if err == nil && ac != nil && !ac.handshakeDone() {
		err = fmt.Errorf("%w: %w", ErrBadHandshake, errHandshakeTimedOut)
	}
	var id *NodeID
	if hello != nil {
		id = &hello.NodeID
	}
	if err != nil {
		if ctx.Err() == nil {
			s.stats.handshakeFailures.Add(1)
			s.logHandshakeFailure(addr, outbound, id, err)
		}
		return id, err
	}
	// The peer ends only through stop, so that a reason is always set
	// first: on shutdown, stopOnShutdown below.
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	p := newPeer(s, PeerInfo{ID: hello.NodeID, Addr: addr, ListenAddr: hello.ListenAddr, Outbound: outbound, ConnectedAt: time.Now()}, conn, cancel)
	if err := s.addPeer(ctx, p); err != nil {
		if ctx.Err() == nil {
			s.stats.handshakeFailures.Add(1)
			s.refuse(conn, err.Error())
			s.logHandshakeFailure(addr, outbound, id, err)
		}
		return id, err
	}
	s.logger.Info("peer connected", "peer", p.info.ID.String(), "addr", addr, "outbound", outbound)
	s.handler.PeerConnected(p.info)

	stopOnShutdown := context.AfterFunc(ctx, func() { p.stop("shutting down") })
	err = p.run(pctx)
	stopOnShutdown()

	s.handler.PeerDisconnected(p.info.ID)
	s.removePeer(p)
	s.scores.forget(p.info.ID, time.Now())
	close(p.done)
	s.logPeerEnd(p, err)
	return id, err
}

func (s *Switch) logHandshakeFailure(addr string, outbound bool, id *NodeID, err error) {
	attrs := []any{"addr", addr, "outbound", outbound, "err", err}
	if id != nil {
		attrs = append(attrs, "peer", id.String())
	}
	switch {
	case errors.Is(err, ErrChainMismatch), errors.Is(err, ErrGenesisMismatch), errors.Is(err, ErrProtocolMismatch):
		s.logger.Warn("peer handshake refused", attrs...)
	case errors.Is(err, ErrRefused), errors.Is(err, ErrBadHandshake):
		s.logger.Info("peer handshake failed", attrs...)
	default: // duplicates, ourselves, timeouts and broken connections
		s.logger.Debug("peer handshake failed", attrs...)
	}
}

func (s *Switch) logPeerEnd(p *peer, err error) {
	attrs := []any{"peer", p.info.ID.String(), "addr", p.info.Addr}
	switch {
	case errors.Is(err, ErrInvalidPeerData):
		s.stats.invalid.Add(1)
		s.logger.Info("disconnected peer: invalid data", append(attrs, "err", err)...)
	case err != nil:
		s.logger.Info("peer disconnected", append(attrs, "err", err)...)
	default:
		reason := "stopped"
		if r := p.reason.Load(); r != nil {
			reason = *r
		}
		s.logger.Info("disconnected peer", append(attrs, "reason", reason)...)
	}
}

// preferNew decides between an existing connection to a node and a new one
// in the other direction: both sides keep the one dialed by the lower
// NodeID, so two nodes dialing each other converge on one connection. A
// second connection in the same direction is refused.
func (s *Switch) preferNew(old *peer, newOutbound bool) bool {
	if old.info.Outbound == newOutbound {
		return false
	}
	weDialLower := bytes.Compare(s.id[:], old.info.ID[:]) < 0
	return newOutbound == weDialLower
}

// keepsExisting reports whether a new connection to id would be refused in
// favour of the current one.
func (s *Switch) keepsExisting(id NodeID, outbound bool) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	old := s.peers[id]
	return old != nil && !old.closing.Load() && !s.preferNew(old, outbound)
}

// addPeer registers p, replacing a connection to the same node that is
// closing or that preferNew ranks lower; it then waits until the old one is
// fully gone, so the Handler sees PeerDisconnected before PeerConnected.
func (s *Switch) addPeer(ctx context.Context, p *peer) error {
	for {
		s.mu.Lock()
		old := s.peers[p.info.ID]
		if old == nil {
			s.peers[p.info.ID] = p
			s.mu.Unlock()
			return nil
		}
		if !old.closing.Load() && !s.preferNew(old, p.info.Outbound) {
			s.mu.Unlock()
			return fmt.Errorf("%w: already connected to %s", ErrDuplicatePeer, p.info.ID)
		}
		s.mu.Unlock()
		old.stop(ErrDuplicatePeer.Error() + ": replaced by the connection in the other direction")
		select {
		case <-old.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Switch) removePeer(p *peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peers[p.info.ID] == p {
		delete(s.peers, p.info.ID)
	}
}

// peerDone returns the done channel of the connection to id, nil if none.
func (s *Switch) peerDone(id NodeID) <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.peers[id]; p != nil {
		return p.done
	}
	return nil
}

// StopPeer disconnects peer id, telling it reason; false if not connected.
func (s *Switch) StopPeer(id NodeID, reason string) bool {
	s.mu.RLock()
	p := s.peers[id]
	s.mu.RUnlock()
	if p == nil {
		return false
	}
	p.stop(reason)
	return true
}

// Peers lists the connected peers, ordered by NodeID.
func (s *Switch) Peers() []PeerInfo {
	s.mu.RLock()
	out := make([]PeerInfo, 0, len(s.peers))
	for _, p := range s.peers {
		out = append(out, p.info)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b PeerInfo) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out
}

// Stats returns the current counters.
func (s *Switch) Stats() Stats {
	st := Stats{
		MessagesSent:             s.stats.msgsSent.Load(),
		MessagesReceived:         s.stats.msgsRecv.Load(),
		BytesSent:                s.stats.bytesSent.Load(),
		BytesReceived:            s.stats.bytesRecv.Load(),
		SendDropped:              s.stats.sendDropped.Load(),
		SendQueueFullDisconnects: s.stats.sendFullStops.Load(),
		BudgetDropped:            s.stats.budgetDropped.Load(),
		Penalties:                s.stats.penalties.Load(),
		Bans:                     s.stats.bans.Load(),
		BannedRefused:            s.stats.bannedRefused.Load(),
		DeliveryRefused:          s.stats.refused.Load(),
		KnownSkipped:             s.stats.knownSkipped.Load(),
		DuplicatesDropped:        s.stats.duplicates.Load(),
		InvalidPeerData:          s.stats.invalid.Load(),
		HandshakeFailures:        s.stats.handshakeFailures.Load(),
		ConnsRefused:             s.stats.connsRefused.Load(),
		DialFailures:             s.stats.dialFailures.Load(),
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range s.peers {
		st.Peers++
		_, queued := p.send.size()
		st.SendQueuedBytes += queued
		if p.info.Outbound {
			st.Outbound++
		} else {
			st.Inbound++
		}
	}
	return st
}

func (s *Switch) closeConn(conn *websocket.Conn) {
	if err := conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		s.logger.Debug("close connection", "err", err)
	}
}

// connTracker counts running connection handlers so that Run can wait for
// them; once closed it admits no more.
type connTracker struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{} // closed when closed and n == 0
}

func newConnTracker() connTracker { return connTracker{idle: make(chan struct{})} }

func (t *connTracker) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.n++
	return true
}

func (t *connTracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 && t.closed {
		close(t.idle)
	}
}

func (t *connTracker) closeAndWait() {
	t.mu.Lock()
	t.closed = true
	if t.n == 0 {
		close(t.idle)
	}
	t.mu.Unlock()
	<-t.idle
}
