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
// Backend; rpc imports neither node, consensus nor staking. Beyond SPEC.md,
// net_getFaults (MethodGetFaults, faults.go) lists the faults a test
// network injected into the node.
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
//	-32012 forbidden origin     a browser Origin not allowed (HTTP 403)
//	-32013 busy                 MaxHTTPRequests POSTs in progress (HTTP 503)
//	-32014 rate limited         the connection's token bucket is empty
//	-32015 response too large   over MaxResponseBytes (a batch: in total)
//	-32016 timeout              not answered within RequestTimeout
//
// Each refusal of a defence (-32005, -32007, -32008, -32012 to -32016, a
// batch over MaxBatchItems, a lagged or budget-ended subscription) is
// counted in quorumchain_rpc_refusals_total{reason}.
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
// # Browser origins
//
// A browser sends Origin with every websocket handshake and cross-site
// POST. The server serves requests without Origin (programs), the node's
// own origin (Origin host equal to Host) and Config.AllowedOrigins, and
// refuses any other with HTTP 403 and -32012, before the upgrade or the
// call. Allowed cross-site POSTs get CORS headers; OPTIONS / answers
// their preflight.
//
// # Limits
//
// Config holds the enforced limits with named defaults: message size,
// connections, subscriptions per connection, subscriber queue, batch size,
// ping interval and pong timeout (dead connections are closed), write
// timeout, and:
//
//   - Time: a message (a request or a batch) has RequestTimeout. Its calls
//     run in order and share it; when it runs out the answer is sent at
//     once, with -32016 for every call not answered, and the running call
//     is cancelled (go-ethereum's handler answers timed-out batches so).
//   - Bytes: a message's answer has MaxResponseBytes. Results are encoded
//     into that budget, long lists element by element, so an oversized
//     result is never built whole; it becomes -32015, and so do the later
//     calls of its batch, which are not run.
//   - Concurrency: HTTP POSTs are served MaxHTTPRequests at once (more get
//     HTTP 503 and -32013). Each websocket message is served on its own
//     goroutine, at most MaxInflightPerConn per connection; the read loop
//     waits for a slot before it reads on, so pongs are read and other
//     requests answered while slow calls run, and a client that floods
//     one connection is slowed by TCP rather than queued in memory.
//   - Rate: every connection (a websocket, or the TCP connection of HTTP
//     requests) has a token bucket of RequestBurst tokens refilled at
//     RequestsPerSecond; each request of a message takes one, and one that
//     finds none gets -32014.
//   - Replay: a chain_subscribe with fromHeight reads at most
//     MaxReplayHeights stored heights and MaxReplayTxEvents transaction
//     events (checked between blocks) before it is live. A replay that
//     reaches either first ends with {"lagged": true, "resumeFromHeight":
//     H, "reason": "replay_budget"}; subscribing again from H goes on. A
//     filter that matches nothing therefore costs at most that much per
//     request, and each replayed event is written before the next is read,
//     at the pace the client reads.
package rpc
