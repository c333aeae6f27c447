package testnet

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/quorumchain/quorumchain/internal/fsutil"
)

// A compose testnet runs each validator in a container of the image that
// `make image` builds (FROM scratch, the static quorumchain, USER
// ImageUID:ImageGID), with its home mounted at ContainerHome, on one
// compose network where peers reach each other by service name. Node i's
// RPC is published on 127.0.0.1 at BasePort+2i+1, so node0 answers on the
// client commands' default URL when BasePort is the default.

// Compose defaults.
const (
	// ComposeFile is the compose file in the testnet directory: the name
	// docker-compose v1 and `docker compose` v2 look for by default.
	ComposeFile = "docker-compose.yml"
	// DefaultImage is the image `make image` builds.
	DefaultImage = "quorumchain:latest"
	// ContainerHome is where each node's home is mounted in its container.
	ContainerHome = "/var/lib/quorumchain"
	// ImageUID and ImageGID are the image's non-root user.
	ImageUID, ImageGID = 10001, 10001
	// composeNetwork is the compose network's name in the file.
	composeNetwork = "quorumchain"
)

// ComposeOptions shape GenerateCompose.
type ComposeOptions struct {
	// Generate shapes the testnet; its Hosts, ListenHost, TargetHome and
	// Kind are set by GenerateCompose. BasePort 0 picks free host ports
	// for the published RPCs.
	Generate Options
	// Image is the image of every node; empty: DefaultImage.
	Image string
}

// GenerateCompose writes a compose testnet into dir: the homes (as
// Generate, with the keystore password in each home), dir/ComposeFile,
// and testnet.json whose RPC URLs are the published ports on 127.0.0.1.
//
// The homes must be writable by the containers' user. Run as root, it
// gives them to ImageUID:ImageGID and the containers run as that user;
// run as another user, the containers run as that user's uid:gid (so
// that the user keeps access to the homes), never as root.
func GenerateCompose(dir string, opts ComposeOptions) (*Manifest, error) {
	g := opts.Generate
	if g.Validators < 1 {
		return nil, fmt.Errorf("testnet: need at least one validator, got %d", g.Validators)
	}
	if g.RemoteSigners > 0 {
		return nil, errors.New("testnet: a compose testnet has local signers only")
	}
	if opts.Image == "" {
		opts.Image = DefaultImage
	}
	if strings.ContainsAny(opts.Image, " \t\n\"'\\") {
		return nil, fmt.Errorf("testnet: image %q: not an image reference", opts.Image)
	}
	published, err := pickPorts(g.BasePort, 2*g.Validators)
	if err != nil {
		return nil, err
	}
	g.Hosts = make([]string, g.Validators)
	for i := range g.Hosts {
		g.Hosts[i] = nodeName(i) // the service name, resolved on the compose network
	}
	g.BasePort, g.ListenHost, g.TargetHome, g.Kind = DefaultBasePort, "0.0.0.0", ContainerHome, KindCompose
	m, err := Generate(dir, g)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	uid, gid := os.Geteuid(), os.Getegid()
	if uid == 0 {
		uid, gid = ImageUID, ImageGID
		for _, n := range m.Nodes {
			if err := chownTree(n.Home, uid, gid); err != nil {
				return nil, err
			}
		}
	}
	rpcPorts := make([]int, len(m.Nodes))
	for i := range m.Nodes {
		rpcPorts[i] = published[2*i+1]
		url := "127.0.0.1:" + strconv.Itoa(rpcPorts[i])
		m.Nodes[i].RPC, m.Nodes[i].HTTP = "ws://"+url+"/ws", "http://"+url
	}
	file := composeYAML(m, opts.Image, uid, gid, rpcPorts)
	if err := fsutil.WriteFileAtomic(filepath.Join(abs, ComposeFile), file, 0o644); err != nil {
		return nil, err
	}
	return m, m.Save(abs)
}

// composeYAML renders the compose file. Its keys are those of the version
// "3" format, which docker-compose v1 and `docker compose` v2 both read;
// every string is quoted, and none holds a quote (names are nodeI, the
// image is checked).
func composeYAML(m *Manifest, image string, uid, gid int, rpcPorts []int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# quorumchain compose testnet %q: %d validators.\n", m.ChainID, len(m.Nodes))
	fmt.Fprintf(&b, "# Start: docker-compose up -d (or docker compose up -d) in this directory.\n")
	fmt.Fprintf(&b, "# Node i's RPC is published on 127.0.0.1; testnet.json lists the URLs.\n")
	fmt.Fprintf(&b, "version: \"3\"\nservices:\n")
	for i, n := range m.Nodes {
		fmt.Fprintf(&b, "  %s:\n", n.Name)
		fmt.Fprintf(&b, "    image: %q\n", image)
		fmt.Fprintf(&b, "    user: \"%d:%d\"\n", uid, gid)
		fmt.Fprintf(&b, "    command: [\"--home\", %q, \"node\"]\n", ContainerHome)
		fmt.Fprintf(&b, "    volumes:\n      - \"./%s:%s\"\n", n.Name, ContainerHome)
		fmt.Fprintf(&b, "    ports:\n      - \"127.0.0.1:%d:%d\"\n", rpcPorts[i], DefaultBasePort+1)
		fmt.Fprintf(&b, "    networks:\n      - %s\n", composeNetwork)
		fmt.Fprintf(&b, "    stop_grace_period: 10s\n")
	}
	fmt.Fprintf(&b, "networks:\n  %s: {}\n", composeNetwork)
	return b.Bytes()
}

// chownTree gives every file under root to uid:gid.
func chownTree(root string, uid, gid int) error {
	return filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, uid, gid); err != nil {
			return fmt.Errorf("testnet: %w", err)
		}
		return nil
	})
}
