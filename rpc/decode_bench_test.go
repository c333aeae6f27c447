package rpc

import (
	"encoding/hex"
	"strings"
	"testing"
)

// BenchmarkDecodeSubmitTx: decoding a chain_submitTx request and its
// params, the node's per-transaction JSON-RPC work before admission.
func BenchmarkDecodeSubmitTx(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":12345,"method":"chain_submitTx","params":{"tx":"0x` + hex.EncodeToString([]byte(strings.Repeat("\x5a", 150))) + `"}}`)
	b.ReportAllocs()
	for b.Loop() {
		reqs, _, err := decodeMessage(msg, 100)
		if err != nil || len(reqs) != 1 || reqs[0].err != nil {
			b.Fatal(err)
		}
		var p SubmitTxParams
		if err := decodeParams(reqs[0].params, &p); err != nil || len(p.Tx) != 150 {
			b.Fatal(err)
		}
	}
}
