package testnet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A netns testnet (Linux, root) runs each node in a network namespace of
// its own, with its own address on a private IPv4 subnet:
//
//	host: <hostLink> .1 ──veth── up0 ┐
//	                                 ├ br0 (in the hub namespace)
//	node i: eth0 .(10+i) ──veth── nI ┘
//
// The bridge lives in a namespace of its own (the hub) rather than on the
// host: a host bridge's traffic passes the host's iptables FORWARD chain
// when bridge netfilter is on, which dockerd turns on with a DROP policy.
// The hub has no rules, so nothing is added to the host's firewall, and
// the host reaches every node through its own end of a veth pair (its
// INPUT and OUTPUT, not FORWARD). Cutting a node takes its eth0 down in
// its namespace.
//
// Every name carries a tag derived from the testnet directory: namespaces
// qc-<tag>-hub and qc-<tag>-nodeI, the host link qc<tag>h. Teardown (Stop,
// or the next start after a supervisor was killed) finds and deletes
// exactly the namespaces and links with that tag.

// DefaultNetnsSubnet is the netns testnet's subnet: in 198.18.0.0/15, the
// range reserved for network benchmark tests (RFC 2544), so it is unlikely
// to clash with a network of the machine.
const DefaultNetnsSubnet = "198.18.213.0/24"

// netnsFirstNode is the host number of node0 in the subnet (.1 is the
// host).
const netnsFirstNode = 10

// netnsCmdTimeout bounds one ip command.
const netnsCmdTimeout = 10 * time.Second

// ErrNetnsUnsupported means this machine cannot run a netns testnet.
var ErrNetnsUnsupported = errors.New("testnet: network namespaces need Linux, root and the ip command (iproute2)")

// ErrSubnetInUse means the chosen subnet overlaps an address of the host.
var ErrSubnetInUse = errors.New("testnet: subnet in use")

// Netns is the network of a netns testnet, recorded in testnet.json.
type Netns struct {
	// Tag is in the name of every namespace and link of this testnet.
	Tag string `json:"tag"`
	// Subnet is the private IPv4 subnet; HostAddr the host's address in it.
	Subnet   string `json:"subnet"`
	HostAddr string `json:"hostAddr"`
	// Hub is the namespace holding the bridge; HostLink the host's end of
	// its veth pair to the hub.
	Hub      string `json:"hub"`
	HostLink string `json:"hostLink"`
}

// NetnsOptions ask Start for a netns testnet.
type NetnsOptions struct {
	// Subnet is an IPv4 prefix of at most 24 bits; empty:
	// DefaultNetnsSubnet.
	Subnet string
}

// NetnsTag returns the tag of the netns testnet in dir: eight hex digits
// of the hash of its absolute path.
func NetnsTag(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(abs))
	return hex.EncodeToString(h[:4]), nil
}

func netnsPrefix(tag string) string     { return "qc-" + tag + "-" }
func netnsLinkPrefix(tag string) string { return "qc" + tag }

// planNetns returns the network of a netns testnet of n nodes in dir and
// each node's address.
func planNetns(dir, subnet string, n int) (*Netns, []string, error) {
	if subnet == "" {
		subnet = DefaultNetnsSubnet
	}
	p, err := netip.ParsePrefix(subnet)
	if err != nil || !p.Addr().Is4() || p.Bits() > 24 || p.Bits() < 8 {
		return nil, nil, fmt.Errorf("testnet: subnet %q: want an IPv4 prefix from /8 to /24, e.g. %s", subnet, DefaultNetnsSubnet)
	}
	p = p.Masked()
	if n > 200 {
		return nil, nil, fmt.Errorf("testnet: %d nodes: a netns testnet has at most 200", n)
	}
	tag, err := NetnsTag(dir)
	if err != nil {
		return nil, nil, err
	}
	base := p.Addr().As4()
	at := func(host int) netip.Addr {
		a := base
		a[3] += byte(host)
		return netip.AddrFrom4(a)
	}
	nn := &Netns{Tag: tag, Subnet: p.String(), HostAddr: at(1).String(), Hub: netnsPrefix(tag) + "hub", HostLink: netnsLinkPrefix(tag) + "h"}
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = at(netnsFirstNode + i).String()
	}
	return nn, hosts, nil
}

// generateLocal generates the testnet of a start: on 127.0.0.1, or with
// opts.Netns one node per namespace, each at its own address.
func generateLocal(dir string, opts StartOptions) (*Manifest, error) {
	if opts.Netns == nil {
		return Generate(dir, opts.Generate)
	}
	if err := checkNetnsSupport(); err != nil {
		return nil, err
	}
	g := opts.Generate
	if g.Validators < 1 {
		return nil, fmt.Errorf("testnet: need at least one validator, got %d", g.Validators)
	}
	nn, hosts, err := planNetns(dir, opts.Netns.Subnet, g.Validators)
	if err != nil {
		return nil, err
	}
	g.Hosts, g.Kind, g.BasePort, g.ListenHost, g.TargetHome = hosts, KindNetns, DefaultBasePort, "", ""
	m, err := Generate(dir, g)
	if err != nil {
		return nil, err
	}
	m.Netns = nn
	for i := range m.Nodes {
		m.Nodes[i].Netns = netnsPrefix(nn.Tag) + m.Nodes[i].Name
	}
	return m, m.Save(dir)
}

// netnsDownAfterFailure removes a netns testnet's network after a failed
// launch (its nodes are stopped).
func (t *Testnet) netnsDownAfterFailure(m *Manifest) error {
	if m.Netns == nil {
		return nil
	}
	return netnsDown(context.Background(), m.Netns.Tag)
}

// checkNetnsSupport reports ErrNetnsUnsupported, with the reason, when
// this process cannot create namespaces.
func checkNetnsSupport() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("%w: this is %s", ErrNetnsUnsupported, runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: running as uid %d", ErrNetnsUnsupported, os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("%w: %w", ErrNetnsUnsupported, err)
	}
	return nil
}

// ipRun runs `ip args...`.
func ipRun(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, netnsCmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("testnet: ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// netnsUp creates the network of m (after removing what an earlier run
// with the same tag left behind): the hub with its bridge, the host's
// link, and one namespace per node with its address.
func netnsUp(ctx context.Context, m *Manifest) (err error) {
	nn := m.Netns
	if err := checkNetnsSupport(); err != nil {
		return err
	}
	if err := netnsDown(ctx, nn.Tag); err != nil {
		return err
	}
	if err := checkSubnetFree(nn); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, netnsDown(context.WithoutCancel(ctx), nn.Tag))
		}
	}()
	bits := strconv.Itoa(netip.MustParsePrefix(nn.Subnet).Bits())
	steps := [][]string{
		{"netns", "add", nn.Hub},
		{"-n", nn.Hub, "link", "add", "br0", "type", "bridge"},
		{"-n", nn.Hub, "link", "set", "br0", "up"},
		{"link", "add", nn.HostLink, "type", "veth", "peer", "name", "up0", "netns", nn.Hub},
		{"addr", "add", nn.HostAddr + "/" + bits, "dev", nn.HostLink},
		{"link", "set", nn.HostLink, "up"},
		{"-n", nn.Hub, "link", "set", "up0", "master", "br0", "up"},
	}
	for i, n := range m.Nodes {
		port := "n" + strconv.Itoa(i)
		steps = append(steps,
			[]string{"netns", "add", n.Netns},
			[]string{"-n", n.Netns, "link", "set", "lo", "up"},
			[]string{"-n", nn.Hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", n.Netns},
			[]string{"-n", nn.Hub, "link", "set", port, "master", "br0", "up"},
			[]string{"-n", n.Netns, "addr", "add", n.Host + "/" + bits, "dev", "eth0"},
			[]string{"-n", n.Netns, "link", "set", "eth0", "up"},
		)
	}
	for _, s := range steps {
		if err := ipRun(ctx, s...); err != nil {
			return err
		}
	}
	return nil
}

// checkSubnetFree refuses a subnet that overlaps an address of a host
// interface other than this testnet's own.
func checkSubnetFree(nn *Netns) error {
	p := netip.MustParsePrefix(nn.Subnet)
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("testnet: list interfaces: %w", err)
	}
	for _, ifc := range ifs {
		if strings.HasPrefix(ifc.Name, netnsLinkPrefix(nn.Tag)) {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ap, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ones, _ := ipn.Mask.Size()
			other := netip.PrefixFrom(ap.Unmap(), ones).Masked()
			if other.Overlaps(p) {
				return fmt.Errorf("%w: %s overlaps %s on %s; pick another with --subnet", ErrSubnetInUse, nn.Subnet, a, ifc.Name)
			}
		}
	}
	return nil
}

// NetnsResidue lists the namespaces and host links with tag that exist
// now (after a clean stop: none).
func NetnsResidue(ctx context.Context, tag string) ([]string, error) {
	var out []string
	ctx, cancel := context.WithTimeout(ctx, netnsCmdTimeout)
	defer cancel()
	b, err := exec.CommandContext(ctx, "ip", "netns", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("testnet: ip netns list: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], netnsPrefix(tag)) {
			out = append(out, "netns "+f[0])
		}
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("testnet: list interfaces: %w", err)
	}
	for _, ifc := range ifs {
		if strings.HasPrefix(ifc.Name, netnsLinkPrefix(tag)) {
			out = append(out, "link "+ifc.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// netnsDown deletes every host link and namespace with tag, then checks
// that none is left. Deleting the host link deletes its peer in the hub;
// deleting a namespace deletes the links inside it. A namespace in which
// a process still runs outlives its name, so callers stop the nodes
// first.
func netnsDown(ctx context.Context, tag string) error {
	found, err := NetnsResidue(ctx, tag)
	if err != nil || len(found) == 0 {
		return err
	}
	var errs []error
	for _, f := range found { // "link X" sorts before "netns X"
		kind, name, _ := strings.Cut(f, " ")
		var err error
		if kind == "link" {
			err = ipRun(ctx, "link", "del", name)
		} else {
			err = ipRun(ctx, "netns", "del", name)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	// A deleted namespace's links go away asynchronously.
	deadline := time.Now().Add(netnsCmdTimeout)
	for {
		left, err := NetnsResidue(ctx, tag)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		if len(left) == 0 {
			return errors.Join(errs...)
		}
		if time.Now().After(deadline) {
			return errors.Join(append(errs, fmt.Errorf("testnet: still present after teardown: %s", strings.Join(left, ", ")))...)
		}
		sleepCtx(ctx, processPoll)
	}
}

// Cut takes node name's link down in its namespace (a netns testnet): its
// peers and the host lose it, at the kernel, until Restore.
func Cut(ctx context.Context, dir, name string) error { return setLink(ctx, dir, name, true) }

// Restore brings node name's link up again after Cut.
func Restore(ctx context.Context, dir, name string) error { return setLink(ctx, dir, name, false) }

func setLink(ctx context.Context, dir, name string, cut bool) error {
	_, err := updateManifest(dir, func(m *Manifest) error {
		if m.Kind != KindNetns || m.Netns == nil {
			return fmt.Errorf("testnet: %s is not a netns testnet (start one with 'quorumchain testnet start --netns')", dir)
		}
		n, err := m.Node(name)
		if err != nil {
			return err
		}
		state := "up"
		if cut {
			state = "down"
		}
		if err := ipRun(ctx, "-n", n.Netns, "link", "set", "eth0", state); err != nil {
			return err
		}
		n.Cut = cut
		return nil
	})
	return err
}
