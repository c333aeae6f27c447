package testnet

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/quorumchain/quorumchain/internal/fsutil"
)

// ManifestFile is the name of the manifest in a testnet directory.
const ManifestFile = "testnet.json"

// Manifest is testnet.json: what a testnet is and where its nodes run.
type Manifest struct {
	ChainID string `json:"chainId"`
	// Kind is how the nodes run: empty for child processes on 127.0.0.1,
	// KindNetns, KindHosts or KindCompose.
	Kind         string `json:"kind,omitempty"`
	Faucet       Faucet `json:"faucet"`
	PasswordFile string `json:"passwordFile"`
	// AdminToken is the token file of the nodes' admin endpoints
	// (D/admin-token); empty for a testnet without fault injection.
	AdminToken string `json:"adminToken,omitempty"`
	Nodes      []Node `json:"nodes"`
	// Netns is the network of a KindNetns testnet.
	Netns *Netns `json:"netns,omitempty"`
}

// Manifest kinds.
const (
	KindNetns   = "netns"   // child processes, each in its own network namespace
	KindHosts   = "hosts"   // homes to copy to separate machines
	KindCompose = "compose" // containers of a compose file
)

// Faucet is the funded account of the testnet.
type Faucet struct {
	Address string `json:"address"`
	Key     string `json:"key"`
}

// Node is one node of the testnet.
type Node struct {
	Name      string `json:"name"`
	Home      string `json:"home"`
	Validator string `json:"validator"`
	Stake     string `json:"stake"`
	RPC       string `json:"rpc"`
	HTTP      string `json:"http"`
	P2P       string `json:"p2p"`
	PID       int    `json:"pid"`
	Signer    string `json:"signer"` // local or remote
	SignerKey string `json:"signerKey,omitempty"`
	// Admin is the node's admin endpoint, http://127.0.0.1:PORT, which
	// injects faults (see faults.go).
	Admin string `json:"admin,omitempty"`
	// Byzantine names what a node was made to do wrong, on purpose:
	// ByzantineDoublePropose, or empty for an honest node.
	Byzantine string `json:"byzantine,omitempty"`
	// Host is the address (or DNS name) the node runs at, when it is not
	// 127.0.0.1.
	Host string `json:"host,omitempty"`
	// Netns is the node's network namespace (KindNetns), and Cut is true
	// while its link is down (testnet cut).
	Netns string `json:"netns,omitempty"`
	Cut   bool   `json:"cut,omitempty"`
}

// ByzantineDoublePropose marks a node that double-proposes
// (signer.testnet_double_propose).
const ByzantineDoublePropose = "double-propose"

// LoadManifest reads dir/testnet.json.
func LoadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("testnet: %w (start one with 'quorumchain testnet start --dir %s')", err, dir)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("testnet: %s: %w", path, err)
	}
	return &m, nil
}

// Save writes dir/testnet.json atomically.
func (m *Manifest) Save(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o644)
}

// Node returns the node called name.
func (m *Manifest) Node(name string) (*Node, error) {
	for i := range m.Nodes {
		if m.Nodes[i].Name == name {
			return &m.Nodes[i], nil
		}
	}
	names := make([]string, len(m.Nodes))
	for i, n := range m.Nodes {
		names[i] = n.Name
	}
	return nil, fmt.Errorf("testnet: no node %q (nodes: %v)", name, names)
}
