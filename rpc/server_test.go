package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/rpc"
	"github.com/quorumchain/quorumchain/rpc/rpctest"
)

// TestMethods calls every method through the Client, over websocket and
// over HTTP, and checks the results against the backend.
func TestMethods(t *testing.T) {
	e := start(t, rpc.Config{})
	e.finalize(t, 3)
	acct := rpc.AccountResult{Address: rpctest.Address(7), Balance: 1_000_000_000_000_000_000, Nonce: 4,
		Bonds:     []rpc.BondResult{{Validator: rpctest.Address(1), Amount: 50}},
		Unbonding: []rpc.UnbondingResult{{Amount: 5, ReleaseHeight: 90}}}
	e.backend.SetAccount(acct)
	tx := rpctest.TxEvent(1, 0, rpctest.Address(7))
	if _, err := e.backend.Finalize(e.hub, tx); err != nil {
		t.Fatal(err)
	}
	blk := rpctest.Hash("block", 4)
	rs := rpc.RoundStateResult{Height: 5, Round: 1, Step: "prevote", Proposer: rpctest.Address(1), LockedRound: -1, ValidRound: 0,
		ValidBlock: &blk, Votes: rpc.RoundVotesResult{Prevote: rpc.VoteTallyResult{VotedStake: 70, TotalStake: 100, Quorum: true,
			QuorumBlock: &blk, Blocks: []rpc.BlockStakeResult{{Block: &blk, Stake: 70}}}}}
	e.backend.SetRoundState(rs)
	pol := int32(-1)
	e.backend.AddDuty(rpc.DutyResult{ID: 9, Validator: rpctest.Address(1), Kind: "proposal", Height: 5, POLRound: &pol, SignHash: blk})
	e.backend.AddDuty(rpc.DutyResult{ID: 10, Validator: rpctest.Address(1), Kind: "prevote", Height: 5, Block: &blk, SignHash: blk})

	for _, transport := range []struct{ name, url string }{{"ws", e.wsURL}, {"http", e.httpURL}} {
		t.Run(transport.name, func(t *testing.T) {
			c := e.dial(t, transport.url)
			ctx := context.Background()

			st, err := c.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.ChainID != rpctest.ChainID || st.Height != 4 || st.Hash != blk || st.Peers != 3 {
				t.Fatalf("status: got %+v, want chain %s at height 4, hash %s", st, rpctest.ChainID, blk)
			}

			b, err := c.Block(ctx, 4)
			if err != nil {
				t.Fatal(err)
			}
			if b.Header.Height != 4 || b.Header.Hash != blk || len(b.Txs) != 1 || b.Txs[0].Hash != tx.Hash || b.Certificate == nil {
				t.Fatalf("block 4: got %+v", b)
			}
			bh, err := c.BlockByHash(ctx, rpctest.Hash("block", 2))
			if err != nil || bh.Header.Height != 2 {
				t.Fatalf("block by hash: got %+v, %v; want height 2", bh, err)
			}
			latest, err := c.LatestBlock(ctx)
			if err != nil || latest.Header.Height != 4 {
				t.Fatalf("latest block: got %+v, %v; want height 4", latest, err)
			}
			_, err = c.Block(ctx, 99)
			wantCode(t, err, rpc.CodeNotFound)

			v, err := c.Validators(ctx, nil)
			if err != nil || v.Height != 4 || v.TotalStake != 100 || len(v.Validators) != 1 {
				t.Fatalf("validators: got %+v, %v", v, err)
			}
			h := uint64(2)
			v, err = c.Validators(ctx, &h)
			if err != nil || v.Height != 2 {
				t.Fatalf("validators at 2: got %+v, %v", v, err)
			}

			a, err := c.Account(ctx, acct.Address)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(*a) != fmt.Sprint(acct) {
				t.Fatalf("account: got %+v, want %+v", *a, acct)
			}

			got, err := c.Tx(ctx, tx.Hash)
			if err != nil || got.Status != rpc.TxFinal || got.Height == nil || *got.Height != 4 {
				t.Fatalf("tx: got %+v, %v; want final at 4", got, err)
			}
			_, err = c.Tx(ctx, rpctest.Hash("tx", 12345))
			wantCode(t, err, rpc.CodeNotFound)

			raw := []byte("signed tx " + transport.name)
			hash, err := c.SubmitTx(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			pending, err := c.Tx(ctx, hash)
			if err != nil || pending.Status != rpc.TxPending {
				t.Fatalf("submitted tx: got %+v, %v; want pending", pending, err)
			}

			gotRS, err := c.RoundState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantRS := rs
			wantRS.Votes.Precommit.Blocks = []rpc.BlockStakeResult{}
			if mustJSON(t, gotRS) != mustJSON(t, wantRS) {
				t.Fatalf("round state: got %s, want %s", mustJSON(t, gotRS), mustJSON(t, wantRS))
			}

			duties, err := c.Duties(ctx, rpctest.Address(1))
			byID := map[uint64]rpc.DutyResult{}
			for _, d := range duties {
				byID[d.ID] = d
			}
			if err != nil || len(duties) != 2 || *byID[9].POLRound != -1 || byID[9].Block != nil || *byID[10].Block != blk {
				t.Fatalf("duties: got %+v, %v", duties, err)
			}
			var sig chain.Signature
			sig[0] = 1
			if err := c.SubmitSigned(ctx, 9, sig); err != nil {
				t.Fatal(err)
			}
			wantCode(t, c.SubmitSigned(ctx, 9, sig), rpc.CodeDutyNotFound)
			wantCode(t, c.SubmitSigned(ctx, 10, chain.Signature{}), rpc.CodeInvalidTx)
			e.backend.AddDuty(rpc.DutyResult{ID: 9, Validator: rpctest.Address(1), Kind: "proposal", Height: 5, POLRound: &pol, SignHash: blk})

			if transport.name == "http" {
				_, err := c.Subscribe(ctx, rpc.TopicFinalized, nil, 0)
				if !errors.Is(err, rpc.ErrNeedWebsocket) {
					t.Fatalf("subscribe over http: got %v, want ErrNeedWebsocket", err)
				}
				wantCode(t, c.Call(ctx, rpc.MethodSubscribe, rpc.SubscribeParams{Topic: rpc.TopicFinalized}, nil), rpc.CodeMethodNotFound)
			}
		})
	}
}

// TestResultShapes pins SPEC.md's field names and encodings.
func TestResultShapes(t *testing.T) {
	e := start(t, rpc.Config{})
	e.finalize(t, 1)
	e.backend.SetAccount(rpc.AccountResult{Address: rpctest.Address(7), Balance: 12345678901234567890})
	r := e.raw(t)
	for _, tc := range []struct{ method, params, want string }{
		{"chain_status", `{}`, `"chainId":"quorum-test","height":1,"hash":"0x`},
		{"chain_status", `{}`, `"totalStake":"100","minFee":"0","syncing":false,"nodeId":"node0","peers":3`},
		{"chain_getBlock", `{"height":1}`, `{"header":{"hash":"0x`},
		{"chain_getBlock", `{"height":1}`, `"txs":[],"certificate":{"height":1,"round":0,"blockHash":"0x`},
		{"chain_getValidators", `{}`, `{"height":1,"totalStake":"100","quorumStake":"67","validators":[{"address":"0xa000000000000000000000000000000000000001","stake":"100","proposerPriority":0}]}`},
		{"chain_getAccount", `{"address":"0xA000000000000000000000000000000000000007"}`, `{"address":"0xa000000000000000000000000000000000000007","balance":"12345678901234567890","nonce":0,"bonds":[],"unbonding":[],"rewards":[]}`},
		{"chain_getAccount", `[{"address":"0xa000000000000000000000000000000000000008"}]`, `"balance":"0"`},
		{"consensus_getRoundState", `null`, `{"height":1,"round":0,"step":"propose","proposer":"0xa000000000000000000000000000000000000001","lockedRound":-1,"lockedBlock":null,"validRound":-1,"validBlock":null,"votes":{"prevote":{"votedStake":"0","totalStake":"0","quorum":false,"quorumBlock":null,"blocks":[]}`},
		{"consensus_getDuties", `{"validator":"0xa000000000000000000000000000000000000001"}`, `[]`},
	} {
		m := r.call(fmt.Sprintf(`{"jsonrpc":"2.0","id":"x","method":%q,"params":%s}`, tc.method, tc.params))
		if m.Error != nil || !strings.Contains(string(m.Result), tc.want) {
			t.Errorf("%s %s: got %s, %v; want it to contain %s", tc.method, tc.params, m.Result, m.Error, tc.want)
		}
		if string(m.ID) != `"x"` {
			t.Errorf("%s: got id %s, want \"x\"", tc.method, m.ID)
		}
	}
}

// TestErrorCodes sends bad requests over one websocket and checks each
// code, that the connection keeps working, and that another client is
// untouched.
func TestErrorCodes(t *testing.T) {
	e := start(t, rpc.Config{MaxSubscriptionsPerConn: 2, MaxBatchItems: 3})
	e.finalize(t, 2)
	other := e.dial(t, e.wsURL)
	otherSub, err := other.Subscribe(context.Background(), rpc.TopicFinalized, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := e.raw(t)
	addr := `"0xa000000000000000000000000000000000000001"`
	for _, tc := range []struct {
		name, msg string
		code      int
	}{
		{"not json", `{"jsonrpc":"2.0","id":1,"method":`, rpc.CodeParseError},
		{"garbage", `\x00\x01`, rpc.CodeParseError},
		{"scalar", `42`, rpc.CodeInvalidRequest},
		{"no version", `{"id":1,"method":"chain_status"}`, rpc.CodeInvalidRequest},
		{"wrong version", `{"jsonrpc":"1.0","id":1,"method":"chain_status"}`, rpc.CodeInvalidRequest},
		{"method not string", `{"jsonrpc":"2.0","id":1,"method":7}`, rpc.CodeInvalidRequest},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"chain_status"}`, rpc.CodeInvalidRequest},
		{"scalar params", `{"jsonrpc":"2.0","id":1,"method":"chain_status","params":3}`, rpc.CodeInvalidRequest},
		{"empty batch", `[]`, rpc.CodeInvalidRequest},
		{"big batch", `[{},{},{},{}]`, rpc.CodeInvalidRequest},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}`, rpc.CodeMethodNotFound},
		{"unknown field", `{"jsonrpc":"2.0","id":1,"method":"chain_getBlock","params":{"heigth":1}}`, rpc.CodeInvalidParams},
		{"height as string", `{"jsonrpc":"2.0","id":1,"method":"chain_getBlock","params":{"height":"1"}}`, rpc.CodeInvalidParams},
		{"negative height", `{"jsonrpc":"2.0","id":1,"method":"chain_getBlock","params":{"height":-1}}`, rpc.CodeInvalidParams},
		{"height and hash", `{"jsonrpc":"2.0","id":1,"method":"chain_getBlock","params":{"height":1,"hash":"0x` + strings.Repeat("00", 32) + `"}}`, rpc.CodeInvalidParams},
		{"short hash", `{"jsonrpc":"2.0","id":1,"method":"chain_getTx","params":{"hash":"0x1234"}}`, rpc.CodeInvalidParams},
		{"missing hash", `{"jsonrpc":"2.0","id":1,"method":"chain_getTx","params":{}}`, rpc.CodeInvalidParams},
		{"bad address", `{"jsonrpc":"2.0","id":1,"method":"chain_getAccount","params":{"address":"alice"}}`, rpc.CodeInvalidParams},
		{"two param objects", `{"jsonrpc":"2.0","id":1,"method":"chain_getAccount","params":[{},{}]}`, rpc.CodeInvalidParams},
		{"status with params", `{"jsonrpc":"2.0","id":1,"method":"chain_status","params":{"x":1}}`, rpc.CodeInvalidParams},
		{"tx not hex", `{"jsonrpc":"2.0","id":1,"method":"chain_submitTx","params":{"tx":"zz"}}`, rpc.CodeInvalidParams},
		{"tx too big", `{"jsonrpc":"2.0","id":1,"method":"chain_submitTx","params":{"tx":"0x` + strings.Repeat("ab", chain.MaxTxBytes+1) + `"}}`, rpc.CodeInvalidTx},
		{"short signature", `{"jsonrpc":"2.0","id":1,"method":"consensus_submitSigned","params":{"request":1,"signature":"0x00"}}`, rpc.CodeInvalidParams},
		{"no topic", `{"jsonrpc":"2.0","id":1,"method":"chain_subscribe","params":{}}`, rpc.CodeInvalidParams},
		{"unknown topic", `{"jsonrpc":"2.0","id":1,"method":"chain_subscribe","params":{"topic":"mempool"}}`, rpc.CodeUnknownTopic},
		{"replay of votes", `{"jsonrpc":"2.0","id":1,"method":"chain_subscribe","params":{"topic":"votes","fromHeight":1}}`, rpc.CodeInvalidParams},
		{"filter on finalized", `{"jsonrpc":"2.0","id":1,"method":"chain_subscribe","params":{"topic":"finalized","filter":{"address":` + addr + `}}}`, rpc.CodeInvalidParams},
		{"duties without validator", `{"jsonrpc":"2.0","id":1,"method":"chain_subscribe","params":{"topic":"duties"}}`, rpc.CodeInvalidParams},
		{"txs with both filters", `{"jsonrpc":"2.0","id":1,"method":"chain_subscribe","params":{"topic":"txs","filter":{"address":` + addr + `,"hash":"0x` + strings.Repeat("00", 32) + `"}}}`, rpc.CodeInvalidParams},
		{"unsubscribe unknown", `{"jsonrpc":"2.0","id":1,"method":"chain_unsubscribe","params":{"id":"0x01"}}`, rpc.CodeNotFound},
	} {
		m := r.call(tc.msg)
		if m.Error == nil || m.Error.Code != tc.code {
			t.Errorf("%s: got error %v, result %s; want code %d", tc.name, m.Error, m.Result, tc.code)
		}
	}

	// Backend errors map to their codes.
	for _, tc := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("decode: %w", chain.ErrMalformed), rpc.CodeInvalidTx},
		{fmt.Errorf("sender: %w", chain.ErrBadSignature), rpc.CodeInvalidTx},
		{fmt.Errorf("check: %w", rpc.ErrInvalidTx), rpc.CodeInvalidTx},
		{fmt.Errorf("tx for %q: %w", "other", chain.ErrWrongChain), rpc.CodeWrongChain},
		{fmt.Errorf("nonce 3, want 5: %w", rpc.ErrBadNonce), rpc.CodeBadNonce},
		{rpc.ErrMempoolFull, rpc.CodeMempoolFull},
		{fmt.Errorf("need 10: %w", rpc.ErrInsufficientBalance), rpc.CodeInsufficientFunds},
		{errors.New("disk on fire"), rpc.CodeInternal},
	} {
		e.backend.SetSubmitError(tc.err)
		m := r.call(`{"jsonrpc":"2.0","id":2,"method":"chain_submitTx","params":{"tx":"0x01"}}`)
		if m.Error == nil || m.Error.Code != tc.code || !strings.Contains(m.Error.Message, tc.err.Error()) {
			t.Errorf("submit with backend error %v: got %v, want code %d", tc.err, m.Error, tc.code)
		}
	}
	e.backend.SetSubmitError(nil)

	// Too many subscriptions.
	r.subscribe(`{"topic":"votes"}`)
	id := r.subscribe(`{"topic":"blocks"}`)
	m := r.call(`{"jsonrpc":"2.0","id":3,"method":"chain_subscribe","params":{"topic":"validators"}}`)
	if m.Error == nil || m.Error.Code != rpc.CodeTooManySubscriptions {
		t.Fatalf("third subscription: got %v, want code %d", m.Error, rpc.CodeTooManySubscriptions)
	}
	m = r.call(`{"jsonrpc":"2.0","id":4,"method":"chain_unsubscribe","params":{"id":"` + id + `"}}`)
	if string(m.Result) != "true" {
		t.Fatalf("unsubscribe: got %s, %v; want true", m.Result, m.Error)
	}
	r.subscribe(`{"topic":"validators"}`) // a slot is free again

	// A batch mixes good and bad requests; a notification gets no reply.
	r.send(`[{"jsonrpc":"2.0","id":10,"method":"chain_status"},{"jsonrpc":"2.0","method":"chain_status"},{"jsonrpc":"2.0","id":11,"method":"nope"}]`)
	var batch []reply
	if err := json.Unmarshal(r.recvRaw(), &batch); err != nil {
		t.Fatal(err)
	}
	if len(batch) != 2 || string(batch[0].ID) != "10" || batch[0].Error != nil || string(batch[1].ID) != "11" || batch[1].Error.Code != rpc.CodeMethodNotFound {
		t.Fatalf("batch: got %+v, want a result for 10 and -32601 for 11", batch)
	}
	r.send(`{"jsonrpc":"2.0","method":"chain_status"}`) // notification: no reply
	m = r.call(`{"jsonrpc":"2.0","id":null,"method":"chain_status"}`)
	if m.Error != nil || string(m.ID) != "null" {
		t.Fatalf("null id: got %+v, want a result with id null", m)
	}

	// The other client never noticed.
	e.finalize(t, 1)
	select {
	case res := <-otherSub.Results():
		var ev rpc.FinalizedEvent
		if err := json.Unmarshal(res, &ev); err != nil || ev.Height != 3 {
			t.Fatalf("other client: got %s, %v; want height 3", res, err)
		}
	case err := <-otherSub.Err():
		t.Fatalf("other client's subscription ended: %v", err)
	}
	if st, err := other.Status(context.Background()); err != nil || st.Height != 3 {
		t.Fatalf("other client status: got %+v, %v", st, err)
	}
}

// TestHTTPTransport checks what is particular to HTTP POST.
func TestHTTPTransport(t *testing.T) {
	e := start(t, rpc.Config{MaxMessageBytes: 1024})
	e.finalize(t, 1)
	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"call", `{"jsonrpc":"2.0","id":1,"method":"chain_status"}`, 200, `"result":{"chainId":"quorum-test"`},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"chain_status"},{"jsonrpc":"2.0","id":2,"method":"x"}]`, 200, `"code":-32601`},
		{"parse error", `{`, 200, `"id":null,"error":{"code":-32700`},
		{"invalid", `{"jsonrpc":"2.0","id":5}`, 200, `"id":5,"error":{"code":-32600`},
		{"subscribe", `{"jsonrpc":"2.0","id":1,"method":"chain_subscribe","params":{"topic":"finalized"}}`, 200, `"code":-32601,"message":"method \"chain_subscribe\" needs a websocket connection (/ws)"`},
		{"too large", `{"jsonrpc":"2.0","id":1,"method":"chain_status","params":{"pad":"` + strings.Repeat("x", 2000) + `"}}`, 413, `"code":-32007`},
		{"notification", `{"jsonrpc":"2.0","method":"chain_status"}`, 204, ``},
	} {
		status, body := httpPost(t, e.httpURL+"/", tc.body)
		if status != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: got %d %s, want %d containing %s", tc.name, status, body, tc.status, tc.want)
		}
	}
	// GET / is the dashboard (TestServesDashboard); other methods of /
	// are refused.
	req, err := http.NewRequest(http.MethodPut, e.httpURL+"/", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT /: got %d, want 405", resp.StatusCode)
	}
	if status, _ := httpPost(t, e.httpURL+"/other", `{}`); status != http.StatusNotFound {
		t.Errorf("POST /other: got %d, want 404", status)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := start(t, rpc.Config{})
	e.finalize(t, 7)
	status, body := httpGet(t, e.httpURL+"/health")
	if status != 200 || string(body) != `{"status":"ok","height":7}`+"\n" {
		t.Fatalf("health: got %d %s", status, body)
	}
	e.backend.SetHealth(errors.New("syncing: 7 of 900"))
	status, body = httpGet(t, e.httpURL+"/health")
	if status != 503 || !strings.Contains(string(body), `"status":"unhealthy"`) || !strings.Contains(string(body), "syncing") {
		t.Fatalf("unhealthy: got %d %s", status, body)
	}

	c := e.dial(t, e.wsURL)
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	status, body = httpGet(t, e.httpURL+"/metrics")
	for _, want := range []string{
		"quorumchain_node_test_total 0", // the node's registry
		"quorumchain_rpc_connections 1",
		`quorumchain_rpc_requests_total{code="0",method="chain_status"} 1`,
		"quorumchain_rpc_subscriptions 0",
	} {
		if status != 200 || !strings.Contains(string(body), want) {
			t.Errorf("metrics: got %d, want it to contain %q in:\n%s", status, want, body)
		}
	}
}

// TestOversizedMessage: a message over MaxMessageBytes gets -32007 and its
// connection is closed with 1009 and a reason; another client goes on.
func TestOversizedMessage(t *testing.T) {
	e := start(t, rpc.Config{MaxMessageBytes: 4096})
	other := e.dial(t, e.wsURL)
	r := e.raw(t)
	if m := r.call(`{"jsonrpc":"2.0","id":1,"method":"chain_status","params":{}}`); m.Error != nil {
		t.Fatal(m.Error)
	}
	r.send(`{"jsonrpc":"2.0","id":2,"method":"chain_status","params":{"pad":"` + strings.Repeat("x", 5000) + `"}}`)
	m := r.recv()
	if m.Error == nil || m.Error.Code != rpc.CodeMessageTooLarge || string(m.ID) != "null" {
		t.Fatalf("oversized: got %+v, want error %d", m, rpc.CodeMessageTooLarge)
	}
	if err := r.ws.SetReadDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	_, _, err := r.ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig || ce.Text != "message exceeds 4096 bytes" {
		t.Fatalf("after oversized message: got %v, want close 1009 with a reason", err)
	}
	if _, err := other.Status(context.Background()); err != nil {
		t.Fatalf("other client: %v", err)
	}
	if got := e.refusals(t, "message_size"); got != 1 {
		t.Fatalf("message_size refusals: got %v, want 1", got)
	}
}

// TestMaxConnections: the connection over the limit gets HTTP 503 with a
// -32008 error; the slot comes back once a client leaves.
func TestMaxConnections(t *testing.T) {
	e := start(t, rpc.Config{MaxConnections: 2})
	e.dial(t, e.wsURL)
	second := e.raw(t)
	_, err := rpc.Dial(context.Background(), e.wsURL)
	wantCode(t, err, rpc.CodeTooManyConnections)
	_, resp, err := websocket.DefaultDialer.Dial(e.wsURL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third websocket: got %v, %v; want HTTP 503", resp, err)
	}
	resp.Body.Close()
	if got := e.refusals(t, "connections"); got != 2 {
		t.Fatalf("connections refusals: got %v, want 2", got)
	}

	// Leave cleanly and wait for the server to drop the TCP connection: it
	// frees the slot before that.
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := second.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, second.ws)
	e.dial(t, e.wsURL)
}

// TestShutdown: cancelling Serve's context closes websockets with 1001.
func TestShutdown(t *testing.T) {
	e := start(t, rpc.Config{})
	r := e.raw(t)
	r.subscribe(`{"topic":"finalized"}`)
	c := e.dial(t, e.wsURL)
	sub, err := c.Subscribe(context.Background(), rpc.TopicFinalized, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.stop()
	if err := r.ws.SetReadDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	_, _, err = r.ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("after shutdown: got %v, want close 1001", err)
	}
	for range sub.Results() {
		t.Fatal("got a result after shutdown")
	}
	if err := <-sub.Err(); err == nil {
		t.Fatal("subscription ended without an error after shutdown")
	}
	if e.srv.Stats().Connections != 0 || e.hub.Stats().Subscriptions != 0 {
		t.Fatalf("after shutdown: got %+v, %+v; want nothing left", e.srv.Stats(), e.hub.Stats())
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBlockSummary: chain_getBlock with fullTxs false answers each
// transaction of the block with its hash and outcome only, in block order;
// fullTxs true or absent answers all of it; a fullTxs that is not a
// boolean is invalid params.
func TestBlockSummary(t *testing.T) {
	e := start(t, rpc.Config{})
	e.finalize(t, 1)
	final := rpctest.TxEvent(1, 0, rpctest.Address(7))
	rejected := rpctest.TxEvent(2, 0, rpctest.Address(8))
	rejected.Status = rpc.TxRejected
	if _, err := e.backend.Finalize(e.hub, final, rejected); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, url := range []string{e.wsURL, e.httpURL} {
		c := e.dial(t, url)
		sum, err := c.BlockSummary(ctx, 2)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		want := []rpc.BlockTxSummary{{Hash: final.Hash, Status: rpc.TxFinal}, {Hash: rejected.Hash, Status: rpc.TxRejected}}
		if sum.Header.Height != 2 || sum.Certificate == nil || !slices.Equal(sum.Txs, want) {
			t.Fatalf("%s: summary %+v, want txs %+v", url, sum, want)
		}
		full, err := c.Block(ctx, 2)
		if err != nil || len(full.Txs) != 2 || full.Txs[0].Kind != "transfer" || full.Header != sum.Header {
			t.Fatalf("%s: full block %+v, %v", url, full, err)
		}
	}
	r := e.raw(t)
	short := r.call(`{"jsonrpc":"2.0","id":1,"method":"chain_getBlock","params":{"height":2,"fullTxs":false}}`)
	if short.Error != nil || !strings.Contains(string(short.Result), `"txs":[{"hash":"`+chain.FormatHash(final.Hash)+`","status":"final"},`) ||
		strings.Contains(string(short.Result), `"kind"`) {
		t.Fatalf("fullTxs false: %s %v", short.Result, short.Error)
	}
	long := r.call(`{"jsonrpc":"2.0","id":2,"method":"chain_getBlock","params":{"height":2,"fullTxs":true}}`)
	if long.Error != nil || !strings.Contains(string(long.Result), `"kind":"transfer"`) {
		t.Fatalf("fullTxs true: %s %v", long.Result, long.Error)
	}
	bad := r.call(`{"jsonrpc":"2.0","id":3,"method":"chain_getBlock","params":{"height":2,"fullTxs":"no"}}`)
	if bad.Error == nil || bad.Error.Code != rpc.CodeInvalidParams {
		t.Fatalf("fullTxs \"no\": got %+v, want invalid params", bad.Error)
	}
}
