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
	// RequestTimeout bounds each Backend call of a request.
	RequestTimeout time.Duration
}

// withDefaults returns c with every zero or negative field set to its
// default.
func (c Config) withDefaults() Config {
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxSubscriptionsPerConn <= 0 {
		c.MaxSubscriptionsPerConn = DefaultMaxSubscriptionsPerConn
	}
	if c.SubscriberBuffer <= 0 {
		c.SubscriberBuffer = DefaultSubscriberBuffer
	}
	if c.MaxBatchItems <= 0 {
		c.MaxBatchItems = DefaultMaxBatchItems
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = DefaultPongTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	return c
}
