package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

var errConnClosed = errors.New("connection closed")

// wsConn is one websocket client. Its read loop (serve) only reads: each
// message is served by an exchange on a goroutine of its own, at most
// MaxInflightPerConn at once, so that pongs are read and other messages
// answered while slow calls run. Responses and notifications share one
// write lock; a ping timer keeps the read deadline honest. Each
// subscription runs one goroutine that exits when the subscription or the
// connection ends.
type wsConn struct {
	srv     *Server
	ws      *websocket.Conn
	logger  *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	limiter *rate.Limiter

	slots   chan struct{} // one token per message being served
	callsWG sync.WaitGroup

	writeMu sync.Mutex

	subsMu sync.Mutex
	subs   map[string]*subscription
	subWG  sync.WaitGroup

	pingTimer *time.Timer
	closeOnce sync.Once
}

func newWSConn(s *Server, ws *websocket.Conn, remote string) *wsConn {
	ctx, cancel := context.WithCancel(context.Background())
	return &wsConn{
		srv:     s,
		ws:      ws,
		logger:  s.logger.With("peer", remote),
		ctx:     ctx,
		cancel:  cancel,
		limiter: s.newLimiter(),
		slots:   make(chan struct{}, s.cfg.MaxInflightPerConn),
		subs:    make(map[string]*subscription),
	}
}

// serve runs the connection until the client goes away, fails a deadline
// or breaks a limit, or the server stops. Then it calls release (the
// connection no longer counts against MaxConnections), closes the socket
// and ends every subscription.
func (c *wsConn) serve(release func()) {
	c.logger.Debug("rpc: websocket open")
	readWindow := c.srv.cfg.PingInterval + c.srv.cfg.PongTimeout
	if err := c.extendRead(readWindow); err != nil {
		c.logger.Debug("rpc: set read deadline", "err", err)
	}
	c.ws.SetPongHandler(func(string) error { return c.extendRead(readWindow) })
	// A timer rather than a goroutine per connection: it runs only to ping.
	c.pingTimer = time.AfterFunc(c.srv.cfg.PingInterval, c.ping)

	err := c.readLoop(readWindow)
	c.logger.Debug("rpc: websocket closed", "err", err)
	release()
	c.abort()
	c.pingTimer.Stop()
	// The exchanges end soon: their calls are cancelled. Wait for them
	// before ending the subscriptions, which they may have opened.
	c.callsWG.Wait()
	c.subsMu.Lock()
	subs := make([]*subscription, 0, len(c.subs))
	for id, sub := range c.subs {
		subs = append(subs, sub)
		delete(c.subs, id)
	}
	c.subsMu.Unlock()
	for _, sub := range subs {
		c.srv.hub.remove(sub.hs)
	}
	c.subWG.Wait()
}

// ping sends a ping and re-arms the timer; a failed ping ends the
// connection.
func (c *wsConn) ping() {
	if c.ctx.Err() != nil {
		return
	}
	if err := c.ws.WriteControl(websocket.PingMessage, nil, deadline(c.srv.cfg.WriteTimeout)); err != nil {
		c.logger.Debug("rpc: ping failed", "err", err)
		c.abort()
		return
	}
	c.pingTimer.Reset(c.srv.cfg.PingInterval)
}

func (c *wsConn) extendRead(window time.Duration) error {
	return c.ws.SetReadDeadline(deadline(window))
}

func (c *wsConn) readLoop(readWindow time.Duration) error {
	limit := c.srv.cfg.MaxMessageBytes
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			return err
		}
		// Enforce the limit here rather than with SetReadLimit, so that
		// the client gets a JSON-RPC error and a close reason.
		data, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err != nil {
			return err
		}
		if int64(len(data)) > limit {
			c.srv.metrics.refuse(refusedMessageSize)
			resp := encodeResponse(nil, nil, &Error{Code: CodeMessageTooLarge,
				Message: fmt.Sprintf("message too large: limit %d bytes", limit)})
			if err := c.writeJSON(resp); err != nil {
				return err
			}
			c.closeWith(websocket.CloseMessageTooBig, fmt.Sprintf("message exceeds %d bytes", limit))
			return fmt.Errorf("message over %d bytes", limit)
		}
		if err := c.acquire(); err != nil {
			return err
		}
		// The client was alive when it sent this; waiting for a slot
		// must not count against it.
		if err := c.extendRead(readWindow); err != nil {
			<-c.slots
			return err
		}
		c.callsWG.Add(1)
		go func() {
			defer c.callsWG.Done()
			defer func() { <-c.slots }()
			c.srv.newExchange(c, c.limiter, data, c.writeAnswer).run(c.ctx)
		}()
	}
}

// acquire takes a slot for one more message in flight, waiting for one of
// the others to finish when all MaxInflightPerConn are taken. Meanwhile
// the connection is not read: the client's writes back up (TCP flow
// control) rather than its messages piling up here.
func (c *wsConn) acquire() error {
	select {
	case c.slots <- struct{}{}:
		return nil
	default:
	}
	c.srv.metrics.callWaits.Inc()
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-c.ctx.Done():
		return errConnClosed
	}
}

// writeAnswer sends an exchange's answer as one message (nothing when it
// is empty), written piece by piece.
func (c *wsConn) writeAnswer(a answer) {
	if a.empty() {
		return
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.ctx.Err() != nil {
		return
	}
	err := c.ws.SetWriteDeadline(deadline(c.srv.cfg.WriteTimeout))
	var w io.WriteCloser
	if err == nil {
		w, err = c.ws.NextWriter(websocket.TextMessage)
	}
	if err == nil {
		err = a.writeTo(w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		c.logger.Debug("rpc: write failed", "err", err)
		c.abort()
	}
}

func (c *wsConn) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	return c.write(b)
}

// write sends one text message within WriteTimeout. A failed write breaks
// the connection: the client is gone or not reading.
func (c *wsConn) write(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.ctx.Err() != nil {
		return errConnClosed
	}
	if err := c.ws.SetWriteDeadline(deadline(c.srv.cfg.WriteTimeout)); err != nil {
		c.abort()
		return err
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.logger.Debug("rpc: write failed", "err", err)
		c.abort()
		return err
	}
	return nil
}

// closeWith sends a close frame with code and reason, then breaks the
// connection.
func (c *wsConn) closeWith(code int, reason string) {
	msg := websocket.FormatCloseMessage(code, reason)
	if err := c.ws.WriteControl(websocket.CloseMessage, msg, deadline(shutdownCloseTimeout)); err != nil {
		c.logger.Debug("rpc: write close frame", "err", err)
	}
	c.abort()
}

// abort ends the connection: the read loop fails and every goroutine of
// the connection exits.
func (c *wsConn) abort() {
	c.closeOnce.Do(func() {
		c.cancel()
		if err := c.ws.NetConn().Close(); err != nil {
			c.logger.Debug("rpc: close socket", "err", err)
		}
	})
}

// subscribe registers a new subscription of this connection; it starts
// sending once its activation runs.
func (c *wsConn) subscribe(p SubscribeParams) (*subscription, error) {
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	if c.ctx.Err() != nil {
		return nil, errConnClosed
	}
	if len(c.subs) >= c.srv.cfg.MaxSubscriptionsPerConn {
		return nil, &Error{Code: CodeTooManySubscriptions,
			Message: fmt.Sprintf("too many subscriptions: limit %d per connection", c.srv.cfg.MaxSubscriptionsPerConn)}
	}
	var f Filter
	if p.Filter != nil {
		f = *p.Filter
	}
	sub := &subscription{
		id:   newSubscriptionID(),
		conn: c,
		hs:   c.srv.hub.newSub(p.Topic, f),
		done: make(chan struct{}),
	}
	sub.ctx, sub.cancel = context.WithCancel(c.ctx)
	if p.FromHeight != nil {
		sub.replay = true
		sub.next = max(*p.FromHeight, 1)
		sub.heightsLeft = c.srv.cfg.MaxReplayHeights
		sub.txEventsLeft = c.srv.cfg.MaxReplayTxEvents
	} else {
		// Live from now: events queue up until the id has been sent.
		c.srv.hub.add(sub.hs)
	}
	c.subs[sub.id] = sub
	return sub, nil
}

// unsubscribe ends subscription id and waits until it sends no more.
func (c *wsConn) unsubscribe(id string) bool {
	c.subsMu.Lock()
	sub, ok := c.subs[id]
	delete(c.subs, id)
	c.subsMu.Unlock()
	if !ok {
		return false
	}
	c.srv.hub.remove(sub.hs)
	sub.cancel()
	<-sub.done
	return true
}

// forget drops a subscription that ended by itself (lagged).
func (c *wsConn) forget(sub *subscription) {
	c.subsMu.Lock()
	if c.subs[sub.id] == sub {
		delete(c.subs, sub.id)
	}
	c.subsMu.Unlock()
}

// newSubscriptionID returns 0x and 32 random hex digits.
func newSubscriptionID() string {
	var b [16]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "0x" + hex.EncodeToString(b[:])
}
