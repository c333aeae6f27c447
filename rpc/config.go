package rpc

import "time"

// Defaults of Config. Each limit is enforced; see Config.
const (
	DefaultMaxMessageBytes         = 1 << 20 // 1 MiB per request message or HTTP body
	DefaultMaxConnections          = 1024
	DefaultMaxSubscriptionsPerConn = 64
	DefaultSubscriberBuffer        = 1024 // events queued per subscription before it is cut off as lagged
	DefaultMaxBatchItems           = 100
	DefaultPingInterval            = 20 * time.Second
	DefaultPongTimeout             = 20 * time.Second
	DefaultWriteTimeout            = 10 * time.Second
	DefaultRequestTimeout          = 30 * time.Second
	// DefaultMaxResponseBytes fits chain_getBlock of a block of 10,000
	// transactions (about 3 MB) with room to spare.
	DefaultMaxResponseBytes   = 8 << 20
	DefaultMaxHTTPRequests    = 64
	DefaultMaxInflightPerConn = 16
	// DefaultRequestsPerSecond and DefaultRequestBurst: a token bucket per
	// connection, well above what one client of the CLI or of `quorumchain
	// bench` (16 connections) sends, far below what one connection could
	// otherwise take of two cores.
	DefaultRequestsPerSecond = 2000
	DefaultRequestBurst      = 2000
	DefaultMaxReplayHeights  = 10_000
	DefaultMaxReplayTxEvents = 200_000
)

// Fixed limits of the HTTP server and of replay.
const (
	httpReadHeaderTimeout = 10 * time.Second
	httpIdleTimeout       = 120 * time.Second
	// replayPageHeights bounds the finalized events fetched from the
	// Backend in one call while replaying.
	replayPageHeights = 256
	// shutdownCloseTimeout bounds the close frame sent to each websocket
	// when the server stops.
	shutdownCloseTimeout = time.Second
	// corsMaxAge is how long a browser may cache a preflight answer.
	corsMaxAge = "600"
)

// Config holds the server's limits. A zero field takes its Default value.
type Config struct {
	// MaxMessageBytes bounds one websocket message and one HTTP body. A
	// larger websocket message gets a -32007 error and its connection is
	// closed with status 1009 (message too big); a larger HTTP body gets
	// HTTP 413 with a -32007 error.
	MaxMessageBytes int64
	// MaxConnections bounds the open websockets; more are refused at the
	// upgrade with HTTP 503 and a -32008 error body.
	MaxConnections int
	// MaxSubscriptionsPerConn bounds the live subscriptions of one
	// websocket; chain_subscribe beyond it fails with -32005.
	MaxSubscriptionsPerConn int
	// SubscriberBuffer bounds the events queued for one subscription. When
	// a publish finds the queue full, the subscription gets one lagged
	// result and is unsubscribed. Used by NewHub.
	SubscriberBuffer int
	// MaxBatchItems bounds the requests of a batch (-32600 beyond it).
	MaxBatchItems int
	// PingInterval is how often the server pings each websocket.
	PingInterval time.Duration
	// PongTimeout is how long after a ping interval without any frame from
	// the client (a pong or a message) the connection is closed as dead.
	PongTimeout time.Duration
	// WriteTimeout bounds each websocket write; a client that does not
	// read for that long is disconnected.
	WriteTimeout time.Duration
	// RequestTimeout is the time budget of one message (a request or a
	// whole batch): its calls share it, and when it runs out the calls not
	// answered yet get -32016 and the answer is sent.
	RequestTimeout time.Duration

	// AllowedOrigins lists the browser origins ("https://app.example",
	// "http://localhost:3000") that may open a websocket or POST a request
	// besides the node's own (an Origin whose host is the request's Host).
	// "*" allows every origin. Requests without an Origin header (the CLI,
	// scripts, other non-browser clients) are always served. Any other
	// origin is refused with HTTP 403 and a -32012 error. See CheckOrigins.
	AllowedOrigins []string
	// MaxHTTPRequests bounds the HTTP POSTs served at once; more are
	// refused with HTTP 503 and a -32013 error.
	MaxHTTPRequests int
	// MaxResponseBytes bounds the answer to one message: one response, or
	// the responses of a batch together. A result that would not fit is
	// replaced by a -32015 error (it is never encoded past the budget),
	// and the later calls of its batch are not run and get -32015 too.
	MaxResponseBytes int64
	// MaxInflightPerConn bounds the messages of one websocket served at
	// once; the read loop waits for one of them to finish before reading
	// more (backpressure, no error).
	MaxInflightPerConn int
	// RequestsPerSecond and RequestBurst are a token bucket per connection
	// (websocket, or the TCP connection of HTTP requests): each request of
	// a message takes a token, and one that finds none gets -32014.
	RequestsPerSecond float64
	RequestBurst      int
	// MaxReplayHeights and MaxReplayTxEvents bound the stored heights, and
	// the transaction events, one chain_subscribe with fromHeight scans.
	// A replay that reaches either before the latest height ends the
	// subscription with {"lagged": true, "resumeFromHeight": H, "reason":
	// "replay_budget"}: subscribe again from H to go on.
	MaxReplayHeights  uint64
	MaxReplayTxEvents int
}

// withDefaults returns c with every zero or negative field set to its
// default.
func (c Config) withDefaults() Config {
	setDefault(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	setDefault(&c.MaxConnections, DefaultMaxConnections)
	setDefault(&c.MaxSubscriptionsPerConn, DefaultMaxSubscriptionsPerConn)
	setDefault(&c.SubscriberBuffer, DefaultSubscriberBuffer)
	setDefault(&c.MaxBatchItems, DefaultMaxBatchItems)
	setDefault(&c.PingInterval, DefaultPingInterval)
	setDefault(&c.PongTimeout, DefaultPongTimeout)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.RequestTimeout, DefaultRequestTimeout)
	setDefault(&c.MaxHTTPRequests, DefaultMaxHTTPRequests)
	setDefault(&c.MaxResponseBytes, DefaultMaxResponseBytes)
	setDefault(&c.MaxInflightPerConn, DefaultMaxInflightPerConn)
	setDefault(&c.RequestsPerSecond, DefaultRequestsPerSecond)
	setDefault(&c.RequestBurst, DefaultRequestBurst)
	setDefault(&c.MaxReplayHeights, DefaultMaxReplayHeights)
	setDefault(&c.MaxReplayTxEvents, DefaultMaxReplayTxEvents)
	return c
}

// setDefault sets *v to def when it is zero or negative.
func setDefault[T int | int64 | uint64 | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
