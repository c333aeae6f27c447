package node

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/quorumchain/quorumchain/consensus"
	"github.com/quorumchain/quorumchain/internal/fsutil"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/rpc"
)

// Duration is a time.Duration written in TOML as a Go duration string ("250ms").
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", b)
	}
	*d = Duration(v)
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Config is config/config.toml.
type Config struct {
	Moniker   string          `toml:"moniker"`
	P2P       P2PConfig       `toml:"p2p"`
	RPC       RPCConfig       `toml:"rpc"`
	Consensus ConsensusConfig `toml:"consensus"`
	Mempool   MempoolConfig   `toml:"mempool"`
	DB        DBConfig        `toml:"db"`
	Log       LogConfig       `toml:"log"`
	Signer    SignerConfig    `toml:"signer"`
}

// P2PConfig configures the peer transport.
type P2PConfig struct {
	ListenAddr      string   `toml:"listen_addr"`
	PersistentPeers []string `toml:"persistent_peers"`
	MaxMessageBytes int      `toml:"max_message_bytes"`
	SendQueue       int      `toml:"send_queue"`
	// MaxConnsPerIP bounds inbound connections from one non-loopback IP;
	// MaxHandshakes bounds inbound connections still handshaking, each
	// allowed HandshakeTimeout.
	MaxConnsPerIP    int      `toml:"max_conns_per_ip"`
	MaxHandshakes    int      `toml:"max_handshakes"`
	HandshakeTimeout Duration `toml:"handshake_timeout"`
	// SendQueueBytes bounds each peer's send queue in bytes (at least
	// max_message_bytes); SendFullTimeout disconnects a peer whose queue
	// stays full that long.
	SendQueueBytes  int      `toml:"send_queue_bytes"`
	SendFullTimeout Duration `toml:"send_full_timeout"`
	// BanThreshold is how far a peer's score may fall before it is banned
	// for BanDuration (see package p2p).
	BanThreshold int      `toml:"ban_threshold"`
	BanDuration  Duration `toml:"ban_duration"`
	// Budgets are each peer's allowance per message class.
	Budgets P2PBudgets `toml:"budgets"`
	// TestnetFaults enables, for test networks only, the p2p fault layer
	// (partitions, delays, drops) and the runtime Byzantine switch, both
	// steered through the admin endpoint on TestnetAdminAddr, a loopback
	// "host:port", whose requests must carry the hex token held in
	// TestnetAdminTokenFile. Off (the default), neither exists.
	TestnetFaults         bool   `toml:"testnet_faults"`
	TestnetAdminAddr      string `toml:"testnet_admin_addr"`
	TestnetAdminTokenFile string `toml:"testnet_admin_token_file"`
}

// P2PBudgets is [p2p.budgets]: one token-bucket pair per message class.
type P2PBudgets struct {
	Tx        P2PBudget `toml:"tx"`
	Consensus P2PBudget `toml:"consensus"` // proposals and votes
	Evidence  P2PBudget `toml:"evidence"`
	Status    P2PBudget `toml:"status"` // Status and RoundStatus
	Sync      P2PBudget `toml:"sync"`   // block requests and responses
}

// P2PBudget is one class's allowance per peer, in messages and in bytes.
type P2PBudget struct {
	MessagesPerSecond float64 `toml:"messages_per_second"`
	MessageBurst      int     `toml:"message_burst"`
	BytesPerSecond    float64 `toml:"bytes_per_second"`
	ByteBurst         int     `toml:"byte_burst"`
}

func budgetFromP2P(b p2p.Budget) P2PBudget {
	return P2PBudget{MessagesPerSecond: b.MessagesPerSecond, MessageBurst: b.MessageBurst, BytesPerSecond: b.BytesPerSecond, ByteBurst: b.ByteBurst}
}

func (b P2PBudget) p2p() p2p.Budget {
	return p2p.Budget{MessagesPerSecond: b.MessagesPerSecond, MessageBurst: b.MessageBurst, BytesPerSecond: b.BytesPerSecond, ByteBurst: b.ByteBurst}
}

func defaultP2PBudgets() P2PBudgets {
	d := p2p.DefaultBudgets()
	return P2PBudgets{Tx: budgetFromP2P(d.Tx), Consensus: budgetFromP2P(d.Consensus), Evidence: budgetFromP2P(d.Evidence),
		Status: budgetFromP2P(d.Status), Sync: budgetFromP2P(d.Sync)}
}

func (b P2PBudgets) p2p() p2p.Budgets {
	return p2p.Budgets{Tx: b.Tx.p2p(), Consensus: b.Consensus.p2p(), Evidence: b.Evidence.p2p(), Status: b.Status.p2p(), Sync: b.Sync.p2p()}
}

func (b P2PBudgets) named() map[string]P2PBudget {
	return map[string]P2PBudget{"tx": b.Tx, "consensus": b.Consensus, "evidence": b.Evidence, "status": b.Status, "sync": b.Sync}
}

// RPCConfig configures the JSON-RPC server.
type RPCConfig struct {
	ListenAddr              string   `toml:"listen_addr"`
	MaxConnections          int      `toml:"max_connections"`
	MaxSubscriptionsPerConn int      `toml:"max_subscriptions_per_conn"`
	MaxMessageBytes         int64    `toml:"max_message_bytes"`
	SubscriberBuffer        int      `toml:"subscriber_buffer"`
	PingInterval            Duration `toml:"ping_interval"`
	// AllowedOrigins lists the browser origins ("https://app.example")
	// that may use the RPC besides the node's own; "*" allows any. Clients
	// that send no Origin (the CLI, scripts) are always served.
	AllowedOrigins []string `toml:"allowed_origins"`
	// RequestTimeout is the time budget of one message (a request or a
	// batch).
	RequestTimeout Duration `toml:"request_timeout"`
	// MaxResponseBytes bounds the answer to one message (a batch: all its
	// responses together).
	MaxResponseBytes int64 `toml:"max_response_bytes"`
	// MaxHTTPRequests bounds the HTTP POSTs served at once.
	MaxHTTPRequests int `toml:"max_http_requests"`
	// MaxInflightPerConn bounds the messages of one websocket served at once.
	MaxInflightPerConn int `toml:"max_inflight_per_conn"`
	// RequestsPerSecond and RequestBurst are each connection's token bucket.
	RequestsPerSecond float64 `toml:"requests_per_second"`
	RequestBurst      int     `toml:"request_burst"`
	// MaxReplayHeights and MaxReplayTxEvents bound what one chain_subscribe
	// with fromHeight reads before it goes live.
	MaxReplayHeights  int64 `toml:"max_replay_heights"`
	MaxReplayTxEvents int   `toml:"max_replay_tx_events"`
	// PprofListenAddr, when set, serves net/http/pprof there (profiling).
	PprofListenAddr string `toml:"pprof_listen_addr"`
	// TLSCertFile and TLSKeyFile, both set, serve the RPC over TLS
	// (https:// and wss://) with this PEM certificate and key. Relative
	// paths are under the home's config/ directory.
	TLSCertFile string `toml:"tls_cert_file"`
	TLSKeyFile  string `toml:"tls_key_file"`
}

// ConsensusConfig holds the consensus timeouts and block pacing.
type ConsensusConfig struct {
	TimeoutPropose        Duration `toml:"timeout_propose"`
	TimeoutProposeDelta   Duration `toml:"timeout_propose_delta"`
	TimeoutPrevote        Duration `toml:"timeout_prevote"`
	TimeoutPrevoteDelta   Duration `toml:"timeout_prevote_delta"`
	TimeoutPrecommit      Duration `toml:"timeout_precommit"`
	TimeoutPrecommitDelta Duration `toml:"timeout_precommit_delta"`
	// BlockInterval is the least time between consecutive blocks, unless
	// BatchTxs transactions wait: a lightly loaded chain then makes fewer,
	// fuller blocks, and a loaded one is not slowed.
	BlockInterval Duration `toml:"block_interval"`
	// BatchTxs is how many waiting transactions end the block interval
	// early (zero: never).
	BatchTxs int `toml:"batch_txs"`
	// SkipEmptyBlocks makes proposers wait for transactions, but no longer
	// than EmptyBlockInterval.
	SkipEmptyBlocks    bool     `toml:"skip_empty_blocks"`
	EmptyBlockInterval Duration `toml:"empty_block_interval"`
	// MaxBlockTxs bounds the transactions a proposer puts in a block.
	MaxBlockTxs int `toml:"max_block_txs"`
}

// MempoolConfig bounds the mempool.
type MempoolConfig struct {
	Size         int `toml:"size"`
	MaxPerSender int `toml:"max_per_sender"`
	// MaxNonceGap bounds how far ahead of the account nonce a pending
	// transaction's nonce may be.
	MaxNonceGap int `toml:"max_nonce_gap"`
	// GapExpiryBlocks is how many blocks a transaction may wait behind a
	// nonce gap before it is evicted.
	GapExpiryBlocks int `toml:"gap_expiry_blocks"`
}

// DBConfig selects the storage backend.
type DBConfig struct {
	Backend string `toml:"backend"` // goleveldb or pebbledb
}

// LogConfig configures structured logging.
type LogConfig struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// SignerConfig selects how the validator signs.
type SignerConfig struct {
	// Mode is "local" (key in keys/validator.json) or "remote" (signatures
	// come from `quorumchain vote` through the RPC).
	Mode string `toml:"mode"`
	// Address is the validator address of a remote signer.
	Address string `toml:"address"`
	// PasswordFile unlocks keys/validator.json; QUORUMCHAIN_PASSWORD otherwise.
	PasswordFile string `toml:"password_file"`
	// TestnetDoublePropose makes this validator a Byzantine double
	// proposer, for test networks only: after each of its proposals it
	// broadcasts a second one for another block, which its local signer
	// otherwise refuses to sign. Honest validators turn the pair into
	// evidence, and the chain slashes and jails it. Local signer only.
	TestnetDoublePropose bool `toml:"testnet_double_propose"`
	// TestnetByzantine lets the admin endpoint (p2p.testnet_faults) switch
	// this validator into a Byzantine mode at run time: equivocate,
	// double-propose, nil-votes, silent, or back to off. For test networks
	// only; local signer only.
	TestnetByzantine bool `toml:"testnet_byzantine"`
}

// DefaultConfig is a configuration for one node on a local network.
func DefaultConfig() Config {
	return Config{
		Moniker: "node",
		P2P: P2PConfig{ListenAddr: "127.0.0.1:26656", MaxMessageBytes: 10 << 20, SendQueue: 4096,
			MaxConnsPerIP: p2p.DefaultMaxConnsPerIP, MaxHandshakes: p2p.DefaultMaxHandshakes, HandshakeTimeout: Duration(p2p.DefaultHandshakeTimeout),
			SendQueueBytes: p2p.DefaultSendQueueBytes, SendFullTimeout: Duration(p2p.DefaultSendFullTimeout),
			BanThreshold: p2p.DefaultBanThreshold, BanDuration: Duration(p2p.DefaultBanDuration), Budgets: defaultP2PBudgets()},
		RPC: RPCConfig{ListenAddr: "127.0.0.1:26657", MaxConnections: 2000, MaxSubscriptionsPerConn: 16,
			MaxMessageBytes: 1 << 20, SubscriberBuffer: 1024, PingInterval: Duration(20 * time.Second),
			AllowedOrigins: []string{}, RequestTimeout: Duration(rpc.DefaultRequestTimeout),
			MaxResponseBytes: rpc.DefaultMaxResponseBytes, MaxHTTPRequests: rpc.DefaultMaxHTTPRequests,
			MaxInflightPerConn: rpc.DefaultMaxInflightPerConn, RequestsPerSecond: rpc.DefaultRequestsPerSecond,
			RequestBurst: rpc.DefaultRequestBurst, MaxReplayHeights: rpc.DefaultMaxReplayHeights,
			MaxReplayTxEvents: rpc.DefaultMaxReplayTxEvents},
		Consensus: ConsensusConfig{
			TimeoutPropose: Duration(1 * time.Second), TimeoutProposeDelta: Duration(500 * time.Millisecond),
			TimeoutPrevote: Duration(500 * time.Millisecond), TimeoutPrevoteDelta: Duration(250 * time.Millisecond),
			TimeoutPrecommit: Duration(500 * time.Millisecond), TimeoutPrecommitDelta: Duration(250 * time.Millisecond),
			BlockInterval: 0, SkipEmptyBlocks: true, EmptyBlockInterval: Duration(time.Second),
			MaxBlockTxs: 10_000,
		},
		Mempool: MempoolConfig{Size: 50_000, MaxPerSender: 1_000, MaxNonceGap: 1_000, GapExpiryBlocks: 100},
		DB:      DBConfig{Backend: "goleveldb"},
		Log:     LogConfig{Level: "info", Format: "text"},
		Signer:  SignerConfig{Mode: "local"},
	}
}

// Validate checks the configuration and says which field is wrong.
func (c *Config) Validate() error {
	var errs []error
	if (c.RPC.TLSCertFile == "") != (c.RPC.TLSKeyFile == "") {
		errs = append(errs, errors.New("rpc.tls_cert_file and rpc.tls_key_file: set both or neither"))
	}
	if _, _, err := net.SplitHostPort(c.P2P.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("p2p.listen_addr: %w", err))
	}
	for i, p := range c.P2P.PersistentPeers {
		if _, _, err := net.SplitHostPort(p); err != nil {
			errs = append(errs, fmt.Errorf("p2p.persistent_peers[%d]: %w", i, err))
		}
	}
	if _, _, err := net.SplitHostPort(c.RPC.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("rpc.listen_addr: %w", err))
	}
	positive := map[string]int64{
		"p2p.max_message_bytes": int64(c.P2P.MaxMessageBytes), "p2p.send_queue": int64(c.P2P.SendQueue),
		"p2p.max_conns_per_ip": int64(c.P2P.MaxConnsPerIP), "p2p.max_handshakes": int64(c.P2P.MaxHandshakes),
		"p2p.handshake_timeout": int64(c.P2P.HandshakeTimeout),
		"p2p.send_queue_bytes":  int64(c.P2P.SendQueueBytes), "p2p.send_full_timeout": int64(c.P2P.SendFullTimeout),
		"p2p.ban_threshold": int64(c.P2P.BanThreshold), "p2p.ban_duration": int64(c.P2P.BanDuration),
		"rpc.max_connections": int64(c.RPC.MaxConnections), "rpc.max_subscriptions_per_conn": int64(c.RPC.MaxSubscriptionsPerConn),
		"rpc.max_message_bytes": c.RPC.MaxMessageBytes, "rpc.subscriber_buffer": int64(c.RPC.SubscriberBuffer),
		"rpc.ping_interval": int64(c.RPC.PingInterval), "rpc.request_timeout": int64(c.RPC.RequestTimeout),
		"rpc.max_response_bytes": c.RPC.MaxResponseBytes, "rpc.max_http_requests": int64(c.RPC.MaxHTTPRequests),
		"rpc.max_inflight_per_conn": int64(c.RPC.MaxInflightPerConn), "rpc.request_burst": int64(c.RPC.RequestBurst),
		"rpc.max_replay_heights": c.RPC.MaxReplayHeights, "rpc.max_replay_tx_events": int64(c.RPC.MaxReplayTxEvents),
		"consensus.timeout_propose": int64(c.Consensus.TimeoutPropose),
		"consensus.timeout_prevote": int64(c.Consensus.TimeoutPrevote), "consensus.timeout_precommit": int64(c.Consensus.TimeoutPrecommit),
		"consensus.max_block_txs": int64(c.Consensus.MaxBlockTxs), "mempool.size": int64(c.Mempool.Size),
		"mempool.max_per_sender": int64(c.Mempool.MaxPerSender), "mempool.max_nonce_gap": int64(c.Mempool.MaxNonceGap),
		"mempool.gap_expiry_blocks": int64(c.Mempool.GapExpiryBlocks),
	}
	if c.Consensus.BatchTxs < 0 || c.Consensus.BlockInterval < 0 {
		errs = append(errs, fmt.Errorf("consensus.batch_txs and consensus.block_interval must not be negative"))
	}
	for _, k := range slices.Sorted(maps.Keys(positive)) {
		if positive[k] <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", k))
		}
	}
	if c.P2P.SendQueueBytes < c.P2P.MaxMessageBytes {
		errs = append(errs, fmt.Errorf("p2p.send_queue_bytes %d must be at least p2p.max_message_bytes %d", c.P2P.SendQueueBytes, c.P2P.MaxMessageBytes))
	}
	budgets := c.P2P.Budgets.named()
	for _, name := range slices.Sorted(maps.Keys(budgets)) {
		b := budgets[name]
		if !(b.MessagesPerSecond > 0) || !(b.BytesPerSecond > 0) || math.IsInf(b.MessagesPerSecond, 0) || math.IsInf(b.BytesPerSecond, 0) ||
			b.MessageBurst <= 0 || b.ByteBurst <= 0 {
			errs = append(errs, fmt.Errorf("p2p.budgets.%s: every rate and burst must be positive and finite", name))
		}
	}
	if !(c.RPC.RequestsPerSecond > 0) || math.IsInf(c.RPC.RequestsPerSecond, 0) {
		errs = append(errs, fmt.Errorf("rpc.requests_per_second %v must be positive and finite", c.RPC.RequestsPerSecond))
	}
	if err := rpc.CheckOrigins(c.RPC.AllowedOrigins); err != nil {
		errs = append(errs, fmt.Errorf("rpc.allowed_origins: %w", err))
	}
	errs = append(errs, c.P2P.checkTestnetFaults(c.Signer.TestnetByzantine)...)
	switch c.DB.Backend {
	case "goleveldb", "pebbledb":
	default:
		errs = append(errs, fmt.Errorf("db.backend %q: want goleveldb or pebbledb", c.DB.Backend))
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		errs = append(errs, err)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("log.format %q: want text or json", c.Log.Format))
	}
	switch c.Signer.Mode {
	case "local":
	case "remote":
		if c.Signer.Address == "" {
			errs = append(errs, errors.New("signer.address is required when signer.mode is remote"))
		}
		if c.Signer.TestnetDoublePropose {
			errs = append(errs, errors.New("signer.testnet_double_propose needs signer.mode local"))
		}
		if c.Signer.TestnetByzantine {
			errs = append(errs, errors.New("signer.testnet_byzantine needs signer.mode local"))
		}
	default:
		errs = append(errs, fmt.Errorf("signer.mode %q: want local or remote", c.Signer.Mode))
	}
	return errors.Join(errs...)
}

// RPCServerConfig returns the rpc.Config of the [rpc] section.
func (c *Config) RPCServerConfig() rpc.Config {
	r := c.RPC
	return rpc.Config{
		MaxConnections: r.MaxConnections, MaxSubscriptionsPerConn: r.MaxSubscriptionsPerConn,
		MaxMessageBytes: r.MaxMessageBytes, SubscriberBuffer: r.SubscriberBuffer, PingInterval: r.PingInterval.Std(),
		RequestTimeout: r.RequestTimeout.Std(), AllowedOrigins: r.AllowedOrigins, MaxResponseBytes: r.MaxResponseBytes,
		MaxHTTPRequests: r.MaxHTTPRequests, MaxInflightPerConn: r.MaxInflightPerConn,
		RequestsPerSecond: r.RequestsPerSecond, RequestBurst: r.RequestBurst,
		MaxReplayHeights: uint64(max(r.MaxReplayHeights, 0)), MaxReplayTxEvents: r.MaxReplayTxEvents,
	}
}

// MachineConfig returns the consensus.Config for this node.
func (c *Config) MachineConfig(chainID string, self [20]byte) consensus.Config {
	k := c.Consensus
	return consensus.Config{
		ChainID: chainID, Self: self,
		TimeoutPropose: k.TimeoutPropose.Std(), TimeoutProposeDelta: k.TimeoutProposeDelta.Std(),
		TimeoutPrevote: k.TimeoutPrevote.Std(), TimeoutPrevoteDelta: k.TimeoutPrevoteDelta.Std(),
		TimeoutPrecommit: k.TimeoutPrecommit.Std(), TimeoutPrecommitDelta: k.TimeoutPrecommitDelta.Std(),
		BlockInterval: k.BlockInterval.Std(), SkipEmptyBlocks: k.SkipEmptyBlocks, EmptyBlockInterval: k.EmptyBlockInterval.Std(),
	}
}

// ParseConfig decodes config.toml strictly: unknown keys are errors. Keys
// that are absent keep their defaults.
func ParseConfig(b []byte) (*Config, error) {
	c := DefaultConfig()
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) {
			return nil, fmt.Errorf("config: %s", strings.TrimSpace(sm.String()))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("config: line %d column %d: %w", row, col, err)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &c, nil
}

// LoadConfig reads and validates a config.toml.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Save writes c as TOML, atomically.
func (c *Config) Save(path string) error {
	b, err := toml.Marshal(c)
	if err != nil {
		return fmt.Errorf("config: encode: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, b, 0o644)
}

// NewLogger builds the node's slog logger from the log section.
func (c *Config) NewLogger(w *os.File) (*slog.Logger, error) {
	lvl, err := parseLevel(c.Log.Level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log.level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// checkTestnetFaults checks the test-network fault settings: the admin
// endpoint exists only with testnet_faults, listens on loopback only, and
// needs its token file.
func (p P2PConfig) checkTestnetFaults(byzantine bool) []error {
	if !p.TestnetFaults {
		var errs []error
		if p.TestnetAdminAddr != "" || p.TestnetAdminTokenFile != "" {
			errs = append(errs, errors.New("p2p.testnet_admin_addr and p2p.testnet_admin_token_file need p2p.testnet_faults"))
		}
		if byzantine {
			errs = append(errs, errors.New("signer.testnet_byzantine needs p2p.testnet_faults"))
		}
		return errs
	}
	var errs []error
	host, _, err := net.SplitHostPort(p.TestnetAdminAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		errs = append(errs, fmt.Errorf("p2p.testnet_admin_addr %q: want a loopback host:port such as 127.0.0.1:0", p.TestnetAdminAddr))
	}
	if p.TestnetAdminTokenFile == "" {
		errs = append(errs, errors.New("p2p.testnet_admin_token_file is required with p2p.testnet_faults"))
	}
	return errs
}
