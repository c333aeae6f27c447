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
	"path/filepath"
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
	// Consensus overrides the testnet's consensus settings when not nil.
	Consensus *node.ConsensusConfig
}

// Testnet defaults.
const (
	DefaultChainID       = "quorum-local"
	DefaultStake         = 100
	DefaultFaucetBalance = 1_000_000_000_000
	DefaultBasePort      = 26656
)

// ConsensusDefaults are a local network's consensus settings: a height
// starts at once when transactions wait and at least once a second
// otherwise; short timeouts, since peers are a loopback hop apart.
func ConsensusDefaults() node.ConsensusConfig {
	c := node.DefaultConfig().Consensus
	c.TimeoutPropose = node.Duration(400 * time.Millisecond)
	c.TimeoutProposeDelta = node.Duration(200 * time.Millisecond)
	c.TimeoutPrevote = node.Duration(200 * time.Millisecond)
	c.TimeoutPrevoteDelta = node.Duration(100 * time.Millisecond)
	c.TimeoutPrecommit = node.Duration(200 * time.Millisecond)
	c.TimeoutPrecommitDelta = node.Duration(100 * time.Millisecond)
	c.BlockInterval = 0
	c.SkipEmptyBlocks = true
	c.EmptyBlockInterval = node.Duration(time.Second)
	return c
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
	if opts.Validators < 1 {
		return nil, fmt.Errorf("testnet: need at least one validator, got %d", opts.Validators)
	}
	if len(opts.Stakes) == 0 {
		for range opts.Validators {
			opts.Stakes = append(opts.Stakes, DefaultStake)
		}
	}
	if len(opts.Stakes) != opts.Validators {
		return nil, fmt.Errorf("testnet: %d stakes for %d validators", len(opts.Stakes), opts.Validators)
	}
	if opts.RemoteSigners < 0 || opts.RemoteSigners > opts.Validators {
		return nil, fmt.Errorf("testnet: %d remote signers for %d validators", opts.RemoteSigners, opts.Validators)
	}
	if opts.ChainID == "" {
		opts.ChainID = DefaultChainID
	}
	if opts.FaucetBalance == 0 {
		opts.FaucetBalance = DefaultFaucetBalance
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
	m := &Manifest{ChainID: opts.ChainID, PasswordFile: filepath.Join(abs, "password.txt")}
	if err := fsutil.WriteFileAtomic(m.PasswordFile, []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	ports, err := pickPorts(opts.BasePort, 2*opts.Validators)
	if err != nil {
		return nil, err
	}
	consensusCfg := ConsensusDefaults()
	if opts.Consensus != nil {
		consensusCfg = *opts.Consensus
	}
	faucet, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	m.Faucet = Faucet{Address: chain.FormatAddress(chain.PubkeyAddress(&faucet.PublicKey)), Key: filepath.Join(abs, "faucet.json")}
	// The genesis time lies one empty-block interval in the past: height 1
	// starts as soon as the validators are connected instead of idling
	// for an interval after generation.
	gen := genesis.New(opts.ChainID, time.Now().Add(-consensusCfg.EmptyBlockInterval.Std()).Truncate(time.Millisecond))
	if err := gen.AddAccount(chain.PubkeyAddress(&faucet.PublicKey), opts.FaucetBalance); err != nil {
		return nil, err
	}
	keys := make([]*ecdsa.PrivateKey, opts.Validators)
	for i := range keys {
		if keys[i], err = crypto.GenerateKey(); err != nil {
			return nil, err
		}
		name := "node" + strconv.Itoa(i)
		if err := gen.AddValidator(chain.PubkeyAddress(&keys[i].PublicKey), opts.Stakes[i], name); err != nil {
			return nil, err
		}
	}
	if err := gen.Validate(); err != nil {
		return nil, err
	}
	p2pAddrs := make([]string, opts.Validators)
	for i := range p2pAddrs {
		p2pAddrs[i] = "127.0.0.1:" + strconv.Itoa(ports[2*i])
	}
	m.Nodes = make([]Node, opts.Validators)
	// Keystore encryption (scrypt) dominates generation: the faucet and
	// the nodes are written in parallel.
	var g errgroup.Group
	g.Go(func() error { return validator.CreateKeyFile(m.Faucet.Key, faucet, password, true) })
	for i, key := range keys {
		name := "node" + strconv.Itoa(i)
		home := node.Home(filepath.Join(abs, name))
		rpcAddr := "127.0.0.1:" + strconv.Itoa(ports[2*i+1])
		cfg := node.DefaultConfig()
		cfg.Moniker = name
		cfg.P2P.ListenAddr = p2pAddrs[i]
		for j, a := range p2pAddrs {
			if j != i {
				cfg.P2P.PersistentPeers = append(cfg.P2P.PersistentPeers, a)
			}
		}
		cfg.RPC.ListenAddr = rpcAddr
		cfg.Consensus = consensusCfg
		cfg.Signer.PasswordFile = m.PasswordFile
		addr := chain.PubkeyAddress(&key.PublicKey)
		n := Node{Name: name, Home: string(home), Validator: chain.FormatAddress(addr), Stake: strconv.FormatUint(opts.Stakes[i], 10),
			RPC: "ws://" + rpcAddr + "/ws", HTTP: "http://" + rpcAddr, P2P: p2pAddrs[i], Signer: "local"}
		remote := i >= opts.Validators-opts.RemoteSigners
		if remote {
			cfg.Signer = node.SignerConfig{Mode: "remote", Address: chain.FormatAddress(addr)}
			n.Signer, n.SignerKey = "remote", filepath.Join(abs, name+"-signer.json")
		}
		m.Nodes[i] = n
		g.Go(func() error {
			if remote {
				if err := validator.CreateKeyFile(n.SignerKey, key, password, true); err != nil {
					return err
				}
			}
			if _, err := node.Init(home, node.InitOptions{ChainID: opts.ChainID, Password: password, LightKDF: true,
				Validator: crypto.FromECDSA(key), Genesis: gen, Config: &cfg}); err != nil {
				return err
			}
			if remote {
				// The remote signer's key stays out of its node's home.
				return os.Remove(home.ValidatorKeyPath())
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := m.Save(abs); err != nil {
		return nil, err
	}
	return m, nil
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
