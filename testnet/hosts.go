package testnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/quorumchain/quorumchain/internal/fsutil"
)

// Testnets whose nodes run on separate hosts (Options.Hosts): each node
// listens on its own address, with the same two ports on every host
// (BasePort for p2p, BasePort+1 for RPC), so that one firewall rule fits
// every machine. Nodes given the same host take the next pairs of ports.

// PasswordFile is the name of the keystore password file, in the testnet
// directory and, for nodes that run elsewhere (Options.TargetHome), in
// each node's home.
const PasswordFile = "password.txt"

// ErrBadHost means an entry of Options.Hosts is neither an IP address nor
// a DNS name.
var ErrBadHost = errors.New("testnet: bad host")

// maxHostLen bounds a DNS name (RFC 1035).
const maxHostLen = 253

// nodeAddr is where one node listens and where its peers and clients
// reach it.
type nodeAddr struct {
	host                 string // Options.Hosts[i]; empty on 127.0.0.1
	p2p, rpc             string // host:port, dialed by peers and clients
	p2pListen, rpcListen string // host:port the node listens on
}

// nodeAddrs places every node: on 127.0.0.1 with ports of its own, or on
// its host (checkHosts has validated opts.Hosts).
func nodeAddrs(opts Options) ([]nodeAddr, error) {
	out := make([]nodeAddr, opts.Validators)
	if len(opts.Hosts) == 0 {
		ports, err := pickPorts(opts.BasePort, 2*opts.Validators)
		if err != nil {
			return nil, err
		}
		for i := range out {
			p2p, rpc := "127.0.0.1:"+strconv.Itoa(ports[2*i]), "127.0.0.1:"+strconv.Itoa(ports[2*i+1])
			out[i] = nodeAddr{p2p: p2p, rpc: rpc, p2pListen: p2p, rpcListen: rpc}
		}
		return out, nil
	}
	base := opts.BasePort
	if base == 0 {
		base = DefaultBasePort
	}
	onHost := map[string]int{} // nodes placed on each host so far
	for i, h := range opts.Hosts {
		p2pPort := base + 2*onHost[h]
		onHost[h]++
		if p2pPort+1 > 65535 {
			return nil, fmt.Errorf("testnet: %s: ports from %d exceed 65535 for %d nodes on one host", h, base, onHost[h])
		}
		listen := h
		if opts.ListenHost != "" {
			listen = opts.ListenHost
		}
		p, r := strconv.Itoa(p2pPort), strconv.Itoa(p2pPort+1)
		out[i] = nodeAddr{host: h, p2p: net.JoinHostPort(h, p), rpc: net.JoinHostPort(h, r),
			p2pListen: net.JoinHostPort(listen, p), rpcListen: net.JoinHostPort(listen, r)}
	}
	return out, nil
}

// checkHosts validates o.Hosts: one per validator, each an IP address or a
// DNS name (no port: the ports come from BasePort).
func (o Options) checkHosts() error {
	if len(o.Hosts) == 0 {
		if o.ListenHost != "" {
			return errors.New("testnet: a listen host needs hosts")
		}
		return nil
	}
	if len(o.Hosts) != o.Validators {
		return fmt.Errorf("testnet: %d hosts for %d validators", len(o.Hosts), o.Validators)
	}
	for _, h := range o.Hosts {
		if err := checkHost(h); err != nil {
			return err
		}
	}
	if o.ListenHost != "" {
		if _, err := netip.ParseAddr(o.ListenHost); err != nil {
			return fmt.Errorf("%w: listen host %q is not an IP address", ErrBadHost, o.ListenHost)
		}
	}
	return nil
}

// checkHost accepts an IP address (not unspecified, not multicast) or a
// DNS name of letters, digits, hyphens and dots.
func checkHost(h string) error {
	if a, err := netip.ParseAddr(h); err == nil {
		if a.IsUnspecified() || a.IsMulticast() || a.Zone() != "" {
			return fmt.Errorf("%w: %q: want the address of one machine", ErrBadHost, h)
		}
		return nil
	}
	if h == "" || len(h) > maxHostLen {
		return fmt.Errorf("%w: %q: want an IP address or a DNS name", ErrBadHost, h)
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%w: %q: want an IP address or a DNS name", ErrBadHost, h)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("%w: %q: want an IP address or a DNS name", ErrBadHost, h)
			}
		}
	}
	return nil
}

// copyPassword writes the keystore password into every local-signer
// node's home when the homes are meant for other machines
// (Options.TargetHome), where config.toml expects it.
func copyPassword(opts Options, nodes []Node, password string) error {
	if opts.TargetHome == "" {
		return nil
	}
	for _, n := range nodes {
		if n.Signer == "remote" {
			continue // the node holds no key to unlock
		}
		if err := fsutil.WriteFileAtomic(filepath.Join(n.Home, PasswordFile), []byte(password+"\n"), 0o600); err != nil {
			return fmt.Errorf("testnet: %s: %w", n.Name, err)
		}
	}
	return nil
}

// GenerateHosts writes a testnet whose nodes run on separate machines:
// node i on hosts[i] (opts.Hosts), its home dir/nodeI meant to be copied to
// targetHome on that machine (default DefaultTargetHome). The nodes are
// not started here: testnet.json records where they will listen.
func GenerateHosts(dir string, opts Options) (*Manifest, error) {
	if len(opts.Hosts) == 0 {
		return nil, errors.New("testnet: no hosts")
	}
	if opts.Validators == 0 {
		opts.Validators = len(opts.Hosts)
	}
	if opts.TargetHome == "" {
		opts.TargetHome = DefaultTargetHome
	}
	opts.Kind = KindHosts
	return Generate(dir, opts)
}

// DefaultTargetHome is where GenerateHosts expects each node's home on its
// machine.
const DefaultTargetHome = "/var/lib/quorumchain"

// checkLocal refuses to run the nodes of a testnet meant for other
// machines or for containers.
func (m *Manifest) checkLocal(dir string) error {
	switch m.Kind {
	case KindHosts:
		return fmt.Errorf("testnet: %s holds homes for separate hosts; copy each to its machine and run 'quorumchain --home %s node' there (README, \"Validators on separate hosts\")", dir, DefaultTargetHome)
	case KindCompose:
		return fmt.Errorf("testnet: %s is a compose testnet; run 'docker-compose -f %s up -d' (or 'docker compose')", dir, filepath.Join(dir, ComposeFile))
	}
	return nil
}
