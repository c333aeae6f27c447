package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/node"
	"github.com/quorumchain/quorumchain/rpc"
)

// Bounds of the waits of the tests against a node.
const (
	cliNodeStartTimeout = 20 * time.Second
	cliNodeStopTimeout  = 10 * time.Second
	cliEventTimeout     = 20 * time.Second
)

// cliFreePort returns a port below 32768 (outside the ephemeral range) on
// 127.0.0.1 that nothing listens on now.
func cliFreePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(32768-20000)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		if err := ln.Close(); err != nil {
			t.Fatal(err)
		}
		return port
	}
	t.Fatal("no free port in 20000-32767 on 127.0.0.1")
	return 0
}

// closedRPC is the websocket URL of a port nothing listens on.
func closedRPC(t *testing.T) string {
	return fmt.Sprintf("ws://127.0.0.1:%d/ws", cliFreePort(t))
}

// cliNode is a single-validator node running in-process, whose validator
// key (also the genesis account) is KeyFile, encrypted with the password in
// PasswordFile.
type cliNode struct {
	Home         node.Home
	URL          string
	Validator    chain.Address
	KeyFile      string
	PasswordFile string

	password string
	cancel   context.CancelFunc
	done     chan error
}

// startCLINode initialises a node home in a temporary directory, with
// fast empty blocks, runs the node until the test ends, and waits for its
// first final block.
func startCLINode(t *testing.T) *cliNode {
	t.Helper()
	n := newCLINode(t, nil)
	n.waitHeight(t, 1)
	return n
}

// newCLINode is startCLINode without the wait; configure, if not nil,
// edits the node's configuration.
func newCLINode(t *testing.T, configure func(*node.Config, chain.Address)) *cliNode {
	t.Helper()
	dir := t.TempDir()
	const password = "node password"
	n := &cliNode{Home: node.Home(filepath.Join(dir, "home")), PasswordFile: writeFile(t, dir, "password.txt", password+"\n"), password: password}
	cfg := node.DefaultConfig()
	rpcPort := cliFreePort(t)
	cfg.RPC.ListenAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(rpcPort))
	cfg.P2P.ListenAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(cliFreePort(t)))
	cfg.Consensus.EmptyBlockInterval = node.Duration(200 * time.Millisecond)
	cfg.Log.Level = "error"
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		configure(&cfg, chain.PubkeyAddress(&key.PublicKey))
	}
	addr, err := node.Init(n.Home, node.InitOptions{ChainID: "quorum-cli-test", Password: password, LightKDF: true, Config: &cfg,
		Validator: crypto.FromECDSA(key)})
	if err != nil {
		t.Fatal(err)
	}
	n.Validator, n.KeyFile = addr, n.Home.ValidatorKeyPath()
	n.URL = fmt.Sprintf("ws://127.0.0.1:%d/ws", rpcPort)
	n.start(t)
	t.Cleanup(func() { n.stop(t) })
	return n
}

// start runs the node in a goroutine.
func (n *cliNode) start(t *testing.T) {
	t.Helper()
	nd, err := node.New(n.Home, slog.New(slog.DiscardHandler), node.Options{Password: n.password})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() { n.done <- nd.Run(ctx) }()
}

// stop stops the node and waits for Run to return. It does nothing if the
// node is stopped.
func (n *cliNode) stop(t *testing.T) {
	t.Helper()
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	select {
	case err := <-n.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("node stopped with %v", err)
		}
	case <-time.After(cliNodeStopTimeout):
		t.Errorf("node did not stop within %s", cliNodeStopTimeout)
	}
}

// waitHeight waits until height h is final, from the node's finalized
// events.
func (n *cliNode) waitHeight(t *testing.T, h uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliNodeStartTimeout)
	defer cancel()
	cl, err := rpc.Dial(ctx, n.URL)
	if err != nil {
		t.Fatalf("dial %s: %v", n.URL, err)
	}
	defer cl.Close()
	sub, err := cl.Subscribe(ctx, rpc.TopicFinalized, nil, h)
	if err != nil {
		t.Fatalf("subscribe finalized from %d: %v", h, err)
	}
	select {
	case raw, ok := <-sub.Results():
		if !ok {
			t.Fatalf("finalized subscription ended waiting for height %d: %v", h, <-sub.Err())
		}
		var ev rpc.FinalizedEvent
		if err := json.Unmarshal(raw, &ev); err != nil || ev.Height < h {
			t.Fatalf("waiting for height %d: got event %s (%v)", h, raw, err)
		}
	case <-ctx.Done():
		t.Fatalf("height %d not final within %s", h, cliNodeStartTimeout)
	}
}

// cli runs the command args[0] with args[1:] against the node: --rpc
// goes right after the command name.
func (n *cliNode) cli(t *testing.T, args ...string) result {
	t.Helper()
	return quorumchain(t, append([]string{args[0], "--rpc", n.URL}, args[1:]...)...)
}

// newAccountKey writes a new key file encrypted with the node's password
// and returns its path and address.
func (n *cliNode) newAccountKey(t *testing.T, name string) (string, chain.Address) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(n.PasswordFile), "keys")
	quorumchain(t, "keys", "new", "--dir", dir, "--name", name, "--password-file", n.PasswordFile, "--light-kdf").ok(t)
	path := filepath.Join(dir, name+".json")
	out := quorumchain(t, "keys", "show", path).ok(t)
	addr, err := chain.ParseAddress(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	return path, addr
}

// syncBuffer is an io.Writer safe for a command running in a goroutine
// while the test reads what it wrote.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
