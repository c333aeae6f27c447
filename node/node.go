package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/chain/store"
	"github.com/quorumchain/quorumchain/engine"
	"github.com/quorumchain/quorumchain/engine/wal"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/validator"
)

// PasswordEnv is the environment variable that unlocks keys/validator.json
// when config.toml names no password file.
const PasswordEnv = "QUORUMCHAIN_PASSWORD"

// Node is a running quorumchain node: store, ledger state, mempool,
// consensus engine, signer, peer switch and RPC server.
type Node struct {
	home    Home
	cfg     *Config
	log     *slog.Logger
	gen     *genesis.Doc
	store   *store.Store
	loop    *loop
	driver  *engine.Driver
	mempool *txPool
	wal     *wal.Log
	net     *network
	sw      *p2p.Switch
	rpc     *rpc.Server
	hub     *rpc.Hub
	metrics *metrics
	remote  *validator.RemoteSigner
	// faults and admin exist only with p2p.testnet_faults; byzantine is
	// the local signer when signer.testnet_byzantine made it switchable.
	faults    *faultControl
	admin     *adminServer
	adminLn   net.Listener
	byzantine byzantineSwitch

	rpcLn net.Listener
}

// Options adjust New for tests and tools.
type Options struct {
	// Password unlocks the validator key; empty: from signer.password_file
	// or QUORUMCHAIN_PASSWORD.
	Password string
}

// New opens the node in home: it loads config and genesis, opens (and on
// first start initialises) the store, loads the validator key, and binds
// the RPC listener so that its address is known before Run.
func New(home Home, logger *slog.Logger, opts Options) (n *Node, err error) {
	cfg, err := LoadConfig(home.ConfigPath())
	if err != nil {
		return nil, err
	}
	gen, err := genesis.Load(home.GenesisPath())
	if err != nil {
		return nil, err
	}
	if logger == nil {
		if logger, err = cfg.NewLogger(os.Stderr); err != nil {
			return nil, err
		}
	}
	logger = logger.With("node", cfg.Moniker)
	if err := os.MkdirAll(home.DataDir(), 0o700); err != nil {
		return nil, err
	}
	n = &Node{home: home, cfg: cfg, log: logger, gen: gen, metrics: newMetrics()}
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	if n.store, err = store.Open(home.DataDir(), cfg.DB.Backend); err != nil {
		return nil, err
	}
	if err := n.initStore(); err != nil {
		return nil, err
	}
	state, err := n.store.LoadState(gen.Params)
	if err != nil {
		return nil, err
	}
	if got, err := n.store.StateHash(n.store.Height()); err == nil && got != state.Hash() {
		return nil, fmt.Errorf("node: stored state hash %s at height %d does not match the loaded state %s",
			chain.FormatHash(got), n.store.Height(), chain.FormatHash(state.Hash()))
	}
	signer, self, err := n.loadSigner(opts)
	if err != nil {
		return nil, err
	}
	if n.wal, err = wal.Open(home.WALPath()); err != nil {
		return nil, err
	}
	nodeKey, err := p2p.LoadOrCreateNodeKey(home.NodeKeyPath())
	if err != nil {
		return nil, err
	}
	mempool := newTxPool(gen.ChainID, cfg.Mempool, state.Fork())
	n.mempool = mempool
	n.hub = rpc.NewHub(rpc.Config{SubscriberBuffer: cfg.RPC.SubscriberBuffer})
	recent := newRecentReceipts(recentReceiptsMax)
	ev := &events{hub: n.hub, metrics: n.metrics, log: logger, recent: recent}
	sigs := newSigCache()
	if ls, ok := signer.(*validator.LocalSigner); ok {
		// Its own signatures are known good: the Machine's check of them
		// is then a cache hit, not a recovery.
		ls.OnSign(func(d chain.Hash, sig chain.Signature) { sigs.remember(d, sig, self) })
	}
	mcfg := cfg.MachineConfig(gen.ChainID, self)
	mcfg.Recoverer = sigs
	n.loop = newLoop(gen.ChainID, signer, mempool.TxsAvailable())
	n.net = &network{chainID: gen.ChainID, sigs: sigs, loop: n.loop, mempool: mempool, store: n.store, log: logger, metrics: n.metrics, txOut: make(chan *chain.Tx, txOutQueue)}
	deps := engine.Deps{Store: commitCountingStore{n.store, n.metrics.fsyncs.WithLabelValues(fsyncStore)}, Mempool: mempool,
		Log: syncCountingLog{n.wal, n.metrics.fsyncs.WithLabelValues(fsyncWAL)}, Signer: signer, Gossip: n.net, Sink: ev,
		Clock: n.loop.clock, Timers: n.loop, Logger: logger}
	if n.remote != nil {
		deps.Requester = n.loop
	}
	n.driver, err = engine.New(engine.Config{ChainID: gen.ChainID, Machine: mcfg, MaxBlockTxs: cfg.Consensus.MaxBlockTxs, BatchTxs: cfg.Consensus.BatchTxs, GenesisTime: gen.GenesisTime,
		DoublePropose: cfg.Signer.TestnetDoublePropose}, deps, state)
	if err != nil {
		return nil, err
	}
	n.loop.driver = n.driver
	n.sw, err = p2p.NewSwitch(p2p.Config{
		ChainID: gen.ChainID, GenesisHash: gen.Hash(), NodeKey: nodeKey, ListenAddr: cfg.P2P.ListenAddr,
		PersistentPeers: cfg.P2P.PersistentPeers, MaxMessageBytes: int64(cfg.P2P.MaxMessageBytes), SendQueue: cfg.P2P.SendQueue,
		MaxConnsPerIP: cfg.P2P.MaxConnsPerIP, MaxHandshakes: cfg.P2P.MaxHandshakes, HandshakeTimeout: time.Duration(cfg.P2P.HandshakeTimeout),
		SendQueueBytes: cfg.P2P.SendQueueBytes, SendFullTimeout: cfg.P2P.SendFullTimeout.Std(), Budgets: cfg.P2P.Budgets.p2p(),
		BanThreshold: cfg.P2P.BanThreshold, BanDuration: cfg.P2P.BanDuration.Std(),
		Faults: cfg.P2P.TestnetFaults, FaultSeed: faultSeed(p2p.NodeIDFromKey(nodeKey)),
	}, n.net, logger)
	if err != nil {
		return nil, err
	}
	n.net.sw = n.sw
	n.metrics.registerP2P(n.sw.Stats)
	if err := n.openAdmin(); err != nil {
		return nil, err
	}
	n.metrics.registerFaults(n.faults)
	be := &backend{chainID: gen.ChainID, genesisMs: uint64(gen.GenesisTime.UnixMilli()), nodeID: p2p.NodeIDFromKey(nodeKey), driver: n.driver,
		store: n.store, mempool: mempool, sw: n.sw, net: n.net, remote: n.remote, faults: n.faults, recent: recent}
	n.rpc = rpc.NewServer(cfg.RPCServerConfig(), be, n.hub, n.metrics.registry, logger)
	if n.rpcLn, err = listenRPC(home, cfg.RPC); err != nil {
		return nil, err
	}
	return n, nil
}

// initStore writes the genesis state on first start and checks, on every
// start, that the store belongs to this genesis.
func (n *Node) initStore() error {
	want := n.gen.Hash()
	if n.store.Initialized() {
		got, err := n.store.GenesisHash()
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("node: data directory belongs to genesis %s, config/genesis.json is %s", chain.FormatHash(got), chain.FormatHash(want))
		}
		return nil
	}
	state, set, err := n.gen.InitialState()
	if err != nil {
		return err
	}
	return n.store.InitGenesis(n.gen.ChainID, want, state.Entries(), set)
}

// loadSigner returns the validator's signer (nil for a non-validator node)
// and its address.
func (n *Node) loadSigner(opts Options) (validator.Signer, chain.Address, error) {
	switch n.cfg.Signer.Mode {
	case "remote":
		addr, err := chain.ParseAddress(n.cfg.Signer.Address)
		if err != nil {
			return nil, chain.Address{}, fmt.Errorf("signer.address: %w", err)
		}
		n.remote = validator.NewRemoteSigner(addr, func(d validator.Duty) {
			if err := n.hub.Publish(rpc.TopicDuties, rpc.DutyEvent{DutyResult: dutyResult(addr, d)}); err != nil {
				n.log.Error("publish duty", "err", err)
			}
		})
		return n.remote, addr, nil
	}
	if _, err := os.Stat(n.home.ValidatorKeyPath()); errors.Is(err, os.ErrNotExist) {
		return nil, chain.Address{}, nil // a full node that only follows
	}
	password := opts.Password
	if password == "" {
		var err error
		if password, err = validator.ReadPassword(n.cfg.Signer.PasswordFile, PasswordEnv); err != nil {
			return nil, chain.Address{}, fmt.Errorf("validator key %s: %w", n.home.ValidatorKeyPath(), err)
		}
	}
	key, err := validator.LoadKeyFile(n.home.ValidatorKeyPath(), password)
	if err != nil {
		return nil, chain.Address{}, err
	}
	s, err := validator.NewLocalSigner(key, saveCountingState{validator.NewWriterFileState(n.home.SignerStatePath()), n.metrics.fsyncs.WithLabelValues(fsyncSigner)})
	if err != nil {
		return nil, chain.Address{}, err
	}
	if n.cfg.Signer.TestnetDoublePropose {
		n.log.Warn("signer.testnet_double_propose is on: this validator double-proposes and will be slashed (test networks only)")
		s.AllowDoublePropose()
	}
	if n.cfg.Signer.TestnetByzantine {
		s.AllowByzantine()
		n.byzantine = s
	}
	return s, s.Address(), nil
}

// openAdmin sets up, with p2p.testnet_faults, the fault control and the
// admin endpoint: it reads the token and binds the loopback listener.
func (n *Node) openAdmin() error {
	if !n.cfg.P2P.TestnetFaults {
		return nil
	}
	n.faults = &faultControl{layer: n.sw.Faults(), signer: n.byzantine}
	tok, err := ReadAdminToken(n.cfg.P2P.TestnetAdminTokenFile)
	if err != nil {
		return err
	}
	if n.adminLn, err = net.Listen("tcp", n.cfg.P2P.TestnetAdminAddr); err != nil {
		return fmt.Errorf("admin: listen: %w", err)
	}
	n.admin = &adminServer{faults: n.faults, token: tok, log: n.log, now: time.Now}
	n.log.Warn("p2p.testnet_faults is on: faults and Byzantine modes can be injected through the admin endpoint (test networks only)",
		"admin", n.adminLn.Addr().String())
	return nil
}

// faultSeed derives the fault layer's seed from the node's identity, so
// that each node drops differently but reproducibly.
func faultSeed(id p2p.NodeID) uint64 {
	var s uint64
	for _, b := range id[:8] {
		s = s<<8 | uint64(b)
	}
	return s
}

// AdminAddr is the address of the test network admin endpoint, empty
// without p2p.testnet_faults.
func (n *Node) AdminAddr() string {
	if n.adminLn == nil {
		return ""
	}
	return n.adminLn.Addr().String()
}

// RPCAddr is the address the RPC server listens on.
func (n *Node) RPCAddr() string { return n.rpcLn.Addr().String() }

// P2PAddr is the address the peer switch listens on (after Run started).
func (n *Node) P2PAddr() string { return n.sw.ListenAddr() }

// ChainID is the chain's id.
func (n *Node) ChainID() string { return n.gen.ChainID }

// Run runs the node until ctx is done or a component fails, then stops
// every component and closes the store. A failure to persist a final block
// or a signature, or a state divergence, ends Run with that error.
func (n *Node) Run(ctx context.Context) error {
	defer n.close()
	g, ctx := errgroup.WithContext(ctx)
	n.net.ctx = ctx
	g.Go(func() error { return n.sw.Run(ctx) })
	g.Go(func() error { return n.rpc.Serve(ctx, n.rpcLn) })
	g.Go(func() error {
		err := n.loop.run(ctx)
		if err != nil {
			n.log.Error("consensus stopped", "err", err)
		}
		return err
	})
	g.Go(func() error { return n.updateGauges(ctx) })
	g.Go(func() error { return n.net.runTxGossip(ctx) })
	if n.admin != nil {
		g.Go(func() error { return n.admin.serve(ctx, n.adminLn) })
	}
	if addr := n.cfg.RPC.PprofListenAddr; addr != "" {
		g.Go(func() error { return servePprof(ctx, addr, n.log) })
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func (n *Node) close() {
	if n.wal != nil {
		if err := n.wal.Close(); err != nil {
			n.log.Error("close wal", "err", err)
		}
	}
	if n.store != nil {
		if err := n.store.Close(); err != nil {
			n.log.Error("close store", "err", err)
		}
	}
	if n.rpcLn != nil {
		n.rpcLn.Close() //nolint:errcheck // may already be closed by Serve
	}
	if n.adminLn != nil {
		n.adminLn.Close() //nolint:errcheck // may already be closed by serve
	}
}

// listenRPC binds the RPC listener, over TLS when the config names a
// certificate and key.
func listenRPC(home Home, c RPCConfig) (net.Listener, error) {
	var tlsCfg *tls.Config
	if c.TLSCertFile != "" {
		rel := func(p string) string {
			if filepath.IsAbs(p) {
				return p
			}
			return filepath.Join(filepath.Dir(home.ConfigPath()), p)
		}
		cert, err := tls.LoadX509KeyPair(rel(c.TLSCertFile), rel(c.TLSKeyFile))
		if err != nil {
			return nil, fmt.Errorf("rpc: tls certificate: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", c.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("rpc: listen: %w", err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	return ln, nil
}
