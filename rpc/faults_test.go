package rpc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quorumchain/quorumchain/rpc"
)

// TestGetFaults: net_getFaults returns {"faults": []} when none are
// active, and each kind with exactly its own fields, over websocket (the
// Client) and HTTP POST; it takes no params.
func TestGetFaults(t *testing.T) {
	e := start(t, rpc.Config{})
	ctx := context.Background()
	c := e.dial(t, e.wsURL)
	got, err := c.Faults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Faults == nil || len(got.Faults) != 0 {
		t.Fatalf("no faults: got %#v, want an empty list", got.Faults)
	}
	if _, body := httpPost(t, e.httpURL+"/", `{"jsonrpc":"2.0","id":1,"method":"net_getFaults"}`); !strings.Contains(string(body), `"result":{"faults":[]}`) {
		t.Fatalf("no faults over HTTP: got %s, want an empty list", body)
	}

	since := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	delay, jitter, rate := int64(200), int64(50), 0.2
	e.backend.SetFaults([]rpc.FaultResult{
		{Kind: rpc.FaultPartition, Since: since, Peers: []string{"0x00000000000000000000000000000000000000aa"}},
		{Kind: rpc.FaultDelay, Since: since, DelayMs: &delay, JitterMs: &jitter},
		{Kind: rpc.FaultDrop, Since: since, Rate: &rate},
		{Kind: rpc.FaultByzantine, Since: since, Mode: "equivocate"},
	})
	want := `"result":{"faults":[` +
		`{"kind":"partition","since":"2026-11-29T12:00:00Z","peers":["0x00000000000000000000000000000000000000aa"]},` +
		`{"kind":"delay","since":"2026-11-29T12:00:00Z","delayMs":200,"jitterMs":50},` +
		`{"kind":"drop","since":"2026-11-29T12:00:00Z","rate":0.2},` +
		`{"kind":"byzantine","since":"2026-11-29T12:00:00Z","mode":"equivocate"}]}`
	if _, body := httpPost(t, e.httpURL+"/", `{"jsonrpc":"2.0","id":1,"method":"net_getFaults"}`); !strings.Contains(string(body), want) {
		t.Fatalf("faults over HTTP:\ngot  %s\nwant %s", body, want)
	}
	got, err = c.Faults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Faults) != 4 || got.Faults[3].Mode != "equivocate" || *got.Faults[1].DelayMs != 200 || !got.Faults[0].Since.Equal(since) {
		t.Fatalf("faults over websocket: got %+v", got.Faults)
	}
	if _, body := httpPost(t, e.httpURL+"/", `{"jsonrpc":"2.0","id":1,"method":"net_getFaults","params":{"x":1}}`); !strings.Contains(string(body), `"code":-32602`) {
		t.Fatalf("params: got %s, want invalid params", body)
	}
}
