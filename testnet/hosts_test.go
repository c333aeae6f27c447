package testnet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/quorumchain/quorumchain/node"
	"github.com/quorumchain/quorumchain/testnet"
)

func readConfig(t *testing.T, home string) *node.Config {
	t.Helper()
	b, err := os.ReadFile(node.Home(home).ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := node.ParseConfig(b)
	if err != nil {
		t.Fatalf("%s: %v", home, err)
	}
	return cfg
}

// TestGenerateHosts: each node listens on its host's address, peers with
// the others at theirs, and finds the password in its own home; nodes
// sharing a host take the next ports.
func TestGenerateHosts(t *testing.T) {
	dir := t.TempDir()
	hosts := []string{"10.0.0.1", "10.0.0.2", "10.0.0.2", "node3.example.org"}
	m, err := testnet.GenerateHosts(dir, testnet.Options{Hosts: hosts, Stakes: []uint64{40, 30, 20, 10}, BasePort: 27000})
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != testnet.KindHosts || len(m.Nodes) != 4 {
		t.Fatalf("kind %q with %d nodes, want %q with 4", m.Kind, len(m.Nodes), testnet.KindHosts)
	}
	wantP2P := []string{"10.0.0.1:27000", "10.0.0.2:27000", "10.0.0.2:27002", "node3.example.org:27000"}
	wantRPC := []string{"10.0.0.1:27001", "10.0.0.2:27001", "10.0.0.2:27003", "node3.example.org:27001"}
	password, err := os.ReadFile(m.PasswordFile)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range m.Nodes {
		cfg := readConfig(t, n.Home)
		if cfg.P2P.ListenAddr != wantP2P[i] || cfg.RPC.ListenAddr != wantRPC[i] {
			t.Errorf("%s listens on p2p %s, rpc %s; want %s, %s", n.Name, cfg.P2P.ListenAddr, cfg.RPC.ListenAddr, wantP2P[i], wantRPC[i])
		}
		if n.P2P != wantP2P[i] || n.RPC != "ws://"+wantRPC[i]+"/ws" || n.Host != hosts[i] {
			t.Errorf("%s in testnet.json: p2p %s, rpc %s, host %s", n.Name, n.P2P, n.RPC, n.Host)
		}
		peers := slices.Clone(cfg.P2P.PersistentPeers)
		slices.Sort(peers)
		others := slices.Delete(slices.Clone(wantP2P), i, i+1)
		slices.Sort(others)
		if !slices.Equal(peers, others) {
			t.Errorf("%s peers %v, want %v", n.Name, peers, others)
		}
		if cfg.Signer.PasswordFile != testnet.DefaultTargetHome+"/"+testnet.PasswordFile {
			t.Errorf("%s password_file %q, want it in the target home %s", n.Name, cfg.Signer.PasswordFile, testnet.DefaultTargetHome)
		}
		got, err := os.ReadFile(filepath.Join(n.Home, testnet.PasswordFile))
		if err != nil || string(got) != string(password) {
			t.Errorf("%s: password in its home %q (%v), want the testnet's", n.Name, got, err)
		}
		if _, err := os.Stat(node.Home(n.Home).ValidatorKeyPath()); err != nil {
			t.Errorf("%s: validator key: %v", n.Name, err)
		}
	}
	// The nodes run elsewhere: start refuses the directory.
	_, err = testnet.Start(context.Background(), dir, testnet.StartOptions{Detach: true})
	if err == nil || !strings.Contains(err.Error(), "separate hosts") {
		t.Fatalf("start on a hosts testnet: %v, want a refusal", err)
	}
}

func TestGenerateHostsRejectsBadHosts(t *testing.T) {
	for _, h := range []string{"10.0.0.1:26656", "", "0.0.0.0", "::", "a..b", "-x.org", "x_y", "224.0.0.1", "a b"} {
		_, err := testnet.GenerateHosts(t.TempDir(), testnet.Options{Hosts: []string{"10.0.0.9", h}})
		if !errors.Is(err, testnet.ErrBadHost) {
			t.Errorf("host %q: %v, want ErrBadHost", h, err)
		}
	}
	_, err := testnet.GenerateHosts(t.TempDir(), testnet.Options{Validators: 3, Hosts: []string{"10.0.0.1", "10.0.0.2"}})
	if err == nil || !strings.Contains(err.Error(), "2 hosts for 3 validators") {
		t.Errorf("2 hosts for 3 validators: %v", err)
	}
}

// TestGenerateCompose: services reach each other by name, listen on every
// address of their container, read the password from the mounted home,
// and the RPCs are published on 127.0.0.1 as testnet.json says; the homes
// belong to the user the containers run as, never root.
func TestGenerateCompose(t *testing.T) {
	dir := t.TempDir()
	m, err := testnet.GenerateCompose(dir, testnet.ComposeOptions{Image: "quorumchain:test", Generate: testnet.Options{Validators: 3}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, testnet.ComposeFile))
	if err != nil {
		t.Fatal(err)
	}
	file := string(b)
	uid := os.Geteuid()
	if uid == 0 {
		uid = testnet.ImageUID
	}
	for i, n := range m.Nodes {
		cfg := readConfig(t, n.Home)
		if cfg.P2P.ListenAddr != "0.0.0.0:26656" || cfg.RPC.ListenAddr != "0.0.0.0:26657" {
			t.Errorf("%s listens on %s and %s, want 0.0.0.0:26656 and 0.0.0.0:26657", n.Name, cfg.P2P.ListenAddr, cfg.RPC.ListenAddr)
		}
		if !slices.Contains(cfg.P2P.PersistentPeers, m.Nodes[(i+1)%3].Name+":26656") {
			t.Errorf("%s peers %v: want the other services by name", n.Name, cfg.P2P.PersistentPeers)
		}
		if cfg.Signer.PasswordFile != testnet.ContainerHome+"/"+testnet.PasswordFile {
			t.Errorf("%s password_file %q", n.Name, cfg.Signer.PasswordFile)
		}
		port := strings.TrimSuffix(strings.TrimPrefix(n.RPC, "ws://127.0.0.1:"), "/ws")
		for _, want := range []string{"  " + n.Name + ":\n", `"127.0.0.1:` + port + `:26657"`, `"./` + n.Name + `:` + testnet.ContainerHome + `"`} {
			if !strings.Contains(file, want) {
				t.Errorf("compose file lacks %q:\n%s", want, file)
			}
		}
		st, err := os.Stat(node.Home(n.Home).ValidatorKeyPath())
		if err != nil {
			t.Fatal(err)
		}
		if owner := int(st.Sys().(*syscall.Stat_t).Uid); owner != uid {
			t.Errorf("%s: validator key owned by uid %d, want %d (the containers' user)", n.Name, owner, uid)
		}
	}
	if !strings.Contains(file, `image: "quorumchain:test"`) || strings.Contains(file, `user: "0:`) || !strings.HasPrefix(strings.SplitN(file, "version:", 2)[1], ` "3"`) {
		t.Errorf("compose file:\n%s", file)
	}
}
