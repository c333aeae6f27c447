package rpc_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/quorumchain/quorumchain/rpc"
)

// TestGetPeers: net_getPeers returns the backend's peers with their
// direction, address, last reported height and score, over websocket and
// HTTP; no peers is an empty list, not null; params are refused.
func TestGetPeers(t *testing.T) {
	e := start(t, rpc.Config{})
	defer e.stop()
	h := uint64(42)
	want := []rpc.PeerResult{
		{NodeID: "0x01", Address: "127.0.0.1:26656", Direction: rpc.PeerOutbound, Height: &h, Score: 0},
		{NodeID: "0x02", Address: "127.0.0.1:50123", Direction: rpc.PeerInbound, Score: -12.5},
	}
	for _, transport := range []struct{ name, url string }{{"ws", e.wsURL}, {"http", e.httpURL}} {
		t.Run(transport.name, func(t *testing.T) {
			c := e.dial(t, transport.url)
			ctx := context.Background()
			e.backend.SetPeers(nil)
			var raw map[string]any
			if err := c.Call(ctx, rpc.MethodGetPeers, nil, &raw); err != nil {
				t.Fatal(err)
			}
			if list, ok := raw["peers"].([]any); !ok || len(list) != 0 {
				t.Fatalf("no peers: got %v, want {\"peers\": []}", raw)
			}
			e.backend.SetPeers(want)
			got, err := c.Peers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Peers, want) {
				t.Fatalf("peers: got %+v, want %+v", got.Peers, want)
			}
			var rpcErr *rpc.Error
			err = c.Call(ctx, rpc.MethodGetPeers, map[string]any{"height": 1}, &raw)
			if !errors.As(err, &rpcErr) || rpcErr.Code != rpc.CodeInvalidParams || !strings.Contains(rpcErr.Message, "height") {
				t.Fatalf("params: got %v, want -32602 naming the unknown field", err)
			}
		})
	}
}
