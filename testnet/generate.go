package testnet

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/sync/errgroup"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/internal/fsutil"
	"github.com/quorumchain/quorumchain/node"
	"github.com/quorumchain/quorumchain/validator"
)

// Options shape a generated testnet.
type Options struct {
	ChainID string
	// Validators is the number of nodes, all validators.
	Validators int
	// Stakes are the validators' stakes; empty: DefaultStake each.
	Stakes []uint64
	// BasePort is node0's p2p port; node i uses BasePort+2i (p2p) and
	// BasePort+2i+1 (RPC). Zero picks free ports.
	BasePort int
	// RemoteSigners makes the last k validators sign remotely.
	RemoteSigners int
	// FaucetBalance funds the faucet account.
	FaucetBalance uint64
	// MinFee is the genesis min_fee; 0 means DefaultMinFee.
	MinFee uint64
	// Consensus overrides the testnet's consensus settings when not nil.
	Consensus *node.ConsensusConfig
	// DoubleProposers lists validators (by index, local signers only) made
	// Byzantine with the test-network switch signer.testnet_double_propose:
	// each broadcasts a second proposal after every one of its own, and is
	// slashed and jailed for it.
	DoubleProposers []int
	// Hosts places node i on Hosts[i] (an IP address or a DNS name): it
	// listens there and its peers dial it there (see hosts.go). Empty: every
	// node on 127.0.0.1 with ports of its own.
	Hosts []string
	// ListenHost, when set, is the address every node listens on instead of
	// its host (0.0.0.0 in a container whose address is not known ahead).
	ListenHost string
	// TargetHome, when set, is where each node's home will live on the
	// machine that runs it: the password is copied into every home
	// (home/password.txt) and config.toml names TargetHome/password.txt.
	// Empty: the nodes run here and use dir/password.txt.
	TargetHome string
	// Kind is recorded in testnet.json (Manifest.Kind).
	Kind string
}

// Testnet defaults.
const (
	DefaultChainID       = "quorum-local"
	DefaultStake         = 100
	DefaultFaucetBalance = 1_000_000_000_000
	// DefaultMinFee is a testnet's min_fee: small, but not zero, so that
	// spam costs something.
	DefaultMinFee = 1
	// DefaultBlockReward is a testnet's block_reward, so that rewards,
	// commission and claims can be seen at work.
	DefaultBlockReward = 10
	// DefaultDowntimeWindow and DefaultDowntimeMaxMissed jail a testnet
	// validator whose precommit is in fewer than 10 of its last 200
	// certificates (as Cosmos chains require 5% signed): one without a node
	// is jailed within 200 blocks, seconds under load; one that runs but is
	// the slowest of the quorum (a loaded or attacked node, at tens of
	// blocks a second) is still in the certificates of the blocks it
	// proposes and of those built after its late precommit arrived.
	DefaultDowntimeWindow    = 200
	DefaultDowntimeMaxMissed = 190
	DefaultBasePort          = 26656
	// LightLoadBlockInterval and DefaultBatchTxs: see ConsensusDefaults.
	LightLoadBlockInterval = 50 * time.Millisecond
	DefaultBatchTxs        = 32
)

// ConsensusDefaults are a local network's consensus settings: a height
// starts LightLoadBlockInterval after the last block when transactions
// wait, at once when DefaultBatchTxs of them wait, and at least once a
// second otherwise; short timeouts, since peers are a loopback hop apart.
func ConsensusDefaults() node.ConsensusConfig {
	c := node.DefaultConfig().Consensus
	c.TimeoutPropose = node.Duration(400 * time.Millisecond)
	c.TimeoutProposeDelta = node.Duration(200 * time.Millisecond)
	c.TimeoutPrevote = node.Duration(200 * time.Millisecond)
	c.TimeoutPrevoteDelta = node.Duration(100 * time.Millisecond)
	c.TimeoutPrecommit = node.Duration(200 * time.Millisecond)
	c.TimeoutPrecommitDelta = node.Duration(100 * time.Millisecond)
	// Blocks at least LightLoadBlockInterval apart unless a full batch
	// waits: a lightly loaded testnet makes fewer, fuller blocks (less CPU
	// per transaction) and a loaded one is not slowed.
	c.BlockInterval = node.Duration(LightLoadBlockInterval)
	c.BatchTxs = DefaultBatchTxs
	c.SkipEmptyBlocks = true
	c.EmptyBlockInterval = node.Duration(time.Second)
	return c
}

// enableFaults turns on the fault layer of every node of a local testnet,
// with an admin endpoint each on a free loopback port (none of the nodes'
// own), authenticated by a new token file in the testnet directory.
func enableFaults(m *Manifest, cfgs []node.Config, abs string, addrs []nodeAddr) error {
	var taken []int
	for _, a := range addrs {
		for _, hp := range []string{a.p2p, a.rpc} {
			if _, p, err := net.SplitHostPort(hp); err == nil {
				if n, err := strconv.Atoi(p); err == nil {
					taken = append(taken, n)
				}
			}
		}
	}
	adminPorts, err := pickPortsAvoiding(len(cfgs), taken)
	if err != nil {
		return err
	}
	m.AdminToken = filepath.Join(abs, AdminTokenFile)
	if err := writeAdminToken(m.AdminToken); err != nil {
		return err
	}
	for i := range cfgs {
		adminAddr := "127.0.0.1:" + strconv.Itoa(adminPorts[i])
		cfgs[i].P2P.TestnetFaults, cfgs[i].P2P.TestnetAdminAddr, cfgs[i].P2P.TestnetAdminTokenFile = true, adminAddr, m.AdminToken
		cfgs[i].Signer.TestnetByzantine = cfgs[i].Signer.Mode == "local"
		m.Nodes[i].Admin = "http://" + adminAddr
	}
	return nil
}

// ErrExists means the directory already holds a testnet.
var ErrExists = errors.New("testnet already generated")

// Generate writes a new testnet into dir: one home per node (dir/nodeI),
// the shared genesis, light-KDF keystores with a generated password
// (dir/password.txt), a faucet key (dir/faucet.json), remote signers' keys
// outside their nodes' homes (dir/nodeI-signer.json), and testnet.json.
func Generate(dir string, opts Options) (*Manifest, error) {
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		return nil, fmt.Errorf("%w in %s", ErrExists, dir)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	password, err := randomPassword()
	if err != nil {
		return nil, err
	}
	m := &Manifest{ChainID: opts.ChainID, Kind: opts.Kind, PasswordFile: filepath.Join(abs, "password.txt")}
	if err := fsutil.WriteFileAtomic(m.PasswordFile, []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	addrs, err := nodeAddrs(opts)
	if err != nil {
		return nil, err
	}
	consensusCfg := ConsensusDefaults()
	if opts.Consensus != nil {
		consensusCfg = *opts.Consensus
	}
	gen, faucet, keys, err := newGenesis(opts, consensusCfg.EmptyBlockInterval.Std())
	if err != nil {
		return nil, err
	}
	m.Faucet = Faucet{Address: chain.FormatAddress(chain.PubkeyAddress(&faucet.PublicKey)), Key: filepath.Join(abs, "faucet.json")}
	var cfgs []node.Config
	m.Nodes, cfgs = nodeConfigs(abs, opts, addrs, consensusCfg, m.PasswordFile, keys)
	if len(opts.Hosts) == 0 {
		// Local processes on 127.0.0.1: the fault layer, and an admin
		// endpoint each the CLI can reach. Nodes in namespaces, containers
		// or on other hosts have no loopback in common with it.
		if err := enableFaults(m, cfgs, abs, addrs); err != nil {
			return nil, err
		}
	}
	if err := writeKeysAndHomes(m, gen, password, faucet, keys, cfgs); err != nil {
		return nil, err
	}
	if err := copyPassword(opts, m.Nodes, password); err != nil {
		return nil, err
	}
	if err := m.Save(abs); err != nil {
		return nil, err
	}
	return m, nil
}

// withDefaults checks o and fills its zero fields.
func (o Options) withDefaults() (Options, error) {
	if o.Validators < 1 {
		return o, fmt.Errorf("testnet: need at least one validator, got %d", o.Validators)
	}
	if len(o.Stakes) == 0 {
		for range o.Validators {
			o.Stakes = append(o.Stakes, DefaultStake)
		}
	}
	if len(o.Stakes) != o.Validators {
		return o, fmt.Errorf("testnet: %d stakes for %d validators", len(o.Stakes), o.Validators)
	}
	if o.RemoteSigners < 0 || o.RemoteSigners > o.Validators {
		return o, fmt.Errorf("testnet: %d remote signers for %d validators", o.RemoteSigners, o.Validators)
	}
	for _, i := range o.DoubleProposers {
		if i < 0 || i >= o.Validators-o.RemoteSigners {
			return o, fmt.Errorf("testnet: double proposer %d: want the index of a validator with a local signer (0 to %d)", i, o.Validators-o.RemoteSigners-1)
		}
	}
	if err := o.checkHosts(); err != nil {
		return o, err
	}
	if o.ChainID == "" {
		o.ChainID = DefaultChainID
	}
	if o.MinFee == 0 {
		o.MinFee = DefaultMinFee
	}
	if o.FaucetBalance == 0 {
		o.FaucetBalance = DefaultFaucetBalance
	}
	return o, nil
}

// newGenesis generates the faucet's and the validators' keys and the
// genesis that funds the faucet and bonds each validator's stake. The
// genesis time lies one empty-block interval in the past: height 1 starts
// as soon as the validators are connected instead of idling for an
// interval after generation.
func newGenesis(opts Options, emptyBlockInterval time.Duration) (*genesis.Doc, *ecdsa.PrivateKey, []*ecdsa.PrivateKey, error) {
	faucet, err := crypto.GenerateKey()
	if err != nil {
		return nil, nil, nil, err
	}
	gen := genesis.New(opts.ChainID, time.Now().Add(-emptyBlockInterval).Truncate(time.Millisecond))
	gen.Params.MinFee = opts.MinFee
	gen.Params.BlockReward = DefaultBlockReward
	gen.Params.DowntimeWindow, gen.Params.DowntimeMaxMissed = DefaultDowntimeWindow, DefaultDowntimeMaxMissed
	if err := gen.AddAccount(chain.PubkeyAddress(&faucet.PublicKey), opts.FaucetBalance); err != nil {
		return nil, nil, nil, err
	}
	keys := make([]*ecdsa.PrivateKey, opts.Validators)
	for i := range keys {
		if keys[i], err = crypto.GenerateKey(); err != nil {
			return nil, nil, nil, err
		}
		if err := gen.AddValidator(chain.PubkeyAddress(&keys[i].PublicKey), opts.Stakes[i], nodeName(i)); err != nil {
			return nil, nil, nil, err
		}
	}
	if err := gen.Validate(); err != nil {
		return nil, nil, nil, err
	}
	return gen, faucet, keys, nil
}

func nodeName(i int) string { return "node" + strconv.Itoa(i) }

// nodeConfigs returns the manifest entry and the configuration of each
// node: node i listens on addrs[i] (p2p and RPC), peers with every other
// node, and the last opts.RemoteSigners sign remotely.
func nodeConfigs(abs string, opts Options, addrs []nodeAddr, consensusCfg node.ConsensusConfig, passwordFile string, keys []*ecdsa.PrivateKey) ([]Node, []node.Config) {
	nodes := make([]Node, opts.Validators)
	cfgs := make([]node.Config, opts.Validators)
	for i, key := range keys {
		name := nodeName(i)
		a := addrs[i]
		cfg := node.DefaultConfig()
		cfg.Moniker = name
		cfg.P2P.ListenAddr = a.p2pListen
		for j, b := range addrs {
			if j != i {
				cfg.P2P.PersistentPeers = append(cfg.P2P.PersistentPeers, b.p2p)
			}
		}
		cfg.RPC.ListenAddr = a.rpcListen
		cfg.Consensus = consensusCfg
		cfg.Signer.PasswordFile = passwordFile
		if opts.TargetHome != "" {
			cfg.Signer.PasswordFile = path.Join(opts.TargetHome, PasswordFile)
		}
		addr := chain.PubkeyAddress(&key.PublicKey)
		n := Node{Name: name, Home: filepath.Join(abs, name), Validator: chain.FormatAddress(addr), Stake: strconv.FormatUint(opts.Stakes[i], 10),
			RPC: "ws://" + a.rpc + "/ws", HTTP: "http://" + a.rpc, P2P: a.p2p, Signer: "local", Host: a.host}
		if i >= opts.Validators-opts.RemoteSigners {
			cfg.Signer = node.SignerConfig{Mode: "remote", Address: chain.FormatAddress(addr)}
			n.Signer, n.SignerKey = "remote", filepath.Join(abs, name+"-signer.json")
		}
		if slices.Contains(opts.DoubleProposers, i) {
			cfg.Signer.TestnetDoublePropose = true
			n.Byzantine = ByzantineDoublePropose
		}
		nodes[i], cfgs[i] = n, cfg
	}
	return nodes, cfgs
}

// writeKeysAndHomes writes the faucet's keystore, each node's home and each
// remote signer's keystore. Keystore encryption (scrypt) dominates
// generation, so they are written in parallel.
func writeKeysAndHomes(m *Manifest, gen *genesis.Doc, password string, faucet *ecdsa.PrivateKey, keys []*ecdsa.PrivateKey, cfgs []node.Config) error {
	var g errgroup.Group
	g.Go(func() error { return validator.CreateKeyFile(m.Faucet.Key, faucet, password, true) })
	for i, key := range keys {
		n, cfg := m.Nodes[i], &cfgs[i]
		home := node.Home(n.Home)
		remote := n.Signer == "remote"
		g.Go(func() error {
			if remote {
				if err := validator.CreateKeyFile(n.SignerKey, key, password, true); err != nil {
					return err
				}
			}
			if _, err := node.Init(home, node.InitOptions{ChainID: m.ChainID, Password: password, LightKDF: true,
				Validator: crypto.FromECDSA(key), Genesis: gen, Config: cfg}); err != nil {
				return err
			}
			if remote {
				// The remote signer's key stays out of its node's home.
				return os.Remove(home.ValidatorKeyPath())
			}
			return nil
		})
	}
	return g.Wait()
}

// writeAdminToken writes a new admin token, 32 random bytes in hex, that
// only the owner may read.
func writeAdminToken(path string) error {
	b := make([]byte, node.AdminTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, []byte(hex.EncodeToString(b)+"\n"), 0o600)
}

// pickPortsAvoiding returns n free ports, none of them in taken.
func pickPortsAvoiding(n int, taken []int) ([]int, error) {
	for range portTries {
		ports, err := pickPorts(0, n)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(ports, func(p int) bool { return slices.Contains(taken, p) }) {
			return ports, nil
		}
	}
	return nil, fmt.Errorf("testnet: no %d free ports apart from %v", n, taken)
}

func randomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Free ports are chosen below the kernel's ephemeral range (32768 and up
// on Linux), so that no outbound connection's local port, and no TCP
// self-connect of a node dialing a peer that is not up yet, can take a
// port a node is about to listen on.
const (
	freePortLow  = 20000
	freePortHigh = 32000
	portTries    = 100
)

// pickPorts returns n consecutive ports: base, base+1, ... when base > 0,
// else a run of n ports below the ephemeral range that are free on
// 127.0.0.1 right now.
func pickPorts(base, n int) ([]int, error) {
	out := make([]int, n)
	if base > 0 {
		for i := range out {
			out[i] = base + i
		}
		return out, nil
	}
	for range portTries {
		start := freePortLow + mrand.IntN(freePortHigh-freePortLow-n)
		if allFree(start, n) {
			for i := range out {
				out[i] = start + i
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("testnet: no run of %d free ports in %d..%d", n, freePortLow, freePortHigh)
}

// PortsFree reports whether the n ports from base are free on 127.0.0.1
// now (a testnet with BasePort base could listen on them).
func PortsFree(base, n int) bool { return base > 0 && allFree(base, n) }

func allFree(start, n int) bool {
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range lns {
			l.Close() //nolint:errcheck // only probing
		}
	}()
	for p := start; p < start+n; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		lns = append(lns, l)
	}
	return true
}
