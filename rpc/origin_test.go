package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/quorumchain/quorumchain/rpc"
)

// dialOrigin opens a websocket with the Origin header origin ("" for
// none) and returns the handshake's HTTP status and body when refused.
func dialOrigin(t *testing.T, url, origin string) (ws *websocket.Conn, status int, body []byte) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ws, resp, err := websocket.DefaultDialer.Dial(url, h)
	if err == nil {
		resp.Body.Close()
		t.Cleanup(func() { ws.Close() })
		return ws, resp.StatusCode, nil
	}
	if resp == nil {
		t.Fatalf("dial with origin %q: %v", origin, err)
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(resp.Body)
	if rerr != nil {
		t.Fatal(rerr)
	}
	return nil, resp.StatusCode, body
}

func postOrigin(t *testing.T, method, url, origin, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if method == http.MethodOptions {
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

func wantForbidden(t *testing.T, what string, status int, body []byte) {
	t.Helper()
	var m reply
	if status != http.StatusForbidden || json.Unmarshal(body, &m) != nil || m.Error == nil || m.Error.Code != rpc.CodeForbiddenOrigin {
		t.Fatalf("%s: got HTTP %d %s, want 403 with error %d", what, status, body, rpc.CodeForbiddenOrigin)
	}
	if !strings.Contains(m.Error.Message, "allowed_origins") {
		t.Fatalf("%s: message %q does not say how to allow the origin", what, m.Error.Message)
	}
}

// TestCrossOriginRefused: a page of another site can neither open a
// websocket nor POST (nor pass a CORS preflight); the node's own pages,
// the listed origins and clients that send no Origin are served.
func TestCrossOriginRefused(t *testing.T) {
	const allowed = "https://app.example"
	e := start(t, rpc.Config{AllowedOrigins: []string{allowed, "http://localhost:3000"}})
	self := "http://" + strings.TrimPrefix(e.httpURL, "http://")
	submit := `{"jsonrpc":"2.0","id":1,"method":"chain_submitTx","params":{"tx":"0x01"}}`
	status := `{"jsonrpc":"2.0","id":1,"method":"chain_status"}`

	for _, evil := range []string{"https://evil.example", "http://localhost:3001", "null", "https://app.example.evil.example"} {
		_, code, body := dialOrigin(t, e.wsURL, evil)
		wantForbidden(t, "websocket from "+evil, code, body)
		resp, body := postOrigin(t, http.MethodPost, e.httpURL+"/", evil, submit)
		wantForbidden(t, "POST from "+evil, resp.StatusCode, body)
		resp, body = postOrigin(t, http.MethodOptions, e.httpURL+"/", evil, "")
		wantForbidden(t, "preflight from "+evil, resp.StatusCode, body)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Fatalf("preflight from %s: got Access-Control-Allow-Origin %q", evil, got)
		}
	}
	if n := len(e.backend.Submitted()); n != 0 {
		t.Fatalf("a refused POST reached the backend: %d transactions submitted", n)
	}
	if got := e.refusals(t, "origin"); got != 12 {
		t.Fatalf("origin refusals: got %v, want 12", got)
	}

	for _, origin := range []string{"", self, allowed, "http://localhost:3000"} {
		ws, code, body := dialOrigin(t, e.wsURL, origin)
		if ws == nil {
			t.Fatalf("websocket with origin %q: refused with %d %s", origin, code, body)
		}
		r := &rawConn{t: t, ws: ws}
		if m := r.call(status); m.Error != nil {
			t.Fatalf("websocket with origin %q: %v", origin, m.Error)
		}
		resp, body := postOrigin(t, http.MethodPost, e.httpURL+"/", origin, status)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"result"`) {
			t.Fatalf("POST with origin %q: got %d %s", origin, resp.StatusCode, body)
		}
		cors := resp.Header.Get("Access-Control-Allow-Origin")
		crossSite := origin != "" && origin != self
		if crossSite && cors != origin || !crossSite && cors != "" {
			t.Fatalf("POST with origin %q: got Access-Control-Allow-Origin %q", origin, cors)
		}
	}
	resp, body := postOrigin(t, http.MethodOptions, e.httpURL+"/", allowed, "")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != allowed ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight from %s: got %d %v %s", allowed, resp.StatusCode, resp.Header, body)
	}

	// The Go client sends no Origin.
	if _, err := e.dial(t, e.wsURL).Status(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultOriginsOwnOnly: with no allowed_origins, only the node's own
// origin is a browser origin it serves.
func TestDefaultOriginsOwnOnly(t *testing.T) {
	e := start(t, rpc.Config{})
	_, code, body := dialOrigin(t, e.wsURL, "http://localhost:3000")
	wantForbidden(t, "websocket from another port", code, body)
	if ws, code, body := dialOrigin(t, e.wsURL, e.httpURL); ws == nil {
		t.Fatalf("websocket from the node's own origin: refused with %d %s", code, body)
	}
	wild := start(t, rpc.Config{AllowedOrigins: []string{"*"}})
	if ws, code, body := dialOrigin(t, wild.wsURL, "https://anywhere.example"); ws == nil {
		t.Fatalf(`allowed_origins ["*"]: refused with %d %s`, code, body)
	}
}

func TestCheckOrigins(t *testing.T) {
	for _, ok := range [][]string{nil, {"*"}, {"https://a.example", "http://127.0.0.1:8080", "http://[::1]:3000"}} {
		if err := rpc.CheckOrigins(ok); err != nil {
			t.Errorf("CheckOrigins(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"a.example", "https://a.example/path", "https://user@a.example", "https://a.example?q=1", "", "*.example", "https://"} {
		if err := rpc.CheckOrigins([]string{bad}); !errors.Is(err, rpc.ErrBadOrigin) {
			t.Errorf("CheckOrigins(%q): got %v, want ErrBadOrigin", bad, err)
		}
	}
}

// TestDNSRebindingRefused: a page of a DNS name that its attacker points at
// the node's address sends Origin and Host of that name; it is not the
// node's own page and is refused, while the node's own page under its IP
// address is served.
func TestDNSRebindingRefused(t *testing.T) {
	e := start(t, rpc.Config{})
	port := e.httpURL[strings.LastIndex(e.httpURL, ":")+1:]
	status := `{"jsonrpc":"2.0","id":1,"method":"chain_status"}`
	post := func(host, origin string) (*http.Response, []byte) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.httpURL+"/", strings.NewReader(status))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	resp, body := post("rebind.example:"+port, "http://rebind.example:"+port)
	wantForbidden(t, "POST from a rebound DNS name", resp.StatusCode, body)
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port} {
		resp, body = post(host, "http://"+host)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"result"`) {
			t.Fatalf("POST from the node's own page at %s: got %d %s", host, resp.StatusCode, body)
		}
	}
}
