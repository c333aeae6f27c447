package testnet

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/quorumchain/quorumchain/rpc"
)

// Commands on a running testnet, from any process, through testnet.json.

// Stopped reports one node that Stop stopped.
type Stopped struct {
	Name string
	PID  int
	// Killed is true when the node ignored SIGTERM for the grace period
	// and was killed.
	Killed bool
}

// Stop stops every running node of the testnet in dir: SIGTERM to each
// recorded PID, a grace period to exit cleanly, SIGKILL for stragglers.
// It records pid 0 for every node it stopped.
func Stop(dir string) ([]Stopped, error) {
	var out []Stopped
	var errs []error
	_, err := updateManifest(dir, func(m *Manifest) error {
		if err := m.checkLocal(dir); err != nil {
			return err
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range m.Nodes {
			n := &m.Nodes[i]
			if n.PID == 0 {
				continue
			}
			wg.Go(func() {
				killed, err := stopProcess(n.PID, n.Home, stopGrace)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
					return
				}
				out = append(out, Stopped{Name: n.Name, PID: n.PID, Killed: killed})
				n.PID = 0
			})
		}
		wg.Wait()
		if m.Netns != nil && len(errs) == 0 {
			// Every node is stopped: remove the network (after a supervisor
			// was killed, too: the tag finds what it left).
			if err := netnsDown(context.Background(), m.Netns.Tag); err != nil {
				errs = append(errs, err)
			}
			for i := range m.Nodes {
				m.Nodes[i].Cut = false
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Stopped) int { return cmpNames(a.Name, b.Name) })
	return out, errors.Join(append(errs, err)...)
}

// cmpNames orders node names like node2 < node10.
func cmpNames(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Kill kills node name of the testnet in dir with SIGKILL (a crash, for
// fault injection), waits until it is gone and records pid 0. It returns
// the PID it killed.
func Kill(dir, name string) (int, error) {
	var pid int
	_, err := updateManifest(dir, func(m *Manifest) error {
		n, err := m.Node(name)
		if err != nil {
			return err
		}
		sent, err := signalNode(n.PID, n.Home, syscall.SIGKILL)
		if err != nil {
			return err
		}
		if !sent {
			n.PID = 0
			return fmt.Errorf("testnet: %s is %w", name, ErrNotRunning)
		}
		if !waitGone(n.PID, n.Home, killGrace) {
			return fmt.Errorf("testnet: %s (pid %d) survives SIGKILL", name, n.PID)
		}
		pid, n.PID = n.PID, 0
		return nil
	})
	return pid, err
}

// Restart starts node name of the testnet in dir again (stopping it
// first if it runs), records its new PID and waits, up to ctx and a bound,
// until its RPC answers. binary is the quorumchain binary; empty: this
// executable. The node is not tied to ctx: it runs until stopped.
func Restart(ctx context.Context, dir, name, binary string) (int, error) {
	binary, err := binaryPath(binary)
	if err != nil {
		return 0, err
	}
	var c *child
	m, err := updateManifest(dir, func(m *Manifest) error {
		if err := m.checkLocal(dir); err != nil {
			return err
		}
		n, err := m.Node(name)
		if err != nil {
			return err
		}
		if _, err := stopProcess(n.PID, n.Home, stopGrace); err != nil {
			return err
		}
		if n.Netns != "" && m.Netns != nil {
			res, err := NetnsResidue(ctx, m.Netns.Tag)
			if err != nil {
				return err
			}
			if !slices.Contains(res, "netns "+n.Netns) {
				return fmt.Errorf("testnet: %s: its namespace %s is gone (the testnet was stopped): start the testnet again", name, n.Netns)
			}
		}
		if c, err = spawnNode(binary, *n); err != nil {
			n.PID = 0
			return err
		}
		n.PID = c.cmd.Process.Pid
		return nil
	})
	if err != nil {
		return 0, err
	}
	n, err := m.Node(name)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, restartRPCReady)
	defer cancel()
	hc, err := rpc.Dial(ctx, n.HTTP)
	if err != nil {
		return n.PID, err
	}
	for {
		cctx, ccancel := context.WithTimeout(ctx, rpcCallTimeout)
		_, err := hc.Status(cctx)
		ccancel()
		if err == nil {
			return n.PID, nil
		}
		select {
		case <-c.exited:
			return 0, fmt.Errorf("testnet: %s exited after restart: %v; last lines of %s:\n%s",
				name, c.err, filepath.Join(n.Home, LogFile), logTail(n.Home))
		case <-ctx.Done():
			return n.PID, fmt.Errorf("testnet: %s (pid %d) started but its RPC does not answer: %w", name, n.PID, err)
		case <-time.After(dialRetry):
		}
	}
}

// NodeStatus is one node in Status.
type NodeStatus struct {
	Node
	Running bool   `json:"running"`
	Height  uint64 `json:"height"`
	Peers   int    `json:"peers"`
	Syncing bool   `json:"syncing"`
	// Error says why the RPC did not answer a running node.
	Error string `json:"error,omitempty"`
	// Faults are the faults injected into a running node (net_getFaults).
	Faults []rpc.FaultResult `json:"faults"`
}

// Status reports, for each node of the testnet in dir, whether its
// recorded PID runs, and its height and peers from its RPC. The nodes of
// a hosts or compose testnet run elsewhere: each counts as running when
// its RPC answers.
func Status(ctx context.Context, dir string) ([]NodeStatus, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	out := make([]NodeStatus, len(m.Nodes))
	var wg sync.WaitGroup
	elsewhere := m.Kind == KindHosts || m.Kind == KindCompose
	for i, n := range m.Nodes {
		out[i] = NodeStatus{Node: n, Running: elsewhere || nodeRunning(n.PID, n.Home), Faults: []rpc.FaultResult{}}
		if !out[i].Running {
			out[i].PID = 0
			continue
		}
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, rpcCallTimeout)
			defer cancel()
			c, err := rpc.Dial(cctx, n.HTTP)
			if err == nil {
				var st *rpc.StatusResult
				if st, err = c.Status(cctx); err == nil {
					out[i].Height, out[i].Peers, out[i].Syncing = st.Height, st.Peers, st.Syncing
				}
				var f *rpc.FaultsResult
				if err == nil {
					if f, err = c.Faults(cctx); err == nil {
						out[i].Faults = f.Faults
					}
				}
			}
			if err != nil {
				out[i].Error = err.Error()
				out[i].Running = !elsewhere // a local process runs but does not answer
			}
		})
	}
	wg.Wait()
	return out, nil
}
