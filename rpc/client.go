package rpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/quorumchain/quorumchain/chain"
)

// Client limits.
const (
	// clientMaxMessageBytes bounds one message from the node (a block of
	// chain.MaxBlockTxs transactions fits).
	clientMaxMessageBytes = 64 << 20
	// clientSubscriptionBuffer is the capacity of Subscription.Results.
	// When it is full the client stops reading the connection, and the
	// server cuts the subscription off as lagged rather than losing events
	// silently.
	clientSubscriptionBuffer = 128
	clientHandshakeTimeout   = 10 * time.Second
	clientWriteTimeout       = 10 * time.Second
)

var (
	// ErrClientClosed is returned by calls on a closed Client and sent on
	// the Err channel of its subscriptions.
	ErrClientClosed = errors.New("rpc: client closed")
	// ErrNeedWebsocket means a subscription was asked of an HTTP client.
	ErrNeedWebsocket = errors.New("rpc: subscriptions need a websocket (ws:// or wss://) URL")
)

// LaggedError ends a subscription the node cut off: subscribe again with
// fromHeight ResumeFromHeight. Reason is LaggedResult's: LaggedSlow when it
// read too slowly, LaggedReplayBudget when its replay reached the node's
// scan budget.
type LaggedError struct {
	ResumeFromHeight uint64
	Reason           string
}

func (e *LaggedError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("rpc: subscription lagged (%s): resume from height %d", e.Reason, e.ResumeFromHeight)
	}
	return fmt.Sprintf("rpc: subscription lagged: resume from height %d", e.ResumeFromHeight)
}

// Client calls a node's JSON-RPC methods over a websocket (ws://, wss://;
// with subscriptions) or HTTP (http://, https://; calls only). It is safe
// for concurrent use. Call errors from the node are *Error.
type Client struct {
	endpoint string
	hc       *http.Client // HTTP mode when ws is nil

	ws      *websocket.Conn
	writeMu sync.Mutex

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*pendingCall
	batches map[*pendingBatch]struct{}
	subs    map[string]*Subscription
	err     error // why the connection ended

	closing   chan struct{}
	closeOnce sync.Once
	done      chan struct{} // closed when the read loop exits
}

type pendingCall struct {
	reply chan callReply // capacity 1; a batch's calls share one of its size
	batch *pendingBatch  // non-nil for a request of a batch
	// onResult runs in the read loop before the next message is read
	// (Subscribe registers its subscription there, so no notification
	// that follows the response is missed).
	onResult func(result json.RawMessage)
}

type callReply struct {
	msg     clientMessage
	err     error
	refused bool // msg refuses a whole batch
}

// clientMessage is any message from the node: a response or a
// notification.
type clientMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
}

// Dial connects to a node. A ws:// or wss:// URL (such as
// ws://127.0.0.1:26657/ws) opens a websocket; an http:// or https:// URL
// (such as http://127.0.0.1:26657) makes an HTTP client that only calls
// methods. A refused websocket (connection limit) fails with an *Error.
func Dial(ctx context.Context, rawURL string) (*Client, error) {
	return DialTLS(ctx, rawURL, nil)
}

// DialTLS is Dial with tlsConfig for wss:// and https:// URLs (nil: Go's
// defaults), for a node whose certificate needs its own roots or a pin.
func DialTLS(ctx context.Context, rawURL string, tlsConfig *tls.Config) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("rpc: dial %q: %w", rawURL, err)
	}
	c := &Client{
		endpoint: rawURL,
		pending:  make(map[uint64]*pendingCall),
		batches:  make(map[*pendingBatch]struct{}),
		subs:     make(map[string]*Subscription),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	switch u.Scheme {
	case "http", "https":
		c.hc = &http.Client{}
		if tlsConfig != nil {
			c.hc.Transport = &http.Transport{TLSClientConfig: tlsConfig, Proxy: http.ProxyFromEnvironment}
		}
		close(c.done)
		return c, nil
	case "ws", "wss":
	default:
		return nil, fmt.Errorf("rpc: dial %q: want a ws://, wss://, http:// or https:// URL", rawURL)
	}
	d := websocket.Dialer{HandshakeTimeout: clientHandshakeTimeout, Proxy: http.ProxyFromEnvironment, TLSClientConfig: tlsConfig}
	ws, resp, err := d.DialContext(ctx, rawURL, nil)
	if err != nil {
		if resp != nil {
			if rerr := errorFromHTTP(resp); rerr != nil {
				return nil, fmt.Errorf("rpc: dial %s: %w", rawURL, rerr)
			}
		}
		return nil, fmt.Errorf("rpc: dial %s: %w", rawURL, err)
	}
	ws.SetReadLimit(clientMaxMessageBytes)
	c.ws = ws
	go c.readLoop()
	return c, nil
}

// errorFromHTTP returns the JSON-RPC error in a failed HTTP response's
// body, or nil.
func errorFromHTTP(resp *http.Response) *Error {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil
	}
	var msg clientMessage
	if json.Unmarshal(body, &msg) != nil || msg.Error == nil {
		return nil
	}
	return msg.Error
}

// Close ends the connection; pending calls fail and subscriptions end with
// ErrClientClosed.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closing)
		if c.ws == nil {
			return
		}
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		if werr := c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); werr != nil {
			// The node is gone already: closing the socket is all that is left.
			err = c.ws.Close()
			return
		}
		err = c.ws.Close()
	})
	<-c.done
	return err
}

// Call calls method with params (nil for none) and decodes the result into
// result (nil to ignore it). An error response is returned as *Error.
func (c *Client) Call(ctx context.Context, method string, params any, result any) error {
	msg, err := c.call(ctx, method, params, nil)
	if err != nil {
		return err
	}
	if msg.Error != nil {
		return msg.Error
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(msg.Result, result); err != nil {
		return fmt.Errorf("rpc: %s: decode result: %w", method, err)
	}
	return nil
}

func (c *Client) call(ctx context.Context, method string, params any, onResult func(json.RawMessage)) (clientMessage, error) {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.mu.Unlock()
	req := struct {
		JSONRPC string `json:"jsonrpc"`
		ID      uint64 `json:"id"`
		Method  string `json:"method"`
		Params  any    `json:"params,omitempty"`
	}{"2.0", id, method, params}
	body, err := json.Marshal(req)
	if err != nil {
		return clientMessage{}, fmt.Errorf("rpc: %s: encode params: %w", method, err)
	}
	if c.ws == nil {
		return c.callHTTP(ctx, method, body)
	}

	pc := &pendingCall{reply: make(chan callReply, 1), onResult: onResult}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return clientMessage{}, err
	}
	c.pending[id] = pc
	c.mu.Unlock()
	drop := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}
	if err := c.write(ctx, body); err != nil {
		drop()
		return clientMessage{}, fmt.Errorf("rpc: %s: %w", method, err)
	}
	select {
	case r := <-pc.reply:
		return r.msg, r.err
	case <-ctx.Done():
		drop()
		return clientMessage{}, fmt.Errorf("rpc: %s: %w", method, ctx.Err())
	}
}

func (c *Client) write(ctx context.Context, b []byte) error {
	dl := time.Now().Add(clientWriteTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.ws.SetWriteDeadline(dl); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

func (c *Client) callHTTP(ctx context.Context, method string, body []byte) (clientMessage, error) {
	data, status, err := c.post(ctx, body)
	if err != nil {
		return clientMessage{}, fmt.Errorf("rpc: %s: %w", method, err)
	}
	var msg clientMessage
	if err := json.Unmarshal(data, &msg); err != nil || (msg.Error == nil && msg.Result == nil) {
		return clientMessage{}, fmt.Errorf("rpc: %s: HTTP %s: not a JSON-RPC response", method, status)
	}
	return msg, nil
}

// post sends one JSON-RPC message over HTTP and returns the response body
// (at most clientMaxMessageBytes) and the HTTP status.
func (c *Client) post(ctx context.Context, body []byte) (data []byte, status string, err error) {
	select {
	case <-c.closing:
		return nil, "", ErrClientClosed
	default:
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(io.LimitReader(resp.Body, clientMaxMessageBytes))
	if err != nil {
		return nil, "", fmt.Errorf("read response: %w", err)
	}
	return data, resp.Status, nil
}

func (c *Client) readLoop() {
	defer close(c.done)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.fail(err)
			return
		}
		data = bytes.TrimLeft(data, " \t\r\n")
		if len(data) > 0 && data[0] == '[' {
			var msgs []clientMessage
			if json.Unmarshal(data, &msgs) == nil {
				for _, m := range msgs {
					c.dispatch(m)
				}
			}
			continue
		}
		var m clientMessage
		if json.Unmarshal(data, &m) == nil {
			c.dispatch(m)
		}
	}
}

func (c *Client) dispatch(m clientMessage) {
	if m.Method == MethodSubscription {
		var p struct {
			Subscription string          `json:"subscription"`
			Result       json.RawMessage `json:"result"`
		}
		if json.Unmarshal(m.Params, &p) != nil {
			return
		}
		c.mu.Lock()
		sub := c.subs[p.Subscription]
		c.mu.Unlock()
		if sub == nil {
			return // unsubscribed meanwhile
		}
		var lag LaggedResult
		if bytes.Contains(p.Result, []byte(`"lagged"`)) && json.Unmarshal(p.Result, &lag) == nil && lag.Lagged {
			c.mu.Lock()
			delete(c.subs, p.Subscription)
			c.mu.Unlock()
			sub.end(&LaggedError{ResumeFromHeight: lag.ResumeFromHeight, Reason: lag.Reason})
			return
		}
		sub.deliver(p.Result, c.closing)
		return
	}
	id, err := strconv.ParseUint(string(m.ID), 10, 64)
	if err != nil {
		if m.Error != nil && string(m.ID) == "null" {
			// A refusal of a whole message: only a batch can draw one
			// from a well-formed client, and the node does not say which.
			c.mu.Lock()
			for pb := range c.batches {
				select {
				case pb.replies <- callReply{msg: m, refused: true}:
				default:
				}
			}
			c.mu.Unlock()
		}
		return // not one of ours
	}
	c.mu.Lock()
	pc := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if pc == nil {
		return // the caller gave up
	}
	if pc.onResult != nil && m.Error == nil {
		pc.onResult(m.Result)
	}
	pc.reply <- callReply{msg: m}
}

// fail ends every call and subscription after the connection ended.
func (c *Client) fail(err error) {
	select {
	case <-c.closing:
		err = ErrClientClosed
	default:
		err = fmt.Errorf("rpc: connection lost: %w", err)
	}
	c.mu.Lock()
	c.err = err
	pending, subs := c.pending, c.subs
	c.pending, c.subs = map[uint64]*pendingCall{}, map[string]*Subscription{}
	c.mu.Unlock()
	for _, pc := range pending {
		pc.reply <- callReply{err: err}
	}
	for _, sub := range subs {
		sub.end(err)
	}
}

// Subscription is a live chain_subscribe. Read Results until it is closed,
// then Err for why: nil after Unsubscribe, *LaggedError when the node cut
// it off (resubscribe from that height), or the connection's error.
type Subscription struct {
	// ID is the node's subscription id.
	ID string

	c       *Client
	results chan json.RawMessage
	errc    chan error
	quit    chan struct{}
	once    sync.Once
	mu      sync.Mutex // held while delivering; end waits for it
	closed  bool
}

// Results returns the channel of notification results (the "result"
// objects of SPEC.md's topics), in order. It is closed when the
// subscription ends.
func (s *Subscription) Results() <-chan json.RawMessage { return s.results }

// Err returns a channel that yields why the subscription ended (nothing
// after Unsubscribe) and is then closed.
func (s *Subscription) Err() <-chan error { return s.errc }

// Unsubscribe ends the subscription.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	s.c.mu.Lock()
	_, live := s.c.subs[s.ID]
	delete(s.c.subs, s.ID)
	s.c.mu.Unlock()
	s.end(nil)
	if !live {
		return nil
	}
	return s.c.Call(ctx, MethodUnsubscribe, UnsubscribeParams{ID: s.ID}, nil)
}

func (s *Subscription) deliver(result json.RawMessage, closing <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.results <- result:
	case <-s.quit:
	case <-closing:
	}
}

func (s *Subscription) end(err error) {
	s.once.Do(func() {
		close(s.quit) // unblock a delivery in progress
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closed = true
		if err != nil {
			s.errc <- err
		}
		close(s.errc)
		close(s.results)
	})
}

// Subscribe opens a subscription to topic. filter may be nil; fromHeight
// > 0 (finalized and txs) replays the stored events from that height
// before the live ones, with no gap and no duplicate.
func (c *Client) Subscribe(ctx context.Context, topic Topic, filter *Filter, fromHeight uint64) (*Subscription, error) {
	if c.ws == nil {
		return nil, ErrNeedWebsocket
	}
	sub := &Subscription{
		c:       c,
		results: make(chan json.RawMessage, clientSubscriptionBuffer),
		errc:    make(chan error, 1),
		quit:    make(chan struct{}),
	}
	p := SubscribeParams{Topic: topic, Filter: filter}
	if fromHeight > 0 {
		p.FromHeight = &fromHeight
	}
	register := func(result json.RawMessage) {
		var id string
		if json.Unmarshal(result, &id) != nil {
			return
		}
		c.mu.Lock()
		sub.ID = id
		c.subs[id] = sub
		c.mu.Unlock()
	}
	msg, err := c.call(ctx, MethodSubscribe, p, register)
	if err == nil && msg.Error != nil {
		err = msg.Error
	}
	c.mu.Lock()
	id := sub.ID
	c.mu.Unlock()
	if err == nil && id == "" {
		err = fmt.Errorf("rpc: %s: malformed subscription id %s", MethodSubscribe, msg.Result)
	}
	if err != nil {
		if id != "" {
			c.mu.Lock()
			delete(c.subs, id)
			c.mu.Unlock()
		}
		sub.end(err)
		return nil, err
	}
	return sub, nil
}

// Typed helpers, one per method. On error the result is nil.

func callAs[T any](ctx context.Context, c *Client, method string, params any) (*T, error) {
	var r T
	if err := c.Call(ctx, method, params, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Status calls chain_status.
func (c *Client) Status(ctx context.Context) (*StatusResult, error) {
	return callAs[StatusResult](ctx, c, MethodStatus, nil)
}

// Block calls chain_getBlock {height}.
func (c *Client) Block(ctx context.Context, height uint64) (*BlockResult, error) {
	return callAs[BlockResult](ctx, c, MethodGetBlock, BlockParams{Height: &height})
}

// BlockSummary calls chain_getBlock {height, fullTxs: false}: the block
// with its transactions by hash and outcome only.
func (c *Client) BlockSummary(ctx context.Context, height uint64) (*BlockSummaryResult, error) {
	full := false
	return callAs[BlockSummaryResult](ctx, c, MethodGetBlock, BlockParams{Height: &height, FullTxs: &full})
}

// BlockByHash calls chain_getBlock {hash}.
func (c *Client) BlockByHash(ctx context.Context, hash chain.Hash) (*BlockResult, error) {
	return callAs[BlockResult](ctx, c, MethodGetBlock, BlockParams{Hash: &hash})
}

// LatestBlock calls chain_getBlock {} (the latest final block).
func (c *Client) LatestBlock(ctx context.Context) (*BlockResult, error) {
	return callAs[BlockResult](ctx, c, MethodGetBlock, BlockParams{})
}

// Validators calls chain_getValidators; height nil means the latest.
func (c *Client) Validators(ctx context.Context, height *uint64) (*ValidatorsResult, error) {
	return callAs[ValidatorsResult](ctx, c, MethodGetValidators, ValidatorsParams{Height: height})
}

// Account calls chain_getAccount.
func (c *Client) Account(ctx context.Context, addr chain.Address) (*AccountResult, error) {
	return callAs[AccountResult](ctx, c, MethodGetAccount, AccountParams{Address: &addr})
}

// Tx calls chain_getTx.
func (c *Client) Tx(ctx context.Context, hash chain.Hash) (*TxResult, error) {
	return callAs[TxResult](ctx, c, MethodGetTx, TxParams{Hash: &hash})
}

// SubmitTx calls chain_submitTx with a signed, encoded transaction and
// returns its hash.
func (c *Client) SubmitTx(ctx context.Context, raw []byte) (chain.Hash, error) {
	var r SubmitTxResult
	if err := c.Call(ctx, MethodSubmitTx, SubmitTxParams{Tx: raw}, &r); err != nil {
		return chain.Hash{}, err
	}
	return r.Hash, nil
}

// RoundState calls consensus_getRoundState.
func (c *Client) RoundState(ctx context.Context) (*RoundStateResult, error) {
	return callAs[RoundStateResult](ctx, c, MethodRoundState, nil)
}

// Peers calls net_getPeers.
func (c *Client) Peers(ctx context.Context) (*PeersResult, error) {
	return callAs[PeersResult](ctx, c, MethodGetPeers, nil)
}

// Duties calls consensus_getDuties.
func (c *Client) Duties(ctx context.Context, validator chain.Address) ([]DutyResult, error) {
	var r []DutyResult
	if err := c.Call(ctx, MethodGetDuties, DutiesParams{Validator: &validator}, &r); err != nil {
		return nil, err
	}
	return r, nil
}

// SubmitSigned calls consensus_submitSigned.
func (c *Client) SubmitSigned(ctx context.Context, request uint64, sig chain.Signature) error {
	return c.Call(ctx, MethodSubmitSigned, SubmitSignedParams{Request: &request, Signature: sig[:]}, nil)
}
