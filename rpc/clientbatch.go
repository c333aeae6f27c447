package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/quorumchain/quorumchain/chain"
)

// BatchCall is one request of a batch (Client.CallBatch): Method and
// Params (nil for none) go out; Result (a pointer, nil to ignore it) and
// Err come back. Err is the node's *Error for this request, or why its
// answer could not be decoded.
type BatchCall struct {
	Method string
	Params any
	Result any
	Err    error
}

// errNoAnswer is a batch request the node's answer left out.
var errNoAnswer = errors.New("rpc: no answer to this request of the batch")

// CallBatch sends calls as one JSON-RPC batch and fills in each call's
// Result or Err. It returns an error only when the batch as a whole
// failed: the connection, the context, or the node refusing the message
// (for example a batch over its max_batch_items), in which case no call
// was served.
func (c *Client) CallBatch(ctx context.Context, calls []BatchCall) error {
	if len(calls) == 0 {
		return nil
	}
	c.mu.Lock()
	first := c.nextID + 1
	c.nextID += uint64(len(calls))
	c.mu.Unlock()
	var body bytes.Buffer
	body.WriteByte('[')
	for i := range calls {
		req := struct {
			JSONRPC string `json:"jsonrpc"`
			ID      uint64 `json:"id"`
			Method  string `json:"method"`
			Params  any    `json:"params,omitempty"`
		}{"2.0", first + uint64(i), calls[i].Method, calls[i].Params}
		b, err := json.Marshal(req)
		if err != nil {
			return fmt.Errorf("rpc: batch: %s: encode params: %w", calls[i].Method, err)
		}
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(b)
	}
	body.WriteByte(']')

	var msgs []clientMessage
	var err error
	if c.ws == nil {
		msgs, err = c.batchHTTP(ctx, body.Bytes())
	} else {
		msgs, err = c.batchWS(ctx, first, len(calls), body.Bytes())
	}
	if err != nil {
		return err
	}
	for i := range calls {
		calls[i].Err = errNoAnswer
	}
	for _, m := range msgs {
		id, err := strconv.ParseUint(string(m.ID), 10, 64)
		if err != nil || id < first || id >= first+uint64(len(calls)) {
			if m.Error != nil && len(msgs) == 1 {
				return m.Error // the message as a whole was refused
			}
			continue
		}
		call := &calls[id-first]
		switch {
		case m.Error != nil:
			call.Err = m.Error
		case call.Result == nil:
			call.Err = nil
		default:
			call.Err = nil
			if err := json.Unmarshal(m.Result, call.Result); err != nil {
				call.Err = fmt.Errorf("rpc: %s: decode result: %w", call.Method, err)
			}
		}
	}
	return nil
}

// batchWS sends a batch over the websocket and collects the answers to ids
// first..first+n-1. A refusal of the whole message (an error response with
// a null id) ends the wait with that one message.
func (c *Client) batchWS(ctx context.Context, first uint64, n int, body []byte) ([]clientMessage, error) {
	replies := make(chan callReply, n)
	pb := &pendingBatch{replies: replies}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	for i := range n {
		c.pending[first+uint64(i)] = &pendingCall{reply: replies, batch: pb}
	}
	c.batches[pb] = struct{}{}
	c.mu.Unlock()
	drop := func() {
		c.mu.Lock()
		for i := range n {
			delete(c.pending, first+uint64(i))
		}
		delete(c.batches, pb)
		c.mu.Unlock()
	}
	defer drop()
	if err := c.write(ctx, body); err != nil {
		return nil, fmt.Errorf("rpc: batch: %w", err)
	}
	msgs := make([]clientMessage, 0, n)
	for len(msgs) < n {
		select {
		case r := <-replies:
			if r.err != nil {
				return nil, r.err
			}
			if r.refused {
				return []clientMessage{r.msg}, nil
			}
			msgs = append(msgs, r.msg)
		case <-ctx.Done():
			return nil, fmt.Errorf("rpc: batch: %w", ctx.Err())
		}
	}
	return msgs, nil
}

// pendingBatch marks the calls of one batch, so that a refusal of a whole
// message reaches the batches waiting.
type pendingBatch struct {
	replies chan callReply
}

func (c *Client) batchHTTP(ctx context.Context, body []byte) ([]clientMessage, error) {
	data, status, err := c.post(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("rpc: batch: %w", err)
	}
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) > 0 && data[0] == '{' {
		var m clientMessage
		if json.Unmarshal(data, &m) != nil || m.Error == nil {
			return nil, fmt.Errorf("rpc: batch: HTTP %s: not a JSON-RPC response", status)
		}
		return []clientMessage{m}, nil
	}
	var msgs []clientMessage
	if err := json.Unmarshal(data, &msgs); err != nil {
		return nil, fmt.Errorf("rpc: batch: HTTP %s: not a JSON-RPC batch response", status)
	}
	return msgs, nil
}

// SubmitTxs submits raws in one batch of chain_submitTx and returns, for
// each, its hash or why the node refused it (an *Error). The error is for
// the batch as a whole.
func (c *Client) SubmitTxs(ctx context.Context, raws [][]byte) ([]chain.Hash, []error, error) {
	calls := make([]BatchCall, len(raws))
	results := make([]SubmitTxResult, len(raws))
	for i, raw := range raws {
		calls[i] = BatchCall{Method: MethodSubmitTx, Params: SubmitTxParams{Tx: raw}, Result: &results[i]}
	}
	if err := c.CallBatch(ctx, calls); err != nil {
		return nil, nil, err
	}
	hashes := make([]chain.Hash, len(raws))
	errs := make([]error, len(raws))
	for i := range calls {
		hashes[i], errs[i] = results[i].Hash, calls[i].Err
	}
	return hashes, errs, nil
}
