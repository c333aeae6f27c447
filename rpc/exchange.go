package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// exchange serves one message, a request or a batch, on either transport.
// Its requests run in order on the goroutine that calls run, under three
// budgets: a time budget (Config.RequestTimeout) for the whole message, a
// byte budget (Config.MaxResponseBytes) for the whole answer, and the
// connection's rate limiter, one token per request.
//
// The answer is delivered exactly once: when the last request is served,
// or when the time budget runs out, whichever is first (go-ethereum's
// handler answers a batch in the same two ways). In the second case the
// requests not served yet get -32016; a call still running is cancelled
// through its context and what it returns later is dropped.
type exchange struct {
	s       *Server
	c       *wsConn       // nil over HTTP
	lim     *rate.Limiter // nil: no rate limit
	reqs    []request
	batch   bool
	msgErr  *Error       // the message as a whole is refused
	deliver func(answer) // called once, by run or by the budget timer
	gone    func() error // non-nil once the connection (or HTTP request) ended

	// Owned by the goroutine in run.
	left       int  // bytes of the answer budget not used yet
	overBudget bool // a result did not fit: later requests are not run

	mu       sync.Mutex
	answers  [][]byte        // answers[i]: response to reqs[i] (nil for a notification)
	served   []bool          // served[i]: reqs[i] is answered
	subs     []*subscription // subs[i]: opened by reqs[i], activated after delivery
	answered bool            // the answer was delivered
	expired  chan struct{}   // closed when the budget timer's delivery is over
}

// newExchange decodes data into an exchange whose answer goes to deliver.
func (s *Server) newExchange(c *wsConn, lim *rate.Limiter, data []byte, deliver func(answer)) *exchange {
	reqs, batch, derr := decodeMessage(data, s.cfg.MaxBatchItems)
	ex := &exchange{s: s, c: c, lim: lim, reqs: reqs, batch: batch, msgErr: derr, deliver: deliver,
		left: int(s.cfg.MaxResponseBytes), expired: make(chan struct{})}
	if derr != nil {
		if derr.Code == CodeInvalidRequest && strings.HasPrefix(derr.Message, batchTooLargePrefix) {
			s.metrics.refuse(refusedBatchSize)
		}
		s.metrics.request("invalid", derr.Code)
		return ex
	}
	ex.answers = make([][]byte, len(reqs))
	ex.served = make([]bool, len(reqs))
	ex.subs = make([]*subscription, len(reqs))
	return ex
}

// run serves the requests and delivers the answer. ctx is the
// connection's (or the HTTP request's); its end cancels the calls.
func (ex *exchange) run(ctx context.Context) {
	ex.gone = ctx.Err
	ctx, cancel := context.WithTimeout(ctx, ex.s.cfg.RequestTimeout)
	defer cancel()
	// When the budget runs out (or the client goes), answer at once,
	// whether or not the running call returns.
	stop := context.AfterFunc(ctx, func() {
		defer close(ex.expired)
		ex.finish()
	})
	defer func() {
		if !stop() {
			<-ex.expired // its activations are done before run returns
		}
	}()
	if ex.msgErr == nil {
		for i := range ex.reqs {
			if ctx.Err() != nil {
				break
			}
			resp, sub := ex.serve(ctx, i)
			ex.mu.Lock()
			late := ex.answered
			if !late {
				ex.answers[i], ex.served[i], ex.subs[i] = resp, true, sub
			}
			ex.mu.Unlock()
			if late {
				if sub != nil {
					sub.discard() // its id was never sent
				}
				break
			}
		}
	}
	ex.finish()
}

// finish delivers the answer unless it was delivered already, then starts
// the subscriptions it carries. Requests not served get -32016.
func (ex *exchange) finish() {
	ex.mu.Lock()
	if ex.answered {
		ex.mu.Unlock()
		return
	}
	ex.answered = true
	a := answer{batch: ex.batch}
	var subs []*subscription
	if ex.msgErr != nil {
		a.parts = [][]byte{encodeErrorResponse(nil, ex.msgErr)}
	}
	for i, req := range ex.reqs {
		switch {
		case ex.served[i]:
			if ex.answers[i] != nil {
				a.parts = append(a.parts, ex.answers[i])
			}
			if ex.subs[i] != nil {
				subs = append(subs, ex.subs[i])
			}
		case req.id != nil && ex.gone() != nil:
			// The client went away: nobody reads this answer, and it is
			// no timeout.
		case req.id != nil:
			e := &Error{Code: CodeTimeout, Message: fmt.Sprintf("request timed out: not answered within the %v budget of its message", ex.s.cfg.RequestTimeout)}
			a.parts = append(a.parts, ex.refuse(req, e))
		}
	}
	ex.mu.Unlock()
	ex.deliver(a)
	// Activate even if the delivery failed: a subscription's goroutine is
	// what ends it, and it exits at once on a closed connection.
	for _, sub := range subs {
		sub.activate()
	}
}

// serve runs request i and returns its encoded response (nil for a
// notification) and the subscription it opened, if any.
func (ex *exchange) serve(ctx context.Context, i int) ([]byte, *subscription) {
	req := ex.reqs[i]
	switch {
	case ex.overBudget:
		return ex.refuse(req, ex.tooLarge()), nil
	case ex.lim != nil && !ex.lim.Allow():
		return ex.refuse(req, &Error{Code: CodeRateLimited, Message: fmt.Sprintf(
			"rate limited: over %g requests per second (burst %d) on this connection", ex.s.cfg.RequestsPerSecond, ex.s.cfg.RequestBurst)}), nil
	case req.err != nil:
		ex.s.metrics.request("invalid", req.err.Code)
		return encodeErrorResponse(req.id, req.err), nil
	}
	label := methodLabel(req)
	result, sub, err := ex.s.call(ctx, ex.c, req)
	if err != nil {
		rerr := toError(err)
		if rerr.Code == CodeInternal && ex.gone() == nil {
			ex.s.logger.Warn("rpc: request failed", "method", req.method, "err", err)
		} else {
			ex.s.logger.Debug("rpc: request refused", "method", req.method, "code", rerr.Code, "err", err)
		}
		return ex.refuse(req, rerr), nil
	}
	if req.id == nil {
		ex.s.metrics.request(label, 0)
		return nil, sub // a notification: no response
	}
	buf := budgetBuffer{limit: ex.left}
	if err := appendResultResponse(&buf, req.id, result); err != nil {
		if sub != nil {
			sub.discard()
		}
		if errors.Is(err, errOverBudget) {
			ex.overBudget = true
			return ex.refuse(req, ex.tooLarge()), nil
		}
		ex.s.logger.Warn("rpc: encode result", "method", req.method, "err", err)
		return ex.refuse(req, &Error{Code: CodeInternal, Message: "internal error: encode result: " + err.Error()}), nil
	}
	ex.left -= len(buf.buf)
	ex.s.metrics.request(label, 0)
	return buf.buf, sub
}

func (ex *exchange) tooLarge() *Error {
	what := "response"
	if ex.batch {
		what = "batch's responses"
	}
	return &Error{Code: CodeResponseTooLarge, Message: fmt.Sprintf(
		"response too large: the %s would exceed %d bytes; ask for less per request", what, ex.s.cfg.MaxResponseBytes)}
}

// refuse counts e as req's outcome and returns req's error response (nil
// for a notification).
func (ex *exchange) refuse(req request, e *Error) []byte {
	ex.s.metrics.request(methodLabel(req), e.Code)
	if reason := refusalOf(e.Code); reason != "" {
		ex.s.metrics.refuse(reason)
	}
	if req.id == nil {
		return nil
	}
	return encodeErrorResponse(req.id, e)
}

// call runs req's method.
func (s *Server) call(ctx context.Context, c *wsConn, req request) (any, *subscription, error) {
	m, ok := methods[req.method]
	if !ok || (m.wsOnly && c == nil) {
		e := &Error{Code: CodeMethodNotFound, Message: fmt.Sprintf("method %q not found", req.method)}
		if ok {
			e.Message = fmt.Sprintf("method %q needs a websocket connection (/ws)", req.method)
		}
		return nil, nil, e
	}
	return m.serve(ctx, s, c, req.params)
}

// methodLabel is req's method as a metric label: a method of the table,
// "invalid" or "unknown", so that the label set stays bounded.
func methodLabel(req request) string {
	if req.err != nil {
		return "invalid"
	}
	if _, ok := methods[req.method]; !ok {
		return "unknown"
	}
	return req.method
}

// encodeErrorResponse returns the response to id (null when nil) with e.
func encodeErrorResponse(id json.RawMessage, e *Error) []byte {
	b, err := json.Marshal(encodeResponse(id, nil, e))
	if err != nil { // decodeRequest lets only valid ids through
		return []byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error: encode error response"}}`)
	}
	return b
}
