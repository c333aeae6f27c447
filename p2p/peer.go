package p2p

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/quorumchain/quorumchain/chain"
)

// ErrPeerDisconnect wraps the reason a connected peer gave for leaving.
var ErrPeerDisconnect = errors.New("peer disconnected")

// peer is one authenticated connection. Its reader and writer goroutines
// live inside run; everything else talks to it through enqueue and stop.
type peer struct {
	sw     *Switch
	info   PeerInfo
	conn   *websocket.Conn
	send   *sendQueue // encoded messages
	known  *knownSet
	budget *peerBudget // used by the reader only
	// requested counts the BlockRequests we sent the peer and it has not
	// answered: that many BlockResponses are exempt from the sync budget
	// (an honest peer answering our sync at full speed is not a flood).
	requested atomic.Int64

	cancel  context.CancelFunc // ends run
	closing atomic.Bool        // run is ending or over: send nothing more
	reason  atomic.Pointer[string]
	done    chan struct{} // closed after PeerDisconnected returned and the peer left the map
}

func newPeer(sw *Switch, info PeerInfo, conn *websocket.Conn, cancel context.CancelFunc) *peer {
	return &peer{
		sw:     sw,
		info:   info,
		conn:   conn,
		send:   newSendQueue(sw.cfg.SendQueue, sw.cfg.SendQueueBytes),
		known:  newKnownSet(sw.cfg.KnownMessages),
		budget: newPeerBudget(sw.cfg.Budgets, time.Now()),
		cancel: cancel,
		done:   make(chan struct{}),
	}
}

// enqueue queues an encoded message without blocking; false if the queue is
// full (counted in Stats.SendDropped) or a fault dropped it (counted by the
// fault layer). A peer whose queue has stayed full for Config.SendFullTimeout is not
// reading: it is stopped.
//
// This is where the fault layer, when there is one, acts on every message
// we send: a partitioned peer gets nothing, a dropped message is refused
// (and counted by the layer, not as a full queue), and a delayed one is
// queued with its release time.
func (p *peer) enqueue(b []byte) bool {
	now := time.Now()
	var due time.Time
	if f := p.sw.faults; f != nil {
		var send bool
		if send, due = f.outgoing(p.info.ID, now); !send {
			return false
		}
	}
	ok, full := p.send.push(b, now, due, p.sw.cfg.FaultDelayBytes)
	switch {
	case ok:
	case !due.IsZero():
		p.sw.faults.dropped.Add(1) // over the delay's byte bound
	default:
		p.sw.stats.sendDropped.Add(1)
	}
	if !ok && full >= p.sw.cfg.SendFullTimeout && !p.closing.Load() {
		p.sw.stats.sendFullStops.Add(1)
		reason := fmt.Sprintf("send queue full for %v: not reading", full.Round(time.Millisecond))
		p.sw.logger.Info("disconnecting peer", "peer", p.info.ID.String(), "addr", p.info.Addr, "reason", reason)
		p.stop(reason)
	}
	return ok
}

// stop ends the connection, telling the peer reason (the first reason wins).
func (p *peer) stop(reason string) {
	p.setReason(reason)
	p.closing.Store(true)
	p.cancel()
}

func (p *peer) setReason(reason string) { p.reason.CompareAndSwap(nil, &reason) }

// run serves the connection until ctx ends, the connection fails, or the
// peer misbehaves or leaves. It returns why, nil when stopped by us.
func (p *peer) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	writerDone, readerDone := make(chan struct{}), make(chan struct{})
	g.Go(func() error {
		defer close(writerDone)
		return p.writeLoop(gctx)
	})
	g.Go(func() error {
		defer close(readerDone)
		return p.readLoop(gctx)
	})
	// The closer: once anything ends the peer, let the writer say goodbye
	// and wait for the peer's close frame, within goodbyeWait, then close the
	// connection, which unblocks both. Closing with unread input would reset
	// the connection, and the peer could lose our Disconnect unread.
	g.Go(func() error {
		<-gctx.Done()
		p.closing.Store(true)
		deadline := time.Now().Add(goodbyeWait)
		timer := time.NewTimer(goodbyeWait)
		defer timer.Stop()
		select {
		case <-writerDone:
			select {
			case <-readerDone:
				p.drain(deadline) // the reader is gone: we are the only reader now
			case <-timer.C:
			}
		case <-timer.C:
		}
		p.sw.closeConn(p.conn)
		return nil
	})
	return g.Wait()
}

// writeLoop writes queued messages and keepalive pings. On ctx done it sends
// the stop reason, if any, and a close frame.
func (p *peer) writeLoop(ctx context.Context) error {
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	// hold fires when the oldest queued message, held back by the fault
	// layer's delay, is due.
	hold := time.NewTimer(time.Hour)
	hold.Stop()
	defer hold.Stop()
	for {
		select {
		case <-ctx.Done():
			p.goodbye()
			return nil
		case <-p.send.ready:
			wait, err := p.writeBurst()
			if err != nil {
				return fmt.Errorf("write: %w", err)
			}
			if wait > 0 {
				hold.Reset(wait)
			}
		case <-hold.C:
			wait, err := p.writeBurst()
			if err != nil {
				return fmt.Errorf("write: %w", err)
			}
			if wait > 0 {
				hold.Reset(wait)
			}
		case <-ping.C:
			if err := p.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		}
	}
}

// writeBurst writes what is queued and due, within the batch bounds, and
// sends it all with one flush. If it leaves due messages queued it re-arms
// ready; if the oldest queued message is not yet due, wait is how long
// until it is.
func (p *peer) writeBurst() (wait time.Duration, err error) {
	b, wait, ok := p.send.pop(time.Now())
	if !ok {
		return wait, nil
	}
	if bc, ok := p.conn.NetConn().(*batchConn); ok {
		bc.beginBatch()
		defer func() { err = errors.Join(err, bc.endBatch()) }()
	}
	n, size := 0, 0
	for {
		if err := p.conn.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
			return 0, err
		}
		if err := p.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
			return 0, err
		}
		p.sw.stats.msgsSent.Add(1)
		p.sw.stats.bytesSent.Add(uint64(len(b)))
		n, size = n+1, size+len(b)
		if n == batchMaxMessages || size >= batchMaxBytes {
			select {
			case p.send.ready <- struct{}{}: // come back for the rest
			default:
			}
			return 0, nil
		}
		if b, wait, ok = p.send.pop(time.Now()); !ok {
			return wait, nil
		}
	}
}

func (p *peer) goodbye() {
	deadline := time.Now().Add(goodbyeWait)
	if err := p.conn.SetWriteDeadline(deadline); err != nil {
		return
	}
	if r := p.reason.Load(); r != nil {
		if err := writeMessage(p.conn, &Disconnect{Reason: truncate(*r, maxReasonBytes)}); err != nil {
			p.sw.logger.Debug("send disconnect", "peer", p.info.ID.String(), "err", err)
			return
		}
	}
	closeMsg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := p.conn.WriteControl(websocket.CloseMessage, closeMsg, deadline); err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		p.sw.logger.Debug("send close", "peer", p.info.ID.String(), "err", err)
	}
}

// readLoop reads, decodes and delivers messages until the connection ends.
// Once ctx is done it only drains input, so that the peer's close frame is
// read before the connection closes.
func (p *peer) readLoop(ctx context.Context) error {
	conn := p.conn
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(pongWait)) })
	if err := conn.SetReadDeadline(time.Now().Add(pongWait)); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	for {
		typ, b, err := conn.ReadMessage()
		switch {
		case ctx.Err() != nil:
			if err != nil {
				return nil
			}
			continue
		case errors.Is(err, websocket.ErrReadLimit):
			return p.invalid(fmt.Errorf("%w: over %d bytes", ErrInvalidMessage, p.sw.cfg.MaxMessageBytes))
		case err != nil:
			return fmt.Errorf("read: %w", err)
		}
		if err := conn.SetReadDeadline(time.Now().Add(pongWait)); err != nil {
			return fmt.Errorf("read: %w", err)
		}
		p.sw.stats.msgsRecv.Add(1)
		p.sw.stats.bytesRecv.Add(uint64(len(b)))
		if typ != websocket.BinaryMessage {
			return p.invalid(fmt.Errorf("%w: text frame", ErrInvalidMessage))
		}
		if err := p.receive(b); err != nil {
			return err
		}
	}
}

// receive handles one binary message from the peer. A non-nil error ends
// the connection.
func (p *peer) receive(b []byte) error {
	kind, kindOK := peekKind(b)
	handled := kindOK && !kind.control() // by the Handler, if it decodes
	// A partition (the fault layer) drops whatever the peer sends but
	// control messages, before it counts against budgets or is decoded.
	if f := p.sw.faults; f != nil && !(kindOK && kind.control()) && f.blocksFrom(p.info.ID) {
		return nil
	}
	// The budget is charged before decoding, so a flood costs us no
	// more than reading it.
	if handled && !p.answersRequest(kind) {
		if c := kind.class(); !p.budget.allow(c, len(b), time.Now()) {
			p.sw.stats.budgetDropped.Add(1)
			if p.sw.Penalize(p.info.ID, c.String()+" budget exceeded", PenaltyBudget) {
				return fmt.Errorf("%w: %s budget exceeded", ErrBanned, c)
			}
			return nil
		}
	}
	// A gossip message is checked against the Switch-wide seen set before
	// it is decoded, so that the copies every relaying peer sends us cost
	// one hash each and no decoding. Marking the hash seen before we know
	// the bytes decode cannot hide a valid message: the hash names these
	// exact bytes, and the same bytes decode the same way from any peer.
	// If they do not decode, the hash is forgotten again, so that whoever
	// sends them next is decoded and penalized too, as this peer is.
	var h chain.Hash
	gossip := false
	if handled {
		h = MessageHash(b)
		p.known.add(h)
		if kind.gossip() {
			if !p.sw.seen.add(h) {
				p.sw.stats.duplicates.Add(1)
				return nil
			}
			gossip = true
		}
	}
	m, err := Decode(b)
	if err != nil {
		if gossip {
			p.sw.seen.remove(h)
		}
		return p.invalid(err)
	}
	switch m := m.(type) {
	case *Disconnect:
		return fmt.Errorf("%w: %s", ErrPeerDisconnect, m.Reason)
	case *Hello, *Auth:
		return p.invalid(fmt.Errorf("%w: %s after the handshake", ErrInvalidMessage, m.Kind()))
	}
	if r, ok := m.(relayable); ok && gossip {
		*r.arrived() = wire{enc: b, hash: h}
	}
	if err := p.sw.handler.Receive(p.info.ID, m); err != nil {
		switch {
		case errors.Is(err, ErrInvalidPeerData):
			return p.invalid(err)
		case errors.Is(err, ErrBusy):
			// Not taken: forget it, so that a copy from another peer
			// (or this one, later) is delivered.
			p.sw.stats.refused.Add(1)
			if gossip {
				p.sw.seen.remove(h)
			}
		default:
			p.sw.logger.Debug("message not handled", "peer", p.info.ID.String(), "kind", m.Kind().String(), "err", err)
		}
	}
	return nil
}

// maxRequested bounds the BlockResponses a peer may owe us.
const maxRequested = 1024

// requestSent records that we sent the peer a BlockRequest.
func (p *peer) requestSent() {
	if p.requested.Add(1) > maxRequested {
		p.requested.Store(maxRequested)
	}
}

// requestUnsent takes back a requestSent whose request was not queued.
func (p *peer) requestUnsent() {
	if p.requested.Add(-1) < 0 {
		p.requested.Store(0)
	}
}

// answersRequest reports whether a message of kind k from the peer is the
// answer to a BlockRequest we sent it, and if so uses up that request.
func (p *peer) answersRequest(k Kind) bool {
	if k != KindBlockResponse {
		return false
	}
	for {
		n := p.requested.Load()
		if n <= 0 {
			return false
		}
		if p.requested.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// drain discards input until the peer closes or the deadline passes.
func (p *peer) drain(deadline time.Time) {
	if err := p.conn.SetReadDeadline(deadline); err != nil {
		return
	}
	for {
		if _, _, err := p.conn.NextReader(); err != nil {
			return
		}
	}
}

// invalid records that the peer sent bad data, which no honest peer does:
// the peer is banned (PenaltyFatal) and the Disconnect tells it why.
func (p *peer) invalid(err error) error {
	p.setReason(err.Error())
	p.sw.Penalize(p.info.ID, err.Error(), PenaltyFatal)
	return err
}
