package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/testnet"
)

// TestTestnetGenerateHosts: `testnet generate --hosts` writes one home per
// host, prints where each listens and which ports to open, and refuses to
// overwrite a testnet.
func TestTestnetGenerateHosts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net")
	out := quorumchain(t, "testnet", "generate", "--dir", dir, "--hosts", "10.1.0.1, 10.1.0.2,10.1.0.3", "--stakes", "3,2,1", "--base-port", "30000").ok(t)
	for _, want := range []string{"10.1.0.2:30000", "ws://10.1.0.3:30001/ws", "open TCP 30000", "and 30001"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	m, err := testnet.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != testnet.KindHosts || len(m.Nodes) != 3 || m.Nodes[1].Host != "10.1.0.2" || m.Nodes[2].Stake != "1" {
		t.Fatalf("manifest: %+v", m)
	}
	if _, err := os.Stat(filepath.Join(dir, "node2", testnet.PasswordFile)); err != nil {
		t.Fatalf("password in node2's home: %v", err)
	}
	quorumchain(t, "testnet", "generate", "--dir", dir, "--hosts", "10.1.0.1").fails(t, "already generated")
	quorumchain(t, "testnet", "generate", "--dir", t.TempDir(), "--hosts", "10.1.0.1:26656").fails(t, "bad host")
	quorumchain(t, "testnet", "generate", "--dir", t.TempDir(), "--hosts", "10.1.0.1,10.1.0.2", "--stakes", "1").fails(t, "1 stakes for 2 validators")
	// A hosts testnet runs elsewhere: cut, stop and start refuse it.
	quorumchain(t, "testnet", "cut", "--dir", dir, "node0").fails(t, "not a netns testnet")
	quorumchain(t, "testnet", "stop", "--dir", dir).fails(t, "separate hosts")
}

// TestTestnetCompose: `testnet compose` writes the compose file and
// testnet.json with the published RPC URLs.
func TestTestnetCompose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cnet")
	out := quorumchain(t, "testnet", "compose", "--dir", dir, "-n", "2", "--base-port", "31000", "--image", "example.org/qc:v1").ok(t)
	for _, want := range []string{"ws://127.0.0.1:31001/ws", "ws://127.0.0.1:31003/ws", "docker-compose up -d"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, testnet.ComposeFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`image: "example.org/qc:v1"`, `"127.0.0.1:31003:26657"`, "  node1:\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("compose file lacks %q:\n%s", want, b)
		}
	}
	quorumchain(t, "testnet", "compose", "--dir", t.TempDir(), "--image", "bad image").fails(t, "not an image reference")
	quorumchain(t, "testnet", "start", "--dir", dir, "--detach").fails(t, "compose testnet")
}
