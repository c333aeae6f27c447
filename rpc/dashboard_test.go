package rpc_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/rpc"
)

// TestServesDashboard: GET / of the RPC listener is the dashboard page and
// /ui/ its assets, while POST / is still JSON-RPC.
func TestServesDashboard(t *testing.T) {
	e := start(t, rpc.Config{})
	defer e.stop()
	for path, want := range map[string]string{"/": "text/html", "/ui/app.js": "text/javascript"} {
		res, err := http.Get(e.httpURL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), want) || len(b) == 0 {
			t.Fatalf("GET %s: got %d %q (%d bytes), want 200 %s", path, res.StatusCode, res.Header.Get("Content-Type"), len(b), want)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Fatalf("GET %s: no Content-Security-Policy", path)
		}
	}
	res, err := http.Post(e.httpURL+"/", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"chain_status"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `"chainId"`) {
		t.Fatalf("POST /: got %d %s, want a chain_status answer", res.StatusCode, b)
	}
}
