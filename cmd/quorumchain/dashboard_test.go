package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestnetDashboardPrintsURL: 'testnet dashboard' prints the dashboard
// URL of the first node, or of --node, from testnet.json; --no-open only
// prints; an unknown node is an error.
func TestTestnetDashboardPrintsURL(t *testing.T) {
	dir := t.TempDir()
	manifest := `{"chainId":"quorum-local","nodes":[{"name":"node0","http":"http://127.0.0.1:36651"},{"name":"node1","http":"http://127.0.0.1:36653"}]}`
	if err := os.WriteFile(filepath.Join(dir, "testnet.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := quorumchain(t, "testnet", "dashboard", "--dir", dir, "--no-open").ok(t); got != "http://127.0.0.1:36651/\n" {
		t.Errorf("default node: got %q", got)
	}
	if got := quorumchain(t, "testnet", "dashboard", "--dir", dir, "--node", "node1", "--no-open").ok(t); got != "http://127.0.0.1:36653/\n" {
		t.Errorf("--node node1: got %q", got)
	}
	quorumchain(t, "testnet", "dashboard", "--dir", dir, "--node", "node7", "--no-open").fails(t, "node7")
	// Without a browser (no $BROWSER, no display) the URL is printed and
	// the command succeeds.
	t.Setenv("BROWSER", "")
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	r := quorumchain(t, "testnet", "dashboard", "--dir", dir)
	if r.ok(t) != "http://127.0.0.1:36651/\n" || !strings.Contains(r.stderr, "not opened") {
		t.Errorf("no browser: got stdout %q stderr %q, want the URL and a note", r.stdout, r.stderr)
	}
}
