package rpc_test

import (
	"context"
	"testing"

	"github.com/quorumchain/quorumchain/rpc"
)

// BenchmarkWebsocketCall: one chain_status round trip over a websocket,
// the whole request path (read loop, exchange, budgets, write).
func BenchmarkWebsocketCall(b *testing.B) {
	e := start(b, rpc.Config{RequestsPerSecond: 1e9, RequestBurst: 1 << 30})
	e.finalize(b, 1)
	c := e.dial(b, e.wsURL)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Status(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
