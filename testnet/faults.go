package testnet

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/quorumchain/quorumchain/node"
	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/validator"
)

// AdminTokenFile is the name, in a testnet directory, of the token that
// authenticates requests to the nodes' admin endpoints.
const AdminTokenFile = "admin-token"

// ErrNoFaults means the testnet was generated without the fault layer
// (its testnet.json records no admin endpoints).
var ErrNoFaults = errors.New("testnet has no fault injection (generated before it existed: generate a new one)")

// maxAdminAnswerBytes bounds an admin endpoint's answer.
const maxAdminAnswerBytes = 1 << 20

// Admin is a client of one node's admin endpoint.
type Admin struct {
	URL   string // http://127.0.0.1:PORT
	token string // hex
	http  *http.Client
}

// AdminOf returns the admin client of node name of the testnet in dir.
func AdminOf(dir, name string) (*Admin, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	n, err := m.Node(name)
	if err != nil {
		return nil, err
	}
	return m.admin(*n)
}

func (m *Manifest) admin(n Node) (*Admin, error) {
	if n.Admin == "" || m.AdminToken == "" {
		return nil, ErrNoFaults
	}
	tok, err := node.ReadAdminToken(m.AdminToken)
	if err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	return &Admin{URL: n.Admin, token: hex.EncodeToString(tok), http: &http.Client{Timeout: rpcCallTimeout}}, nil
}

// Faults lists the node's active faults.
func (a *Admin) Faults(ctx context.Context) (*rpc.FaultsResult, error) {
	return a.do(ctx, http.MethodGet, "/faults", nil)
}

// Partition makes the node neither send to nor accept from peers; none
// heals.
func (a *Admin) Partition(ctx context.Context, peers []p2p.NodeID) (*rpc.FaultsResult, error) {
	if len(peers) == 0 {
		return a.do(ctx, http.MethodDelete, "/faults/partition", nil)
	}
	req := node.AdminPartition{Peers: make([]string, len(peers))}
	for i, id := range peers {
		req.Peers[i] = id.String()
	}
	return a.do(ctx, http.MethodPut, "/faults/partition", req)
}

// Delay holds back the node's outgoing messages; zero clears it.
func (a *Admin) Delay(ctx context.Context, delay, jitter time.Duration) (*rpc.FaultsResult, error) {
	if delay == 0 && jitter == 0 {
		return a.do(ctx, http.MethodDelete, "/faults/delay", nil)
	}
	return a.do(ctx, http.MethodPut, "/faults/delay", node.AdminDelay{DelayMs: delay.Milliseconds(), JitterMs: jitter.Milliseconds()})
}

// Drop drops that fraction of the node's outgoing messages; zero clears it.
func (a *Admin) Drop(ctx context.Context, rate float64) (*rpc.FaultsResult, error) {
	if rate == 0 {
		return a.do(ctx, http.MethodDelete, "/faults/drop", nil)
	}
	return a.do(ctx, http.MethodPut, "/faults/drop", node.AdminDrop{Rate: &rate})
}

// Byzantine switches the node's validator into mode (off: honest).
func (a *Admin) Byzantine(ctx context.Context, mode validator.ByzantineMode) (*rpc.FaultsResult, error) {
	return a.do(ctx, http.MethodPut, "/faults/byzantine", node.AdminByzantine{Mode: mode.String()})
}

func (a *Admin) do(ctx context.Context, method, path string, body any) (*rpc.FaultsResult, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.URL+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin %s: %w (is the node running?)", a.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminAnswerBytes))
	if err != nil {
		return nil, fmt.Errorf("admin %s: %w", a.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e node.AdminError
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("admin %s: %s", a.URL, e.Error)
		}
		return nil, fmt.Errorf("admin %s: %s", a.URL, resp.Status)
	}
	var out rpc.FaultsResult
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("admin %s: answer: %w", a.URL, err)
	}
	return &out, nil
}

// nodeID reads the NodeID of n from its home's node key.
func nodeID(n Node) (p2p.NodeID, error) {
	path := node.Home(n.Home).NodeKeyPath()
	if _, err := os.Stat(path); err != nil {
		return p2p.NodeID{}, fmt.Errorf("testnet: %s: node key: %w", n.Name, err)
	}
	k, err := p2p.LoadOrCreateNodeKey(path)
	if err != nil {
		return p2p.NodeID{}, fmt.Errorf("testnet: %s: %w", n.Name, err)
	}
	return p2p.NodeIDFromKey(k), nil
}

// Partition splits the testnet's peer links into groups of node names:
// each node talks only to the nodes of its own group. The nodes named in no
// group form one more group together. Each node drops, both ways, every
// message of the nodes outside its group (so the links stay up, healing is
// instant, and redials change nothing). A node named twice, or an unknown
// name, is an error, and nothing changes.
func Partition(ctx context.Context, dir string, groups [][]string) error {
	m, err := LoadManifest(dir)
	if err != nil {
		return err
	}
	group := make(map[string]int, len(m.Nodes))
	for gi, g := range groups {
		if len(g) == 0 {
			return fmt.Errorf("testnet: partition group %d is empty", gi+1)
		}
		for _, name := range g {
			if _, err := m.Node(name); err != nil {
				return err
			}
			if prev, dup := group[name]; dup {
				return fmt.Errorf("testnet: %s is in partition groups %d and %d", name, prev+1, gi+1)
			}
			group[name] = gi
		}
	}
	rest := len(groups) // the nodes named in no group
	ids := make([]p2p.NodeID, len(m.Nodes))
	for i, n := range m.Nodes {
		if ids[i], err = nodeID(n); err != nil {
			return err
		}
		if _, ok := group[n.Name]; !ok {
			group[n.Name] = rest
		}
	}
	return m.eachNode(func(i int, a *Admin) error {
		var cut []p2p.NodeID
		for j, o := range m.Nodes {
			if group[o.Name] != group[m.Nodes[i].Name] {
				cut = append(cut, ids[j])
			}
		}
		_, err := a.Partition(ctx, cut)
		return err
	})
}

// Heal ends the partition on every node.
func Heal(ctx context.Context, dir string) error {
	m, err := LoadManifest(dir)
	if err != nil {
		return err
	}
	return m.eachNode(func(_ int, a *Admin) error {
		_, err := a.Partition(ctx, nil)
		return err
	})
}

// eachNode calls fn with the admin client of every node, running or not,
// and joins the errors, each naming its node.
func (m *Manifest) eachNode(fn func(i int, a *Admin) error) error {
	var errs []error
	for i, n := range m.Nodes {
		a, err := m.admin(n)
		if errors.Is(err, ErrNoFaults) {
			return err
		}
		if err == nil {
			err = fn(i, a)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

// ParseDelay parses DELAY[,JITTER] ("200ms", "200ms,50ms"); "0" and "off"
// mean no delay.
func ParseDelay(s string) (delay, jitter time.Duration, err error) {
	if s == "0" || s == "off" {
		return 0, 0, nil
	}
	ds, js, hasJitter := strings.Cut(s, ",")
	if delay, err = time.ParseDuration(ds); err != nil {
		return 0, 0, fmt.Errorf("delay %q: %w (want e.g. 200ms or 200ms,50ms)", s, err)
	}
	if hasJitter {
		if jitter, err = time.ParseDuration(js); err != nil {
			return 0, 0, fmt.Errorf("delay %q: jitter: %w (want e.g. 200ms,50ms)", s, err)
		}
	}
	if delay < 0 || jitter < 0 || delay+jitter > p2p.MaxFaultDelay {
		return 0, 0, fmt.Errorf("delay %q: each part at least 0, together at most %v", s, p2p.MaxFaultDelay)
	}
	if delay%time.Millisecond != 0 || jitter%time.Millisecond != 0 {
		return 0, 0, fmt.Errorf("delay %q: whole milliseconds only", s)
	}
	return delay, jitter, nil
}

// ParseDropRate parses a drop rate in [0, 1]; 0 clears it.
func ParseDropRate(s string) (float64, error) {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(r) || r < 0 || r > 1 {
		return 0, fmt.Errorf("drop rate %q: want a number from 0 to 1, e.g. 0.2", s)
	}
	return r, nil
}
