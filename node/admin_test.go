package node

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/p2p"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/validator"
)

type nopHandler struct{}

func (nopHandler) Receive(p2p.NodeID, p2p.Message) error { return nil }
func (nopHandler) PeerConnected(p2p.PeerInfo)            {}
func (nopHandler) PeerDisconnected(p2p.NodeID)           {}

// startAdmin serves an admin endpoint over a fresh fault layer and, if
// byzantine, a switchable local signer.
func startAdmin(t *testing.T, byzantine bool) (url string, token []byte) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sw, err := p2p.NewSwitch(p2p.Config{ChainID: "quorum-test", NodeKey: key, Faults: true}, nopHandler{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fc := &faultControl{layer: sw.Faults()}
	if byzantine {
		s, err := validator.NewLocalSigner(key, &validator.MemoryState{})
		if err != nil {
			t.Fatal(err)
		}
		s.AllowByzantine()
		fc.signer = s
	}
	token = make([]byte, AdminTokenBytes)
	for i := range token {
		token[i] = byte(i + 1)
	}
	a := &adminServer{faults: fc, token: token, log: slog.New(slog.DiscardHandler), now: time.Now}
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	return srv.URL, token
}

func adminDo(t *testing.T, method, url, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestAdminRefusesWithoutToken: no token, a wrong token (even one differing
// in a single byte), a truncated one or another scheme are answered 401,
// and change nothing.
func TestAdminRefusesWithoutToken(t *testing.T) {
	url, tok := startAdmin(t, false)
	wrong := append([]byte(nil), tok...)
	wrong[AdminTokenBytes-1] ^= 1
	good := "Bearer " + hex.EncodeToString(tok)
	for name, auth := range map[string]string{
		"none":      "",
		"wrong":     "Bearer " + hex.EncodeToString(wrong),
		"truncated": "Bearer " + hex.EncodeToString(tok[:AdminTokenBytes-1]),
		"not hex":   "Bearer " + strings.Repeat("zz", AdminTokenBytes),
		"basic":     "Basic " + hex.EncodeToString(tok),
	} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/faults", ""},
			{"PUT", "/faults/drop", `{"rate":0.5}`},
			{"GET", "/nowhere", ""},
		} {
			if status, body := adminDo(t, r.method, url+r.path, auth, r.body); status != http.StatusUnauthorized || !strings.Contains(body, "admin token") {
				t.Errorf("%s token, %s %s: got %d %s, want 401", name, r.method, r.path, status, body)
			}
		}
	}
	if status, body := adminDo(t, "GET", url+"/faults", good, ""); status != 200 || strings.TrimSpace(body) != `{"faults":[]}` {
		t.Fatalf("faults after refused requests: got %d %s, want none", status, body)
	}
}

// TestAdminRejectsOversizedBody: a body over MaxAdminBodyBytes is refused
// with 413 before it is decoded.
func TestAdminRejectsOversizedBody(t *testing.T) {
	url, tok := startAdmin(t, false)
	auth := "Bearer " + hex.EncodeToString(tok)
	big := `{"peers":["` + strings.Repeat("0", MaxAdminBodyBytes) + `"]}`
	if status, body := adminDo(t, "PUT", url+"/faults/partition", auth, big); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: got %d %s, want 413", status, body)
	}
}

// TestAdminSetsAndClearsFaults: each fault is set and cleared through its
// endpoint, every answer lists the active faults, and bad values are
// refused with a specific reason.
func TestAdminSetsAndClearsFaults(t *testing.T) {
	url, tok := startAdmin(t, true)
	auth := "Bearer " + hex.EncodeToString(tok)
	peer := "0x00000000000000000000000000000000000000aa"
	steps := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"PUT", "/faults/partition", `{"peers":["` + peer + `"]}`, 200, `"kind":"partition"`},
		{"PUT", "/faults/delay", `{"delayMs":200,"jitterMs":50}`, 200, `"delayMs":200,"jitterMs":50`},
		{"PUT", "/faults/drop", `{"rate":0.2}`, 200, `"rate":0.2`},
		{"PUT", "/faults/byzantine", `{"mode":"equivocate"}`, 200, `"mode":"equivocate"`},
		{"PUT", "/faults/drop", `{"rate":1.5}`, 400, `outside [0, 1]`},
		{"PUT", "/faults/drop", `{}`, 400, `rate is required`},
		{"PUT", "/faults/delay", `{"delayMs":-1}`, 400, `delayMs -1`},
		{"PUT", "/faults/partition", `{"peers":["node1"]}`, 400, `peers[0]`},
		{"PUT", "/faults/byzantine", `{"mode":"evil"}`, 400, `unknown byzantine mode`},
		{"PUT", "/faults/drop", `{"rate":0.2,"extra":1}`, 400, `unknown field`},
		{"PUT", "/faults/drop", `{"rate":0.2}{}`, 400, `data after`},
	}
	for _, s := range steps {
		status, body := adminDo(t, s.method, url+s.path, auth, s.body)
		if status != s.status || !strings.Contains(body, s.want) {
			t.Fatalf("%s %s %s: got %d %s, want %d containing %s", s.method, s.path, s.body, status, body, s.status, s.want)
		}
	}
	_, body := adminDo(t, "GET", url+"/faults", auth, "")
	var got rpc.FaultsResult
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	kinds := []string{}
	for _, f := range got.Faults {
		kinds = append(kinds, f.Kind)
	}
	if strings.Join(kinds, ",") != "partition,delay,drop,byzantine" || got.Faults[0].Peers[0] != peer || *got.Faults[2].Rate != 0.2 {
		t.Fatalf("faults: got %s", body)
	}
	for _, path := range []string{"/faults/partition", "/faults/delay", "/faults/drop", "/faults/byzantine"} {
		if status, body := adminDo(t, "DELETE", url+path, auth, ""); status != 200 || strings.Contains(body, `"kind":"`+strings.TrimPrefix(path, "/faults/")+`"`) {
			t.Fatalf("DELETE %s: got %d %s", path, status, body)
		}
	}
	if _, body := adminDo(t, "GET", url+"/faults", auth, ""); strings.TrimSpace(body) != `{"faults":[]}` {
		t.Fatalf("after clearing everything: got %s", body)
	}
}

// TestAdminByzantineNeedsSwitchableSigner: a node whose signer has no
// Byzantine switch answers 409.
func TestAdminByzantineNeedsSwitchableSigner(t *testing.T) {
	url, tok := startAdmin(t, false)
	auth := "Bearer " + hex.EncodeToString(tok)
	if status, body := adminDo(t, "PUT", url+"/faults/byzantine", auth, `{"mode":"silent"}`); status != http.StatusConflict || !strings.Contains(body, "local signer") {
		t.Fatalf("got %d %s, want 409", status, body)
	}
}

// TestReadAdminToken: the token file must hold 64 hex digits and be
// readable by its owner only.
func TestReadAdminToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := strings.Repeat("ab", AdminTokenBytes)
	if tok, err := ReadAdminToken(write("ok", good+"\n", 0o600)); err != nil || hex.EncodeToString(tok) != good {
		t.Fatalf("good token: %x, %v", tok, err)
	}
	for name, path := range map[string]string{
		"world readable": write("open", good, 0o644),
		"short":          write("short", good[:10], 0o600),
		"not hex":        write("nothex", strings.Repeat("zz", AdminTokenBytes), 0o600),
		"missing":        filepath.Join(dir, "none"),
	} {
		if _, err := ReadAdminToken(path); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestTestnetFaultsConfig: the admin endpoint exists only with
// p2p.testnet_faults, listens on loopback only and needs its token file;
// signer.testnet_byzantine needs the fault switch and a local signer.
func TestTestnetFaultsConfig(t *testing.T) {
	on := func(c *Config) {
		c.P2P.TestnetFaults, c.P2P.TestnetAdminAddr, c.P2P.TestnetAdminTokenFile = true, "127.0.0.1:0", "/tmp/token"
	}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string // "" for valid
	}{
		{"off", func(*Config) {}, ""},
		{"on", on, ""},
		{"on with byzantine", func(c *Config) { on(c); c.Signer.TestnetByzantine = true }, ""},
		{"admin without faults", func(c *Config) { c.P2P.TestnetAdminAddr = "127.0.0.1:1" }, "need p2p.testnet_faults"},
		{"byzantine without faults", func(c *Config) { c.Signer.TestnetByzantine = true }, "signer.testnet_byzantine needs p2p.testnet_faults"},
		{"public admin", func(c *Config) { on(c); c.P2P.TestnetAdminAddr = "0.0.0.0:7000" }, "loopback"},
		{"no token", func(c *Config) { on(c); c.P2P.TestnetAdminTokenFile = "" }, "token_file is required"},
		{"remote byzantine", func(c *Config) {
			on(c)
			c.Signer = SignerConfig{Mode: "remote", Address: "0x00000000000000000000000000000000000000aa", TestnetByzantine: true}
		}, "needs signer.mode local"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		err := c.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}
