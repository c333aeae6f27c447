package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/quorumchain/quorumchain/dashboard"
)

// Server serves JSON-RPC 2.0 over websocket (/ws, with subscriptions) and
// HTTP POST (/), plus GET /health, GET /metrics and the dashboard (GET /
// and its assets under /ui/, package dashboard), on one listener.
type Server struct {
	cfg      Config
	backend  Backend
	hub      *Hub
	logger   *slog.Logger
	metrics  *metrics
	handler  http.Handler
	upgrader websocket.Upgrader
	origins  originPolicy

	connCount atomic.Int64  // websockets holding a slot of MaxConnections
	httpSlots chan struct{} // one token per HTTP POST being served (MaxHTTPRequests)
	httpWG    sync.WaitGroup

	mu     sync.Mutex
	conns  map[*wsConn]struct{}
	closed bool
	connWG sync.WaitGroup
}

// NewServer returns a server over backend whose subscriptions are fed by
// hub. /metrics serves gatherer (may be nil) together with the server's own
// metrics (quorumchain_rpc_*).
func NewServer(cfg Config, backend Backend, hub *Hub, gatherer prometheus.Gatherer, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     cfg.withDefaults(),
		backend: backend,
		hub:     hub,
		logger:  logger,
		conns:   make(map[*wsConn]struct{}),
	}
	s.origins = newOriginPolicy(s.cfg.AllowedOrigins)
	s.httpSlots = make(chan struct{}, s.cfg.MaxHTTPRequests)
	s.metrics = newMetrics(s)
	s.upgrader = websocket.Upgrader{
		// Reuse the HTTP server's read buffer; idle connections hold no
		// write buffer.
		WriteBufferPool: &sync.Pool{},
		// serveWebsocket refuses other origins before the upgrade, with
		// a metric and a JSON-RPC error; this is the same check again.
		CheckOrigin: func(r *http.Request) bool { return s.origins.check(r) == nil },
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			writeHTTPError(w, status, &Error{Code: CodeInvalidRequest, Message: "websocket upgrade: " + reason.Error()})
		},
	}
	gatherers := prometheus.Gatherers{s.metrics.registry}
	if gatherer != nil {
		gatherers = append(prometheus.Gatherers{gatherer}, gatherers...)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{$}", s.withOrigin(s.serveHTTP))
	mux.HandleFunc("OPTIONS /{$}", s.withOrigin(s.servePreflight))
	mux.HandleFunc("GET /ws", s.serveWebsocket)
	mux.HandleFunc("GET /health", s.serveHealth)
	ui, err := dashboard.New()
	if err != nil {
		panic("rpc: invariant embedded-dashboard: " + err.Error()) // the dashboard package's tests rule it out
	}
	mux.Handle("GET /{$}", ui)
	mux.Handle("GET "+dashboard.AssetPrefix, ui)
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}))
	s.handler = mux
	return s
}

// Handler returns the server's HTTP handler (for embedding in another
// server; Serve uses it).
func (s *Server) Handler() http.Handler { return s.handler }

// Run listens on addr (host:port) and serves until ctx is done.
func (s *Server) Run(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("rpc: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then closes ln, sends every
// websocket a close frame (1001, going away), waits for their goroutines
// and returns nil. It returns an error if serving fails otherwise. A
// Server serves once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       s.cfg.RequestTimeout + httpReadHeaderTimeout,
		WriteTimeout:      s.cfg.RequestTimeout + s.cfg.WriteTimeout, // websockets clear it
		IdleTimeout:       httpIdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		// Each TCP connection gets its own rate limiter, shared by the
		// HTTP requests it carries.
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			return context.WithValue(ctx, connLimiterKey{}, s.newLimiter())
		},
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	s.logger.Info("rpc: serving", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
	defer cancel()
	if serr := srv.Shutdown(shutCtx); serr != nil {
		s.logger.Debug("rpc: http shutdown", "err", serr)
	}
	s.closeAll()
	s.connWG.Wait()
	s.httpWG.Wait()
	if err == nil {
		err = <-errc
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("rpc: serve: %w", err)
}

// closeAll refuses new websockets and closes the open ones.
func (s *Server) closeAll() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeWith(websocket.CloseGoingAway, "server shutting down")
	}
}

// Stats is a snapshot of the server's load.
type Stats struct {
	Connections   int // open websockets
	Subscriptions int // subscriptions of all websockets
	HTTPRequests  int // HTTP POSTs being served
}

// Stats returns the current load.
func (s *Server) Stats() Stats {
	return Stats{Connections: int(s.connCount.Load()), Subscriptions: s.hub.Stats().Subscriptions,
		HTTPRequests: len(s.httpSlots)}
}

func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	if e := s.origins.check(r); e != nil {
		s.refuseHTTP(w, http.StatusForbidden, refusedOrigin, e)
		return
	}
	if n := s.connCount.Add(1); n > int64(s.cfg.MaxConnections) {
		s.connCount.Add(-1)
		s.metrics.refused.Inc()
		s.refuseHTTP(w, http.StatusServiceUnavailable, refusedConnections, &Error{Code: CodeTooManyConnections,
			Message: fmt.Sprintf("too many connections: limit %d", s.cfg.MaxConnections)})
		return
	}
	release := func() { s.connCount.Add(-1) }
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		release()
		s.logger.Debug("rpc: websocket upgrade", "err", err)
		return
	}
	c := newWSConn(s, ws, r.RemoteAddr)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		release()
		c.closeWith(websocket.CloseGoingAway, "server shutting down")
		return
	}
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	defer s.connWG.Done()

	// The slot is free before the socket closes, so a client that sees
	// the close can connect again at once.
	c.serve(release)
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// serveHTTP serves a POST: at most MaxHTTPRequests at once, a body of at
// most MaxMessageBytes, and an answer within the exchange's budgets. The
// exchange runs on a goroutine of its own that holds the slot until its
// calls return, so a call that outlives the time budget still counts.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case s.httpSlots <- struct{}{}:
	default:
		w.Header().Set("Retry-After", "1")
		s.refuseHTTP(w, http.StatusServiceUnavailable, refusedHTTPBusy, &Error{Code: CodeBusy,
			Message: fmt.Sprintf("server busy: %d HTTP requests in progress, the limit; retry later", s.cfg.MaxHTTPRequests)})
		return
	}
	release := func() { <-s.httpSlots }
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxMessageBytes))
	if err != nil {
		release()
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.refuseHTTP(w, http.StatusRequestEntityTooLarge, refusedMessageSize, &Error{Code: CodeMessageTooLarge,
				Message: fmt.Sprintf("message too large: limit %d bytes", s.cfg.MaxMessageBytes)})
			return
		}
		s.logger.Debug("rpc: read http body", "err", err)
		writeHTTPError(w, http.StatusBadRequest, &Error{Code: CodeParseError, Message: "parse error: " + err.Error()})
		return
	}
	lim, _ := r.Context().Value(connLimiterKey{}).(*rate.Limiter)
	if lim == nil {
		lim = s.newLimiter() // served through Handler: no connection to share one
	}
	out := make(chan answer, 1)
	ex := s.newExchange(nil, lim, body, func(a answer) { out <- a })
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		release()
		writeHTTPError(w, http.StatusServiceUnavailable, &Error{Code: CodeUnavailable, Message: "server shutting down"})
		return
	}
	s.httpWG.Add(1) // before closeAll, so Serve's Wait sees it
	s.mu.Unlock()
	go func() {
		defer s.httpWG.Done()
		defer release()
		ex.run(r.Context())
	}()
	var a answer
	select {
	case a = <-out:
	case <-r.Context().Done():
		return // the client went away
	}
	if a.empty() {
		w.WriteHeader(http.StatusNoContent) // only notifications
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if err := a.writeTo(w); err != nil {
		return // the client went away; nothing to tell it
	}
	if _, err := w.Write([]byte{'\n'}); err != nil {
		return
	}
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	h := HealthResult{Status: "ok", Height: s.backend.LatestHeight()}
	status := http.StatusOK
	if err := s.backend.Health(ctx); err != nil {
		h.Status, h.Error, status = "unhealthy", err.Error(), http.StatusServiceUnavailable
	}
	writeJSON(w, status, h)
}

// refuseHTTP counts a refusal and answers with status and e.
func (s *Server) refuseHTTP(w http.ResponseWriter, status int, reason string, e *Error) {
	s.metrics.refuse(reason)
	s.logger.Debug("rpc: refused", "reason", reason, "status", status)
	writeHTTPError(w, status, e)
}

// connLimiterKey keys the rate limiter of an HTTP request's TCP
// connection in its context.
type connLimiterKey struct{}

// newLimiter returns the token bucket of one connection.
func (s *Server) newLimiter() *rate.Limiter {
	return rate.NewLimiter(rate.Limit(s.cfg.RequestsPerSecond), s.cfg.RequestBurst)
}

// writeHTTPError answers with a JSON-RPC error response (id null).
func writeHTTPError(w http.ResponseWriter, status int, e *Error) {
	writeJSON(w, status, encodeResponse(nil, nil, e))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error: encode response"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if _, err := w.Write(append(b, '\n')); err != nil {
		return // the client went away; nothing to tell it
	}
}

// deadline returns the time d from now.
func deadline(d time.Duration) time.Time { return time.Now().Add(d) }
