package rpc_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/rpc/rpctest"
)

// TestHTTPConcurrencyCap: with MaxHTTPRequests POSTs in progress, one more
// is refused at once with HTTP 503 and -32013, and served again once a slot
// is free.
func TestHTTPConcurrencyCap(t *testing.T) {
	const limit = 2
	e := start(t, rpc.Config{MaxHTTPRequests: limit})
	release := e.gate(t, false)
	status := `{"jsonrpc":"2.0","id":1,"method":"chain_status"}`
	account := `{"jsonrpc":"2.0","id":2,"method":"chain_getAccount","params":{"address":"` + rpctest.Address(5).Hex() + `"}}`

	var wg sync.WaitGroup
	codes := make(chan int, limit)
	for range limit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := httpPost(t, e.httpURL+"/", status)
			codes <- code
		}()
	}
	e.arrive(t, limit)
	code, body := httpPost(t, e.httpURL+"/", account) // a fast method: only the cap refuses it
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), fmt.Sprintf(`"code":%d`, rpc.CodeBusy)) {
		t.Fatalf("POST over the cap: got %d %s, want 503 with %d", code, body, rpc.CodeBusy)
	}
	if got := e.refusals(t, "http_busy"); got != 1 {
		t.Fatalf("http_busy refusals: got %v, want 1", got)
	}
	release()
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Fatalf("POST under the cap: got %d, want 200", code)
		}
	}
	eventually(t, "HTTP slots freed", func() bool { return e.srv.Stats().HTTPRequests == 0 })
	if code, body := httpPost(t, e.httpURL+"/", account); code != http.StatusOK {
		t.Fatalf("POST after the others ended: got %d %s", code, body)
	}
}

// TestHTTPBodyBudget: a body over MaxMessageBytes, sent without a length
// and never ended, is refused with 413 and -32007 once the limit is read.
func TestHTTPBodyBudget(t *testing.T) {
	const limit = 4096
	e := start(t, rpc.Config{MaxMessageBytes: limit})
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(e.httpURL, "http://"), waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	// Sixteen times the limit in one chunk, and no last chunk: a reader
	// that did not stop at the limit would wait for more.
	chunk := `{"jsonrpc":"2.0","id":1,"method":"chain_status","params":{"pad":"` + strings.Repeat("x", 16*limit)
	req := "POST / HTTP/1.1\r\nHost: " + strings.TrimPrefix(e.httpURL, "http://") +
		"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
		fmt.Sprintf("%x\r\n%s\r\n", len(chunk), chunk)
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to an unending body: %v", err)
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(out), fmt.Sprintf(`"code":%d`, rpc.CodeMessageTooLarge)) {
		t.Fatalf("unending body: got %d %s, want 413 with %d", resp.StatusCode, out, rpc.CodeMessageTooLarge)
	}
	if got := e.refusals(t, "message_size"); got != 1 {
		t.Fatalf("message_size refusals: got %v, want 1", got)
	}
}

// TestResponseBudget: a result larger than MaxResponseBytes is replaced by
// -32015 on both transports, and a batch's answers stop at the budget:
// the calls after the one that did not fit are refused without running.
func TestResponseBudget(t *testing.T) {
	const budget = 64 << 10
	e := start(t, rpc.Config{MaxResponseBytes: budget})
	big := make([]rpc.TxEvent, 2000) // about 600 KB of JSON
	for i := range big {
		big[i] = rpctest.TxEvent(uint64(i), 0, rpctest.Address(7))
	}
	if _, err := e.backend.Finalize(e.hub, big...); err != nil {
		t.Fatal(err)
	}
	small := make([]rpc.TxEvent, 10) // about 3 KB
	for i := range small {
		small[i] = rpctest.TxEvent(uint64(10_000+i), 0, rpctest.Address(7))
	}
	if _, err := e.backend.Finalize(e.hub, small...); err != nil {
		t.Fatal(err)
	}
	getBig := `{"jsonrpc":"2.0","id":1,"method":"chain_getBlock","params":{"height":1}}`

	r := e.raw(t)
	if m := r.call(getBig); m.Error == nil || m.Error.Code != rpc.CodeResponseTooLarge || string(m.ID) != "1" {
		t.Fatalf("websocket: big block: got %+v, want error %d", m, rpc.CodeResponseTooLarge)
	}
	code, body := httpPost(t, e.httpURL+"/", getBig)
	if code != http.StatusOK || !strings.Contains(string(body), fmt.Sprintf(`"code":%d`, rpc.CodeResponseTooLarge)) || len(body) > 1024 {
		t.Fatalf("HTTP: big block: got %d %.300s, want a short error %d", code, body, rpc.CodeResponseTooLarge)
	}
	if m := r.call(`{"jsonrpc":"2.0","id":2,"method":"chain_getBlock","params":{"height":2}}`); m.Error != nil {
		t.Fatalf("small block: %v", m.Error)
	}

	const n = 60
	r.send(batchOf(n, "chain_getBlock", `{"height":2}`))
	data := r.recvRaw()
	replies := decodeBatch(t, data)
	if len(replies) != n {
		t.Fatalf("batch: got %d responses, want %d", len(replies), n)
	}
	fitted := 0
	for fitted < n && replies[fitted].Error == nil {
		fitted++
	}
	for i, m := range replies[fitted:] {
		if m.Error == nil || m.Error.Code != rpc.CodeResponseTooLarge {
			t.Fatalf("batch response %d after %d that fit: got %+v, want error %d", fitted+i, fitted, m, rpc.CodeResponseTooLarge)
		}
	}
	if fitted == 0 || fitted == n {
		t.Fatalf("batch: %d of %d responses fit in %d bytes; want some but not all", fitted, n, budget)
	}
	if len(data) > budget+n*200 {
		t.Fatalf("batch answer is %d bytes, budget %d", len(data), budget)
	}
	t.Logf("batch of %d: %d results fit in %d bytes, answer %d bytes", n, fitted, budget, len(data))
	if got := e.refusals(t, "response_size"); got != float64(2+n-fitted) {
		t.Fatalf("response_size refusals: got %v, want %d", got, 2+n-fitted)
	}
}

// TestRateLimitPerConnection: each connection has RequestBurst tokens
// (refilled at RequestsPerSecond); requests beyond get -32014, on a
// websocket and on one HTTP keep-alive connection alike, while a new
// connection starts with a full bucket.
func TestRateLimitPerConnection(t *testing.T) {
	const burst, n = 5, 8
	e := start(t, rpc.Config{RequestsPerSecond: 0.001, RequestBurst: burst}) // no refill within the test
	check := func(what string, replies []reply) {
		t.Helper()
		if len(replies) != n {
			t.Fatalf("%s: got %d responses, want %d", what, len(replies), n)
		}
		for i, m := range replies {
			limited := m.Error != nil && m.Error.Code == rpc.CodeRateLimited
			if (i < burst) == limited || i < burst && m.Error != nil {
				t.Fatalf("%s: response %d: got %+v; want the first %d served, the rest error %d", what, i, m, burst, rpc.CodeRateLimited)
			}
		}
	}
	r := e.raw(t)
	r.send(batchOf(n, "chain_status", ""))
	check("websocket batch", decodeBatch(t, r.recvRaw()))
	if m := r.call(`{"jsonrpc":"2.0","id":9,"method":"chain_status"}`); m.Error == nil || m.Error.Code != rpc.CodeRateLimited {
		t.Fatalf("websocket, bucket empty: got %+v, want error %d", m, rpc.CodeRateLimited)
	}
	if m := e.raw(t).call(`{"jsonrpc":"2.0","id":1,"method":"chain_status"}`); m.Error != nil {
		t.Fatalf("another websocket: %v", m.Error)
	}

	// One keep-alive HTTP connection shares one bucket.
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	post := func(c *http.Client, body string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.httpURL+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	check("HTTP batch", decodeBatch(t, post(client, batchOf(n, "chain_status", ""))))
	if out := post(client, `{"jsonrpc":"2.0","id":1,"method":"chain_status"}`); !strings.Contains(string(out), fmt.Sprintf(`"code":%d`, rpc.CodeRateLimited)) {
		t.Fatalf("HTTP, same connection, bucket empty: got %s, want error %d", out, rpc.CodeRateLimited)
	}
	fresh := &http.Client{Transport: &http.Transport{}}
	defer fresh.CloseIdleConnections()
	if out := post(fresh, `{"jsonrpc":"2.0","id":1,"method":"chain_status"}`); !strings.Contains(string(out), `"result"`) {
		t.Fatalf("HTTP, new connection: got %s, want a result", out)
	}
	if got := e.refusals(t, "rate"); got != 2*(n-burst)+2 {
		t.Fatalf("rate refusals: got %v, want %d", got, 2*(n-burst)+2)
	}
}

// TestTimeBudget: when a message's calls outlast RequestTimeout, the answer
// is sent at the budget with -32016 for what was not answered, even if a
// call ignores its context; the connection goes on.
func TestTimeBudget(t *testing.T) {
	const budget = 200 * time.Millisecond
	e := start(t, rpc.Config{RequestTimeout: budget})
	e.gate(t, true) // chain_status hangs, deaf to its context, until the test ends
	account := `{"jsonrpc":"2.0","id":%d,"method":"chain_getAccount","params":{"address":"` + rpctest.Address(5).Hex() + `"}}`
	batch := "[" + fmt.Sprintf(account, 1) + `,{"jsonrpc":"2.0","id":2,"method":"chain_status"},` + fmt.Sprintf(account, 3) + "]"
	check := func(what string, replies []reply) {
		t.Helper()
		if len(replies) != 3 || replies[0].Error != nil || replies[1].Error == nil || replies[1].Error.Code != rpc.CodeTimeout ||
			replies[2].Error == nil || replies[2].Error.Code != rpc.CodeTimeout {
			t.Fatalf("%s: got %+v; want a result, then two errors %d", what, replies, rpc.CodeTimeout)
		}
	}
	r := e.raw(t)
	t0 := time.Now()
	r.send(batch)
	check("websocket", decodeBatch(t, r.recvRaw()))
	t.Logf("websocket answer after %v (budget %v)", time.Since(t0), budget)
	if m := r.call(fmt.Sprintf(account, 4)); m.Error != nil {
		t.Fatalf("after the timeout: %v", m.Error)
	}
	code, body := httpPost(t, e.httpURL+"/", batch)
	if code != http.StatusOK {
		t.Fatalf("HTTP: got %d %s", code, body)
	}
	check("HTTP", decodeBatch(t, body))
	if got := e.refusals(t, "timeout"); got != 4 {
		t.Fatalf("timeout refusals: got %v, want 4", got)
	}
}

// TestSubscriptionOverBudgetDiscarded: a chain_subscribe whose response
// does not fit the response budget opens no subscription: its id was
// never sent, so nobody could use or end it.
func TestSubscriptionOverBudgetDiscarded(t *testing.T) {
	e := start(t, rpc.Config{MaxResponseBytes: 48}) // an id alone is 34 bytes of JSON
	r := e.raw(t)
	m := r.call(`{"jsonrpc":"2.0","id":1,"method":"chain_subscribe","params":{"topic":"finalized"}}`)
	if m.Error == nil || m.Error.Code != rpc.CodeResponseTooLarge {
		t.Fatalf("got %+v, want error %d", m, rpc.CodeResponseTooLarge)
	}
	if n := e.hub.Stats().Subscriptions; n != 0 {
		t.Fatalf("got %d subscriptions, want 0", n)
	}
	e.finalize(t, 1)
	if m := r.call(`{"jsonrpc":"2.0","id":2,"method":"chain_unsubscribe","params":{"id":"0x00"}}`); m.Error == nil || m.Error.Code != rpc.CodeNotFound {
		t.Fatalf("after the refused subscription: got %+v, want not found (and no notification first)", m)
	}
}
