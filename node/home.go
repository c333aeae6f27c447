package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/genesis"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/validator"
)

// Home is a node's home directory:
//
//	config/config.toml     node configuration
//	config/genesis.json    the chain's genesis
//	config/node_key.json   node identity for the peer handshake
//	keys/validator.json    keystore v3 file of the validator key (absent on a non-validator or remote-signer node)
//	data/                  cometbft-db databases and the consensus WAL (cs.wal)
//	data/signer_state.json last signed height/round/step
type Home string

// ConfigPath is config/config.toml.
func (h Home) ConfigPath() string { return filepath.Join(string(h), "config", "config.toml") }

// GenesisPath is config/genesis.json.
func (h Home) GenesisPath() string { return filepath.Join(string(h), "config", "genesis.json") }

// NodeKeyPath is config/node_key.json.
func (h Home) NodeKeyPath() string { return filepath.Join(string(h), "config", "node_key.json") }

// ValidatorKeyPath is keys/validator.json.
func (h Home) ValidatorKeyPath() string { return filepath.Join(string(h), "keys", "validator.json") }

// DataDir is data/.
func (h Home) DataDir() string { return filepath.Join(string(h), "data") }

// SignerStatePath is data/signer_state.json.
func (h Home) SignerStatePath() string { return filepath.Join(h.DataDir(), "signer_state.json") }

// WALPath is data/cs.wal.
func (h Home) WALPath() string { return filepath.Join(h.DataDir(), "cs.wal") }

// InitOptions shape a new home.
type InitOptions struct {
	ChainID  string
	Password string // encrypts keys/validator.json
	LightKDF bool   // light scrypt parameters, for local testnets
	// Validator, when set, is used as the validator key instead of a new one.
	Validator []byte
	// Genesis, when nil, is a new single-validator genesis for this node
	// with DefaultStake bonded and DefaultBalance in its account.
	Genesis *genesis.Doc
	Config  *Config // nil: DefaultConfig
}

// Defaults of a single-node genesis made by Init.
const (
	DefaultStake   = 1_000_000
	DefaultBalance = 1_000_000_000
)

// ErrHomeExists means Init found an existing node home.
var ErrHomeExists = errors.New("node home already initialised")

// Init creates a node home with a node key, a validator key and, unless
// given, a genesis in which this node is the only validator. It returns the
// validator address.
func Init(home Home, opts InitOptions) (chain.Address, error) {
	if _, err := os.Stat(home.ConfigPath()); err == nil {
		return chain.Address{}, fmt.Errorf("%w: %s exists", ErrHomeExists, home.ConfigPath())
	}
	for _, d := range []string{filepath.Dir(home.ConfigPath()), filepath.Dir(home.ValidatorKeyPath()), home.DataDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return chain.Address{}, err
		}
	}
	if _, err := p2p.LoadOrCreateNodeKey(home.NodeKeyPath()); err != nil {
		return chain.Address{}, err
	}
	var err error
	key, err := crypto.GenerateKey()
	if opts.Validator != nil {
		key, err = crypto.ToECDSA(opts.Validator)
	}
	if err != nil {
		return chain.Address{}, fmt.Errorf("validator key: %w", err)
	}
	if err := validator.CreateKeyFile(home.ValidatorKeyPath(), key, opts.Password, opts.LightKDF); err != nil {
		return chain.Address{}, err
	}
	addr := chain.PubkeyAddress(&key.PublicKey)
	gen := opts.Genesis
	if gen == nil {
		gen = genesis.New(opts.ChainID, time.Now().Truncate(time.Millisecond))
		if err := gen.AddValidator(addr, DefaultStake, "node0"); err != nil {
			return chain.Address{}, err
		}
		if err := gen.AddAccount(addr, DefaultBalance); err != nil {
			return chain.Address{}, err
		}
	}
	if err := gen.Save(home.GenesisPath()); err != nil {
		return chain.Address{}, err
	}
	cfg := opts.Config
	if cfg == nil {
		d := DefaultConfig()
		cfg = &d
	}
	if err := cfg.Save(home.ConfigPath()); err != nil {
		return chain.Address{}, err
	}
	return addr, nil
}
