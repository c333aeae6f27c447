package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/rpc/rpctest"
)

// waitLimit bounds every wait of these tests.
const waitLimit = 10 * time.Second

// env is a server on 127.0.0.1 over an rpctest.Backend.
type env struct {
	backend *rpctest.Backend
	hub     *rpc.Hub
	srv     *rpc.Server
	wsURL   string
	httpURL string
	stop    func() // stops the server and checks that Serve returned nil
}

func start(t testing.TB, cfg rpc.Config) *env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "quorumchain_node_test_total", Help: "test"}))
	level := slog.LevelWarn
	if os.Getenv("RPC_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	e := &env{backend: rpctest.NewBackend(), hub: rpc.NewHub(cfg)}
	e.srv = rpc.NewServer(cfg, e.backend, e.hub, reg, logger)
	e.wsURL = "ws://" + ln.Addr().String() + "/ws"
	e.httpURL = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("Serve returned %v, want nil", err)
				}
			case <-time.After(waitLimit):
				t.Errorf("Serve did not return within %v of cancel", waitLimit)
			}
		})
	}
	t.Cleanup(e.stop)
	return e
}

// waitClosed waits until the server closes the TCP connection under ws.
func waitClosed(t testing.TB, ws *websocket.Conn) {
	t.Helper()
	nc := ws.NetConn()
	if err := nc.SetReadDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := nc.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("server did not close the connection within %v", waitLimit)
			}
			return
		}
	}
}

func (e *env) dial(t testing.TB, url string) *rpc.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c, err := rpc.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Logf("close client: %v", err)
		}
	})
	return c
}

func (e *env) finalize(t testing.TB, n int) {
	t.Helper()
	for range n {
		if _, err := e.backend.Finalize(e.hub); err != nil {
			t.Fatal(err)
		}
	}
}

// rawConn is a bare websocket to send arbitrary bytes and read replies.
type rawConn struct {
	t  testing.TB
	ws *websocket.Conn
}

func (e *env) raw(t testing.TB) *rawConn {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(e.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Cleanup(func() { ws.Close() })
	return &rawConn{t: t, ws: ws}
}

func (r *rawConn) send(msg string) {
	r.t.Helper()
	if err := r.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		r.t.Fatal(err)
	}
}

// reply is any message from the server.
type reply struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *rpc.Error      `json:"error"`
	Method string          `json:"method"`
	Params struct {
		Subscription string          `json:"subscription"`
		Result       json.RawMessage `json:"result"`
	} `json:"params"`
}

// recvRaw reads one message within waitLimit.
func (r *rawConn) recvRaw() []byte {
	r.t.Helper()
	if err := r.ws.SetReadDeadline(time.Now().Add(waitLimit)); err != nil {
		r.t.Fatal(err)
	}
	_, data, err := r.ws.ReadMessage()
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	return data
}

func (r *rawConn) recv() reply {
	r.t.Helper()
	data := r.recvRaw()
	var m reply
	if err := json.Unmarshal(data, &m); err != nil {
		r.t.Fatalf("reply %s: %v", data, err)
	}
	return m
}

// call sends msg and returns the reply, which must be a response.
func (r *rawConn) call(msg string) reply {
	r.t.Helper()
	r.send(msg)
	m := r.recv()
	if m.Method != "" {
		r.t.Fatalf("got notification %s, want a response to %s", m.Method, msg)
	}
	return m
}

// wantCode checks that err is an *rpc.Error with code.
func wantCode(t testing.TB, err error, code int) {
	t.Helper()
	var rerr *rpc.Error
	if !errors.As(err, &rerr) {
		t.Fatalf("got error %v, want rpc error %d", err, code)
	}
	if rerr.Code != code {
		t.Fatalf("got code %d (%s), want %d", rerr.Code, rerr.Message, code)
	}
}

// subscribeRaw subscribes on r and returns the subscription id.
func (r *rawConn) subscribe(params string) string {
	r.t.Helper()
	m := r.call(fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"chain_subscribe","params":%s}`, params))
	if m.Error != nil {
		r.t.Fatalf("subscribe %s: %v", params, m.Error)
	}
	var id string
	if err := json.Unmarshal(m.Result, &id); err != nil {
		r.t.Fatal(err)
	}
	return id
}

// nextEvent reads the next notification (skipping nothing) and decodes its
// result into v; it returns the subscription id.
func (r *rawConn) nextEvent(v any) string {
	r.t.Helper()
	m := r.recv()
	if m.Method != rpc.MethodSubscription {
		r.t.Fatalf("got %+v, want a notification", m)
	}
	if err := json.Unmarshal(m.Params.Result, v); err != nil {
		r.t.Fatal(err)
	}
	return m.Params.Subscription
}

func httpGet(t testing.TB, url string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func httpPost(t testing.TB, url, body string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// eventually waits, within waitLimit, until cond holds; what names the
// condition in the failure.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(waitLimit)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("not within %v: %s", waitLimit, what)
		}
		<-tick.C
	}
}

// metric returns the value of the sample named series (name with labels,
// as /metrics writes it), 0 if there is none.
func (e *env) metric(t testing.TB, series string) float64 {
	t.Helper()
	status, body := httpGet(t, e.httpURL+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("metrics: got HTTP %d", status)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			return f
		}
	}
	return 0
}

// refusals returns quorumchain_rpc_refusals_total for reason.
func (e *env) refusals(t testing.TB, reason string) float64 {
	t.Helper()
	return e.metric(t, `quorumchain_rpc_refusals_total{reason="`+reason+`"}`)
}

// arrive waits for n calls to reach the backend's gate.
func (e *env) arrive(t testing.TB, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-e.backend.Arrivals():
		case <-time.After(waitLimit):
			t.Fatalf("%d of %d gated calls reached the backend within %v", i, n, waitLimit)
		}
	}
}

// gate makes chain_status block until the returned release is called (at
// the latest when the test ends, before the server stops).
func (e *env) gate(t testing.TB, stuck bool) (release func()) {
	t.Helper()
	ch := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	e.backend.SetGate(ch, stuck)
	t.Cleanup(release)
	return release
}

// batchOf returns a batch of n calls of method with ids 1..n.
func batchOf(n int, method, params string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":%q`, i+1, method)
		if params != "" {
			b.WriteString(`,"params":` + params)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String()
}

// decodeBatch decodes a batch answer.
func decodeBatch(t testing.TB, data []byte) []reply {
	t.Helper()
	var out []reply
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("batch answer %.200s: %v", data, err)
	}
	return out
}
