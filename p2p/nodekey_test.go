package p2p

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

func TestLoadOrCreateNodeKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config", "node_key.json")
	key, err := LoadOrCreateNodeKey(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode: got %o, want 600", mode)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]string
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("file is not JSON: %v: %s", err, b)
	}
	if len(f) != 1 || !regexp.MustCompile(`^0x[0-9a-f]{64}$`).MatchString(f["privKey"]) {
		t.Errorf("file: got %s, want {\"privKey\":\"0x<64 hex>\"}", b)
	}
	again, err := LoadOrCreateNodeKey(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !again.Equal(key) {
		t.Error("reload returned another key")
	}
	id := NodeIDFromKey(key)
	if got, want := id.String(), "0x"+hex.EncodeToString(crypto.PubkeyToAddress(key.PublicKey).Bytes()); got != want {
		t.Errorf("NodeID: got %s, want %s", got, want)
	}
	parsed, err := ParseNodeID(id.String())
	if err != nil || parsed != id {
		t.Errorf("ParseNodeID(%s): got %s, %v", id, parsed, err)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only node_key.json (no temporary left)", len(entries))
	}
}

func TestLoadNodeKeyRejectsBadFiles(t *testing.T) {
	for name, body := range map[string]string{
		"not json":      "privKey=1",
		"no 0x":         `{"privKey":"0101010101010101010101010101010101010101010101010101010101010101"}`,
		"short":         `{"privKey":"0x0101"}`,
		"zero key":      `{"privKey":"0x0000000000000000000000000000000000000000000000000000000000000000"}`,
		"unknown field": `{"privKey":"0x0101010101010101010101010101010101010101010101010101010101010101","x":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "node_key.json")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreateNodeKey(path); err == nil {
				t.Fatal("got a key, want an error")
			}
			after, err := os.ReadFile(path)
			if err != nil || string(after) != body {
				t.Errorf("bad key file was modified: %q, %v", after, err)
			}
		})
	}
}
