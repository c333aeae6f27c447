package rpc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// paramTypes are the params of every method, for FuzzDecodeRequest.
var paramTypes = map[string]func() any{
	MethodStatus:        func() any { return &struct{}{} },
	MethodGetBlock:      func() any { return &BlockParams{} },
	MethodGetValidators: func() any { return &ValidatorsParams{} },
	MethodGetAccount:    func() any { return &AccountParams{} },
	MethodGetTx:         func() any { return &TxParams{} },
	MethodSubmitTx:      func() any { return &SubmitTxParams{} },
	MethodRoundState:    func() any { return &struct{}{} },
	MethodGetDuties:     func() any { return &DutiesParams{} },
	MethodSubmitSigned:  func() any { return &SubmitSignedParams{} },
	MethodSubscribe:     func() any { return &SubscribeParams{} },
	MethodUnsubscribe:   func() any { return &UnsubscribeParams{} },
	MethodGetPeers:      func() any { return &struct{}{} },
}

// FuzzDecodeRequest: decoding never panics; input that is not JSON is a
// parse error and nothing else is; every error carries a standard code;
// an accepted request re-encodes and decodes to itself; params decode into
// any method's params or fail with -32602.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"chain_status"}`,
		`{"jsonrpc":"2.0","id":"a","method":"chain_getBlock","params":{"height":5}}`,
		`{"jsonrpc":"2.0","id":"b","method":"chain_getBlock","params":{"height":5,"fullTxs":false}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"chain_getTx","params":[{"hash":"0x00"}]},{"jsonrpc":"2.0","method":"x"}]`,
		`{"jsonrpc":"2.0","id":null,"method":"chain_subscribe","params":{"topic":"txs","filter":{"address":"0x0000000000000000000000000000000000000001"},"fromHeight":3}}`,
		`{"jsonrpc":"2.0","id":2,"method":"consensus_submitSigned","params":{"request":1,"signature":"0x00"}}`,
		`{"jsonrpc":"1.0","id":{},"method":7,"params":3}`,
		`[]`, `[1,2]`, `"x"`, `{`, ``, `null`, "\ufeff{}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reqs, batch, err := decodeMessage(data, DefaultMaxBatchItems)
		if !json.Valid(data) {
			if err == nil || err.Code != CodeParseError {
				t.Fatalf("invalid JSON %q: got %v, want a parse error", data, err)
			}
			return
		}
		if err != nil {
			if err.Code != CodeInvalidRequest {
				t.Fatalf("%q: got code %d, want %d", data, err.Code, CodeInvalidRequest)
			}
			return
		}
		if !batch && len(reqs) != 1 || len(reqs) == 0 {
			t.Fatalf("%q: got %d requests (batch %v)", data, len(reqs), batch)
		}
		for _, req := range reqs {
			if req.err != nil {
				if req.err.Code != CodeInvalidRequest || req.id == nil {
					t.Fatalf("%q: request error %v with id %s", data, req.err, req.id)
				}
				continue
			}
			// Round trip.
			wire := map[string]any{"jsonrpc": "2.0", "method": req.method}
			if req.id != nil {
				wire["id"] = req.id
			}
			if req.params != nil {
				wire["params"] = req.params
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if merr := enc.Encode(wire); merr != nil {
				t.Fatalf("re-encode %q: %v", data, merr)
			}
			encoded := buf.Bytes()
			again, _ := decodeRequest(encoded)
			if again.err != nil || again.method != req.method || !jsonEqual(again.id, req.id) || !jsonEqual(again.params, req.params) {
				t.Fatalf("round trip of %q: got %+v from %s", data, again, encoded)
			}
			for method, newParams := range paramTypes {
				if perr := decodeParams(req.params, newParams()); perr != nil && perr.Code != CodeInvalidParams {
					t.Fatalf("%s params %s: got code %d", method, req.params, perr.Code)
				}
			}
		}
	})
}

// jsonEqual compares two JSON texts byte for byte, ignoring insignificant
// space.
func jsonEqual(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y bytes.Buffer
	return json.Compact(&x, a) == nil && json.Compact(&y, b) == nil && bytes.Equal(x.Bytes(), y.Bytes())
}
