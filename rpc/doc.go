// Package rpc is quorumchain's JSON-RPC 2.0 interface: a server over
// websocket (/ws, with subscriptions) and HTTP POST (/), GET /health and
// GET /metrics on one port; a Hub that fans the node's events out to
// subscriptions; and a Go Client.
//
// # Contract
//
// Methods, params and results are SPEC.md's (see params.go and types.go;
// MethodStatus and friends name them). Amounts and stakes are decimal
// strings, hashes and addresses 0x lowercase hex, heights JSON numbers.
// Params are one object (or an array holding it); unknown fields are
// refused. Batches are accepted on both transports. The node implements
// Backend; rpc imports neither node, consensus nor staking.
//
// # Errors
//
// Every bad request gets a JSON-RPC error object with a stable code and
// never affects another connection:
//
//	-32700 parse error          message is not JSON
//	-32600 invalid request      not a JSON-RPC 2.0 request; empty or oversized batch
//	-32601 method not found     also chain_subscribe/unsubscribe over HTTP
//	-32602 invalid params       missing, malformed or unknown fields; bad filter
//	-32603 internal error       the node failed
//	-32000 not found            block, tx, validator set, subscription      ErrNotFound
//	-32001 invalid tx/signature malformed or badly signed                   ErrInvalidTx, ErrInvalidSignature
//	-32002 wrong chain id                                                   ErrWrongChain
//	-32003 bad nonce            or already known (replayed)                 ErrBadNonce
//	-32004 mempool full                                                     ErrMempoolFull
//	-32005 too many subscriptions on this connection
//	-32006 unknown topic
//	-32007 message too large    (websocket: then closed with 1009)
//	-32008 too many connections (HTTP 503 at the websocket upgrade)
//	-32009 duty not found       consensus_submitSigned                      ErrDutyNotFound
//	-32010 insufficient funds                                               ErrInsufficientBalance
//	-32011 unavailable          e.g. no remote signer for that validator    ErrUnavailable
//
// # Subscriptions and delivery
//
// chain_subscribe {topic, filter?, fromHeight?} returns a subscription id
// (0x + 32 hex digits); results arrive as chain_subscription notifications
// and never before the id: a subscription's events queue until its
// response has been written (go-ethereum's Notifier.activate).
//
// Publish never blocks. Each subscription has a queue of
// Config.SubscriberBuffer events; a publish that finds it full cuts the
// subscription off: it still gets what it had queued, then one
// {"lagged": true, "resumeFromHeight": H} result, and is unsubscribed. H is
// the height of the first event it did not get; resubscribing with
// fromHeight H continues without a gap (for txs the events of block H that
// it did get come again).
//
// fromHeight (finalized and txs) replays stored events, then continues
// live with no gap and no duplicate. The subscription catches up from the
// Backend, registers with the Hub (events queue from then on), replays
// again up to Backend.LatestHeight, and then drains its queue skipping
// heights already sent. This is exact because the node publishes a
// height's events only after the Backend serves them (see Backend). For
// txs, replay sends the final and rejected transactions of every block
// from fromHeight on that match the filter; pending ones are live only.
//
// # Limits
//
// Config holds the enforced limits with named defaults: message size,
// connections, subscriptions per connection, subscriber queue, batch size,
// ping interval and pong timeout (dead connections are closed), write and
// request timeouts.
package rpc
