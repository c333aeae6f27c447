package p2p

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"time"

	"github.com/quorumchain/quorumchain/chain"
)

// ProtocolVersion is the version of this wire protocol; peers must match.
// Version 2 runs over mutually authenticated TLS 1.3 (see the package
// comment); version 1 spoke plain websocket with a signed nonce.
const ProtocolVersion = 2

// Path is the HTTP path of the websocket endpoint.
const Path = "/p2p"

// Connection timing. pingPeriod < pongWait: a peer that answers neither
// messages nor pings for pongWait is dead.
const (
	writeWait   = 10 * time.Second // one message, up to MaxMessageBytes
	pongWait    = 30 * time.Second // silence before a peer is dead
	pingPeriod  = 10 * time.Second
	goodbyeWait = time.Second // to send a Disconnect before closing
)

// Reconnect backoff of a persistent peer: doubles from dialBackoffMin to
// dialBackoffMax, with jitter; reset after a connection lasted dialBackoffMax.
const (
	dialBackoffMin = 100 * time.Millisecond
	dialBackoffMax = 5 * time.Second
)

// handshakeReadLimit bounds each frame before the peer is authenticated.
const handshakeReadLimit = 4 << 10

// Websocket buffer sizes: large enough to write a vote or transaction in
// one frame; larger messages are fragmented.
const (
	readBufferBytes  = 64 << 10
	writeBufferBytes = 64 << 10
)

// Defaults of Config fields left zero.
const (
	DefaultSendQueue       = 4096
	DefaultSendQueueBytes  = 16 << 20
	DefaultSendFullTimeout = 30 * time.Second
	DefaultKnownMessages   = 16384
	DefaultSeenMessages    = 65536
	DefaultMaxInboundPeers = 64
	// DefaultMaxConnsPerIP bounds open inbound connections from one
	// remote IP address.
	DefaultMaxConnsPerIP = 4
	// DefaultMaxHandshakes bounds inbound connections that have not
	// finished their handshake.
	DefaultMaxHandshakes = 16
	// DefaultHandshakeTimeout bounds a handshake: TCP accept or dial, TLS,
	// websocket upgrade, Hello and Auth.
	DefaultHandshakeTimeout = 5 * time.Second
)

// Config configures a Switch. Zero values of optional fields take defaults.
type Config struct {
	ChainID     string
	GenesisHash chain.Hash
	NodeKey     *ecdsa.PrivateKey // identity; see LoadOrCreateNodeKey

	// ListenAddr is the "host:port" to accept peers on; port 0 picks one
	// (see Switch.ListenAddr). Empty: do not listen, only dial.
	ListenAddr string
	// ExternalAddr is the address announced in Hello; default the actual
	// listen address.
	ExternalAddr string
	// PersistentPeers are "host:port" addresses dialed and redialed forever.
	PersistentPeers []string

	// MaxMessageBytes bounds one received message; default and ceiling
	// MaxMessageBytes.
	MaxMessageBytes int64
	// SendQueue bounds each peer's queue of outgoing messages; a message
	// that does not fit is dropped and counted. Default DefaultSendQueue.
	SendQueue int
	// SendQueueBytes bounds the encoded bytes in each peer's send queue;
	// a message that does not fit is dropped and counted. At least
	// MaxMessageBytes, so that any message fits an empty queue. Default
	// DefaultSendQueueBytes.
	SendQueueBytes int
	// SendFullTimeout is how long a peer's send queue may keep refusing
	// messages, without draining to half of SendQueueBytes, before the peer
	// is disconnected as not reading (not banned: it may just be slow).
	// Default DefaultSendFullTimeout.
	SendFullTimeout time.Duration
	// Budgets are each peer's token buckets per message class; a message
	// over budget is dropped and costs the peer PenaltyBudget. Zero fields
	// take DefaultBudgets.
	Budgets Budgets
	// BanThreshold is how far a peer's score may fall (see Severity)
	// before it is disconnected and banned. Default DefaultBanThreshold.
	BanThreshold int
	// BanDuration is how long a ban lasts. Default DefaultBanDuration.
	BanDuration time.Duration
	// KnownMessages bounds each peer's set of known message hashes.
	// Default DefaultKnownMessages.
	KnownMessages int
	// SeenMessages bounds the Switch-wide set of gossip messages (tx,
	// proposal, vote, evidence) already received or broadcast, which keeps
	// duplicates and echoes of our own messages from the Handler. Default
	// DefaultSeenMessages.
	SeenMessages int
	// MaxInboundPeers bounds accepted connections (handshaking or
	// connected). Default DefaultMaxInboundPeers.
	MaxInboundPeers int
	// MaxConnsPerIP bounds open inbound connections from one remote IP
	// address, handshaking or connected. Loopback addresses are not
	// counted unless LimitLoopback is set: a local testnet runs all its
	// nodes on 127.0.0.1. Default DefaultMaxConnsPerIP.
	MaxConnsPerIP int
	// LimitLoopback applies MaxConnsPerIP to loopback addresses too.
	LimitLoopback bool
	// MaxHandshakes bounds inbound connections accepted but not yet
	// through the handshake; more are closed at once. Default
	// DefaultMaxHandshakes.
	MaxHandshakes int
	// HandshakeTimeout bounds each connection's handshake; an inbound
	// connection still handshaking that long after it was accepted is
	// closed. Default DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// Faults gives the Switch a FaultLayer (Switch.Faults), which injects
	// partitions, delays and drops into its peer links: for test networks
	// only. Off, there is no layer and no cost.
	Faults bool
	// FaultSeed seeds the fault layer's random drops and jitter.
	FaultSeed uint64
	// FaultDelayBytes bounds, per peer, the queued bytes while messages
	// are held back by a delay; a delayed message that does not fit is
	// dropped. Default DefaultFaultDelayBytes.
	FaultDelayBytes int
}

func (c *Config) applyDefaults() error {
	switch {
	case c.NodeKey == nil:
		return errors.New("p2p: config: no node key")
	case len(c.ChainID) == 0 || len(c.ChainID) > chain.MaxChainIDLength:
		return fmt.Errorf("p2p: config: chain id %q: length must be 1..%d", c.ChainID, chain.MaxChainIDLength)
	case c.MaxMessageBytes < 0 || c.MaxMessageBytes > MaxMessageBytes:
		return fmt.Errorf("p2p: config: max message bytes %d above the protocol limit %d", c.MaxMessageBytes, MaxMessageBytes)
	case c.SendQueue < 0 || c.SendQueueBytes < 0 || c.SendFullTimeout < 0 || c.BanThreshold < 0 || c.BanDuration < 0 ||
		c.KnownMessages < 0 || c.SeenMessages < 0 || c.MaxInboundPeers < 0 ||
		c.MaxConnsPerIP < 0 || c.MaxHandshakes < 0 || c.HandshakeTimeout < 0 || c.FaultDelayBytes < 0:
		return errors.New("p2p: config: negative limit")
	case len(c.ExternalAddr) > maxListenAddrBytes:
		return fmt.Errorf("p2p: config: external address longer than %d bytes", maxListenAddrBytes)
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = MaxMessageBytes
	}
	if c.SendQueue == 0 {
		c.SendQueue = DefaultSendQueue
	}
	if c.SendQueueBytes == 0 {
		c.SendQueueBytes = max(DefaultSendQueueBytes, int(c.MaxMessageBytes))
	}
	if c.SendQueueBytes < int(c.MaxMessageBytes) {
		return fmt.Errorf("p2p: config: send queue bytes %d below max message bytes %d", c.SendQueueBytes, c.MaxMessageBytes)
	}
	if c.SendFullTimeout == 0 {
		c.SendFullTimeout = DefaultSendFullTimeout
	}
	if err := c.Budgets.applyDefaults(); err != nil {
		return err
	}
	if c.BanThreshold == 0 {
		c.BanThreshold = DefaultBanThreshold
	}
	if c.BanDuration == 0 {
		c.BanDuration = DefaultBanDuration
	}
	if c.KnownMessages == 0 {
		c.KnownMessages = DefaultKnownMessages
	}
	if c.SeenMessages == 0 {
		c.SeenMessages = DefaultSeenMessages
	}
	if c.MaxInboundPeers == 0 {
		c.MaxInboundPeers = DefaultMaxInboundPeers
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if c.MaxHandshakes == 0 {
		c.MaxHandshakes = DefaultMaxHandshakes
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.FaultDelayBytes == 0 {
		c.FaultDelayBytes = DefaultFaultDelayBytes
	}
	return nil
}

// ErrBusy is what a Handler's Receive returns (wrapped) when it could not
// take a message for want of room, through no fault of the peer: the
// Switch does not mark such a gossip message seen, so an honest copy
// arriving later from another peer is still delivered.
var ErrBusy = errors.New("busy")

// Handler receives what the Switch reads from peers. See the package
// comment for when each method is called.
type Handler interface {
	// Receive handles a message from a connected peer. It must not block
	// long. A gossip message (tx, proposal, vote, evidence) is passed on
	// once per Switch: later copies from other peers, and our own broadcasts
	// coming back, are dropped (see Config.SeenMessages) — unless Receive
	// returned an error wrapping ErrBusy, which says the message was not
	// taken (a full queue) and lets a later copy through. An error wrapping
	// ErrInvalidPeerData disconnects and bans the peer (PenaltyFatal); any
	// other error is logged at debug level.
	Receive(from NodeID, msg Message) error
	// PeerConnected reports a peer after its handshake, before its first
	// Receive.
	PeerConnected(p PeerInfo)
	// PeerDisconnected reports that a connected peer is gone, after its
	// last Receive.
	PeerDisconnected(id NodeID)
}

// PeerInfo describes a connected peer.
type PeerInfo struct {
	ID          NodeID
	Addr        string // remote address: the dialed "host:port", or the inbound remote address
	ListenAddr  string // address the peer announced in its Hello; may be empty
	Outbound    bool   // we dialed it
	ConnectedAt time.Time
}

// Stats are the Switch's counters since Run started.
type Stats struct {
	Peers, Inbound, Outbound int

	MessagesSent, MessagesReceived uint64
	BytesSent, BytesReceived       uint64

	// SendDropped counts messages dropped because a peer's send queue was
	// full (in messages or in bytes); a fault layer counts its own drops
	// (FaultLayer.Stats).
	SendDropped uint64
	// SendQueueFullDisconnects counts peers disconnected because their
	// send queue stayed full for Config.SendFullTimeout.
	SendQueueFullDisconnects uint64
	// SendQueuedBytes is what the peers' send queues hold now.
	SendQueuedBytes int
	// BudgetDropped counts received messages dropped for exceeding their
	// class's budget.
	BudgetDropped uint64
	// Penalties counts penalties given to peers; Bans the bans imposed;
	// BannedRefused the connections refused because of a ban.
	Penalties, Bans, BannedRefused uint64
	// DeliveryRefused counts received messages the Handler refused with
	// ErrBusy (not marked seen, so another copy may be delivered).
	DeliveryRefused uint64
	// KnownSkipped counts Broadcast deliveries skipped because the peer
	// already had the message.
	KnownSkipped uint64
	// DuplicatesDropped counts gossip messages received again (from another
	// peer, or our own coming back) and not passed to the Handler.
	DuplicatesDropped uint64
	// InvalidPeerData counts peers disconnected for bad data.
	InvalidPeerData uint64
	// HandshakeFailures counts connections that failed or were refused
	// during the handshake (TLS, websocket upgrade, Hello or Auth).
	HandshakeFailures uint64
	// ConnsRefused counts inbound connections closed at accept: too many
	// from one IP, too many handshakes in flight, or no inbound slot.
	ConnsRefused uint64
	// DialFailures counts persistent-peer dials that could not connect.
	DialFailures uint64
}
